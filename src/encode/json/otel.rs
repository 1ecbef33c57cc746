//! `fields: otel`: the OpenTelemetry log data model, one log record per line with its resource,
//! attributes named by the semantic conventions.

use log::{Level, Record};

use super::escape::write_str;
use super::record::{KeyValues, Timestamp, comma, write_int, write_key, write_message};
use super::{Constants, Prepared};

/// The `service.name` written when no `service` is configured, as the OpenTelemetry SDKs do.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// The attributes this field set writes (a key-value may not reuse them).
pub(super) const ATTRIBUTES: &[&str] = &[
    "code.file.path",
    "code.line.number",
    "code.function.name",
    "thread.name",
    "exception.type",
    "exception.message",
    "exception.stacktrace",
];

/// The resource attributes this field set writes (`extra` goes into the resource too).
pub(super) const RESOURCE: &[&str] = &["service.name", "host.name", "process.pid"];

/// `severityNumber` and `severityText` (the data model's numbers; the text as Rust names it).
fn severity(level: Level) -> (&'static [u8], &'static [u8]) {
    match level {
        Level::Error => (b"17", b"ERROR"),
        Level::Warn => (b"13", b"WARN"),
        Level::Info => (b"9", b"INFO"),
        Level::Debug => (b"5", b"DEBUG"),
        Level::Trace => (b"1", b"TRACE"),
    }
}

/// `constant`: `,"resource":{"service.name":..,"host.name":..,"process.pid":..}` with `extra`.
pub(super) fn constants(c: &Constants) -> Prepared {
    let mut p = Prepared::new(c, ATTRIBUTES);
    let out = &mut p.constant;
    out.extend_from_slice(b",\"resource\":{");
    write_key(out, "", "service.name", c.ascii);
    write_str(out, c.service.unwrap_or(UNKNOWN_SERVICE), c.ascii);
    if let Some(host) = c.host {
        write_key(out, "", "host.name", c.ascii);
        write_str(out, host, c.ascii);
    }
    write_key(out, "", "process.pid", c.ascii);
    write_int(out, c.pid);
    c.write_extra(out, "");
    out.push(b'}');
    p
}

pub(super) fn write(
    p: &Prepared,
    record: &Record,
    now: Timestamp,
    thread: Option<&str>,
    out: &mut Vec<u8>,
) {
    let a = p.ascii;
    let (number, text) = severity(record.level());
    out.extend_from_slice(b"{\"timeUnixNano\":");
    now.write_unix_nanos(out);
    out.extend_from_slice(b",\"severityNumber\":");
    out.extend_from_slice(number);
    out.extend_from_slice(b",\"severityText\":\"");
    out.extend_from_slice(text);
    out.extend_from_slice(b"\",\"body\":");
    write_message(out, record, a);
    out.extend_from_slice(b",\"attributes\":{");
    if let Some(file) = record.file() {
        out.extend_from_slice(b"\"code.file.path\":");
        write_str(out, file, a);
    }
    if let Some(line) = record.line() {
        comma(out);
        out.extend_from_slice(b"\"code.line.number\":");
        write_int(out, line);
    }
    if let Some(thread) = thread {
        comma(out);
        out.extend_from_slice(b"\"thread.name\":");
        write_str(out, thread, a);
    }
    let picked = KeyValues::write(record, out, a, &p.reserved, "kv.");
    if let Some(function) = picked.function {
        comma(out);
        out.extend_from_slice(b"\"code.function.name\":");
        write_str(out, function, a);
    }
    picked.with_error(record, |e| {
        comma(out);
        let start = out.len();
        out.extend_from_slice(b"\"exception.type\":");
        if e.write_type(out, a) {
            out.push(b',');
        } else {
            out.truncate(start);
        }
        out.extend_from_slice(b"\"exception.message\":");
        e.write_message(out, a);
        out.extend_from_slice(b",\"exception.stacktrace\":");
        e.write_trace(out, a);
    });
    out.extend_from_slice(b"},\"instrumentationScope\":{\"name\":");
    write_str(out, record.target(), a);
    out.push(b'}');
    out.extend_from_slice(&p.constant);
    out.push(b'}');
}
