//! RFC 3164 (BSD syslog) header: `<PRI>Mmm dd hh:mm:ss`, local time, day padded with a space.
//!
//! ```text
//! <134>Nov 23 03:30:05 web1 microblog[4242]: text
//! ```
//! The TAG (program name) is at most 32 characters (section 4.1.3); the format has no year,
//! no sub-second time, no time zone and no structured data.

use super::format::push_decimal;

/// Longest TAG (the program name before `[PID]:`).
pub(crate) const MAX_TAG: usize = 32;

/// `<PRI>Mmm dd hh:mm:ss`
pub(crate) fn write_header(buf: &mut Vec<u8>, pri: u8, timestamp: &str) {
    buf.push(b'<');
    push_decimal(buf, pri as u64);
    buf.push(b'>');
    buf.extend_from_slice(timestamp.as_bytes());
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_shape() {
        let mut b = Vec::new();
        super::write_header(&mut b, 13, "Nov  3 03:30:05");
        assert_eq!(b, b"<13>Nov  3 03:30:05");
    }
}
