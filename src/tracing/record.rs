//! A `tracing` event as a `log::Record`: the fields become typed key-values, the `message` field
//! the message, an error field keeps its `source()` chain, and the span chain rides along as the
//! `spans` key-value (`request{id=7}:db`), each span field as a key-value of its own
//! (`request.id`), its innermost span's name as `funcName`.

use std::cell::RefCell;
use std::error::Error;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use log::kv::{self, Key, Value, VisitSource};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record as SpanValues};
use tracing_core::{Event, Level, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::encode::json::debug_type_name;

/// A `source()` chain longer than this is cut (a buggy `source()` could cycle).
const MAX_CHAIN: usize = 64;

/// The key-value that carries the span chain (`%(spans)s`).
pub const SPANS_KEY: &str = "spans";
/// The key-value that carries the innermost span's name (`%(funcName)s`).
pub const FUNC_NAME_KEY: &str = "funcName";

/// An error captured from a `dyn Error` field: its text and its `source()` chain, owned, so the
/// record can carry it after the event's borrow ends. Encoders see it as a `dyn Error` whose
/// `source()` chain has the same texts as the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorChain {
    message: String,
    /// The original error's type, as its `Debug` form names it.
    type_name: Option<String>,
    /// The original was a `std::io::Error` (whose `Debug` form names a variant: `Custom`, `Os`).
    io_error: bool,
    source: Option<Box<ErrorChain>>,
}

impl ErrorChain {
    /// Copies the text of `error` and of every error in its `source()` chain (at most 64).
    pub fn capture(error: &(dyn Error + 'static)) -> ErrorChain {
        let copy = |e: &(dyn Error + 'static)| {
            let io_error = e.is::<std::io::Error>();
            (e.to_string(), debug_type_name(e), io_error)
        };
        let mut texts = vec![copy(error)];
        let mut next = error.source();
        while let Some(cause) = next {
            if texts.len() == MAX_CHAIN {
                break;
            }
            texts.push(copy(cause));
            next = cause.source();
        }
        let mut chain: Option<Box<ErrorChain>> = None;
        while let Some((message, type_name, io_error)) = texts.pop() {
            chain = Some(Box::new(ErrorChain {
                message,
                type_name,
                io_error,
                source: chain,
            }));
        }
        // `texts` had at least one entry, so `chain` is set.
        chain.map(|c| *c).unwrap_or(ErrorChain {
            message: String::new(),
            type_name: None,
            io_error: false,
            source: None,
        })
    }

    /// The original error's type, as the leading name of its `Debug` form (`ProfileError` for
    /// `ProfileError(..)`; what Sentry's SDK shows as the exception type), if it has one.
    pub fn type_name(&self) -> Option<&str> {
        self.type_name.as_deref()
    }

    /// Whether the original error was a `std::io::Error` (which the JSON encoder names so).
    pub(crate) fn is_io_error(&self) -> bool {
        self.io_error
    }
}

impl fmt::Display for ErrorChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for ErrorChain {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// One field's value, with its type kept.
#[derive(Debug)]
pub(crate) enum FieldValue {
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Bool(bool),
    /// A `&str` field, or a `?debug` / `%display` field as its text.
    Text(String),
    Error(ErrorChain),
}

impl FieldValue {
    fn to_value(&self) -> Value<'_> {
        match self {
            FieldValue::I64(v) => Value::from(*v),
            FieldValue::U64(v) => Value::from(*v),
            FieldValue::I128(v) => Value::from(*v),
            FieldValue::U128(v) => Value::from(*v),
            FieldValue::F64(v) => Value::from(*v),
            FieldValue::Bool(v) => Value::from(*v),
            FieldValue::Text(v) => Value::from(v.as_str()),
            FieldValue::Error(v) => Value::from_dyn_error(v),
        }
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::I64(v) => write!(f, "{v}"),
            FieldValue::U64(v) => write!(f, "{v}"),
            FieldValue::I128(v) => write!(f, "{v}"),
            FieldValue::U128(v) => write!(f, "{v}"),
            FieldValue::F64(v) => write!(f, "{v}"),
            FieldValue::Bool(v) => write!(f, "{v}"),
            FieldValue::Text(v) => f.write_str(v),
            FieldValue::Error(v) => write!(f, "{v}"),
        }
    }
}

/// An event's fields, collected by [`Visit`]. Kept per thread and reused, so a steady stream of
/// events allocates only for text fields.
#[derive(Debug, Default)]
pub(crate) struct EventFields {
    pub(crate) message: String,
    has_message: bool,
    pub(crate) values: Vec<(&'static str, FieldValue)>,
    /// A `log` record that came through tracing-log: its `log.*` fields are its metadata.
    from_log: bool,
    pub(crate) spans: String,
    /// The fields of the spans in `spans`, root first, as `span.field` key-values.
    pub(crate) span_values: Vec<(Arc<str>, SpanValue)>,
    pub(crate) func_name: Option<&'static str>,
}

impl EventFields {
    fn clear(&mut self) {
        self.message.clear();
        self.has_message = false;
        self.values.clear();
        self.from_log = false;
        self.spans.clear();
        self.span_values.clear();
        self.func_name = None;
    }

    fn push(&mut self, field: &Field, value: FieldValue) {
        let name = field.name();
        if self.from_log && name.starts_with("log.") {
            return;
        }
        self.values.push((name, value));
    }

    /// An event without a `message` field gets its fields as the message (`user_id=42`), as
    /// tracing-subscriber's fmt layer shows it.
    fn finish_message(&mut self) {
        if self.has_message {
            return;
        }
        for (i, (name, value)) in self.values.iter().enumerate() {
            if i > 0 {
                self.message.push(' ');
            }
            let _ = write!(self.message, "{name}={value}");
        }
    }

    fn has_value(&self, key: &str) -> bool {
        self.values.iter().any(|(name, _)| *name == key)
    }
}

impl Visit for EventFields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.has_message = true;
            let _ = write!(self.message, "{value:?}");
        } else if !(self.from_log && field.name().starts_with("log.")) {
            self.push(field, FieldValue::Text(format!("{value:?}")));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.has_message = true;
            self.message.push_str(value);
        } else {
            self.push(field, FieldValue::Text(value.to_owned()));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, FieldValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, FieldValue::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.push(field, FieldValue::I128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.push(field, FieldValue::U128(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, FieldValue::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, FieldValue::Bool(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.push(field, FieldValue::Error(ErrorChain::capture(value)));
    }
}

/// The record's key-values: the event's fields, the span fields (`request.id`, root first), then
/// `spans` and `funcName` (unless the event has fields of those names), then (for a `log`
/// record) the record's own key-values.
pub(crate) struct KeyValues<'a> {
    pub(crate) fields: &'a EventFields,
    pub(crate) extra: Option<&'a dyn kv::Source>,
}

impl kv::Source for KeyValues<'_> {
    fn visit<'kvs>(&'kvs self, visitor: &mut dyn VisitSource<'kvs>) -> Result<(), kv::Error> {
        for (name, value) in &self.fields.values {
            visitor.visit_pair(Key::from_str(name), value.to_value())?;
        }
        for (name, value) in &self.fields.span_values {
            visitor.visit_pair(Key::from_str(name), value.to_value())?;
        }
        if !self.fields.spans.is_empty() && !self.fields.has_value(SPANS_KEY) {
            visitor.visit_pair(
                Key::from_str(SPANS_KEY),
                Value::from(self.fields.spans.as_str()),
            )?;
        }
        if let Some(func) = self.fields.func_name
            && !self.fields.has_value(FUNC_NAME_KEY)
        {
            visitor.visit_pair(Key::from_str(FUNC_NAME_KEY), Value::from(func))?;
        }
        if let Some(extra) = self.extra {
            extra.visit(visitor)?;
        }
        Ok(())
    }
    /// What the default `get` (a visit, the last pair with the key wins) returns, without a
    /// visit: encoders look up several keys per record (the python encoder each of its keys,
    /// then `error` and `err`), and each visit goes through every pair.
    fn get(&self, key: Key<'_>) -> Option<Value<'_>> {
        let key = key.as_str();
        if let Some(value) = self.extra.and_then(|extra| extra.get(Key::from_str(key))) {
            return Some(value);
        }
        let fields = self.fields;
        if key == FUNC_NAME_KEY
            && let Some(func) = fields.func_name
            && !fields.has_value(FUNC_NAME_KEY)
        {
            return Some(Value::from(func));
        }
        if key == SPANS_KEY && !fields.spans.is_empty() && !fields.has_value(SPANS_KEY) {
            return Some(Value::from(fields.spans.as_str()));
        }
        if let Some((_, value)) = fields.span_values.iter().rev().find(|(k, _)| &**k == key) {
            return Some(value.to_value());
        }
        let (_, value) = fields.values.iter().rev().find(|(k, _)| *k == key)?;
        Some(value.to_value())
    }

    /// What the default `count` (a visit) returns, without a visit.
    fn count(&self) -> usize {
        let fields = self.fields;
        fields.values.len()
            + fields.span_values.len()
            + usize::from(!fields.spans.is_empty() && !fields.has_value(SPANS_KEY))
            + usize::from(fields.func_name.is_some() && !fields.has_value(FUNC_NAME_KEY))
            + self.extra.map_or(0, |extra| extra.count())
    }
}

/// tracing's level as log's (the five levels match one to one).
pub(crate) fn log_level(level: &Level) -> log::Level {
    match *level {
        Level::ERROR => log::Level::Error,
        Level::WARN => log::Level::Warn,
        Level::INFO => log::Level::Info,
        Level::DEBUG => log::Level::Debug,
        Level::TRACE => log::Level::Trace,
    }
}

/// One span field's value, with its type kept; shared (not copied) by each record in the span.
#[derive(Debug, Clone)]
pub(crate) enum SpanValue {
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Bool(bool),
    /// A `&str` field, or any other (`?debug`, `%display`, an error) as its text.
    Text(Arc<str>),
}

impl SpanValue {
    fn to_value(&self) -> Value<'_> {
        match self {
            SpanValue::I64(v) => Value::from(*v),
            SpanValue::U64(v) => Value::from(*v),
            SpanValue::I128(v) => Value::from(*v),
            SpanValue::U128(v) => Value::from(*v),
            SpanValue::F64(v) => Value::from(*v),
            SpanValue::Bool(v) => Value::from(*v),
            SpanValue::Text(v) => Value::from(&**v),
        }
    }
}

/// A span's fields, kept in the span's extensions by the layers: as text (`id=7 user="ann"`,
/// for `spans`) and as typed values under `span.field` keys. `owner` is the layer that created
/// it: only that layer records later `span.record(..)` values, so two of our layers in one
/// registry do not write them twice.
#[derive(Debug)]
pub(crate) struct SpanFields {
    text: String,
    values: Vec<(Arc<str>, SpanValue)>,
    owner: usize,
}

/// Records a span's fields into its [`SpanFields`]: each value is appended to the text (as
/// before: later values follow earlier ones) and replaces the typed value of the same name.
struct SpanFieldsVisitor<'a> {
    fields: &'a mut SpanFields,
    span: &'static str,
}

impl SpanFieldsVisitor<'_> {
    fn add(&mut self, field: &Field, text: &dyn fmt::Debug, value: SpanValue) {
        let fields = &mut *self.fields;
        if !fields.text.is_empty() {
            fields.text.push(' ');
        }
        let _ = write!(fields.text, "{}={text:?}", field.name());
        let name = field.name();
        let span = self.span;
        // `key == "{span}.{name}"`, without building that text.
        let same = |key: &str| {
            key.strip_prefix(span)
                .and_then(|rest| rest.strip_prefix('.'))
                == Some(name)
        };
        match fields.values.iter_mut().find(|(key, _)| same(key)) {
            Some((_, old)) => *old = value,
            None => fields
                .values
                .push((Arc::from(format!("{span}.{name}")), value)),
        }
    }
}

impl Visit for SpanFieldsVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text: Arc<str> = Arc::from(format!("{value:?}"));
        self.add(
            field,
            &format_args!("{text}"),
            SpanValue::Text(text.clone()),
        );
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field, &value, SpanValue::Text(Arc::from(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add(field, &value, SpanValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.add(field, &value, SpanValue::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.add(field, &value, SpanValue::I128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.add(field, &value, SpanValue::U128(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.add(field, &value, SpanValue::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.add(field, &value, SpanValue::Bool(value));
    }
}

/// A new identity for a layer (the owner of the span fields it records).
pub(crate) fn next_layer_id() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// `on_new_span`: keeps the span's fields as text.
pub(crate) fn record_new_span<S>(
    owner: usize,
    attrs: &Attributes<'_>,
    id: &Id,
    ctx: &Context<'_, S>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    let mut extensions = span.extensions_mut();
    if extensions.get_mut::<SpanFields>().is_some() {
        return;
    }
    let mut fields = SpanFields {
        text: String::new(),
        values: Vec::new(),
        owner,
    };
    attrs.record(&mut SpanFieldsVisitor {
        fields: &mut fields,
        span: span.name(),
    });
    extensions.insert(fields);
}

/// `on_record`: appends values recorded later (`span.record("status", 200)`).
pub(crate) fn record_span_values<S>(
    owner: usize,
    values: &SpanValues<'_>,
    id: &Id,
    ctx: &Context<'_, S>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    let mut extensions = span.extensions_mut();
    if let Some(fields) = extensions.get_mut::<SpanFields>()
        && fields.owner == owner
    {
        values.record(&mut SpanFieldsVisitor {
            fields,
            span: span.name(),
        });
    }
}

/// Writes the chain of spans (root first) that our layers recorded into `out.spans`
/// (`request{id=7}:db`) and their fields into `out.span_values`, and returns the innermost
/// one's name.
pub(crate) fn render_spans<'a, R>(
    leaf: Option<SpanRef<'a, R>>,
    out: &mut EventFields,
) -> Option<&'static str>
where
    R: LookupSpan<'a>,
{
    let leaf = leaf?;
    let mut innermost = None;
    for span in leaf.scope().from_root() {
        let extensions = span.extensions();
        let Some(fields) = extensions.get::<SpanFields>() else {
            continue;
        };
        let text = &mut out.spans;
        if !text.is_empty() {
            text.push(':');
        }
        text.push_str(span.name());
        if !fields.text.is_empty() {
            text.push('{');
            text.push_str(&fields.text);
            text.push('}');
        }
        out.span_values.extend(fields.values.iter().cloned());
        innermost = Some(span.metadata().name());
    }
    innermost
}

thread_local! {
    static SCRATCH: RefCell<EventFields> = RefCell::new(EventFields::default());
}

/// Texts longer than this do not keep the thread's buffers alive afterwards.
const KEEP: usize = 16 * 1024;

/// Turns `event` into a `log::Record` and hands it to `sink`. `wanted` sees the record's
/// metadata first (for a `log` record through tracing-log: the original target and level) and
/// can skip the event before its fields are read.
pub(crate) fn with_event_record<S>(
    event: &Event<'_>,
    ctx: &Context<'_, S>,
    wanted: impl FnOnce(&log::Metadata<'_>) -> bool,
    sink: impl FnOnce(&log::Record<'_>),
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let normalized = event.normalized_metadata();
    let meta: &Metadata<'_> = normalized.as_ref().unwrap_or_else(|| event.metadata());
    let log_meta = log::Metadata::builder()
        .level(log_level(meta.level()))
        .target(meta.target())
        .build();
    if !wanted(&log_meta) {
        return;
    }
    let mut fresh = None;
    SCRATCH.with(|scratch| {
        let mut borrowed = scratch.try_borrow_mut();
        // Re-entered (an appender logged from inside `append`): use a fresh buffer.
        let fields = match borrowed.as_deref_mut() {
            Ok(fields) => fields,
            Err(_) => fresh.insert(EventFields::default()),
        };
        fields.clear();
        fields.from_log = normalized.is_some();
        event.record(fields);
        fields.finish_message();
        fields.func_name = render_spans(ctx.event_span(event), fields);
        let key_values = KeyValues {
            fields,
            extra: None,
        };
        sink(
            &log::Record::builder()
                .metadata(log_meta)
                .args(format_args!("{}", fields.message))
                .file(meta.file())
                .line(meta.line())
                .module_path(meta.module_path())
                .key_values(&key_values)
                .build(),
        );
        if fields.message.capacity() > KEEP || fields.spans.capacity() > KEEP {
            *fields = EventFields::default();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only `visit`: `get` and `count` are log's defaults, the reference for ours.
    struct VisitOnly<'a>(&'a KeyValues<'a>);

    impl kv::Source for VisitOnly<'_> {
        fn visit<'kvs>(&'kvs self, visitor: &mut dyn VisitSource<'kvs>) -> Result<(), kv::Error> {
            self.0.visit(visitor)
        }
    }

    fn fields(
        values: &[(&'static str, i64)],
        spans: &str,
        func: Option<&'static str>,
    ) -> EventFields {
        let mut fields = EventFields::default();
        for (name, v) in values {
            fields.values.push((name, FieldValue::I64(*v)));
        }
        fields.spans.push_str(spans);
        if !spans.is_empty() {
            fields.span_values = vec![
                (Arc::from("request.id"), SpanValue::I64(7)),
                (Arc::from("db.table"), SpanValue::Text(Arc::from("users"))),
                (Arc::from("request.id"), SpanValue::I64(8)),
            ];
        }
        fields.func_name = func;
        fields
    }

    /// Hands each event's key-values, as text, to `seen`.
    struct Capture(std::sync::Mutex<Vec<Vec<(String, String)>>>);

    impl<S> tracing_subscriber::Layer<S> for &'static Capture
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            record_new_span(0, attrs, id, &ctx);
        }

        fn on_record(&self, id: &Id, values: &SpanValues<'_>, ctx: Context<'_, S>) {
            record_span_values(0, values, id, &ctx);
        }

        fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
            with_event_record(
                event,
                &ctx,
                |_| true,
                |record| {
                    struct Pairs(Vec<(String, String)>);
                    impl<'kvs> VisitSource<'kvs> for Pairs {
                        fn visit_pair(
                            &mut self,
                            k: Key<'kvs>,
                            v: Value<'kvs>,
                        ) -> Result<(), kv::Error> {
                            self.0.push((k.to_string(), v.to_string()));
                            Ok(())
                        }
                    }
                    let mut pairs = Pairs(Vec::new());
                    let _ = record.key_values().visit(&mut pairs);
                    self.0.lock().unwrap().push(pairs.0);
                },
            );
        }
    }

    #[test]
    fn a_span_value_recorded_later_replaces_the_key_value_of_its_name_only() {
        use tracing_subscriber::layer::SubscriberExt;
        let capture: &'static Capture = Box::leak(Box::new(Capture(Default::default())));
        let subscriber = tracing_subscriber::registry().with(capture);
        tracing::subscriber::with_default(subscriber, || {
            let span =
                tracing::info_span!("request", id = 7, idx = 1, status = tracing::field::Empty);
            span.record("id", 8);
            span.record("status", "ok");
            span.in_scope(|| tracing::info!("in"));
        });
        let events = capture.0.lock().unwrap();
        let pairs: Vec<(&str, &str)> = events[0]
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("request.id", "8"),
                ("request.idx", "1"),
                ("request.status", "ok"),
                ("spans", "request{id=7 idx=1 id=8 status=\"ok\"}"),
                ("funcName", "request"),
            ]
        );
    }

    #[test]
    fn get_and_count_answer_as_a_visit_does_the_last_pair_of_a_key_winning() {
        let extra = [("user_id", Value::from(99)), ("from_log", Value::from(1))];
        let cases = [
            fields(&[("user_id", 1), ("request", 2)], "", None),
            fields(&[("user_id", 1)], "request{id=7}:db", Some("db")),
            // Event fields named like the span chain, the function, a span field.
            fields(
                &[
                    ("spans", 3),
                    ("funcName", 4),
                    ("request.id", 5),
                    ("user_id", 6),
                ],
                "request{id=7}:db",
                Some("db"),
            ),
            fields(&[("a", 1), ("a", 2)], "", Some("f")),
        ];
        let keys = [
            "user_id",
            "request",
            "spans",
            "funcName",
            "request.id",
            "db.table",
            "a",
            "from_log",
            "absent",
        ];
        for fields in &cases {
            for extra in [None, Some(&extra as &dyn kv::Source)] {
                let ours = KeyValues { fields, extra };
                let reference = VisitOnly(&ours);
                assert_eq!(kv::Source::count(&ours), kv::Source::count(&reference));
                for key in keys {
                    let got = kv::Source::get(&ours, Key::from_str(key)).map(|v| v.to_string());
                    let want =
                        kv::Source::get(&reference, Key::from_str(key)).map(|v| v.to_string());
                    assert_eq!(
                        got,
                        want,
                        "key {key} in {fields:?}, extra: {}",
                        extra.is_some()
                    );
                }
            }
        }
    }
}
