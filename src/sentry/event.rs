//! A log record as a Sentry event or breadcrumb (pure: no I/O, tested without a server). The
//! mapping table is in the module docs ([`crate::sentry`]).

use std::borrow::Cow;

use log::Record;
use log::kv::{self, VisitSource};
use sentry_types::protocol::v7::value::Number;
use sentry_types::protocol::v7::{
    Breadcrumb, ClientSdkInfo, Envelope, Event, Exception, Frame, Level, LogEntry, Map, Mechanism,
    Stacktrace, Thread, Value,
};

use crate::panic::PanicError;

/// What every event of one appender carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventSettings {
    /// Key-values sent as tags.
    pub(crate) tags: Vec<String>,
    /// Crates whose frames are the application's (empty: everything but well-known crates).
    pub(crate) in_app: Vec<String>,
    pub(crate) server_name: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) release: Option<String>,
}

/// Sentry's longest tag value.
const MAX_TAG_VALUE: usize = 200;

/// Frames of these crates are not the application's, unless `in_app` says otherwise.
const NOT_IN_APP: &[&str] = &[
    "std",
    "core",
    "alloc",
    "log",
    "log4rs",
    "log4rs_appenders",
    "backtrace",
    "anyhow",
    "tokio",
    "futures",
    "futures_core",
    "futures_util",
    "test",
    "__rust",
    "rust_begin_unwind",
];

/// The record's level as Sentry's.
pub(crate) fn sentry_level(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warning,
        log::Level::Info => Level::Info,
        log::Level::Debug | log::Level::Trace => Level::Debug,
    }
}

/// The event of an error record (see the mapping table in the module docs).
pub(crate) fn event_from_record(
    record: &Record,
    settings: &EventSettings,
    breadcrumbs: Vec<Breadcrumb>,
) -> Event<'static> {
    let mut fields = Fields {
        settings,
        tags: Map::new(),
        extra: Map::new(),
        exceptions: Vec::new(),
        panic: false,
        thread: None,
        function: None,
    };
    let _ = record.key_values().visit(&mut fields);
    let message = record.args().to_string();
    let target = record.target().to_owned();
    // The call site groups: the same `error!` with other words is the same issue; another
    // `error!` with the same words is another.
    let fingerprint: Vec<Cow<'static, str>> = match (record.file(), record.line()) {
        (Some(file), Some(line)) => vec![
            target.clone().into(),
            file.to_owned().into(),
            line.to_string().into(),
        ],
        _ => vec!["{{ default }}".into()],
    };
    let mut extra = fields.extra;
    if let Some(file) = record.file() {
        extra.insert("file".into(), file.into());
    }
    if let Some(line) = record.line() {
        extra.insert("line".into(), line.into());
    }
    if let Some(module) = record.module_path() {
        extra.insert("module".into(), module.into());
    }
    if let Some(function) = &fields.function {
        extra.insert("funcName".into(), function.as_str().into());
    }
    let current = std::thread::current();
    let thread_name = fields
        .thread
        .or_else(|| current.name().map(str::to_owned))
        .unwrap_or_else(|| "<unnamed>".to_owned());
    Event {
        level: if fields.panic {
            Level::Fatal
        } else {
            sentry_level(record.level())
        },
        fingerprint: fingerprint.into(),
        logentry: record.args().as_str().map(|template| LogEntry {
            message: template.to_owned(),
            params: Vec::new(),
        }),
        message: Some(message),
        logger: Some(target),
        platform: "native".into(),
        server_name: settings.server_name.clone().map(Cow::Owned),
        release: settings.release.clone().map(Cow::Owned),
        environment: settings.environment.clone().map(Cow::Owned),
        breadcrumbs: breadcrumbs.into(),
        exception: fields.exceptions.into(),
        threads: vec![Thread {
            name: Some(thread_name),
            crashed: fields.panic,
            current: true,
            ..Default::default()
        }]
        .into(),
        tags: fields.tags,
        extra,
        sdk: Some(Cow::Owned(sdk())),
        ..Default::default()
    }
}

/// The breadcrumb of a record below `level`.
pub(crate) fn breadcrumb_from_record(record: &Record) -> Breadcrumb {
    let mut data = DataFields(Map::new());
    let _ = record.key_values().visit(&mut data);
    Breadcrumb {
        ty: "log".into(),
        category: Some(record.target().to_owned()),
        level: sentry_level(record.level()),
        message: Some(record.args().to_string()),
        data: data.0,
        ..Default::default()
    }
}

/// The event that reports records the appender had to drop (`what` says which and why).
pub(crate) fn dropped_event(
    appender: &str,
    what: String,
    settings: &EventSettings,
) -> Event<'static> {
    Event {
        level: Level::Warning,
        logger: Some("log4rs_appenders::sentry".into()),
        message: Some(what),
        fingerprint: vec![
            Cow::Borrowed("log4rs_appenders::sentry"),
            Cow::Borrowed("dropped"),
            Cow::Owned(appender.to_owned()),
        ]
        .into(),
        platform: "native".into(),
        server_name: settings.server_name.clone().map(Cow::Owned),
        release: settings.release.clone().map(Cow::Owned),
        environment: settings.environment.clone().map(Cow::Owned),
        sdk: Some(Cow::Owned(sdk())),
        ..Default::default()
    }
}

/// The envelope of one event, as it goes over the wire (and into the spool).
pub(crate) fn envelope_bytes(event: Event<'static>) -> std::io::Result<Vec<u8>> {
    let mut envelope = Envelope::new();
    envelope.add_item(event);
    let mut bytes = Vec::with_capacity(2048);
    envelope.to_writer(&mut bytes)?;
    Ok(bytes)
}

fn sdk() -> ClientSdkInfo {
    ClientSdkInfo {
        name: "log4rs-appenders".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        integrations: vec!["log4rs".into()],
        packages: Vec::new(),
    }
}

/// Collects what the record's key-values add to the event.
struct Fields<'a> {
    settings: &'a EventSettings,
    tags: Map<String, String>,
    extra: Map<String, Value>,
    exceptions: Vec<Exception>,
    panic: bool,
    /// `thread`, as the panic hook records it.
    thread: Option<String>,
    /// `funcName`, as the crate's macros and the panic hook record it.
    function: Option<String>,
}

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let key = key.as_str();
        // `error`, else `err` (as the Python encoder reads them): the first one wins.
        if (key == "error" || key == "err" && self.exceptions.is_empty())
            && let Some(error) = value.to_borrowed_error()
        {
            if let Some(panic) = error.downcast_ref::<PanicError>() {
                self.exceptions = vec![panic_exception(panic, &self.settings.in_app)];
                self.panic = true;
            } else {
                self.exceptions = exceptions(error);
            }
            return Ok(());
        }
        match key {
            "funcName" => self.function = Some(value.to_string()),
            "thread" if self.thread.is_none() => self.thread = Some(value.to_string()),
            _ => {}
        }
        if self.settings.tags.iter().any(|t| t == key) {
            self.tags
                .insert(key.to_owned(), truncate(value.to_string(), MAX_TAG_VALUE));
        } else if key != "funcName" {
            self.extra.insert(key.to_owned(), json(&value));
        }
        Ok(())
    }
}

/// An error and its `source()` chain as Sentry's exceptions: innermost first, the error itself
/// last, each `type` from its `Debug` form (as `sentry-core` does), `value` its `Display`. An
/// error that came through the `tracing` front end is a copy of the chain
/// ([`ErrorChain`](crate::tracing::ErrorChain)) that kept the original types' names.
fn exceptions(error: &(dyn std::error::Error + 'static)) -> Vec<Exception> {
    #[cfg(feature = "tracing")]
    if let Some(chain) = error.downcast_ref::<crate::tracing::ErrorChain>() {
        use std::error::Error as _;
        let mut out = Vec::new();
        let mut next = Some(chain);
        while let Some(level) = next {
            out.push(Exception {
                ty: level.type_name().unwrap_or("Error").to_owned(),
                value: Some(level.to_string()),
                ..Default::default()
            });
            next = level
                .source()
                .and_then(|s| s.downcast_ref::<crate::tracing::ErrorChain>());
        }
        out.reverse();
        return out;
    }
    sentry_core::event_from_error(error).exception.values
}

/// A breadcrumb's data: every key-value.
struct DataFields(Map<String, Value>);

impl<'kvs> VisitSource<'kvs> for DataFields {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        self.0.insert(key.as_str().to_owned(), json(&value));
        Ok(())
    }
}

/// A key-value as JSON: numbers and booleans as such, the rest as text.
fn json(value: &kv::Value) -> Value {
    if let Some(b) = value.to_bool() {
        Value::Bool(b)
    } else if let Some(i) = value.to_i64() {
        Value::from(i)
    } else if let Some(u) = value.to_u64() {
        Value::from(u)
    } else if let Some(f) = value.to_f64().and_then(Number::from_f64) {
        Value::Number(f)
    } else {
        Value::String(value.to_string())
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The panic as Sentry's unhandled exception: the message, the stack frames (outermost first,
/// the panicking one last), mechanism `panic`, handled false.
fn panic_exception(panic: &PanicError, in_app: &[String]) -> Exception {
    let frames: Vec<Frame> = panic
        .frames()
        .into_iter()
        .rev()
        .map(|f| {
            let package = crate_of(&f.function).map(str::to_owned);
            Frame {
                in_app: Some(is_in_app(&f.function, in_app)),
                package,
                abs_path: f.file.clone(),
                filename: f.file,
                lineno: f.line,
                colno: f.column,
                function: Some(f.function),
                ..Default::default()
            }
        })
        .collect();
    Exception {
        ty: "panic".into(),
        value: Some(panic.message().to_owned()),
        stacktrace: (!frames.is_empty()).then(|| Stacktrace {
            frames,
            ..Default::default()
        }),
        mechanism: Some(Mechanism {
            ty: "panic".into(),
            handled: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The crate a demangled function path belongs to: `microblog` for `microblog::jobs::run`
/// and for `<microblog::Job as core::ops::Drop>::drop`.
fn crate_of(function: &str) -> Option<&str> {
    let path = function.trim_start_matches('<');
    let end = path.find("::")?;
    Some(&path[..end]).filter(|c| !c.is_empty())
}

/// Whether a frame is the application's own: one of the `in_app` crates when given, else any
/// crate but the standard library and well-known infrastructure.
fn is_in_app(function: &str, in_app: &[String]) -> bool {
    let Some(krate) = crate_of(function) else {
        return false;
    };
    if !in_app.is_empty() {
        return in_app.iter().any(|c| c.replace('-', "_") == krate);
    }
    !NOT_IN_APP.contains(&krate) && !krate.starts_with("__rust")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EventSettings {
        EventSettings {
            tags: vec!["user_id".into()],
            in_app: Vec::new(),
            server_name: Some("web1".into()),
            environment: Some("production".into()),
            release: Some("microblog@1.4.2".into()),
        }
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("cannot save the profile")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    fn event_of(record: &Record) -> Event<'static> {
        event_from_record(record, &settings(), Vec::new())
    }

    /// The event of an error record "saving failed" carrying `kvs`.
    fn error_event(kvs: &[(&str, kv::Value)]) -> Event<'static> {
        event_of(
            &Record::builder()
                .level(log::Level::Error)
                .args(format_args!("saving failed"))
                .key_values(&kvs)
                .build(),
        )
    }

    /// Each exception's type and value, in the event's order (innermost first).
    fn types_and_values<'a>(event: &'a Event) -> Vec<(&'a str, &'a str)> {
        event
            .exception
            .values
            .iter()
            .map(|e| (e.ty.as_str(), e.value.as_deref().unwrap_or("")))
            .collect()
    }

    #[test]
    fn an_error_record_maps_message_level_logger_location_and_settings() {
        let kvs: &[(&str, kv::Value)] = &[
            ("user_id", kv::Value::from(42)),
            ("request_id", kv::Value::from("r-7")),
            ("funcName", kv::Value::from("save_profile")),
        ];
        let who = String::from("alice");
        let event = event_of(
            &Record::builder()
                .level(log::Level::Error)
                .target("microblog::profile")
                .file(Some("src/profile.rs"))
                .line(Some(42))
                .module_path(Some("microblog::profile"))
                .args(format_args!("cannot save the profile of {who}"))
                .key_values(&kvs)
                .build(),
        );
        assert_eq!(event.level, Level::Error);
        assert_eq!(
            event.message.as_deref(),
            Some("cannot save the profile of alice")
        );
        assert!(
            event.logentry.is_none(),
            "a formatted message has no template"
        );
        assert_eq!(event.logger.as_deref(), Some("microblog::profile"));
        assert_eq!(
            event
                .fingerprint
                .iter()
                .map(|f| f.as_ref())
                .collect::<Vec<_>>(),
            ["microblog::profile", "src/profile.rs", "42"]
        );
        assert_eq!(event.tags.get("user_id").map(String::as_str), Some("42"));
        assert_eq!(event.extra.get("request_id"), Some(&Value::from("r-7")));
        assert_eq!(event.extra.get("line"), Some(&Value::from(42)));
        assert_eq!(
            event.extra.get("funcName"),
            Some(&Value::from("save_profile"))
        );
        assert_eq!(
            event.extra.get("module"),
            Some(&Value::from("microblog::profile"))
        );
        assert_eq!(event.environment.as_deref(), Some("production"));
        assert_eq!(event.release.as_deref(), Some("microblog@1.4.2"));
        assert_eq!(event.server_name.as_deref(), Some("web1"));
        assert!(event.threads.values[0].name.is_some());
    }

    #[test]
    fn a_literal_message_keeps_its_template() {
        let event = event_of(
            &Record::builder()
                .level(log::Level::Warn)
                .args(format_args!("disk almost full"))
                .build(),
        );
        assert_eq!(event.level, Level::Warning);
        assert_eq!(
            event.logentry.map(|l| l.message).as_deref(),
            Some("disk almost full")
        );
        assert_eq!(
            event.fingerprint.len(),
            1,
            "no call site: the server's grouping"
        );
    }

    #[test]
    fn the_source_chain_becomes_the_exception_list_outermost_last() {
        let error = Outer(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ));
        let event = error_event(&[("error", kv::Value::from_dyn_error(&error))]);
        assert_eq!(
            types_and_values(&event),
            [
                ("Custom", "no such file"),
                ("Outer", "cannot save the profile")
            ]
        );
        assert!(!event.extra.contains_key("error"));
    }

    #[test]
    fn an_err_key_value_is_the_exception_too_and_error_wins_over_it() {
        let first = Outer(std::io::Error::other("disk full"));
        let second = std::io::Error::other("connection reset");
        let exceptions = |kvs: &[(&str, kv::Value)]| -> (Vec<String>, bool) {
            let event = error_event(kvs);
            let values = event
                .exception
                .values
                .iter()
                .filter_map(|e| e.value.clone())
                .collect();
            (values, event.extra.contains_key("err"))
        };
        let (values, in_extra) = exceptions(&[("err", kv::Value::from_dyn_error(&first))]);
        assert_eq!(values, ["disk full", "cannot save the profile"]);
        assert!(!in_extra);
        for kvs in [
            [
                ("error", kv::Value::from_dyn_error(&first)),
                ("err", kv::Value::from_dyn_error(&second)),
            ],
            [
                ("err", kv::Value::from_dyn_error(&second)),
                ("error", kv::Value::from_dyn_error(&first)),
            ],
        ] {
            let (values, _) = exceptions(&kvs);
            assert_eq!(
                values,
                ["disk full", "cannot save the profile"],
                "error wins"
            );
        }
    }

    #[cfg(feature = "tracing")]
    #[test]
    fn an_error_chain_from_the_tracing_front_end_keeps_the_types_of_its_errors() {
        let error = Outer(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ));
        let chain = crate::tracing::ErrorChain::capture(&error);
        let event = error_event(&[("error", kv::Value::from_dyn_error(&chain))]);
        assert_eq!(
            types_and_values(&event),
            [
                ("Custom", "no such file"),
                ("Outer", "cannot save the profile")
            ]
        );
    }

    #[test]
    fn in_app_is_the_application_s_crates() {
        assert!(is_in_app("microblog::jobs::run::{{closure}}", &[]));
        assert!(is_in_app("<microblog::Job as core::ops::Drop>::drop", &[]));
        assert!(!is_in_app("std::panicking::try", &[]));
        assert!(!is_in_app("log4rs_appenders::panic::log_panic", &[]));
        assert!(!is_in_app("__rust_begin_short_backtrace", &[]));
        let only = vec!["micro-blog".to_owned()];
        assert!(is_in_app("micro_blog::main", &only));
        assert!(!is_in_app("serde::de::x", &only));
    }

    #[test]
    fn a_breadcrumb_keeps_level_category_message_and_data() {
        let kvs: &[(&str, kv::Value)] = &[("user_id", kv::Value::from(7))];
        let crumb = breadcrumb_from_record(
            &Record::builder()
                .level(log::Level::Info)
                .target("microblog::auth")
                .args(format_args!("user {} logged in", 7))
                .key_values(&kvs)
                .build(),
        );
        assert_eq!(crumb.level, Level::Info);
        assert_eq!(crumb.category.as_deref(), Some("microblog::auth"));
        assert_eq!(crumb.message.as_deref(), Some("user 7 logged in"));
        assert_eq!(crumb.data.get("user_id"), Some(&Value::from(7)));
    }

    #[test]
    fn an_envelope_holds_the_event_as_json() {
        let event = event_of(
            &Record::builder()
                .level(log::Level::Warn)
                .args(format_args!("boom"))
                .build(),
        );
        let id = event.event_id;
        let bytes = envelope_bytes(event).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        assert!(
            header.contains(&id.simple().to_string()) || header.contains(&id.to_string()),
            "{header}"
        );
        assert!(lines.next().unwrap().contains("\"type\":\"event\""));
        let payload: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        assert_eq!(payload["message"], "boom");
        assert_eq!(payload["level"], "warning");
    }
}
