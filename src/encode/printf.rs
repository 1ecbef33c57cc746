//! printf-style conversions done exactly as Python's `%` operator does them (CPython's
//! `unicodeobject.c`: `formatlong`, `formatfloat`, `unicode_format_arg_output`), writing straight
//! into the output buffer without allocating.
//!
//! Every writer appends at the end of `out`; padding is added afterwards by shifting the bytes
//! written since `start`, so no intermediate string is ever built.

use std::fmt::{self, Write as _};

/// The flags between `%(name)` and the width.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    /// `-`: left-justify.
    pub left: bool,
    /// `0`: pad numbers with zeros after the sign.
    pub zero: bool,
    /// `+`: always print a sign.
    pub plus: bool,
    /// ` `: a space where a `+` sign would go.
    pub space: bool,
    /// `#`: alternate form (`0x`, `0o`, keep the decimal point).
    pub alt: bool,
}

/// The conversion character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conversion {
    /// `s`: `str()`.
    Str,
    /// `r`: `repr()`.
    Repr,
    /// `a`: `ascii()`.
    Ascii,
    /// `d`, `i`, `u`: signed decimal.
    Decimal,
    /// `o`.
    Octal,
    /// `x`.
    Hex,
    /// `X`.
    HexUpper,
    /// `e`.
    Exp,
    /// `E`.
    ExpUpper,
    /// `f`.
    Fixed,
    /// `F`.
    FixedUpper,
    /// `g`.
    General,
    /// `G`.
    GeneralUpper,
    /// `c`: one character.
    Char,
}

impl Conversion {
    /// The conversion for a conversion character, as Python accepts them.
    pub(crate) fn from_char(c: char) -> Option<Conversion> {
        Some(match c {
            's' => Conversion::Str,
            'r' => Conversion::Repr,
            'a' => Conversion::Ascii,
            'd' | 'i' | 'u' => Conversion::Decimal,
            'o' => Conversion::Octal,
            'x' => Conversion::Hex,
            'X' => Conversion::HexUpper,
            'e' => Conversion::Exp,
            'E' => Conversion::ExpUpper,
            'f' => Conversion::Fixed,
            'F' => Conversion::FixedUpper,
            'g' => Conversion::General,
            'G' => Conversion::GeneralUpper,
            'c' => Conversion::Char,
            _ => return None,
        })
    }

    /// True for the conversions that need an integer (`d o x X`) and refuse floats except `d`.
    pub(crate) fn is_integer(self) -> bool {
        matches!(
            self,
            Conversion::Decimal | Conversion::Octal | Conversion::Hex | Conversion::HexUpper
        )
    }

    /// True for `e E f F g G`.
    pub(crate) fn is_float(self) -> bool {
        matches!(
            self,
            Conversion::Exp
                | Conversion::ExpUpper
                | Conversion::Fixed
                | Conversion::FixedUpper
                | Conversion::General
                | Conversion::GeneralUpper
        )
    }
}

/// Flags, width, precision and conversion of one `%(name)...` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Spec {
    pub flags: Flags,
    pub width: usize,
    pub precision: Option<usize>,
    pub conversion: Conversion,
}

/// `fmt::Write` over the output buffer.
pub(crate) struct VecWriter<'a>(pub &'a mut Vec<u8>);

impl fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A fixed stack buffer for number text (the longest is `%f` of f64::MAX: 309 digits plus the
/// precision, which the parser caps).
struct StackText {
    buf: [u8; 512],
    len: usize,
}

impl StackText {
    fn new() -> Self {
        StackText {
            buf: [0; 512],
            len: 0,
        }
    }
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Number of characters in `bytes` (valid UTF-8).
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

/// Byte length of the first `chars` characters of `bytes` (valid UTF-8).
fn prefix_len(bytes: &[u8], chars: usize) -> usize {
    let mut seen = 0;
    for (i, b) in bytes.iter().enumerate() {
        if (*b & 0xC0) != 0x80 {
            if seen == chars {
                return i;
            }
            seen += 1;
        }
    }
    bytes.len()
}

/// Inserts `count` copies of `fill` at byte index `at` of `out`.
fn insert_fill(out: &mut Vec<u8>, at: usize, count: usize, fill: u8) {
    if count == 0 {
        return;
    }
    let old_len = out.len();
    out.resize(old_len + count, fill);
    out.copy_within(at..old_len, at + count);
    out[at..at + count].fill(fill);
}

/// Text conversions (`s r a c`, and values shown as text): the text written since `start` is cut
/// to `precision` characters, then padded with spaces to `width`.
pub(crate) fn finish_text(out: &mut Vec<u8>, start: usize, spec: &Spec) {
    if let Some(p) = spec.precision {
        let keep = prefix_len(&out[start..], p);
        out.truncate(start + keep);
    }
    pad_spaces(out, start, spec.width, spec.flags.left);
}

/// Pads the text written since `start` with spaces to `width` characters.
pub(crate) fn pad_spaces(out: &mut Vec<u8>, start: usize, width: usize, left: bool) {
    if width == 0 {
        return;
    }
    let n = char_count(&out[start..]);
    if width > n {
        if left {
            out.resize(out.len() + (width - n), b' ');
        } else {
            insert_fill(out, start, width - n, b' ');
        }
    }
}

/// Numeric layout shared by integers and floats (`unicode_format_arg_output`): the text written
/// since `start` is `[-][prefix]digits`; adds the `+`/space sign, then pads to `width` with
/// spaces before the sign, zeros after the sign and prefix (`0` flag), or spaces after (`-`).
fn finish_number(out: &mut Vec<u8>, start: usize, prefix_len: usize, spec: &Spec) {
    let negative = out.get(start) == Some(&b'-');
    let mut sign_len = usize::from(negative);
    if !negative && (spec.flags.plus || spec.flags.space) {
        insert_fill(out, start, 1, if spec.flags.plus { b'+' } else { b' ' });
        sign_len = 1;
    }
    let len = out.len() - start;
    if spec.width <= len {
        return;
    }
    let pad = spec.width - len;
    if spec.flags.left {
        out.resize(out.len() + pad, b' ');
    } else if spec.flags.zero {
        insert_fill(out, start + sign_len + prefix_len, pad, b'0');
    } else {
        insert_fill(out, start, pad, b' ');
    }
}

/// An integer (`d i u o x X`; for `s r a` call with `Decimal` and no flags beyond width).
pub(crate) fn write_int(out: &mut Vec<u8>, value: i128, spec: &Spec) {
    // Plain `%d` (a line number, a count): no sign flag, width or precision to lay out.
    let plain =
        spec.width == 0 && spec.precision.is_none() && !spec.flags.plus && !spec.flags.space;
    if plain
        && spec.conversion == Conversion::Decimal
        && let Ok(value) = i64::try_from(value)
    {
        write_plain_decimal(out, value);
        return;
    }
    let start = out.len();
    let negative = value < 0;
    let magnitude = value.unsigned_abs();
    if negative {
        out.push(b'-');
    }
    let mut buf = [0u8; 128];
    let (radix, prefix): (u32, &[u8]) = match spec.conversion {
        Conversion::Octal => (8, b"0o"),
        Conversion::Hex => (16, b"0x"),
        Conversion::HexUpper => (16, b"0X"),
        _ => (10, b""),
    };
    let upper = spec.conversion == Conversion::HexUpper;
    let digits = int_digits(magnitude, radix, upper, &mut buf);
    write_int_digits(out, start, prefix, digits, spec);
}

/// `value` in decimal, `-` first when negative.
fn write_plain_decimal(out: &mut Vec<u8>, value: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = value.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

/// The digits of `value` in `radix` (8, 10 or 16), at the end of `buf`. A plain loop: the
/// `fmt` machinery costs several times more for the small numbers logs are full of.
fn int_digits(value: u128, radix: u32, upper: bool, buf: &mut [u8; 128]) -> &[u8] {
    const LOWER: &[u8; 16] = b"0123456789abcdef";
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    let table = if upper { UPPER } else { LOWER };
    let mut i = buf.len();
    if radix == 10
        && let Ok(mut v) = u64::try_from(value)
    {
        // A constant divisor: a multiplication instead of a division per digit.
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                return &buf[i..];
            }
        }
    }
    if let Ok(mut v) = u64::try_from(value) {
        let radix = u64::from(radix);
        loop {
            i -= 1;
            buf[i] = table[(v % radix) as usize];
            v /= radix;
            if v == 0 {
                break;
            }
        }
    } else {
        let mut v = value;
        let radix = u128::from(radix);
        while v != 0 {
            i -= 1;
            buf[i] = table[(v % radix) as usize];
            v /= radix;
        }
    }
    &buf[i..]
}

/// Lays out `[-]` (already written at `start`), the `#` prefix, precision zeros and `digits`.
fn write_int_digits(out: &mut Vec<u8>, start: usize, prefix: &[u8], digits: &[u8], spec: &Spec) {
    let prefix = if spec.flags.alt { prefix } else { b"" };
    out.extend_from_slice(prefix);
    if let Some(p) = spec.precision
        && p > digits.len()
    {
        out.resize(out.len() + (p - digits.len()), b'0');
    }
    out.extend_from_slice(digits);
    finish_number(out, start, prefix.len(), spec);
}

/// `%d` of a float: Python applies `int()` (truncation toward zero) first.
pub(crate) fn write_float_as_int(out: &mut Vec<u8>, value: f64, spec: &Spec) {
    if !value.is_finite() {
        // Python raises (OverflowError / ValueError); show the float instead of failing.
        write_float(
            out,
            value,
            &Spec {
                conversion: Conversion::Str,
                ..*spec
            },
        );
        return;
    }
    let truncated = value.trunc();
    if truncated.abs() < 1e38 {
        write_int(out, truncated as i128, spec);
        return;
    }
    let start = out.len();
    if truncated < 0.0 {
        out.push(b'-');
    }
    let mut digits = StackText::new();
    let _ = write!(digits, "{:.0}", truncated.abs());
    write_int_digits(out, start, b"", digits.as_bytes(), spec);
}

/// A float with `e E f F g G`, or `s r a` (Python's `repr`, the shortest text that reads back).
pub(crate) fn write_float(out: &mut Vec<u8>, value: f64, spec: &Spec) {
    let start = out.len();
    let upper = matches!(
        spec.conversion,
        Conversion::ExpUpper | Conversion::FixedUpper | Conversion::GeneralUpper
    );
    if value.is_sign_negative() && !value.is_nan() {
        out.push(b'-');
    }
    let v = value.abs();
    if !v.is_finite() {
        let text: &[u8] = match (v.is_nan(), upper) {
            (true, false) => b"nan",
            (true, true) => b"NAN",
            (false, false) => b"inf",
            (false, true) => b"INF",
        };
        out.extend_from_slice(text);
        if matches!(
            spec.conversion,
            Conversion::Str | Conversion::Repr | Conversion::Ascii
        ) {
            finish_text(out, start, spec);
        } else {
            finish_number(out, start, 0, spec);
        }
        return;
    }
    let precision = spec.precision.unwrap_or(6);
    match spec.conversion {
        Conversion::Str | Conversion::Repr | Conversion::Ascii => {
            write_float_repr(out, v);
            finish_text(out, start, spec);
            return;
        }
        Conversion::Fixed | Conversion::FixedUpper => {
            let _ = write!(VecWriter(out), "{v:.precision$}");
            if spec.flags.alt && precision == 0 {
                out.push(b'.');
            }
        }
        Conversion::Exp | Conversion::ExpUpper => {
            write_exp(out, v, precision, spec.flags.alt, upper);
        }
        _ => {
            write_general(out, v, precision, spec.flags.alt, upper);
        }
    }
    finish_number(out, start, 0, spec);
}

/// Decimal digits and exponent of the shortest representation of `v` (finite, >= 0):
/// `1.5e-3` gives ("15", -3).
fn shortest_digits(v: f64, text: &mut StackText) -> (usize, i32) {
    let _ = write!(text, "{v:e}");
    let bytes = text.as_bytes();
    let e = bytes.iter().position(|b| *b == b'e').unwrap_or(bytes.len());
    let exponent: i32 = bytes
        .get(e + 1..)
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    // Compact the mantissa digits (drop the '.') in place at the start of the buffer.
    let mut n = 0;
    for i in 0..e {
        let b = text.buf[i];
        if b != b'.' {
            text.buf[n] = b;
            n += 1;
        }
    }
    (n, exponent)
}

/// Python's `repr(float)` of `v` (finite, >= 0): fixed notation for exponents -4..=15 with at
/// least one digit after the point, scientific otherwise (`1e+16`, `1.5e-05`).
fn write_float_repr(out: &mut Vec<u8>, v: f64) {
    let mut text = StackText::new();
    let (n, exponent) = shortest_digits(v, &mut text);
    let digits = &text.buf[..n];
    if (-4..16).contains(&exponent) {
        let decpt = exponent + 1;
        if decpt <= 0 {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-decpt) as usize, b'0');
            out.extend_from_slice(digits);
        } else {
            let decpt = decpt as usize;
            if decpt >= n {
                out.extend_from_slice(digits);
                out.resize(out.len() + (decpt - n), b'0');
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits[..decpt]);
                out.push(b'.');
                out.extend_from_slice(&digits[decpt..]);
            }
        }
    } else {
        out.push(digits[0]);
        if n > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        write_exponent(out, exponent, false);
    }
}

/// `e+05`, `e-12`, `E+100`: sign always, at least two digits.
fn write_exponent(out: &mut Vec<u8>, exponent: i32, upper: bool) {
    out.push(if upper { b'E' } else { b'e' });
    out.push(if exponent < 0 { b'-' } else { b'+' });
    let _ = write!(VecWriter(out), "{:02}", exponent.unsigned_abs());
}

/// Writes Rust's `{:.precision$e}` of `v` (`1.235e5`) at the end of `out`, removes the exponent
/// part again and returns it. Written in place: the precision can be large (up to the parser's
/// limit), so no fixed buffer.
fn write_rust_exp(out: &mut Vec<u8>, v: f64, precision: usize) -> i32 {
    let from = out.len();
    let _ = write!(VecWriter(out), "{v:.precision$e}");
    let e = out[from..]
        .iter()
        .position(|b| *b == b'e')
        .map_or(out.len(), |i| from + i);
    let exponent = out
        .get(e + 1..)
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    out.truncate(e);
    exponent
}

/// `%e` of `v` (finite, >= 0) with `precision` digits after the point.
fn write_exp(out: &mut Vec<u8>, v: f64, precision: usize, alt: bool, upper: bool) {
    let exponent = write_rust_exp(out, v, precision);
    if alt && precision == 0 {
        out.push(b'.');
    }
    write_exponent(out, exponent, upper);
}

/// `%g`: scientific when the exponent is < -4 or >= precision, fixed otherwise; trailing zeros
/// (and a bare point) removed unless `#`.
fn write_general(out: &mut Vec<u8>, v: f64, precision: usize, alt: bool, upper: bool) {
    let p = precision.max(1);
    let body_start = out.len();
    // The exponent after rounding to p significant digits decides the notation.
    let exponent = write_rust_exp(out, v, p - 1);
    let use_exp = exponent < -4 || exponent >= p as i32;
    if !use_exp {
        out.truncate(body_start);
        let decimals = (p as i32 - 1 - exponent) as usize;
        let _ = write!(VecWriter(out), "{v:.decimals$}");
    }
    let has_point = out[body_start..].contains(&b'.');
    if alt {
        if !has_point {
            out.push(b'.');
        }
    } else if has_point {
        while out.last() == Some(&b'0') {
            out.pop();
        }
        if out.last() == Some(&b'.') {
            out.pop();
        }
    }
    if use_exp {
        write_exponent(out, exponent, upper);
    }
}

/// `%c` of an integer: that code point (U+FFFD when it is not one; Python raises).
pub(crate) fn write_char_code(out: &mut Vec<u8>, code: i128, spec: &Spec) {
    let start = out.len();
    let c = u32::try_from(code)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    // Python ignores the precision for %c.
    pad_spaces(out, start, spec.width, spec.flags.left);
}

/// Python's `repr(str)` (or `ascii(str)` when `ascii`) of the text in `out[from..]`, replacing it.
pub(crate) fn repr_in_place(out: &mut Vec<u8>, from: usize, ascii: bool) {
    let raw_end = out.len();
    let (mut has_single, mut has_double) = (false, false);
    for b in &out[from..raw_end] {
        has_single |= *b == b'\'';
        has_double |= *b == b'"';
    }
    let quote = if has_single && !has_double {
        b'"'
    } else {
        b'\''
    };
    out.push(quote);
    let mut i = from;
    while i < raw_end {
        let width = utf8_width(out[i]);
        let end = (i + width).min(raw_end);
        let c = std::str::from_utf8(&out[i..end])
            .ok()
            .and_then(|s| s.chars().next())
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        i = end;
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if c as u32 == u32::from(quote) => {
                out.push(b'\\');
                out.push(quote);
            }
            c if (' '..='~').contains(&c) => out.push(c as u8),
            c if !ascii && c as u32 > 0x7f && is_printable(c) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            c => {
                let code = c as u32;
                let _ = if code <= 0xff {
                    write!(VecWriter(out), "\\x{code:02x}")
                } else if code <= 0xffff {
                    write!(VecWriter(out), "\\u{code:04x}")
                } else {
                    write!(VecWriter(out), "\\U{code:08x}")
                };
            }
        }
    }
    out.push(quote);
    out.drain(from..raw_end);
}

fn utf8_width(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Python's `str.isprintable` (CPython's `Py_UNICODE_ISPRINTABLE`): a character is printable
/// unless its general category is Cc, Cf, Cs, Co, Cn (control, format, surrogate, private use,
/// unassigned), Zl, Zp or Zs (separators; the ASCII space is handled by the caller). The
/// categories come from the Unicode database CPython 3.13 ships (15.1.0), so unassigned code
/// points are escaped exactly where CPython escapes them (`'\u0378'`).
fn is_printable(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    !matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::SpaceSeparator
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(flags: &str, width: usize, precision: Option<usize>, conversion: char) -> Spec {
        Spec {
            flags: Flags {
                left: flags.contains('-'),
                zero: flags.contains('0'),
                plus: flags.contains('+'),
                space: flags.contains(' '),
                alt: flags.contains('#'),
            },
            width,
            precision,
            conversion: Conversion::from_char(conversion).unwrap(),
        }
    }

    fn int(v: i128, s: Spec) -> String {
        let mut out = b"x".to_vec();
        write_int(&mut out, v, &s);
        String::from_utf8(out[1..].to_vec()).unwrap()
    }

    fn float(v: f64, s: Spec) -> String {
        let mut out = Vec::new();
        write_float(&mut out, v, &s);
        String::from_utf8(out).unwrap()
    }

    // Expected values are what CPython 3.11 prints for the same `%` expression.
    #[test]
    fn integers_follow_pythons_layout() {
        assert_eq!(int(5, spec("0", 8, Some(3), 'd')), "00000005");
        assert_eq!(int(5, spec("-0", 8, Some(3), 'd')), "005     ");
        assert_eq!(int(255, spec("#0", 8, None, 'x')), "0x0000ff");
        assert_eq!(int(5, spec("#", 0, Some(3), 'x')), "0x005");
        assert_eq!(int(5, spec("+", 0, Some(3), 'd')), "+005");
        assert_eq!(int(5, spec(" 0", 5, None, 'd')), " 0005");
        assert_eq!(int(-255, spec("#", 0, None, 'x')), "-0xff");
        assert_eq!(int(0, spec("#", 0, None, 'o')), "0o0");
    }

    #[test]
    fn floats_follow_pythons_layout() {
        assert_eq!(
            float(f64::INFINITY, spec("0", 10, Some(2), 'f')),
            "0000000inf"
        );
        assert_eq!(float(f64::INFINITY, spec("+", 0, None, 'F')), "+INF");
        assert_eq!(float(0.125, spec("", 0, Some(2), 'f')), "0.12");
        assert_eq!(float(3.0, spec("#", 0, Some(0), 'f')), "3.");
        assert_eq!(float(3.0, spec("#", 0, Some(0), 'e')), "3.e+00");
        assert_eq!(float(3.0, spec("#", 0, None, 'g')), "3.00000");
        assert_eq!(float(1e-5, spec("", 0, None, 'g')), "1e-05");
        assert_eq!(float(123456789.0, spec("", 0, None, 'g')), "1.23457e+08");
        assert_eq!(float(0.0001234, spec("", 0, Some(3), 'g')), "0.000123");
        assert_eq!(float(1e-5, spec("#", 0, None, 'G')), "1.00000E-05");
        assert_eq!(float(1e20, spec("", 0, None, 'G')), "1E+20");
        assert_eq!(float(123.0, spec("", 0, Some(0), 'g')), "1e+02");
        assert_eq!(float(4.56789, spec("-+", 8, Some(2), 'f')), "+4.57   ");
        assert_eq!(float(-31415.9, spec(" ", 8, Some(2), 'e')), "-3.14e+04");
    }

    #[test]
    fn the_largest_precisions_do_not_overflow_any_buffer() {
        let long = float(1e300, spec("", 0, Some(4096), 'e'));
        assert!(
            long.starts_with("1.000") && long.ends_with("e+300"),
            "{}",
            &long[..10]
        );
        assert_eq!(long.len(), "1.".len() + 4096 + "e+300".len());
        // Python: len('%#.4096g' % sys.float_info.max) == 4097, fixed notation.
        let long = float(f64::MAX, spec("#", 0, Some(4096), 'g'));
        assert!(long.starts_with("179769313486231570") && long.contains('.'));
        assert_eq!(long.len(), 4097);
        let long = float(f64::MAX, spec("", 0, Some(4096), 'f'));
        assert_eq!(long.len(), 309 + 1 + 4096);
        let mut out = Vec::new();
        write_float_as_int(&mut out, -f64::MAX, &spec("", 0, None, 'd'));
        assert_eq!(out.len(), 310);
    }

    #[test]
    fn float_repr_matches_python() {
        for (v, want) in [
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1700000000.123456, "1700000000.123456"),
            (-0.0, "-0.0"),
            (123.0, "123.0"),
            (896.0, "896.0"),
        ] {
            assert_eq!(float(v, spec("", 0, None, 'r')), want);
        }
    }

    #[test]
    fn repr_picks_quotes_and_escapes_like_python() {
        let repr = |s: &str, ascii: bool| {
            let mut out = s.as_bytes().to_vec();
            repr_in_place(&mut out, 0, ascii);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(repr("it's", false), "\"it's\"");
        assert_eq!(repr("it's \"q\"", false), "'it\\'s \"q\"'");
        assert_eq!(
            repr("héllo\n\0\u{200b}", true),
            "'h\\xe9llo\\n\\x00\\u200b'"
        );
        assert_eq!(
            repr("héllo\n\0\u{200b}\u{a0}", false),
            "'héllo\\n\\x00\\u200b\\xa0'"
        );
    }

    #[test]
    fn text_is_cut_to_precision_then_padded() {
        let mut out = b"abcdefg".to_vec();
        finish_text(&mut out, 0, &spec("", 10, Some(4), 's'));
        assert_eq!(out, b"      abcd");
        let mut out = "é".as_bytes().to_vec();
        finish_text(&mut out, 0, &spec("-", 3, None, 's'));
        assert_eq!(out, "é  ".as_bytes());
    }
}
