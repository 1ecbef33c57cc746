//! `fields: ecs`: the Elastic Common Schema, as Elastic's `ecs-logging` libraries write it.

use log::{Level, Record};

use super::escape::write_str;
use super::record::{KeyValues, Timestamp, write_int, write_key, write_message};
use super::{Constants, Prepared};
use crate::encode::attributes::base_name;

/// The ECS version the lines declare (`ecs.version`), as Elastic's Python `ecs-logging` 2.x.
pub const ECS_VERSION: &str = "1.6.0";

/// The fields this field set writes (an `extra` key or a key-value may not reuse them, nor
/// nest under or over them).
pub(super) const FIELDS: &[&str] = &[
    "@timestamp",
    "log.level",
    "message",
    "ecs.version",
    "log.logger",
    "log.origin.file.name",
    "log.origin.file.line",
    "log.origin.function",
    "process.pid",
    "process.thread.name",
    "host.hostname",
    "service.name",
    "error.type",
    "error.message",
    "error.stack_trace",
];

/// `log.level`: Python's level name in lower case, as `ecs-logging` writes it.
fn level(level: Level) -> &'static [u8] {
    match level {
        Level::Error => b"error",
        Level::Warn => b"warning",
        Level::Info => b"info",
        Level::Debug => b"debug",
        Level::Trace => b"trace",
    }
}

/// `,"process.pid":4242,"host.hostname":"web-1","service.name":"microblog"` then `extra`.
pub(super) fn constants(c: &Constants) -> Prepared {
    let mut p = Prepared::new(c, FIELDS);
    let out = &mut p.constant;
    write_key(out, "", "process.pid", c.ascii);
    write_int(out, c.pid);
    if let Some(host) = c.host {
        write_key(out, "", "host.hostname", c.ascii);
        write_str(out, host, c.ascii);
    }
    if let Some(service) = c.service {
        write_key(out, "", "service.name", c.ascii);
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
    out.extend_from_slice(b"{\"@timestamp\":");
    now.write_rfc3339(out, 3);
    out.extend_from_slice(b",\"log.level\":\"");
    out.extend_from_slice(level(record.level()));
    out.extend_from_slice(b"\",\"message\":");
    write_message(out, record, a);
    out.extend_from_slice(b",\"ecs.version\":\"");
    out.extend_from_slice(ECS_VERSION.as_bytes());
    out.extend_from_slice(b"\",\"log.logger\":");
    write_str(out, record.target(), a);
    if let Some(file) = record.file() {
        out.extend_from_slice(b",\"log.origin.file.name\":");
        write_str(out, base_name(file), a);
    }
    if let Some(line) = record.line() {
        out.extend_from_slice(b",\"log.origin.file.line\":");
        write_int(out, line);
    }
    if let Some(thread) = thread {
        out.extend_from_slice(b",\"process.thread.name\":");
        write_str(out, thread, a);
    }
    out.extend_from_slice(&p.constant);
    let picked = KeyValues::write(record, out, a, &p.reserved, "labels.");
    if let Some(function) = picked.function {
        out.extend_from_slice(b",\"log.origin.function\":");
        write_str(out, function, a);
    }
    picked.with_error(record, |e| {
        let start = out.len();
        out.extend_from_slice(b",\"error.type\":");
        if !e.write_type(out, a) {
            out.truncate(start);
        }
        out.extend_from_slice(b",\"error.message\":");
        e.write_message(out, a);
        out.extend_from_slice(b",\"error.stack_trace\":");
        e.write_trace(out, a);
    });
    out.push(b'}');
}
