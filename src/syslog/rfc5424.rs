//! RFC 5424 pieces: the header, structured data (SD-ID / PARAM-NAME rules, value escaping), and
//! the limits of each header field.
//!
//! ```text
//! <134>1 2026-11-23T03:30:05.123456+00:00 web1 microblog 4242 - [log4rs@32473 user="ann"] text
//! ```

use std::fmt;

use log::Record;
use log::kv::{Error as KvError, Key, Value, VisitSource};

use super::format::{is_escaped_control, push_decimal};

/// Byte order mark that RFC 5424 (section 6.4) puts before a MSG in UTF-8. Written only when the
/// MSG has non-ASCII text (pure ASCII is valid UTF-8 and needs no mark).
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Longest HOSTNAME (RFC 5424 section 6.2.4).
pub(crate) const MAX_HOSTNAME: usize = 255;
/// Longest APP-NAME (section 6.2.5).
pub(crate) const MAX_APP_NAME: usize = 48;
// PROCID (at most 128, section 6.2.6) is the process id; MSGID (at most 32) is always the
// NILVALUE `-`.
/// Longest SD-ID or PARAM-NAME (section 6.3.2, 6.3.3).
pub(crate) const MAX_SD_NAME: usize = 32;

/// The SD-ID record key-values go under unless `sd_id` says otherwise. 32473 is the private
/// enterprise number IANA reserves for documentation and examples (RFC 5612); a site that owns a
/// number can use its own.
pub const DEFAULT_SD_ID: &str = "log4rs@32473";

/// `<PRI>1 YYYY-MM-DDThh:mm:ss.uuuuuu+hh:mm`
pub(crate) fn write_header(
    buf: &mut Vec<u8>,
    pri: u8,
    (second, offset): (&str, &str),
    micros: u32,
) {
    buf.push(b'<');
    push_decimal(buf, pri as u64);
    buf.extend_from_slice(b">1 ");
    buf.extend_from_slice(second.as_bytes());
    let mut frac = [b'.', 0, 0, 0, 0, 0, 0];
    let mut m = micros.min(999_999);
    for d in frac[1..].iter_mut().rev() {
        *d = b'0' + (m % 10) as u8;
        m /= 10;
    }
    buf.extend_from_slice(&frac);
    buf.extend_from_slice(offset.as_bytes());
}

/// The characters an SD-NAME may hold: PRINTUSASCII except `=`, space, `]` and `"`.
fn is_sd_name_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"')
}

/// Checks a configured SD-ID: 1-32 SD-NAME characters, with an `@` (names without one are
/// reserved for IANA-registered IDs such as `timeQuality`).
pub(crate) fn validate_sd_id(value: &str) -> anyhow::Result<()> {
    let bad = value.chars().find(|c| !is_sd_name_char(*c));
    if value.is_empty() || value.len() > MAX_SD_NAME || bad.is_some() || !value.contains('@') {
        anyhow::bail!(
            "field \"sd_id\": {value:?} is not a valid private SD-ID: it must be 1-32 printable \
             ASCII characters without space, '=', ']' or '\"', in the form name@<enterprise \
             number> (RFC 5424 section 6.3.2), for example \"{DEFAULT_SD_ID}\""
        );
    }
    Ok(())
}

/// Writes `[SD-ID key="value" ...]` from the record's key-values, or the NILVALUE `-` when it
/// has none.
pub(crate) fn write_structured_data(buf: &mut Vec<u8>, sd_id: &str, record: &Record) {
    let source = record.key_values();
    if source.count() == 0 {
        buf.push(b'-');
        return;
    }
    buf.push(b'[');
    buf.extend_from_slice(sd_id.as_bytes());
    let _ = source.visit(&mut SdParams(buf));
    buf.push(b']');
}

struct SdParams<'a>(&'a mut Vec<u8>);

impl<'kvs> VisitSource<'kvs> for SdParams<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), KvError> {
        self.0.push(b' ');
        write_param_name(self.0, key.as_str());
        self.0.extend_from_slice(b"=\"");
        let _ = fmt::Write::write_fmt(&mut SdValue(self.0), format_args!("{value}"));
        self.0.push(b'"');
        Ok(())
    }
}

/// A PARAM-NAME from a record key: characters outside the SD-NAME set become `_`, at most 32.
pub(crate) fn write_param_name(buf: &mut Vec<u8>, key: &str) {
    let start = buf.len();
    for c in key.chars().take(MAX_SD_NAME) {
        buf.push(if is_sd_name_char(c) { c as u8 } else { b'_' });
    }
    if buf.len() == start {
        buf.push(b'_');
    }
}

/// Escapes a PARAM-VALUE as it is written: `"`, `\` and `]` get a backslash (RFC 5424 section
/// 6.3.3); control characters become `#ooo` as in the MSG, so no value can break a line.
struct SdValue<'a>(&'a mut Vec<u8>);

impl fmt::Write for SdValue<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            match b {
                b'"' | b'\\' | b']' => self.0.extend_from_slice(&[b'\\', b]),
                b if is_escaped_control(b) => super::format::escape_controls_into(self.0, &[b]),
                b => self.0.push(b),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sd_ids_must_follow_the_sd_name_rules() {
        assert!(validate_sd_id(DEFAULT_SD_ID).is_ok());
        for bad in [
            "",
            "noat",
            "a b@1",
            "a=b@1",
            "a]@1",
            "a\"@1",
            &"x@".repeat(17),
        ] {
            let e = validate_sd_id(bad).unwrap_err().to_string();
            assert!(e.starts_with("field \"sd_id\""), "{e}");
        }
    }

    #[test]
    fn param_names_are_sanitized() {
        let mut b = Vec::new();
        write_param_name(&mut b, "a b=c]d\"é");
        assert_eq!(b, b"a_b_c_d__");
        b.clear();
        write_param_name(&mut b, &"k".repeat(40));
        assert_eq!(b.len(), 32);
    }

    #[test]
    fn header_has_microseconds_and_offset() {
        let mut b = Vec::new();
        write_header(&mut b, 134, ("2026-11-23T03:30:05", "+01:00"), 4_200);
        assert_eq!(b, b"<134>1 2026-11-23T03:30:05.004200+01:00");
    }
}
