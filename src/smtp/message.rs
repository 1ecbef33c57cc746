//! Turning a digest into a mail: the subject (sanitized, truncated, UTF-8 encoded by lettre),
//! the body, and the envelope.

use lettre::address::Envelope;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};

use crate::encode::PythonEncoder;

/// The subject format when none is configured (python-style placeholders).
pub const DEFAULT_SUBJECT: &str = "%(levelname)s in %(name)s: %(message)s";

/// The body format (one line per record) when no `encoder` is configured.
pub const DEFAULT_BODY_FORMAT: &str =
    "%(asctime)s %(levelname)s [%(name)s] %(message)s (%(filename)s:%(lineno)d)";

/// Subjects longer than this many characters are cut (at a character boundary) and end in `…`.
pub const MAX_SUBJECT_CHARS: usize = 160;

/// The encoder used for the mail body when none is configured.
pub(crate) fn default_body_encoder() -> anyhow::Result<PythonEncoder> {
    PythonEncoder::new(DEFAULT_BODY_FORMAT)
        .map_err(|e| anyhow::anyhow!("the default body format does not parse: {e}"))
}

/// Makes `text` safe for a mail header: every control character (CR, LF, TAB, NUL, DEL, the C1
/// range) and Unicode line/paragraph separators become a space, runs of whitespace collapse to
/// one, and the result is cut to `max_chars` characters, ending in `…` when cut. Non-ASCII text
/// is kept: lettre encodes it (RFC 2047) when it writes the header.
///
/// ```ignore
/// assert_eq!(sanitize_header("a\r\nBcc: x@y.z", 100), "a Bcc: x@y.z");
/// ```
pub(crate) fn sanitize_header(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut pending_space = false;
    let mut chars = 0usize;
    let mut cut = false;
    for c in text.chars() {
        let blank = c.is_control() || c.is_whitespace() || c == '\u{2028}' || c == '\u{2029}';
        if blank {
            pending_space = !out.is_empty();
            continue;
        }
        let needed = usize::from(pending_space) + 1;
        if chars + needed > max_chars.saturating_sub(1) {
            cut = true;
            break;
        }
        if pending_space {
            out.push(' ');
            chars += 1;
            pending_space = false;
        }
        out.push(c);
        chars += 1;
    }
    if cut {
        out.push('…');
    }
    out
}

/// What a digest turns into before it becomes a message.
#[derive(Debug)]
pub(crate) struct DigestMail {
    /// The subject of the first record in the digest, rendered, not yet sanitized.
    pub subject: String,
    /// Records (at or above the threshold) this mail accounts for, including suppressed and
    /// dropped ones.
    pub records: u64,
    /// The plain-text body.
    pub body: String,
}

/// A composed mail waiting for delivery.
#[derive(Clone, Debug)]
pub(crate) struct OutgoingMail {
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
    /// When the mail was composed (or loaded from the spool).
    pub created: std::time::Instant,
    /// The spool file holding this mail, once it has been written there.
    pub spooled: Option<std::path::PathBuf>,
}

/// `X-Log4rs-Records: N`: how many records the mail accounts for (machine-readable, for filters
/// and for tests).
#[derive(Clone, Debug)]
struct RecordsHeader(u64);

impl Header for RecordsHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Log4rs-Records")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(RecordsHeader(s.trim().parse()?))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_string())
    }
}

/// Sender and recipients, validated once when the appender is built.
#[derive(Clone, Debug)]
pub(crate) struct Addressing {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
}

/// Builds the message for `digest`.
pub(crate) fn compose(addressing: &Addressing, digest: DigestMail) -> anyhow::Result<OutgoingMail> {
    let mut subject = digest.subject;
    if digest.records > 1 {
        // Keep the count visible even when the subject is cut.
        let suffix = format!(" (+{} more)", digest.records - 1);
        let head = sanitize_header(
            &subject,
            MAX_SUBJECT_CHARS.saturating_sub(suffix.chars().count()),
        );
        subject = head + &suffix;
    } else {
        subject = sanitize_header(&subject, MAX_SUBJECT_CHARS);
    }
    let mut builder = Message::builder()
        .from(addressing.from.clone())
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .header(RecordsHeader(digest.records));
    for to in &addressing.to {
        builder = builder.to(to.clone());
    }
    let message = builder
        .body(digest.body)
        .map_err(|e| anyhow::anyhow!("cannot build the mail: {e}"))?;
    Ok(OutgoingMail {
        envelope: message.envelope().clone(),
        bytes: message.formatted(),
        created: std::time::Instant::now(),
        spooled: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_survive_into_a_header() {
        let s = sanitize_header("boom\r\nBcc: victim@example.com\u{0}\u{7f}\u{85}\t x", 200);
        assert_eq!(s, "boom Bcc: victim@example.com x");
        assert!(!s.chars().any(|c| c.is_control()));
    }

    #[test]
    fn long_subjects_are_cut_at_a_character_boundary() {
        let s = sanitize_header(&"é".repeat(500), 20);
        assert_eq!(s.chars().count(), 20);
        assert!(s.ends_with('…'));
        assert_eq!(sanitize_header("short", 20), "short");
    }
}
