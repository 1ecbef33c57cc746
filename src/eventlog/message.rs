//! What one record becomes in the Event Log: an event type from its level, and one or more
//! NUL-terminated UTF-16 strings within the Event Log's per-string limit.

use super::config::LongMessages;

/// The Event Log's limit on one event string, in UTF-16 code units (what the Win32 docs of
/// `ReportEventW` call characters: "Each string is limited to 31,839 characters").
pub const MAX_MESSAGE_CHARS: usize = 31_839;

/// Room kept at the end of a cut message for its ` [part i/n]` or truncation marker.
const MARKER_ROOM: usize = 64;

/// The event type a record is reported with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// `EVENTLOG_ERROR_TYPE`.
    Error,
    /// `EVENTLOG_WARNING_TYPE`.
    Warning,
    /// `EVENTLOG_INFORMATION_TYPE`.
    Information,
}

impl EventType {
    /// The type for a record's level: error -> Error, warn -> Warning, info/debug/trace ->
    /// Information (as Python's `NTEventLogHandler`; the Event Log has no debug type).
    ///
    /// ```
    /// use log4rs_appenders::eventlog::EventType;
    /// assert_eq!(EventType::for_level(log::Level::Warn), EventType::Warning);
    /// assert_eq!(EventType::for_level(log::Level::Debug), EventType::Information);
    /// ```
    pub fn for_level(level: log::Level) -> EventType {
        match level {
            log::Level::Error => EventType::Error,
            log::Level::Warn => EventType::Warning,
            log::Level::Info | log::Level::Debug | log::Level::Trace => EventType::Information,
        }
    }

    /// The `wType` value `ReportEventW` takes.
    pub const fn code(self) -> u16 {
        match self {
            EventType::Error => 1,
            EventType::Warning => 2,
            EventType::Information => 4,
        }
    }
}

/// Turns encoded record text into the strings to report, each NUL-terminated UTF-16 of at most
/// [`MAX_MESSAGE_CHARS`] units before the NUL.
///
/// The text loses its trailing line break (encoders end records with one); a NUL inside it,
/// which would end the string early, becomes U+FFFD. A longer text is split into parts (or
/// truncated, per `mode`), each cut at a character boundary: never inside a surrogate pair.
pub(crate) fn event_strings(text: &str, mode: LongMessages) -> Vec<Vec<u16>> {
    let text = text.trim_end_matches(['\r', '\n']);
    let units: Vec<u16> = text
        .encode_utf16()
        .map(|u| if u == 0 { 0xFFFD } else { u })
        .collect();
    if units.len() <= MAX_MESSAGE_CHARS {
        return vec![nul_terminated(&units, "")];
    }
    let chunk = MAX_MESSAGE_CHARS - MARKER_ROOM;
    match mode {
        LongMessages::Truncate => {
            let kept = cut_point(&units, chunk);
            let marker = format!(" [... {} characters truncated]", units.len() - kept);
            vec![nul_terminated(&units[..kept], &marker)]
        }
        LongMessages::Split => {
            let mut parts = Vec::new();
            let mut rest = &units[..];
            while !rest.is_empty() {
                let cut = cut_point(rest, chunk);
                parts.push(&rest[..cut]);
                rest = &rest[cut..];
            }
            let n = parts.len();
            parts
                .iter()
                .enumerate()
                .map(|(i, part)| nul_terminated(part, &format!(" [part {}/{n}]", i + 1)))
                .collect()
        }
    }
}

/// The largest cut at or below `max` units that does not separate a surrogate pair.
fn cut_point(units: &[u16], max: usize) -> usize {
    if units.len() <= max {
        return units.len();
    }
    let is_high_surrogate = |u: u16| (0xD800..0xDC00).contains(&u);
    if is_high_surrogate(units[max - 1]) {
        max - 1
    } else {
        max
    }
}

fn nul_terminated(units: &[u16], marker: &str) -> Vec<u16> {
    let mut out = Vec::with_capacity(units.len() + marker.len() + 1);
    out.extend_from_slice(units);
    out.extend(marker.encode_utf16());
    out.push(0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(units: &[u16]) -> String {
        assert_eq!(units.last(), Some(&0), "every event string ends in NUL");
        String::from_utf16(&units[..units.len() - 1]).expect("valid UTF-16")
    }

    #[test]
    fn levels_map_to_event_types_as_python_does() {
        assert_eq!(EventType::for_level(log::Level::Error).code(), 1);
        assert_eq!(EventType::for_level(log::Level::Warn).code(), 2);
        for level in [log::Level::Info, log::Level::Debug, log::Level::Trace] {
            assert_eq!(EventType::for_level(level).code(), 4, "{level}");
        }
    }

    #[test]
    fn a_short_message_is_one_string_without_its_trailing_newline() {
        let strings = event_strings("disk full on /var\r\n", LongMessages::Split);
        assert_eq!(strings.len(), 1);
        assert_eq!(text_of(&strings[0]), "disk full on /var");
    }

    #[test]
    fn inner_line_breaks_stay_and_nul_becomes_a_replacement_character() {
        let strings = event_strings("line one\nline\0two\n", LongMessages::Split);
        assert_eq!(text_of(&strings[0]), "line one\nline\u{FFFD}two");
    }

    #[test]
    fn a_message_of_exactly_the_limit_is_not_cut() {
        let text = "x".repeat(MAX_MESSAGE_CHARS);
        let strings = event_strings(&text, LongMessages::Split);
        assert_eq!(strings.len(), 1);
        assert_eq!(strings[0].len(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn a_long_message_splits_into_numbered_parts_that_rebuild_it() {
        let text: String = (0..3 * MAX_MESSAGE_CHARS)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let strings = event_strings(&text, LongMessages::Split);
        assert_eq!(
            strings.len(),
            4,
            "3 limits of text need 4 parts once markers take room"
        );
        let mut rebuilt = String::new();
        for (i, s) in strings.iter().enumerate() {
            assert!(
                s.len() - 1 <= MAX_MESSAGE_CHARS,
                "part {i} has {} units",
                s.len() - 1
            );
            let part = text_of(s);
            let marker = format!(" [part {}/4]", i + 1);
            rebuilt.push_str(part.strip_suffix(&marker).expect("part ends in its marker"));
        }
        assert_eq!(rebuilt, text);
    }

    #[test]
    fn splitting_never_separates_a_surrogate_pair() {
        // 'a' then emoji (2 units each): every possible cut parity occurs somewhere.
        let text: String = std::iter::once('a')
            .chain(std::iter::repeat_n('😀', MAX_MESSAGE_CHARS))
            .collect();
        let strings = event_strings(&text, LongMessages::Split);
        let mut rebuilt = String::new();
        for s in &strings {
            let part = text_of(s); // panics on a lone surrogate
            rebuilt.push_str(&part[..part.rfind(" [part ").unwrap()]);
            assert!(s.len() - 1 <= MAX_MESSAGE_CHARS);
        }
        assert_eq!(rebuilt, text);
    }

    #[test]
    fn truncation_keeps_the_start_and_says_how_much_was_cut() {
        let text = "y".repeat(MAX_MESSAGE_CHARS + 1000);
        let strings = event_strings(&text, LongMessages::Truncate);
        assert_eq!(strings.len(), 1);
        let kept = MAX_MESSAGE_CHARS - MARKER_ROOM;
        let expected = format!(
            "{} [... {} characters truncated]",
            "y".repeat(kept),
            text.len() - kept
        );
        assert_eq!(text_of(&strings[0]), expected);
        assert!(strings[0].len() - 1 <= MAX_MESSAGE_CHARS);
    }
}
