//! What RFC 5424 and RFC 3164 share: the per-record scratch space, the per-second timestamp
//! cache, header-field sanitizing and the MSG part (encoder output with control characters
//! escaped, so one record is always exactly one syslog line).

use log4rs::encode::writer::simple::SimpleWriter;
use std::fmt::Write as _;
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{Local, TimeZone};
use log::Record;
use log4rs::encode::Encode;

use super::facility::{Facility, Severity};
use super::{rfc3164, rfc5424};

/// Which syslog message format an appender writes. The default depends on the address:
/// RFC 5424 over UDP, TCP and TLS; RFC 3164 on unix sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogFormat {
    /// RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`, the timestamp with
    /// microseconds and UTC offset, key-values as structured data.
    Rfc5424,
    /// RFC 3164 (BSD): `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`, local time, no year. On a
    /// unix socket without an explicit `hostname`, the HOSTNAME is left out, as `syslog(3)`
    /// does.
    Rfc3164,
}

/// How the MSG part is rendered.
pub(crate) enum MessageEncoder {
    /// The record's message only, written straight into the buffer (what the Python encoder's
    /// `%(message)s` renders, without building it as a string first).
    Message,
    /// Any log4rs encoder from the `encoder:` field; its trailing newline is removed.
    Custom(Box<dyn Encode>),
}

impl std::fmt::Debug for MessageEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageEncoder::Message => f.write_str("Message"),
            MessageEncoder::Custom(e) => write!(f, "Custom({e:?})"),
        }
    }
}

/// Builds complete syslog messages (without transport framing). Immutable; shared with workers.
#[derive(Debug)]
pub(crate) struct Formatter {
    pub(crate) format: SyslogFormat,
    pub(crate) facility: Facility,
    /// Everything after the timestamp that never changes: 5424 `" HOST APP PROCID MSGID "`,
    /// 3164 `" HOST TAG[PID]: "`.
    pub(crate) tail: Vec<u8>,
    /// The SD-ID key-values go under; `None` when structured data is off.
    pub(crate) sd_id: Option<String>,
    pub(crate) encoder: MessageEncoder,
}

/// Per-thread-of-use buffers and the timestamp cache; reused for every record.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) buf: Vec<u8>,
    spare: Vec<u8>,
    clock: ClockCache,
}

/// The formatted second of the last record's timestamp (formatting a date costs far more than
/// the rest of a header; records within one second share it).
#[derive(Debug)]
struct ClockCache {
    second: i64,
    /// `2026-11-23T03:30:05`
    rfc5424_second: String,
    /// `+01:00`
    rfc5424_offset: String,
    /// `Nov 23 03:30:05`
    rfc3164: String,
}

impl Default for ClockCache {
    fn default() -> Self {
        ClockCache {
            second: i64::MIN,
            rfc5424_second: String::new(),
            rfc5424_offset: String::new(),
            rfc3164: String::new(),
        }
    }
}

impl ClockCache {
    fn update(&mut self, second: i64) {
        if self.second == second {
            return;
        }
        self.second = second;
        self.rfc5424_second.clear();
        self.rfc5424_offset.clear();
        self.rfc3164.clear();
        if let Some(t) = Local.timestamp_opt(second, 0).single() {
            let _ = write!(self.rfc5424_second, "{}", t.format("%Y-%m-%dT%H:%M:%S"));
            let _ = write!(self.rfc5424_offset, "{}", t.format("%:z"));
            let _ = write!(self.rfc3164, "{}", t.format("%b %e %H:%M:%S"));
        } else {
            self.rfc5424_second.push_str("1970-01-01T00:00:00");
            self.rfc5424_offset.push_str("+00:00");
            self.rfc3164.push_str("Jan  1 00:00:00");
        }
    }

    pub(crate) fn rfc5424(&self) -> (&str, &str) {
        (&self.rfc5424_second, &self.rfc5424_offset)
    }

    pub(crate) fn rfc3164(&self) -> &str {
        &self.rfc3164
    }
}

impl Formatter {
    /// Writes the complete message for `record`, stamped `time`, into `scratch.buf`.
    pub(crate) fn format(
        &self,
        record: &Record,
        time: SystemTime,
        scratch: &mut Scratch,
    ) -> anyhow::Result<()> {
        let severity = Severity::from(record.level());
        let (second, micros) = split_time(time);
        scratch.clock.update(second);
        let Scratch { buf, spare, clock } = scratch;
        buf.clear();
        let msg_start = match self.format {
            SyslogFormat::Rfc5424 => {
                rfc5424::write_header(buf, severity.pri(self.facility), clock.rfc5424(), micros);
                buf.extend_from_slice(&self.tail);
                match &self.sd_id {
                    Some(sd_id) => rfc5424::write_structured_data(buf, sd_id, record),
                    None => buf.push(b'-'),
                }
                buf.push(b' ');
                buf.len()
            }
            SyslogFormat::Rfc3164 => {
                rfc3164::write_header(buf, severity.pri(self.facility), clock.rfc3164());
                buf.extend_from_slice(&self.tail);
                buf.len()
            }
        };
        match &self.encoder {
            MessageEncoder::Message => match record.args().as_str() {
                Some(text) => buf.extend_from_slice(text.as_bytes()),
                None => {
                    let _ = io::Write::write_fmt(buf, *record.args());
                }
            },
            MessageEncoder::Custom(encoder) => {
                encoder.encode(&mut SimpleWriter(&mut *buf), record)?
            }
        }
        finish_msg(buf, spare, msg_start, self.format == SyslogFormat::Rfc5424);
        Ok(())
    }

    /// Writes a message the appender itself emits (such as a count of lost records).
    pub(crate) fn format_notice(
        &self,
        severity: Severity,
        text: &str,
        time: SystemTime,
        scratch: &mut Scratch,
    ) {
        let (second, micros) = split_time(time);
        scratch.clock.update(second);
        let Scratch { buf, clock, .. } = scratch;
        buf.clear();
        match self.format {
            SyslogFormat::Rfc5424 => {
                rfc5424::write_header(buf, severity.pri(self.facility), clock.rfc5424(), micros);
                buf.extend_from_slice(&self.tail);
                buf.extend_from_slice(b"- ");
            }
            SyslogFormat::Rfc3164 => {
                rfc3164::write_header(buf, severity.pri(self.facility), clock.rfc3164());
                buf.extend_from_slice(&self.tail);
            }
        }
        buf.extend_from_slice(text.as_bytes());
    }
}

fn split_time(time: SystemTime) -> (i64, u32) {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(_) => (0, 0),
    }
}

/// Ends the MSG part that starts at `start`: drops the encoder's trailing line break, escapes
/// control characters, and (RFC 5424) marks non-ASCII text with a BOM.
fn finish_msg(buf: &mut Vec<u8>, spare: &mut Vec<u8>, start: usize, bom: bool) {
    while buf.len() > start && matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    let msg = &buf[start..];
    // One pass for the common case: printable ASCII (and TAB) needs nothing done.
    if !msg.iter().any(|&b| (b < 0x20 && b != b'\t') || b >= 0x7f) {
        return;
    }
    let needs_escape = msg.iter().any(|&b| is_escaped_control(b));
    let non_ascii = bom && !msg.is_ascii();
    if !needs_escape && !non_ascii {
        return;
    }
    spare.clear();
    spare.extend_from_slice(&buf[start..]);
    buf.truncate(start);
    if non_ascii {
        buf.extend_from_slice(rfc5424::BOM);
    }
    escape_controls_into(buf, spare);
}

/// Control characters that could end or forge a line: every C0 control except TAB, and DEL.
pub(crate) fn is_escaped_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// Copies `text`, writing each control character as `#` and three octal digits, the way
/// rsyslog itself stores them (`\n` becomes `#012`). Newlines are escaped, never split: one
/// record is one syslog message, and no text from a record can start a line of its own.
pub(crate) fn escape_controls_into(out: &mut Vec<u8>, text: &[u8]) {
    for &b in text {
        if is_escaped_control(b) {
            out.extend_from_slice(&[b'#', b'0' + (b >> 6), b'0' + ((b >> 3) & 7), b'0' + (b & 7)]);
        } else {
            out.push(b);
        }
    }
}

/// `value` restricted to PRINTUSASCII (`!`..`~`) and `max` bytes, for a header field that came
/// from the environment (host or program name): other characters become `_`; empty becomes the
/// NILVALUE `-`.
pub(crate) fn sanitize_header_field(value: &str, max: usize) -> String {
    let s: String = value
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .take(max)
        .collect();
    if s.is_empty() { "-".to_owned() } else { s }
}

/// Checks a header field given in the config: PRINTUSASCII, at most `max` bytes.
pub(crate) fn validate_header_field(field: &str, value: &str, max: usize) -> anyhow::Result<()> {
    if value.is_empty() {
        anyhow::bail!("field \"{field}\": must not be empty (omit it to use the default)");
    }
    if let Some(c) = value.chars().find(|c| !c.is_ascii_graphic()) {
        anyhow::bail!(
            "field \"{field}\": {value:?} contains {c:?}; syslog header fields are printable \
             ASCII without spaces (RFC 5424 section 6.2); use for example {:?}",
            sanitize_header_field(value, max)
        );
    }
    if value.len() > max {
        anyhow::bail!(
            "field \"{field}\": {value:?} is {} characters long; syslog allows at most {max} here",
            value.len()
        );
    }
    Ok(())
}

/// Writes `n` in decimal without going through `fmt`.
pub(crate) fn push_decimal(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_and_controls_are_escaped_like_rsyslog() {
        let mut out = Vec::new();
        escape_controls_into(&mut out, b"a\nb\r\x00c\td\x7f");
        assert_eq!(out, b"a#012b#015#000c\td#177");
    }

    #[test]
    fn header_fields_are_checked_and_sanitized() {
        assert_eq!(sanitize_header_field("my app\u{e9}", 48), "my_app_");
        assert_eq!(sanitize_header_field("", 48), "-");
        assert_eq!(sanitize_header_field(&"x".repeat(60), 48).len(), 48);
        let e = validate_header_field("app_name", "my app", 48)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("field \"app_name\"") && e.contains("\"my_app\""),
            "{e}"
        );
        assert!(validate_header_field("app_name", &"a".repeat(49), 48).is_err());
    }

    #[test]
    fn decimals() {
        for n in [0u64, 7, 10, 191, u64::MAX] {
            let mut b = Vec::new();
            push_decimal(&mut b, n);
            assert_eq!(b, n.to_string().as_bytes());
        }
    }
}
