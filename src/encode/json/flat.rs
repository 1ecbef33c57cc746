//! `fields: flat`: python-json-logger's keys (Python's `LogRecord` attribute names), so that a
//! Python service's dashboards and queries read a Rust service's lines unchanged.

use log::Record;

use super::escape::write_str;
use super::record::{KeyValues, Timestamp, write_int, write_key, write_message};
use super::{Constants, Prepared};
use crate::encode::attributes::{level_name, module_name};

/// The keys this field set writes (an `extra` key or a key-value may not reuse them).
pub(super) const FIELDS: &[&str] = &[
    "timestamp",
    "levelname",
    "name",
    "message",
    "pathname",
    "lineno",
    "funcName",
    "module",
    "threadName",
    "process",
    "service",
    "exc_info",
];

/// `,"process":4242,"service":"microblog"` then `extra`.
pub(super) fn constants(c: &Constants) -> Prepared {
    let mut p = Prepared::new(c, FIELDS);
    let out = &mut p.constant;
    write_key(out, "", "process", c.ascii);
    write_int(out, c.pid);
    if let Some(service) = c.service {
        write_key(out, "", "service", c.ascii);
        write_str(out, service, c.ascii);
    }
    c.write_extra(out, "");
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
    out.extend_from_slice(b"{\"timestamp\":");
    now.write_rfc3339(out, 6);
    out.extend_from_slice(b",\"levelname\":\"");
    out.extend_from_slice(level_name(record.level()).as_bytes());
    out.extend_from_slice(b"\",\"name\":");
    write_str(out, record.target(), a);
    out.extend_from_slice(b",\"message\":");
    write_message(out, record, a);
    if let Some(file) = record.file() {
        out.extend_from_slice(b",\"pathname\":");
        write_str(out, file, a);
    }
    if let Some(line) = record.line() {
        out.extend_from_slice(b",\"lineno\":");
        write_int(out, line);
    }
    out.extend_from_slice(b",\"module\":");
    write_str(out, module_name(record.module_path(), record.file()), a);
    if let Some(thread) = thread {
        out.extend_from_slice(b",\"threadName\":");
        write_str(out, thread, a);
    }
    out.extend_from_slice(&p.constant);
    let picked = KeyValues::write(record, out, a, &p.reserved, "kv.");
    if let Some(function) = picked.function {
        out.extend_from_slice(b",\"funcName\":");
        write_str(out, function, a);
    }
    picked.with_error(record, |e| {
        out.extend_from_slice(b",\"exc_info\":");
        e.write_text(out, a);
    });
    out.push(b'}');
}
