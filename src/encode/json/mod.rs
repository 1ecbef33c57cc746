//! The `json_lines` encoder: one JSON object per line, in the field set a log shipper's
//! destination reads: `flat` (python-json-logger's keys), `ecs` (Elastic Common Schema, as
//! Elastic's `ecs-logging` writes it), `gcp` (Google Cloud Logging's structured JSON) or `otel`
//! (the OpenTelemetry log data model).
//!
//! ```yaml
//! encoder:
//!   kind: json_lines
//!   fields: ecs              # flat (default) | ecs | gcp | otel
//!   service: microblog       # service.name, serviceContext or the resource, per field set
//!   extra: { env: prod }     # constant fields added to every line
//!   ensure_ascii: false      # true: everything outside ASCII as \uXXXX, as Python's json
//! ```
//!
//! ```
//! use log4rs_appenders::encode::json::{FieldSet, JsonLinesEncoder};
//!
//! let encoder = JsonLinesEncoder::builder()
//!     .fields(FieldSet::Ecs)
//!     .service("microblog")
//!     .extra("env", "prod")
//!     .build()?;
//! let kvs = [("user_id", log::kv::Value::from(72))];
//! let record = log::Record::builder()
//!     .args(format_args!("user logged in"))
//!     .level(log::Level::Info)
//!     .target("microblog::auth")
//!     .key_values(&kvs)
//!     .build();
//! let line: serde_json::Value = serde_json::from_str(&encoder.format_to_string(&record))?;
//! assert_eq!(line["log.level"], "info");
//! assert_eq!(line["service.name"], "microblog");
//! assert_eq!(line["env"], "prod");
//! assert_eq!(line["user_id"], 72);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Every line
//!
//! - One JSON object, UTF-8, ending in `\n`, for every input: quotes, backslashes and control
//!   characters are escaped (a message with newlines stays one line), and so are U+2028 and
//!   U+2029 (line breaks to JavaScript); bytes that are not UTF-8 become U+FFFD. With
//!   `ensure_ascii: true` everything outside ASCII is written as `\uXXXX` (Python's `json`
//!   default): the line is then plain ASCII, which RFC 5424 syslog carries without a BOM (see
//!   below).
//! - Key-values keep their types: integers, floats (NaN and the infinities, which JSON lacks,
//!   as `null`), booleans and strings as such; values captured with `:serde` (log's
//!   `kv_serde`, e.g. `info!(order:serde = order; "...")`) as nested JSON; `:?` and `:%`
//!   captures as their text.
//! - `funcName` (recorded by this crate's macros and the panic hook) becomes the field set's
//!   function field; an error under `error` or `err` (`error!(error:err = e; "...")`) becomes
//!   its error fields, with the `source()` chain; a panic logged by [`crate::log_panics`]
//!   gives its message and its backtrace.
//! - A key-value whose key is a field the field set writes (`message`, `log.level`, ...), or
//!   nests under or over one (`log` against `log.level`), or an `extra` key, is written with a
//!   prefix instead (`labels.` for ecs, `kv.` otherwise), so no line has a duplicate key.
//! - An `extra` key that is such a field, an unknown `fields` value and an empty `service` are
//!   errors when the config loads, naming the field.
//! - The time is when the record is encoded, in UTC.
//!
//! # Field sets
//!
//! `flat`: the keys of python-json-logger with Python's `LogRecord` attribute names (as this
//! crate's Python-style encoder defines them: see [`crate::encode::PythonEncoder`]):
//!
//! | key | value |
//! |---|---|
//! | `timestamp` | `"2026-12-01T23:07:55.123456Z"` |
//! | `levelname` | `ERROR`, `WARNING`, `INFO`, `DEBUG`, `TRACE` |
//! | `name` | the target |
//! | `message` | the message |
//! | `pathname`, `lineno` | the source file and line (left out when the record has none) |
//! | `module` | the last module path segment |
//! | `threadName` | the thread's name (`main`, `Thread-N` when unnamed) |
//! | `process` | the process id |
//! | `service` | `service`, when set |
//! | `funcName` | the function, for records from this crate's macros |
//! | `exc_info` | the error: `Error: ...` and a `Caused by: ...` line per source, or a panic's message and backtrace |
//! | `extra`, key-values | top level |
//!
//! `ecs`: ECS 1.6 as Elastic's `ecs-logging` (Python `StdlibFormatter`) writes it, with dotted
//! keys (Elasticsearch and Filebeat read dotted and nested alike):
//!
//! | field | value |
//! |---|---|
//! | `@timestamp` | `"2026-12-01T23:07:55.123Z"` (milliseconds, as `ecs-logging`) |
//! | `log.level` | `error`, `warning`, `info`, `debug`, `trace` |
//! | `message` | the message |
//! | `ecs.version` | `1.6.0` |
//! | `log.logger` | the target |
//! | `log.origin.file.name`, `log.origin.file.line` | the source file's name (as `ecs-logging`: the last component) and line |
//! | `log.origin.function` | the function, for records from this crate's macros |
//! | `process.pid`, `process.thread.name` | process id, thread name |
//! | `host.hostname` | the host name (once, at build time), or `hostname` |
//! | `service.name` | `service`, when set |
//! | `error.type` | `panic`, `std::io::Error`, or the type name the error's `Debug` starts with (`ParseIntError`); left out when it does not start with one. The same for an error field of a `tracing` event (`error = &err as &dyn Error`): the front end's copy keeps the type |
//! | `error.message` | the error's `Display` (a panic's message) |
//! | `error.stack_trace` | `Error: ...` and a `Caused by: ...` line per source, or a panic's backtrace |
//! | `extra`, key-values | top level (ECS custom fields); a conflicting key under `labels.` |
//!
//! `ecs-logging` also writes `log.original` (the message again), `process.name` and
//! `process.thread.id` (Python's); these are left out.
//!
//! `gcp`: the special fields Cloud Logging's agents (and Cloud Run, GKE) lift out of a JSON
//! line, as Google's `StructuredLogHandler` writes them:
//!
//! | field | value |
//! |---|---|
//! | `severity` | `ERROR`, `WARNING`, `INFO`, `DEBUG` (trace too) |
//! | `message` | the message |
//! | `time` | `"2026-12-01T23:07:55.123456789Z"` |
//! | `logging.googleapis.com/sourceLocation` | `{"file": path, "line": "42", "function": f}` (the line is a string: an int64 in proto3 JSON) |
//! | `logging.googleapis.com/labels` | `{"logger": target}` and `extra` (values as strings: labels are strings) |
//! | `serviceContext` | `{"service": service}`, when set (Error Reporting groups by it) |
//! | `@type`, `stack_trace` | with an error: `type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent`, which makes Error Reporting take the entry whatever the trace's language, and the error chain or panic backtrace |
//! | key-values | top level of `jsonPayload` |
//!
//! `otel`: the OpenTelemetry log data model, one record per line, attributes named by the
//! semantic conventions (`code.*` as stabilized in 1.33), values as plain JSON:
//!
//! | field | value |
//! |---|---|
//! | `timeUnixNano` | nanoseconds since the epoch, as a string (as OTLP/JSON writes 64-bit integers) |
//! | `severityNumber`, `severityText` | 17 `ERROR`, 13 `WARN`, 9 `INFO`, 5 `DEBUG`, 1 `TRACE` |
//! | `body` | the message |
//! | `attributes` | `code.file.path`, `code.line.number`, `code.function.name`, `thread.name`, key-values, and with an error `exception.type`, `exception.message`, `exception.stacktrace` (as ecs's `error.*`) |
//! | `instrumentationScope` | `{"name": target}` (the logger name, as OpenTelemetry's logging bridges use it) |
//! | `resource` | `service.name` (`service`, else `unknown_service`), `host.name`, `process.pid`, `extra` |
//!
//! # Syslog
//!
//! As the `encoder` of a `syslog` appender each line becomes the syslog message, which
//! rsyslog's `mmjsonparse` (with `cookie=""`) or syslog-ng's `json-parser` parse into fields.
//! RFC 5424 puts a byte order mark before a message that is not plain ASCII, and
//! `mmjsonparse` then refuses the message; set `ensure_ascii: true` for such a receiver.
//!
//! # Cost
//!
//! Field names and the constant fields (`service`, `extra`, host, pid) are written as bytes
//! prepared when the encoder is built; the line is written into a per-thread buffer and handed
//! to the writer in one `write_all`, and once warm no record allocates. The process id is
//! read once, when the encoder is built.

mod ecs;
mod escape;
mod flat;
mod gcp;
mod otel;
mod record;

use std::collections::BTreeMap;
use std::fmt;

use log::Record;
use log4rs::encode::{Encode, Write};
use serde::Deserialize;

pub use ecs::ECS_VERSION;
pub use gcp::REPORTED_ERROR_EVENT;
pub use otel::UNKNOWN_SERVICE;
#[cfg(feature = "tracing")]
pub(crate) use record::debug_type_name;

use crate::registry::{EncoderDeserializer, EncoderKind};
use escape::write_str;
use record::{Reserved, Timestamp, write_json_value, write_key};

/// Kind name in YAML: `encoder: { kind: json_lines, .. }` (log4rs's own is `json`).
pub const KIND: &str = "json_lines";

/// Which fields a line has: see the [module docs](self) for each set's mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldSet {
    /// python-json-logger's keys (Python's `LogRecord` attribute names).
    #[default]
    Flat,
    /// The Elastic Common Schema, as Elastic's `ecs-logging` writes it.
    Ecs,
    /// Google Cloud Logging's structured JSON.
    Gcp,
    /// The OpenTelemetry log data model.
    Otel,
}

impl FieldSet {
    /// The YAML name (`flat`, `ecs`, `gcp`, `otel`).
    pub fn name(self) -> &'static str {
        match self {
            FieldSet::Flat => "flat",
            FieldSet::Ecs => "ecs",
            FieldSet::Gcp => "gcp",
            FieldSet::Otel => "otel",
        }
    }

    /// The names `extra` keys must not reuse, and where `extra` goes.
    fn extra_reserved(self) -> (&'static [&'static str], &'static str) {
        match self {
            FieldSet::Flat => (flat::FIELDS, "top level"),
            FieldSet::Ecs => (ecs::FIELDS, "top level"),
            FieldSet::Gcp => (gcp::LABELS, "logging.googleapis.com/labels"),
            FieldSet::Otel => (otel::RESOURCE, "resource"),
        }
    }
}

impl fmt::Display for FieldSet {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A refused setting, naming the field as the YAML does (`field "extra": ...`).
#[derive(Debug)]
pub struct JsonLinesError(pub String);

impl fmt::Display for JsonLinesError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsonLinesError {}

/// What the field sets make their constant fragments from.
pub(crate) struct Constants<'a> {
    fields: FieldSet,
    ascii: bool,
    pid: u32,
    host: Option<&'a str>,
    service: Option<&'a str>,
    extra: &'a [(String, serde_json::Value)],
}

impl Constants<'_> {
    /// `,"key":value` per `extra` entry.
    fn write_extra(&self, out: &mut Vec<u8>, prefix: &str) {
        for (key, value) in self.extra {
            write_key(out, prefix, key, self.ascii);
            write_json_value(out, value, self.ascii);
        }
    }

    /// `,"key":"value"` per `extra` entry, non-string values as their JSON text.
    fn write_extra_as_strings(&self, out: &mut Vec<u8>) {
        for (key, value) in self.extra {
            write_key(out, "", key, self.ascii);
            match value {
                serde_json::Value::String(s) => write_str(out, s, self.ascii),
                other => write_str(out, &other.to_string(), self.ascii),
            }
        }
    }
}

/// A field set's bytes prepared at build time.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    ascii: bool,
    /// Pre-escaped constant fields (`,"process.pid":42,"service.name":"x"`...).
    constant: Vec<u8>,
    /// A second constant fragment, for the field sets that nest one (gcp's labels).
    nested: Vec<u8>,
    /// The names a key-value is renamed away from.
    reserved: Reserved,
}

impl Prepared {
    fn new(c: &Constants, names: &[&str]) -> Prepared {
        let mut reserved = Reserved::new(names.iter().copied());
        if matches!(c.fields, FieldSet::Flat | FieldSet::Ecs) {
            for (key, _) in c.extra {
                reserved.add(key);
            }
        }
        Prepared {
            ascii: c.ascii,
            constant: Vec::new(),
            nested: Vec::new(),
            reserved,
        }
    }
}

/// Writes records as JSON lines; see the [module docs](self).
#[derive(Clone)]
pub struct JsonLinesEncoder {
    fields: FieldSet,
    service: Option<String>,
    prepared: Prepared,
}

/// Builds a [`JsonLinesEncoder`]; every check is in [`build`](Self::build).
///
/// | setting | default | YAML |
/// |---|---|---|
/// | [`fields`](Self::fields) | [`FieldSet::Flat`] | `fields: flat` |
/// | [`service`](Self::service) | none (otel: `unknown_service`) | `service: microblog` |
/// | [`extra`](Self::extra) | none | `extra: { env: prod }` |
/// | [`ensure_ascii`](Self::ensure_ascii) | `false` | `ensure_ascii: true` |
/// | [`hostname`](Self::hostname) | the machine's host name | `hostname: web-1` |
#[derive(Clone, Debug, Default)]
pub struct JsonLinesEncoderBuilder {
    fields: FieldSet,
    service: Option<String>,
    extra: Vec<(String, serde_json::Value)>,
    ensure_ascii: bool,
    hostname: Option<String>,
}

impl JsonLinesEncoderBuilder {
    /// The field set (default [`FieldSet::Flat`]).
    pub fn fields(mut self, fields: FieldSet) -> Self {
        self.fields = fields;
        self
    }

    /// The service name: `service` (flat), `service.name` (ecs, otel's resource),
    /// `serviceContext.service` (gcp).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// A constant field added to every line (flat, ecs: top level; gcp: a label, as a string;
    /// otel: a resource attribute). A key given twice keeps the last value.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        let key = key.into();
        self.extra.retain(|(k, _)| *k != key);
        self.extra.push((key, value.into()));
        self
    }

    /// Writes everything outside ASCII as `\uXXXX` (Python's `json.dumps` default), for
    /// receivers that want ASCII (RFC 5424 syslog into rsyslog's `mmjsonparse`).
    pub fn ensure_ascii(mut self, ensure_ascii: bool) -> Self {
        self.ensure_ascii = ensure_ascii;
        self
    }

    /// The host name written by ecs (`host.hostname`) and otel (`host.name`), instead of the
    /// machine's.
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
    }

    /// Checks the settings and prepares the constant fields.
    pub fn build(self) -> Result<JsonLinesEncoder, JsonLinesError> {
        if self.service.as_deref() == Some("") {
            return Err(JsonLinesError(
                "field \"service\": empty (leave it out for no service name)".into(),
            ));
        }
        let (names, place) = self.fields.extra_reserved();
        let reserved = Reserved::new(names.iter().copied());
        for (key, _) in &self.extra {
            if key.is_empty() {
                return Err(JsonLinesError("field \"extra\": a key is empty".into()));
            }
            if let Some(field) = reserved.conflict(key) {
                let how = if field == key {
                    format!("is a field the {} field set writes itself", self.fields)
                } else {
                    format!(
                        "conflicts with the {} field set's field \"{field}\" (one would nest \
                         inside the other)",
                        self.fields
                    )
                };
                return Err(JsonLinesError(format!(
                    "field \"extra\": key \"{key}\" {how} ({place}); choose another name"
                )));
            }
        }
        Ok(self.assemble())
    }

    /// Prepares the constant fields (no checks: `build` made them).
    fn assemble(self) -> JsonLinesEncoder {
        let host = self.hostname.clone().or_else(|| {
            hostname::get()
                .ok()
                .map(|h| h.to_string_lossy().into_owned())
        });
        let constants = Constants {
            fields: self.fields,
            ascii: self.ensure_ascii,
            pid: std::process::id(),
            host: host.as_deref().filter(|h| !h.is_empty()),
            service: self.service.as_deref(),
            extra: &self.extra,
        };
        let prepared = match self.fields {
            FieldSet::Flat => flat::constants(&constants),
            FieldSet::Ecs => ecs::constants(&constants),
            FieldSet::Gcp => gcp::constants(&constants),
            FieldSet::Otel => otel::constants(&constants),
        };
        JsonLinesEncoder {
            fields: self.fields,
            service: self.service,
            prepared,
        }
    }
}

impl JsonLinesEncoder {
    /// The builder: field set, service, extra fields, `ensure_ascii`.
    pub fn builder() -> JsonLinesEncoderBuilder {
        JsonLinesEncoderBuilder::default()
    }

    /// An encoder for `fields` with no service and no extra fields.
    pub fn new(fields: FieldSet) -> JsonLinesEncoder {
        Self::builder().fields(fields).assemble()
    }

    /// The field set.
    pub fn fields(&self) -> FieldSet {
        self.fields
    }

    /// Writes `record` as one JSON object into `out` (no newline), timed now, on this thread.
    pub fn format_into(&self, record: &Record, out: &mut Vec<u8>) {
        let now = Timestamp::now();
        let written = crate::encode::attributes::with_thread_info(|t| {
            self.format_with(record, now, Some(&t.name), out);
        });
        if written.is_none() {
            // The thread is exiting (a record from a thread-local destructor): no thread name.
            self.format_with(record, now, None, out);
        }
    }

    /// Renders `record` to a new `String` (no newline).
    pub fn format_to_string(&self, record: &Record) -> String {
        let mut out = Vec::new();
        self.format_into(record, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Writes `record` with a given time and thread name. For tests.
    #[doc(hidden)]
    pub fn format_at(
        &self,
        record: &Record,
        secs: i64,
        nanos: u32,
        thread: Option<&str>,
        out: &mut Vec<u8>,
    ) {
        self.format_with(record, Timestamp { secs, nanos }, thread, out);
    }

    fn format_with(
        &self,
        record: &Record,
        now: Timestamp,
        thread: Option<&str>,
        out: &mut Vec<u8>,
    ) {
        let p = &self.prepared;
        match self.fields {
            FieldSet::Flat => flat::write(p, record, now, thread, out),
            FieldSet::Ecs => ecs::write(p, record, now, thread, out),
            FieldSet::Gcp => gcp::write(p, record, now, thread, out),
            FieldSet::Otel => otel::write(p, record, now, thread, out),
        }
    }
}

impl fmt::Debug for JsonLinesEncoder {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("JsonLinesEncoder")
            .field("fields", &self.fields)
            .field("service", &self.service)
            .field("ensure_ascii", &self.prepared.ascii)
            .finish_non_exhaustive()
    }
}

impl Encode for JsonLinesEncoder {
    /// Writes the line into a per-thread buffer (no allocation once it has grown to the line's
    /// size) and hands it to the writer in one `write_all`, newline included.
    fn encode(&self, w: &mut dyn Write, record: &Record) -> anyhow::Result<()> {
        Ok(super::line::write_line(w, |buf| {
            self.format_into(record, buf)
        })?)
    }
}

/// The YAML shape of `kind: json_lines`; see the [module docs](self).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonLinesConfig {
    #[serde(default)]
    fields: FieldSet,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    extra: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    ensure_ascii: bool,
    #[serde(default)]
    hostname: Option<String>,
}

/// The `json_lines` encoder kind, listed in [`crate::registry`].
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonLinesKind;

impl EncoderKind for JsonLinesKind {
    const KIND: &'static str = KIND;
    type Config = JsonLinesConfig;

    fn build(config: JsonLinesConfig) -> anyhow::Result<Box<dyn Encode>> {
        let mut builder = JsonLinesEncoder::builder()
            .fields(config.fields)
            .ensure_ascii(config.ensure_ascii);
        if let Some(service) = config.service {
            builder = builder.service(service);
        }
        if let Some(hostname) = config.hostname {
            builder = builder.hostname(hostname);
        }
        for (key, value) in config.extra {
            builder = builder.extra(key, value);
        }
        Ok(Box::new(builder.build()?))
    }
}

/// log4rs's deserializer of `kind: json_lines` (what [`crate::deserializers`] registers).
pub type JsonLinesEncoderDeserializer = EncoderDeserializer<JsonLinesKind>;

#[cfg(test)]
mod tests;
