//! `fields: gcp`: Google Cloud Logging's structured JSON, as its logging agents and Cloud Run
//! read it from stdout or a file (the special fields of `jsonPayload`), with errors in the
//! shape Error Reporting picks up.

use log::{Level, Record};

use super::escape::write_str;
use super::record::{KeyValues, Timestamp, comma, write_int, write_key, write_message};
use super::{Constants, Prepared};

/// What Error Reporting reads as an error event, whatever the language of the trace.
pub const REPORTED_ERROR_EVENT: &str =
    "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent";

/// The top-level fields this field set writes (a key-value may not reuse them).
pub(super) const FIELDS: &[&str] = &[
    "severity",
    "message",
    "time",
    "logging.googleapis.com/labels",
    "logging.googleapis.com/sourceLocation",
    "serviceContext",
    "@type",
    "stack_trace",
];

/// The labels this field set writes itself (`extra` goes into the labels too).
pub(super) const LABELS: &[&str] = &["logger"];

/// `severity`: Cloud Logging's `LogSeverity` names (it has no trace level: DEBUG).
fn severity(level: Level) -> &'static [u8] {
    match level {
        Level::Error => b"ERROR",
        Level::Warn => b"WARNING",
        Level::Info => b"INFO",
        Level::Debug | Level::Trace => b"DEBUG",
    }
}

/// `constant`: `,"serviceContext":{"service":"microblog"}`; `nested`: the `extra` labels,
/// each value as a string (Cloud Logging's labels are strings).
pub(super) fn constants(c: &Constants) -> Prepared {
    let mut p = Prepared::new(c, FIELDS);
    if let Some(service) = c.service {
        let out = &mut p.constant;
        write_key(out, "", "serviceContext", c.ascii);
        out.extend_from_slice(b"{\"service\":");
        write_str(out, service, c.ascii);
        out.push(b'}');
    }
    c.write_extra_as_strings(&mut p.nested);
    p
}

pub(super) fn write(
    p: &Prepared,
    record: &Record,
    now: Timestamp,
    _thread: Option<&str>,
    out: &mut Vec<u8>,
) {
    let a = p.ascii;
    out.extend_from_slice(b"{\"severity\":\"");
    out.extend_from_slice(severity(record.level()));
    out.extend_from_slice(b"\",\"message\":");
    write_message(out, record, a);
    out.extend_from_slice(b",\"time\":");
    now.write_rfc3339(out, 9);
    out.extend_from_slice(b",\"logging.googleapis.com/labels\":{\"logger\":");
    write_str(out, record.target(), a);
    out.extend_from_slice(&p.nested);
    out.push(b'}');
    out.extend_from_slice(&p.constant);
    let picked = KeyValues::write(record, out, a, &p.reserved, "kv.");
    if record.file().is_some() || record.line().is_some() || picked.function.is_some() {
        out.extend_from_slice(b",\"logging.googleapis.com/sourceLocation\":{");
        if let Some(file) = record.file() {
            out.extend_from_slice(b"\"file\":");
            write_str(out, file, a);
        }
        if let Some(line) = record.line() {
            // LogEntrySourceLocation.line is an int64: a string in proto3's JSON.
            comma(out);
            out.extend_from_slice(b"\"line\":\"");
            write_int(out, line);
            out.push(b'"');
        }
        if let Some(function) = picked.function {
            comma(out);
            out.extend_from_slice(b"\"function\":");
            write_str(out, function, a);
        }
        out.push(b'}');
    }
    picked.with_error(record, |e| {
        out.extend_from_slice(b",\"@type\":\"");
        out.extend_from_slice(REPORTED_ERROR_EVENT.as_bytes());
        out.extend_from_slice(b"\",\"stack_trace\":");
        e.write_text(out, a);
    });
    out.push(b'}');
}
