//! What every field set reads from a record, written as JSON: the time, typed key-values, the
//! error and its `source()` chain (or a panic's backtrace), and the constant fragments made once
//! at build time (service, host, pid, `extra`) as pre-escaped bytes.

use std::cell::Cell;
use std::error::Error;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use log::Record;
use log::kv::{Key, Value, VisitSource};
use serde::Serialize as _;

use super::escape::{EscapingWriter, JsonFormatter, write_str, write_str_contents};
use crate::panic::PanicError;

/// The time a record is encoded: seconds and nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timestamp {
    pub(crate) secs: i64,
    pub(crate) nanos: u32,
}

impl Timestamp {
    pub(crate) fn now() -> Timestamp {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            secs: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            nanos: since.subsec_nanos(),
        }
    }

    /// `"2026-12-01T23:07:55.123Z"`: RFC 3339 in UTC with `digits` (3, 6 or 9) fraction digits,
    /// quotes included. The date and time of day are computed once per second per thread.
    pub(crate) fn write_rfc3339(self, out: &mut Vec<u8>, digits: u32) {
        thread_local! {
            static SECOND: Cell<(i64, [u8; 19])> = const { Cell::new((i64::MIN, [0; 19])) };
        }
        let text = SECOND
            .try_with(|cell| {
                let (second, text) = cell.get();
                if second == self.secs {
                    return text;
                }
                let text = date_time_text(self.secs);
                cell.set((self.secs, text));
                text
            })
            .unwrap_or_else(|_| date_time_text(self.secs));
        out.push(b'"');
        out.extend_from_slice(&text);
        out.push(b'.');
        let divisor = match digits {
            3 => 1_000_000,
            6 => 1_000,
            _ => 1,
        };
        let fraction = self.nanos.min(999_999_999) / divisor;
        write_digits(out, fraction, digits);
        out.extend_from_slice(b"Z\"");
    }

    /// Nanoseconds since the epoch, as a JSON string (OTLP/JSON writes 64-bit integers as
    /// strings: a JavaScript number cannot hold them exactly).
    pub(crate) fn write_unix_nanos(self, out: &mut Vec<u8>) {
        let ns = i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos);
        out.push(b'"');
        out.extend_from_slice(itoa::Buffer::new().format(ns).as_bytes());
        out.push(b'"');
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of `secs` in UTC (proleptic Gregorian; years past 9999 are clamped,
/// where RFC 3339 ends).
fn date_time_text(secs: i64) -> [u8; 19] {
    let secs = secs.clamp(-62_135_596_800, 253_402_300_799); // 0001-01-01 .. 9999-12-31
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400) as u32;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)).clamp(0, 9999) as u32;
    let mut text = *b"0000-00-00T00:00:00";
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (0..width).rev() {
            text[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, of_day / 3600, 2);
    put(14, of_day / 60 % 60, 2);
    put(17, of_day % 60, 2);
    text
}

fn write_digits(out: &mut Vec<u8>, value: u32, digits: u32) {
    let mut buf = [b'0'; 10];
    let mut v = value;
    let n = digits.min(10) as usize;
    for i in (0..n).rev() {
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[..n]);
}

/// Appends a JSON integer.
#[inline]
pub(crate) fn write_int(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends `,` unless the object or array being written is still empty.
#[inline]
pub(crate) fn comma(out: &mut Vec<u8>) {
    if !matches!(out.last(), Some(b'{' | b'[')) {
        out.push(b',');
    }
}

/// Appends `,"key":` (with `prefix` in front of the key when given).
#[inline]
pub(crate) fn write_key(out: &mut Vec<u8>, prefix: &str, key: &str, ascii: bool) {
    comma(out);
    out.push(b'"');
    out.extend_from_slice(prefix.as_bytes());
    write_str_contents(out, key, ascii);
    out.extend_from_slice(b"\":");
}

/// The message, `format_args!` written straight into the output.
#[inline]
pub(crate) fn write_message(out: &mut Vec<u8>, record: &Record, ascii: bool) {
    match record.args().as_str() {
        Some(s) => write_str(out, s, ascii),
        None => {
            out.push(b'"');
            let _ = EscapingWriter { out, ascii }.write_fmt(*record.args());
            out.push(b'"');
        }
    }
}

/// Appends a key-value's value, keeping its type: strings, integers, floats and booleans
/// directly; anything else (nested `serde` values, `Display` and `Debug` captures) through
/// serde_json with our escaping. Never fails: a value whose serialization fails midway is
/// replaced by its `Display` text.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value, ascii: bool) {
    if let Some(s) = value.to_borrowed_str() {
        write_str(out, s, ascii);
    } else if let Some(i) = value.to_i64() {
        write_int(out, i);
    } else if let Some(u) = value.to_u64() {
        write_int(out, u);
    } else if let Some(f) = value.to_f64() {
        write_float(out, f);
    } else if let Some(b) = value.to_bool() {
        out.extend_from_slice(if b { b"true" } else { b"false" });
    } else {
        let start = out.len();
        let mut serializer =
            serde_json::Serializer::with_formatter(&mut *out, JsonFormatter { ascii });
        if value.serialize(&mut serializer).is_err() {
            // A `Serialize` impl that failed (e.g. a map with non-string keys): its text instead.
            out.truncate(start);
            out.push(b'"');
            let _ = write!(EscapingWriter { out, ascii }, "{value}");
            out.push(b'"');
        }
    }
}

/// A finite float as JSON; NaN and the infinities, which JSON cannot express, as `null` (what
/// serde_json and JavaScript's `JSON.stringify` write).
pub(crate) fn write_float(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Names a field set writes itself, so that a key-value or an `extra` key does not produce a
/// duplicate or conflicting key. A key conflicts with a name when it is the name, or one is the
/// other followed by `.` (`log` against `log.level`: Elasticsearch cannot map both).
#[derive(Clone, Debug)]
pub(crate) struct Reserved {
    /// First bytes of the names: most keys are rejected by one lookup.
    first: [bool; 256],
    names: Vec<Box<str>>,
}

impl Reserved {
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Reserved {
        let mut reserved = Reserved {
            first: [false; 256],
            names: Vec::new(),
        };
        for name in names {
            reserved.add(name);
        }
        reserved
    }

    pub(crate) fn add(&mut self, name: &str) {
        if let Some(&b) = name.as_bytes().first() {
            self.first[usize::from(b)] = true;
        }
        self.names.push(name.into());
    }

    /// The reserved name `key` conflicts with, if any.
    #[inline]
    pub(crate) fn conflict(&self, key: &str) -> Option<&str> {
        let &b = key.as_bytes().first()?;
        if !self.first[usize::from(b)] {
            return None;
        }
        self.conflict_slow(key)
    }

    fn conflict_slow(&self, key: &str) -> Option<&str> {
        let nested = |long: &str, short: &str| {
            long.len() > short.len()
                && long.starts_with(short)
                && long.as_bytes()[short.len()] == b'.'
        };
        self.names
            .iter()
            .find(|n| &***n == key || nested(n, key) || nested(key, n))
            .map(|n| &**n)
    }
}

/// Which of the record's key-values carries the error (`error` wins over `err`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ErrorKey {
    None,
    Err,
    Error,
    Both,
}

/// Writes the record's key-values as `,"key":value` pairs into the object being written, and
/// picks out the ones a field set maps to fields of its own: `funcName` (from this crate's
/// macros and the panic hook) and the error under `error` / `err`.
pub(crate) struct KeyValues<'a, 'kvs> {
    out: &'a mut Vec<u8>,
    ascii: bool,
    reserved: &'a Reserved,
    /// Put in front of a key that conflicts with a reserved name (`labels.`, `kv.`).
    conflict_prefix: &'static str,
    function: Option<&'kvs str>,
    error_key: ErrorKey,
}

impl<'a, 'kvs> KeyValues<'a, 'kvs> {
    /// Writes every key-value of `record` except `funcName` and the error; returns what it
    /// picked out.
    pub(crate) fn write(
        record: &'kvs Record<'_>,
        out: &'a mut Vec<u8>,
        ascii: bool,
        reserved: &'a Reserved,
        conflict_prefix: &'static str,
    ) -> Picked<'kvs> {
        let source = record.key_values();
        let mut visitor = KeyValues {
            out,
            ascii,
            reserved,
            conflict_prefix,
            function: None,
            error_key: ErrorKey::None,
        };
        let _ = source.visit(&mut visitor);
        if visitor.error_key == ErrorKey::Both {
            // `error` is the one mapped to the error fields; `err` stays a key-value.
            if let Some(value) = source.get(Key::from_str("err")) {
                visitor.pair("err", &value);
            }
        }
        Picked {
            function: visitor.function,
            error_key: match visitor.error_key {
                ErrorKey::None => None,
                ErrorKey::Err => Some("err"),
                ErrorKey::Error | ErrorKey::Both => Some("error"),
            },
        }
    }

    fn pair(&mut self, key: &str, value: &Value) {
        let prefix = match self.reserved.conflict(key) {
            Some(_) => self.conflict_prefix,
            None => "",
        };
        write_key(self.out, prefix, key, self.ascii);
        write_value(self.out, value, self.ascii);
    }
}

impl<'kvs> VisitSource<'kvs> for KeyValues<'_, 'kvs> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let key = key.as_str();
        match key {
            "funcName" if self.function.is_none() => {
                if let Some(f) = value.to_borrowed_str() {
                    self.function = Some(f);
                    return Ok(());
                }
            }
            "error" if value.to_borrowed_error().is_some() => match self.error_key {
                ErrorKey::None => {
                    self.error_key = ErrorKey::Error;
                    return Ok(());
                }
                ErrorKey::Err => {
                    // The `err` seen before is written as a plain key-value afterwards.
                    self.error_key = ErrorKey::Both;
                    return Ok(());
                }
                ErrorKey::Error | ErrorKey::Both => {}
            },
            "err" if self.error_key == ErrorKey::None && value.to_borrowed_error().is_some() => {
                self.error_key = ErrorKey::Err;
                return Ok(());
            }
            _ => {}
        }
        self.pair(key, &value);
        Ok(())
    }
}

/// What [`KeyValues::write`] picked out of the key-values.
pub(crate) struct Picked<'kvs> {
    /// The enclosing function (`funcName`), when the record carries it.
    pub(crate) function: Option<&'kvs str>,
    /// The key of the error key-value.
    error_key: Option<&'static str>,
}

impl Picked<'_> {
    /// Runs `f` with the record's error, if it carries one.
    pub(crate) fn with_error(&self, record: &Record, f: impl FnOnce(ErrorView<'_>)) {
        let Some(key) = self.error_key else { return };
        let Some(value) = record.key_values().get(Key::from_str(key)) else {
            return;
        };
        if let Some(error) = value.to_borrowed_error() {
            f(ErrorView(error));
        }
    }
}

/// The longest `source()` chain followed (a buggy `source()` could cycle).
const MAX_CHAIN: usize = 64;

/// The type written for a `std::io::Error` (its `Debug` form names a variant, `Custom` or `Os`).
const IO_ERROR: &str = "std::io::Error";

/// A record's error, as the field sets write it.
#[derive(Clone, Copy)]
pub(crate) struct ErrorView<'e>(&'e (dyn Error + 'static));

impl ErrorView<'_> {
    fn panic(&self) -> Option<&PanicError> {
        self.0.downcast_ref::<PanicError>()
    }

    /// The error's message: its `Display` (a panic's message).
    pub(crate) fn write_message(&self, out: &mut Vec<u8>, ascii: bool) {
        match self.panic() {
            Some(p) => write_str(out, p.message(), ascii),
            None => {
                out.push(b'"');
                let _ = write!(EscapingWriter { out, ascii }, "{}", self.0);
                out.push(b'"');
            }
        }
    }

    /// The error's type, as far as Rust can tell at run time: `panic` for a panic,
    /// `std::io::Error`, else the leading type name of its `Debug` form (`Failed(Upstream)`
    /// gives `Failed`); `None` when that does not look like a type name.
    pub(crate) fn write_type(&self, out: &mut Vec<u8>, ascii: bool) -> bool {
        if self.panic().is_some() {
            out.extend_from_slice(b"\"panic\"");
            return true;
        }
        // The tracing front end hands over a copy of the chain, which kept the original's type.
        #[cfg(feature = "tracing")]
        if let Some(chain) = self.0.downcast_ref::<crate::tracing::ErrorChain>() {
            let name = if chain.is_io_error() {
                Some(IO_ERROR)
            } else {
                chain.type_name()
            };
            return name.map(|t| write_str(out, t, ascii)).is_some();
        }
        if self.0.is::<std::io::Error>() {
            write_str(out, IO_ERROR, ascii);
            return true;
        }
        let mut name = TypeName::default();
        let _ = write!(name, "{:?}", self.0);
        let text = name.text();
        if text.is_empty() {
            return false;
        }
        write_str(out, text, ascii);
        true
    }

    /// The whole story as one text: `Error: ...` then one `Caused by: ...` per source (as the
    /// Python encoder prints it); for a panic its message, location and backtrace.
    pub(crate) fn write_text(&self, out: &mut Vec<u8>, ascii: bool) {
        match self.panic() {
            Some(p) => {
                out.push(b'"');
                let _ = write!(EscapingWriter { out, ascii }, "{p}");
                out.push(b'"');
            }
            None => self.write_chain(out, ascii),
        }
    }

    /// The trace, beside a message field of its own: a panic's backtrace, or the `source()`
    /// chain as [`write_text`](Self::write_text) writes it.
    pub(crate) fn write_trace(&self, out: &mut Vec<u8>, ascii: bool) {
        match self.panic() {
            Some(p) => write_str(out, p.backtrace(), ascii),
            None => self.write_chain(out, ascii),
        }
    }

    fn write_chain(&self, out: &mut Vec<u8>, ascii: bool) {
        out.push(b'"');
        let mut w = EscapingWriter { out, ascii };
        let _ = write!(w, "Error: {}", self.0);
        let mut source = self.0.source();
        for _ in 0..MAX_CHAIN {
            let Some(cause) = source else { break };
            let _ = write!(w, "\nCaused by: {cause}");
            source = cause.source();
        }
        out.push(b'"');
    }
}

/// The leading type name of an error's `Debug` form (`ProfileError(..)` -> `ProfileError`), as
/// Sentry's SDK names an exception; `None` when it does not look like a type name.
#[cfg(feature = "tracing")]
pub(crate) fn debug_type_name(error: &dyn std::error::Error) -> Option<String> {
    let mut name = TypeName::default();
    let _ = write!(name, "{error:?}");
    Some(name.text())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Keeps the leading type name of a `Debug` form (`Failed(Upstream)` -> `Failed`,
/// `ParseIntError { kind: .. }` -> `ParseIntError`), on the stack.
struct TypeName {
    buf: [u8; 64],
    len: usize,
    done: bool,
}

impl Default for TypeName {
    fn default() -> Self {
        TypeName {
            buf: [0; 64],
            len: 0,
            done: false,
        }
    }
}

impl TypeName {
    fn text(&self) -> &str {
        let text = std::str::from_utf8(&self.buf[..self.len]).unwrap_or("");
        let first = text.bytes().next();
        if first.is_some_and(|b| b.is_ascii_uppercase()) {
            text.trim_end_matches(':')
        } else {
            ""
        }
    }
}

impl std::fmt::Write for TypeName {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.done {
            return Err(std::fmt::Error);
        }
        for b in s.bytes() {
            if (b.is_ascii_alphanumeric() || b == b'_' || b == b':') && self.len < self.buf.len() {
                self.buf[self.len] = b;
                self.len += 1;
            } else {
                self.done = true;
                // Stops the `Debug` impl early.
                return Err(std::fmt::Error);
            }
        }
        Ok(())
    }
}

/// Writes a constant `extra` value (from YAML or the builder) with our escaping.
pub(crate) fn write_json_value(out: &mut Vec<u8>, value: &serde_json::Value, ascii: bool) {
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, JsonFormatter { ascii });
    let _ = value.serialize(&mut serializer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, SecondsFormat};

    #[test]
    fn rfc3339_text_matches_chrono_for_every_kind_of_date() {
        let mut seconds = vec![
            0,
            1,
            86_399,
            86_400,
            951_782_400,
            1_709_164_800,
            4_102_444_800,
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            seconds.push((x % 253_402_300_799) as i64);
        }
        for secs in seconds {
            let ts = Timestamp {
                secs,
                nanos: 123_456_789,
            };
            let mut out = Vec::new();
            ts.write_rfc3339(&mut out, 9);
            let want = DateTime::from_timestamp(secs, 123_456_789)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Nanos, true);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("\"{want}\""),
                "{secs}"
            );
        }
        let mut out = Vec::new();
        Timestamp {
            secs: 1_764_630_475,
            nanos: 123_456_789,
        }
        .write_rfc3339(&mut out, 3);
        assert_eq!(out, b"\"2025-12-01T23:07:55.123Z\"");
    }

    #[test]
    fn keys_conflict_when_equal_or_nested_in_each_other() {
        let r = Reserved::new(["log.level", "message"]);
        assert_eq!(r.conflict("message"), Some("message"));
        assert_eq!(r.conflict("log"), Some("log.level"));
        assert_eq!(r.conflict("log.level.x"), Some("log.level"));
        assert_eq!(r.conflict("logger"), None);
        assert_eq!(r.conflict("log.levels"), None);
        assert_eq!(r.conflict(""), None);
        assert_eq!(r.conflict("user"), None);
    }

    #[test]
    fn type_names_come_from_the_debug_form() {
        let mut t = TypeName::default();
        let _ = write!(t, "{:?}", "x".parse::<i32>().unwrap_err());
        assert_eq!(t.text(), "ParseIntError");
        let mut t = TypeName::default();
        let _ = write!(t, "\"a string\"");
        assert_eq!(t.text(), "");
    }
}
