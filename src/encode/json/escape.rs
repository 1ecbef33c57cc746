//! JSON string escaping: `"`, `\` and control characters as JSON requires, U+2028 and U+2029
//! (valid JSON, but line breaks to JavaScript and to some line splitters), and, with `ensure_ascii`, everything outside ASCII as `\uXXXX` (as Python's
//! `json.dumps` does by default).
//!
//! Runs of bytes that need nothing are found eight bytes at a time (a short string or the tail
//! as one padded word) and copied at once; only the bytes that need an escape are looked at one
//! by one.

use std::fmt;
use std::io;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The high bit of each of the 8 bytes of `w` that needs a look: a control character, `"`,
/// `\`, and 0xE2 (the first byte of U+2028 / U+2029) or, with `ASCII`, any byte >= 0x80.
/// Exact for the lowest flagged byte (the classic "has zero byte" test: a borrow only runs
/// upwards, so a false flag can only sit above a true one), which is all the scan needs.
#[inline(always)]
fn look_mask<const ASCII: bool>(w: u64) -> u64 {
    let zero = |x: u64| x.wrapping_sub(LO) & !x;
    let control = w.wrapping_sub(LO * 0x20) & !w;
    let quote = zero(w ^ (LO * u64::from(b'"')));
    let backslash = zero(w ^ (LO * u64::from(b'\\')));
    let high = if ASCII { w } else { zero(w ^ (LO * 0xE2)) };
    (control | quote | backslash | high) & HI
}

/// The index of the first byte at or after `i` that needs a look, or `bytes.len()`: eight
/// bytes at a time, the tail (or a short string) as one padded word.
#[inline(always)]
fn next_look<const ASCII: bool>(bytes: &[u8], mut i: usize) -> usize {
    while let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let mask = look_mask::<ASCII>(u64::from_le_bytes(*word));
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let tail = bytes.get(i..).unwrap_or_default();
    // Padded with `a`, which never needs a look.
    let mut w = LO * u64::from(b'a');
    for (lane, &b) in tail.iter().enumerate() {
        let shift = 8 * lane as u32;
        w = (w & !(0xFF << shift)) | (u64::from(b) << shift);
    }
    let mask = look_mask::<ASCII>(w);
    if mask != 0 {
        i + (mask.trailing_zeros() / 8) as usize
    } else {
        bytes.len()
    }
}

/// Appends `s` as the contents of a JSON string (without the quotes).
#[inline]
pub(crate) fn write_str_contents(out: &mut Vec<u8>, s: &str, ascii: bool) {
    if ascii {
        write_contents::<true>(out, s);
    } else {
        write_contents::<false>(out, s);
    }
}

#[inline(always)]
fn write_contents<const ASCII: bool>(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = next_look::<ASCII>(bytes, 0);
    while let Some(&b) = bytes.get(i) {
        out.extend_from_slice(&bytes[start..i]);
        i += escape_at(out, s, i, b, ASCII);
        start = i;
        i = next_look::<ASCII>(bytes, i);
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Writes the escape for the byte `b` at `i` (one that needs a look), returns how many bytes of
/// `s` it consumed.
#[cold]
fn escape_at(out: &mut Vec<u8>, s: &str, i: usize, b: u8, ascii: bool) -> usize {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0C => out.extend_from_slice(b"\\f"),
        0..0x20 => write_u_escape(out, u16::from(b)),
        _ => {
            // A multi-byte character starts here (`s` is valid UTF-8 and `i` is a char boundary:
            // every byte before it was ASCII or a whole character).
            let Some(c) = s.get(i..).and_then(|rest| rest.chars().next()) else {
                out.push(b);
                return 1;
            };
            if ascii || c == '\u{2028}' || c == '\u{2029}' {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write_u_escape(out, *unit);
                }
            } else {
                out.extend_from_slice(&s.as_bytes()[i..i + c.len_utf8()]);
            }
            return c.len_utf8();
        }
    }
    1
}

fn write_u_escape(out: &mut Vec<u8>, unit: u16) {
    out.extend_from_slice(&u_escape(unit));
}

/// `\uXXXX` (lowercase hex, as Python's `json` writes it).
fn u_escape(unit: u16) -> [u8; 6] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [
        b'\\',
        b'u',
        HEX[usize::from(unit >> 12)],
        HEX[usize::from((unit >> 8) & 0xF)],
        HEX[usize::from((unit >> 4) & 0xF)],
        HEX[usize::from(unit & 0xF)],
    ]
}

/// Appends `s` as a JSON string, quotes included.
#[inline]
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str, ascii: bool) {
    out.push(b'"');
    write_str_contents(out, s, ascii);
    out.push(b'"');
}

/// A `fmt::Write` that escapes what is written into it, for `Display` values (the message, an
/// error) written straight into the output without a temporary `String`.
pub(crate) struct EscapingWriter<'a> {
    pub(crate) out: &'a mut Vec<u8>,
    pub(crate) ascii: bool,
}

impl fmt::Write for EscapingWriter<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_str_contents(self.out, s, self.ascii);
        Ok(())
    }
}

/// serde_json's formatter with our string rules: serde_json escapes quotes, backslashes and
/// control characters itself and hands us the rest, where we escape U+2028 / U+2029 and, with
/// `ensure_ascii`, everything outside ASCII. Used for nested serde key-values and `extra`.
pub(crate) struct JsonFormatter {
    pub(crate) ascii: bool,
}

impl serde_json::ser::Formatter for JsonFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let needs = |b: u8| if self.ascii { b >= 0x80 } else { b == 0xE2 };
        if !fragment.bytes().any(needs) {
            return writer.write_all(fragment.as_bytes());
        }
        // Rare: non-ASCII text with ensure_ascii, or an U+2028 / U+2029.
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if (self.ascii && !c.is_ascii()) || c == '\u{2028}' || c == '\u{2029}' {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    writer.write_all(&u_escape(*unit))?;
                }
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str, ascii: bool) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s, ascii);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_text_is_copied_unchanged() {
        assert_eq!(esc("", false), "\"\"");
        assert_eq!(
            esc("user 72000 logged in from 10.0.0.7", false),
            "\"user 72000 logged in from 10.0.0.7\""
        );
        assert_eq!(esc("héllo wörld ✓ 😀", false), "\"héllo wörld ✓ 😀\"");
    }

    #[test]
    fn quotes_backslashes_and_controls_are_escaped() {
        assert_eq!(
            esc("a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{0}i\u{1f}j\u{7f}", false),
            "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0000i\\u001fj\u{7f}\""
        );
    }

    #[test]
    fn line_and_paragraph_separators_are_escaped() {
        assert_eq!(
            esc("a\u{2028}b\u{2029}c\u{2027}", false),
            "\"a\\u2028b\\u2029c\u{2027}\""
        );
    }

    #[test]
    fn ensure_ascii_escapes_everything_outside_ascii_as_python_does() {
        assert_eq!(esc("é✓😀", true), "\"\\u00e9\\u2713\\ud83d\\ude00\"");
    }

    /// Character by character, as the JSON spec and Python's `json` say.
    fn reference(s: &str, ascii: bool) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20
                    || c == '\u{2028}'
                    || c == '\u{2029}'
                    || (ascii && !c.is_ascii()) =>
                {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{:04x}", u));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn every_position_of_every_special_character_is_found() {
        // The word-at-a-time scan must not miss a byte in any lane.
        for special in [
            '"', '\\', '\n', '\u{1}', '\u{1f}', '\u{2028}', '\u{2029}', 'é', '\u{e2}', '😀',
        ] {
            for len in 0..20 {
                for at in 0..=len {
                    let mut s: String = "x".repeat(len);
                    s.insert(at, special);
                    s.insert(0, 'é');
                    for ascii in [false, true] {
                        let got = esc(&s, ascii);
                        assert_eq!(got, reference(&s, ascii), "{special:?} at {at} of {len}");
                        let parsed: String = serde_json::from_str(&got).unwrap();
                        assert_eq!(parsed, s);
                    }
                }
            }
        }
    }
}
