//! The Python-style encoder: renders `logging.Formatter` %-style format strings
//! (`%(asctime)s %(levelname)-8s %(name)s: %(message)s`) over log records, byte for byte as
//! CPython does, with every format problem found when the encoder is built.
//!
//! See [`PythonEncoder`] for the attributes and where they differ from Python's.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::format::{Fixed, Item, Numeric, StrftimeItems};
use chrono::{Local, LocalResult, TimeZone};
use log::Record;
use log::kv::{Key, Value};
use log4rs::encode::{Encode, Write};
use serde::Deserialize as SerdeDeserialize;

use crate::registry::{EncoderDeserializer, EncoderKind};

use super::attributes::{
    Attribute, UNKNOWN_FILE, UNKNOWN_FUNCTION, base_name, level_name, level_number, module_name,
    with_thread_info,
};
use super::format::{Segment, parse};
use super::printf::{
    Conversion, Spec, VecWriter, finish_text, pad_spaces, repr_in_place, write_char_code,
    write_float, write_float_as_int, write_int,
};

/// The format used when none is given: `2026-11-23 02:18:30,000 INFO app::db: connected`.
///
/// Python's own default (`%(levelname)s:%(name)s:%(message)s`) has no time, which a log file
/// needs; this is the layout of Python's `logging.basicConfig` examples with the time first.
pub const DEFAULT_FORMAT: &str = "%(asctime)s %(levelname)s %(name)s: %(message)s";

/// Python's default `asctime` layout, before `,mmm`.
const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Kind name in YAML: `encoder: { kind: python, format: "..." }`.
pub const KIND: &str = "python";

/// What CPython's `Formatter('')` uses: an empty format prints the message.
const EMPTY_FORMAT_MEANS: &str = "%(message)s";

/// The value a `%(key)s` shows when the record has no key-value `key`: the `defaults:` of the
/// encoder, as in Python's `logging.Formatter(fmt, defaults={"key": value})`. Conversions apply
/// as to a record value of that type (`%(retries)03d` of `Integer(0)` is `000`).
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// Text (`"-"`, `""`).
    Text(String),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// `True` / `False`, as Python prints them (`%d` gives 1 / 0).
    Bool(bool),
    /// Python's `None` (a YAML `~` or `null`).
    None,
}

impl From<&str> for DefaultValue {
    fn from(v: &str) -> Self {
        DefaultValue::Text(v.to_owned())
    }
}
impl From<String> for DefaultValue {
    fn from(v: String) -> Self {
        DefaultValue::Text(v)
    }
}
impl From<i64> for DefaultValue {
    fn from(v: i64) -> Self {
        DefaultValue::Integer(v)
    }
}
impl From<i32> for DefaultValue {
    fn from(v: i32) -> Self {
        DefaultValue::Integer(v.into())
    }
}
impl From<u32> for DefaultValue {
    fn from(v: u32) -> Self {
        DefaultValue::Integer(v.into())
    }
}
impl From<f64> for DefaultValue {
    fn from(v: f64) -> Self {
        DefaultValue::Float(v)
    }
}
impl From<bool> for DefaultValue {
    fn from(v: bool) -> Self {
        DefaultValue::Bool(v)
    }
}

impl<'de> SerdeDeserialize<'de> for DefaultValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = DefaultValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text, a number, true/false or null")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DefaultValue, E> {
                Ok(DefaultValue::Text(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DefaultValue, E> {
                Ok(DefaultValue::Integer(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DefaultValue, E> {
                i64::try_from(v)
                    .map(DefaultValue::Integer)
                    .map_err(|_| E::custom(format!("integer {v} is too large")))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<DefaultValue, E> {
                Ok(DefaultValue::Float(v))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<DefaultValue, E> {
                Ok(DefaultValue::Bool(v))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<DefaultValue, E> {
                Ok(DefaultValue::None)
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<DefaultValue, E> {
                Ok(DefaultValue::None)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Renders Python `logging.Formatter` %-style format strings over log records.
///
/// ```
/// use log4rs_appenders::encode::PythonEncoder;
///
/// let encoder = PythonEncoder::new("%(levelname)-8s %(name)s:%(lineno)d %(message)s")?;
/// let record = log::Record::builder()
///     .args(format_args!("user {} logged in", 72))
///     .level(log::Level::Warn)
///     .target("shop::auth")
///     .line(Some(42))
///     .build();
/// assert_eq!(encoder.format_to_string(&record), "WARNING  shop::auth:42 user 72 logged in");
/// # Ok::<(), log4rs_appenders::encode::python::FormatError>(())
/// ```
///
/// # Attributes
///
/// | attribute | value | differs from Python |
/// |---|---|---|
/// | `name` | the record's target (`app::db`, or what `target:` set) | |
/// | `levelname` | `ERROR`, `WARNING`, `INFO`, `DEBUG`, `TRACE` | `TRACE` is Rust's; Python has no level 5 name |
/// | `levelno` | 40, 30, 20, 10, 5 | |
/// | `pathname` | the source file as `file!()` gave it (`src/app/db.rs`) | relative, not absolute |
/// | `filename` | its last component (`db.rs`) | |
/// | `module` | the last segment of the module path (`db` for `app::db`) | Python uses the file stem; in Rust that is often `mod`, `lib` or `main`, and inline modules have no file |
/// | `lineno` | the line number, 0 when unknown | |
/// | `funcName` | the enclosing function for records from this crate's macros ([`crate::info!`] ...), the innermost span's name for `tracing` events (the function, for `#[instrument]`); `(unknown function)` for `log::` macros | Rust has no caller frames; the macros record `type_name` of a local item |
/// | `asctime` | `2003-07-08 16:49:45,896` in local time, or [`datefmt`](Self::datefmt) | `datefmt` uses chrono's strftime (`%Z` prints the offset). In the last ~0.1 µs of a second the float `created` rounds up to the next second; as CPython 3.13 (gh-102402), `asctime` then shows that next second with `,000` and `msecs` is 0 |
/// | `created` | seconds since the epoch, float | taken when the record is encoded |
/// | `msecs` | the millisecond part of `created`, float (`896.0`) | |
/// | `relativeCreated` | milliseconds since the first `PythonEncoder` was built, float | Python counts from `import logging` |
/// | `thread` | the Rust thread number (1 for main) | Python shows `pthread_self` |
/// | `threadName` | the thread's name: `main` for the main thread, `Thread-N` (N = `thread`) for unnamed threads | Python says `MainThread` |
/// | `process` | the process id | |
/// | `message` | the formatted message | |
/// | `spans` | the `tracing` span chain, root first, with fields: `request{id=7}:db` (the record's `spans` key-value, set by the `tracing` front end); empty outside spans | Python has no spans |
/// | a name declared in [`with_defaults`](Self::with_defaults) | the record key-value of that key, or the declared default when the record lacks it | Python reads record attributes (`extra=`); a key-value is Rust's equivalent |
///
/// Any other name is refused when the encoder is built, with the closest name as a hint
/// (`%(linenum)d`: did you mean `lineno`?), as Python 3.10+ requires a name a record may lack to
/// be declared in `Formatter(fmt, defaults=...)`.
///
/// Key-values render through their `Display` (`true`, not Python's `True`); numbers take numeric
/// conversions; a text value given a numeric conversion (`%(user)d` with `user = "ann"`) is shown
/// as text padded to the width.
///
/// An empty format prints the message, as CPython's `Formatter('')` does; a format without a
/// single `%(name)` field is refused (CPython: "Invalid format ... for '%' style"), and one that
/// looks like a brace- (`{asctime}`) or dollar-style (`${message}`) format says so and shows it
/// converted.
///
/// # Errors as tracebacks
///
/// When a record carries an error value under the key `error` or `err`
/// (`info!(error:err = e; "...")` or `log::error!(err:err = e; ...)`), the error and its
/// `source()` chain follow the formatted line, one per line:
///
/// ```text
/// 2026-11-23 02:18:30,000 ERROR shop::pay: charge failed
/// Error: request to the card processor failed
/// Caused by: connection reset by peer
/// ```
pub struct PythonEncoder {
    format: String,
    segments: Vec<Segment>,
    /// The declared key-values and what each shows when a record lacks it.
    defaults: Vec<(String, DefaultValue)>,
    date: DateFormat,
    needs_time: bool,
    needs_thread: bool,
    needs_process: bool,
    /// Whether a record's `error` / `err` chain follows the formatted line.
    error_chain: bool,
    asctime: Mutex<AsctimeCache>,
    /// Names this encoder's `asctime` text in the per-thread copy ([`THREAD_ASCTIME`]); a new
    /// one whenever the cache is new (built, cloned, `datefmt` changed).
    asctime_id: u64,
}

/// The `asctime` layout, parsed once.
#[derive(Clone)]
struct DateFormat {
    /// The user's `datefmt`; `None` means Python's default with `,mmm` appended.
    text: Option<String>,
    items: Vec<Item<'static>>,
}

/// The `asctime` text of the most recent second, so strftime runs once per second.
struct AsctimeCache {
    second: Option<i64>,
    text: String,
}

impl AsctimeCache {
    /// An empty cache and a fresh id for it.
    fn fresh() -> (Mutex<AsctimeCache>, u64) {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let cache = AsctimeCache {
            second: None,
            text: String::new(),
        };
        (Mutex::new(cache), NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }
}

/// A thread's copy of the `asctime` text it used last: (encoder's `asctime_id`, second, text).
/// Threads logging at once then read their own copy instead of taking the encoder's lock on
/// every record; the lock is taken once a second per thread, or when encoders alternate.
struct ThreadAsctime {
    id: u64,
    second: i64,
    text: String,
}

thread_local! {
    static THREAD_ASCTIME: RefCell<ThreadAsctime> = const {
        RefCell::new(ThreadAsctime { id: 0, second: 0, text: String::new() })
    };
}

/// A malformed format string or unknown attribute, found when the encoder is built.
#[derive(Debug)]
pub struct FormatError(pub String);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormatError {}

/// Time, thread and process of one record. `format_into` captures them from the clock and the
/// current thread; tests inject fixed values to compare with CPython on identical records.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct RecordEnv<'a> {
    pub created_secs: i64,
    pub created_nanos: u32,
    pub relative_created_ms: f64,
    pub thread: u64,
    pub thread_name: &'a str,
    pub process: u32,
}

impl RecordEnv<'_> {
    /// `created` as Python 3.12 computes it: `time_ns() / 1e9`.
    pub fn created(&self) -> f64 {
        let ns = i128::from(self.created_secs) * 1_000_000_000 + i128::from(self.created_nanos);
        // Both conversions round correctly; the i64 one is much cheaper.
        i64::try_from(ns).map_or_else(|_| i128_to_f64(ns), |ns| ns as f64) / 1e9
    }

    /// `msecs` as CPython 3.13 computes it: whole milliseconds, as a float, but 0 when the float
    /// `created` rounded up to the next second (gh-102402), so `asctime` reads `,000` there.
    pub fn msecs(&self) -> f64 {
        if self.rounds_up_to_next_second() {
            0.0
        } else {
            f64::from(self.created_nanos / 1_000_000)
        }
    }

    /// The second `asctime` shows: CPython converts the float `created`, which in the last
    /// ~0.1 µs of a second is already the next second.
    fn asctime_second(&self) -> i64 {
        if self.rounds_up_to_next_second() {
            self.created_secs.saturating_add(1)
        } else {
            self.created_secs
        }
    }

    /// CPython 3.13's test: `msecs == 999 and int(created) != ns // 10**9`.
    fn rounds_up_to_next_second(&self) -> bool {
        // Cheap test first: only the last millisecond of a second can round up.
        self.created_nanos >= 999_000_000 && self.created() as i64 != self.created_secs
    }
}

static LOGGING_START_NS: OnceLock<i128> = OnceLock::new();

fn now() -> (i64, u32) {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        since.subsec_nanos(),
    )
}

/// Nanoseconds since the epoch when logging started (the first encoder was built); the origin
/// of `relativeCreated`.
pub(crate) fn logging_start_ns() -> i128 {
    *LOGGING_START_NS.get_or_init(|| {
        let (s, n) = now();
        i128::from(s) * 1_000_000_000 + i128::from(n)
    })
}

impl PythonEncoder {
    /// Parses `format`. Every problem Python would only hit when formatting a record (a
    /// malformed field, a conversion the attribute's type refuses, a name that is no attribute,
    /// such as `%(levelnam)s`) is an error here, naming the column. A record key-value needs
    /// [`with_defaults`](Self::with_defaults). An empty format prints the message, as CPython's
    /// `Formatter('')`.
    pub fn new(format: &str) -> Result<Self, FormatError> {
        Self::with_defaults(format, std::iter::empty::<(String, DefaultValue)>())
    }

    /// Like [`new`](Self::new), with record key-values the format may show and the value each
    /// shows when a record lacks it: Python's `logging.Formatter(fmt, defaults={...})`.
    ///
    /// ```
    /// use log4rs_appenders::encode::PythonEncoder;
    ///
    /// let encoder = PythonEncoder::with_defaults(
    ///     "%(levelname)s [user %(user_id)s] %(message)s",
    ///     [("user_id", "-")],
    /// )?;
    /// let record = |kvs: &[(&str, log::kv::Value)]| {
    ///     encoder.format_to_string(
    ///         &log::Record::builder().args(format_args!("hi")).key_values(&kvs).build(),
    ///     )
    /// };
    /// assert_eq!(record(&[("user_id", 72.into())]), "INFO [user 72] hi");
    /// assert_eq!(record(&[]), "INFO [user -] hi");
    /// # Ok::<(), log4rs_appenders::encode::python::FormatError>(())
    /// ```
    ///
    /// A default for a built-in attribute (`levelname`) is refused: it would never be used.
    pub fn with_defaults<K, V>(
        format: &str,
        defaults: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, FormatError>
    where
        K: Into<String>,
        V: Into<DefaultValue>,
    {
        Self::build(format, defaults, false)
    }

    /// A mail subject: like [`new`](Self::new), but fixed text without a field is fine (as
    /// Python's `SMTPHandler` subject is plain text).
    #[cfg(feature = "smtp")]
    pub(crate) fn subject_line(format: &str) -> Result<Self, FormatError> {
        Self::build(format, std::iter::empty::<(String, DefaultValue)>(), true)
            .map(Self::without_error_chain)
    }

    fn build<K, V>(
        format: &str,
        defaults: impl IntoIterator<Item = (K, V)>,
        text_ok: bool,
    ) -> Result<Self, FormatError>
    where
        K: Into<String>,
        V: Into<DefaultValue>,
    {
        let format = if format.is_empty() {
            EMPTY_FORMAT_MEANS
        } else {
            format
        };
        let mut declared: Vec<(String, DefaultValue)> = Vec::new();
        for (key, value) in defaults {
            let key = key.into();
            if super::attributes::is_built_in(&key) {
                return Err(FormatError(format!(
                    "defaults: \"{key}\" is a record attribute, which every record has, so its \
                     default would never be used; list only record key-values"
                )));
            }
            let value = value.into();
            match declared.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => declared.push((key, value)),
            }
        }
        let names: Vec<&str> = declared.iter().map(|(k, _)| k.as_str()).collect();
        let segments = parse(format, &names, text_ok).map_err(|e| {
            let excerpt: String = format.chars().skip(e.column - 1).take(24).collect();
            FormatError(format!(
                "column {} (at {excerpt:?}): {}",
                e.column, e.problem
            ))
        })?;
        let attributes = || {
            segments.iter().filter_map(|s| match s {
                Segment::Field { attribute, .. } => Some(attribute),
                Segment::Literal(_) => None,
            })
        };
        let needs_time = attributes().any(Attribute::needs_time);
        let needs_thread =
            attributes().any(|a| matches!(a, Attribute::Thread | Attribute::ThreadName));
        let needs_process = attributes().any(|a| *a == Attribute::Process);
        logging_start_ns();
        let (asctime, asctime_id) = AsctimeCache::fresh();
        Ok(PythonEncoder {
            format: format.to_owned(),
            segments,
            defaults: declared,
            date: DateFormat::parse(None)?,
            needs_time,
            needs_thread,
            needs_process,
            error_chain: true,
            asctime,
            asctime_id,
        })
    }

    /// The declared key-values and their defaults (see [`with_defaults`](Self::with_defaults)).
    pub fn defaults(&self) -> impl Iterator<Item = (&str, &DefaultValue)> {
        self.defaults.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Renders the formatted line only, without the error chain that otherwise follows it:
    /// for one-line outputs such as a mail subject.
    ///
    /// ```
    /// use log4rs_appenders::encode::PythonEncoder;
    /// let subject = PythonEncoder::new("%(levelname)s: %(message)s").unwrap().without_error_chain();
    /// let error = std::io::Error::other("disk full");
    /// let kvs = [("error", log::kv::Value::from_dyn_error(&error))];
    /// let record = log::Record::builder()
    ///     .level(log::Level::Error)
    ///     .args(format_args!("save failed"))
    ///     .key_values(&kvs)
    ///     .build();
    /// assert_eq!(subject.format_to_string(&record), "ERROR: save failed");
    /// ```
    pub fn without_error_chain(mut self) -> Self {
        self.error_chain = false;
        self
    }

    /// Sets the strftime-style date format for `%(asctime)s` (chrono's specifiers, which
    /// include C's: `%Y-%m-%d %H:%M:%S`, `%d/%b/%Y`, `%I:%M %p`, `%z`...). As in Python, the
    /// milliseconds are not appended when a `datefmt` is given, and an empty one means the
    /// default.
    pub fn datefmt(mut self, datefmt: &str) -> Result<Self, FormatError> {
        self.date = DateFormat::parse(Some(datefmt).filter(|d| !d.is_empty()))?;
        (self.asctime, self.asctime_id) = AsctimeCache::fresh();
        Ok(self)
    }

    /// The format string this encoder renders (`%(message)s` for an empty one).
    pub fn format(&self) -> &str {
        &self.format
    }

    /// Renders `record` into `out` (no trailing newline added beyond what the format has; an
    /// error chain, when the record carries one, follows on its own lines).
    pub fn format_into(&self, record: &Record, out: &mut Vec<u8>) {
        let (created_secs, created_nanos, relative_created_ms) = if self.needs_time {
            let (s, n) = now();
            let ns = i128::from(s) * 1_000_000_000 + i128::from(n);
            // i64 holds 292 years of nanoseconds; its conversion to f64 is much cheaper.
            let since_start = i64::try_from(ns - logging_start_ns()).unwrap_or(i64::MAX);
            (s, n, since_start as f64 / 1e6)
        } else {
            (0, 0, 0.0)
        };
        let process = if self.needs_process {
            std::process::id()
        } else {
            0
        };
        let env = RecordEnv {
            created_secs,
            created_nanos,
            relative_created_ms,
            thread: 0,
            thread_name: "",
            process,
        };
        let rendered = self.needs_thread
            && with_thread_info(|t| {
                let env = RecordEnv {
                    thread: t.id,
                    thread_name: &t.name,
                    ..env
                };
                self.format_with_env(record, &env, out);
            })
            .is_some();
        if !rendered {
            // No thread attribute, or the thread is exiting: thread 0, no name.
            self.format_with_env(record, &env, out);
        }
    }

    /// Renders `record` to a new `String`.
    pub fn format_to_string(&self, record: &Record) -> String {
        let mut out = Vec::new();
        self.format_into(record, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Renders `record` with the time, thread and process given in `env` (the path
    /// `format_into` takes after capturing them). For tests.
    #[doc(hidden)]
    pub fn format_with_env(&self, record: &Record, env: &RecordEnv, out: &mut Vec<u8>) {
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.extend_from_slice(text.as_bytes()),
                Segment::Field { attribute, spec } => {
                    self.render_field(attribute, spec, record, env, out);
                }
            }
        }
        if self.error_chain {
            append_error_chain(record, out);
        }
    }

    fn render_field(
        &self,
        attribute: &Attribute,
        spec: &Spec,
        record: &Record,
        env: &RecordEnv,
        out: &mut Vec<u8>,
    ) {
        match attribute {
            Attribute::Name => text(out, record.target(), spec),
            Attribute::LevelName => text(out, level_name(record.level()), spec),
            Attribute::LevelNo => integer(out, level_number(record.level()), spec),
            Attribute::PathName => text(out, record.file().unwrap_or(UNKNOWN_FILE), spec),
            Attribute::FileName => {
                text(out, record.file().map_or(UNKNOWN_FILE, base_name), spec);
            }
            Attribute::Module => text(out, module_name(record.module_path(), record.file()), spec),
            Attribute::LineNo => integer(out, i128::from(record.line().unwrap_or(0)), spec),
            Attribute::FuncName => match record.key_values().get(Key::from_str("funcName")) {
                Some(value) => key_value(out, &value, spec),
                None => text(out, UNKNOWN_FUNCTION, spec),
            },
            Attribute::AscTime => {
                let start = out.len();
                self.write_asctime(env, out);
                finish_written_text(out, start, spec);
            }
            Attribute::Created => float(out, env.created(), spec),
            Attribute::Msecs => float(out, env.msecs(), spec),
            Attribute::RelativeCreated => float(out, env.relative_created_ms, spec),
            Attribute::Thread => integer(out, i128::from(env.thread), spec),
            Attribute::ThreadName => text(out, env.thread_name, spec),
            Attribute::Process => integer(out, i128::from(env.process), spec),
            Attribute::Message => match record.args().as_str() {
                Some(s) => text(out, s, spec),
                None => {
                    let start = out.len();
                    let _ = VecWriter(out).write_fmt(*record.args());
                    finish_written_text(out, start, spec);
                }
            },
            Attribute::Spans => match record.key_values().get(Key::from_str("spans")) {
                Some(value) => key_value(out, &value, spec),
                None => text(out, "", spec),
            },
            Attribute::KeyValue(key) => match record.key_values().get(Key::from_str(key)) {
                Some(value) => key_value(out, &value, spec),
                None => match self.defaults.iter().find(|(k, _)| k == key) {
                    Some((_, default)) => default_value(out, default, spec),
                    // Unreachable: the parser accepts only declared names.
                    None => text(out, "-", spec),
                },
            },
        }
    }

    /// `asctime`: the second's text from this thread's copy, else from the shared cache
    /// (strftime only when the second changes), then `,mmm` for the default layout.
    fn write_asctime(&self, env: &RecordEnv, out: &mut Vec<u8>) {
        let second = env.asctime_second();
        let from_thread_copy = THREAD_ASCTIME
            .try_with(|cell| {
                let Ok(mut copy) = cell.try_borrow_mut() else {
                    return false;
                };
                if copy.id != self.asctime_id || copy.second != second {
                    let cache = self.cached_second(second);
                    copy.text.clear();
                    copy.text.push_str(&cache.text);
                    copy.second = second;
                    copy.id = self.asctime_id;
                }
                out.extend_from_slice(copy.text.as_bytes());
                true
            })
            .unwrap_or(false);
        if !from_thread_copy {
            // The thread is exiting (or re-entered this): straight from the shared cache.
            out.extend_from_slice(self.cached_second(second).text.as_bytes());
        }
        if self.date.text.is_none() {
            let ms = (env.msecs() as u32).min(999);
            out.extend_from_slice(&[
                b',',
                b'0' + (ms / 100) as u8,
                b'0' + (ms / 10 % 10) as u8,
                b'0' + (ms % 10) as u8,
            ]);
        }
    }

    /// The shared cache, holding the text of `second` (strftime only when the second changed).
    fn cached_second(&self, second: i64) -> MutexGuard<'_, AsctimeCache> {
        let mut cache = self.asctime.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.second != Some(second) {
            cache.text.clear();
            match Local.timestamp_opt(second, 0) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    let _ = t
                        .format_with_items(self.date.items.iter())
                        .write_to(&mut cache.text);
                }
                LocalResult::None => cache.text.push_str("(time out of range)"),
            }
            cache.second = Some(second);
        }
        cache
    }
}

impl DateFormat {
    fn parse(datefmt: Option<&str>) -> Result<DateFormat, FormatError> {
        let text = datefmt.unwrap_or(DEFAULT_DATE_FORMAT);
        let items = StrftimeItems::new(text).parse_to_owned().map_err(|_| {
            FormatError(format!(
                "datefmt {text:?} has a % directive that strftime does not know (use e.g. \
                 %Y-%m-%d %H:%M:%S; write %% for a literal %)"
            ))
        })?;
        // The text is cached per second, so a fraction would always read 0; Python's
        // time.strftime has no fractions either.
        let fraction = items.iter().any(|item| {
            matches!(
                item,
                Item::Numeric(Numeric::Nanosecond, _)
                    | Item::Fixed(
                        Fixed::Nanosecond
                            | Fixed::Nanosecond3
                            | Fixed::Nanosecond6
                            | Fixed::Nanosecond9
                            | Fixed::Internal(_)
                    )
            )
        });
        if fraction {
            return Err(FormatError(format!(
                "datefmt {text:?} asks for fractions of a second, which asctime does not carry \
                 (as in Python); write the milliseconds in the format instead: \
                 \"%(asctime)s.%(msecs)03d\""
            )));
        }
        Ok(DateFormat {
            text: datefmt.map(str::to_owned),
            items,
        })
    }
}

/// `value as f64`, kept out of line: inlined, LLVM hoists this libcall (`__floattidf`) out of
/// the segment loop and runs it for every record whether a float is rendered or not.
#[inline(never)]
fn i128_to_f64(value: i128) -> f64 {
    value as f64
}

/// The text written since `start` as a `s`, `r` or `a` conversion; a numeric conversion (only
/// reachable for key-values holding text) shows the text padded to the width.
#[inline]
fn finish_written_text(out: &mut Vec<u8>, start: usize, spec: &Spec) {
    // Plain `%(x)s`, by far the most common field: nothing to cut, pad or escape.
    if spec.conversion == Conversion::Str && spec.width == 0 && spec.precision.is_none() {
        return;
    }
    finish_formatted_text(out, start, spec);
}

fn finish_formatted_text(out: &mut Vec<u8>, start: usize, spec: &Spec) {
    match spec.conversion {
        Conversion::Str => finish_text(out, start, spec),
        Conversion::Repr | Conversion::Ascii => {
            repr_in_place(out, start, spec.conversion == Conversion::Ascii);
            finish_text(out, start, spec);
        }
        Conversion::Char if out[start..].iter().filter(|b| (**b & 0xC0) != 0x80).count() == 1 => {
            pad_spaces(out, start, spec.width, spec.flags.left);
        }
        _ => pad_spaces(out, start, spec.width, spec.flags.left),
    }
}

fn text(out: &mut Vec<u8>, value: &str, spec: &Spec) {
    let start = out.len();
    out.extend_from_slice(value.as_bytes());
    finish_written_text(out, start, spec);
}

fn integer(out: &mut Vec<u8>, value: i128, spec: &Spec) {
    match spec.conversion {
        Conversion::Str | Conversion::Repr | Conversion::Ascii => {
            let start = out.len();
            write_int(
                out,
                value,
                &Spec {
                    conversion: Conversion::Decimal,
                    ..Spec::plain()
                },
            );
            finish_text(out, start, spec);
        }
        Conversion::Char => write_char_code(out, value, spec),
        c if c.is_float() => write_float(out, i128_to_f64(value), spec),
        _ => write_int(out, value, spec),
    }
}

fn float(out: &mut Vec<u8>, value: f64, spec: &Spec) {
    match spec.conversion {
        Conversion::Decimal => write_float_as_int(out, value, spec),
        c if c.is_float() => write_float(out, value, spec),
        Conversion::Str | Conversion::Repr | Conversion::Ascii => write_float(out, value, spec),
        // %o %x %X %c of a float key-value: Python raises; show it as text.
        _ => {
            let start = out.len();
            write_float(
                out,
                value,
                &Spec {
                    conversion: Conversion::Str,
                    ..Spec::plain()
                },
            );
            pad_spaces(out, start, spec.width, spec.flags.left);
        }
    }
}

/// A record key-value: numbers keep their type (so `%(size)5d` and `%(ratio).2f` work), text
/// and everything else render through `Display`.
fn key_value(out: &mut Vec<u8>, value: &Value, spec: &Spec) {
    if let Some(s) = value.to_borrowed_str() {
        text(out, s, spec);
    } else if let Some(i) = value.to_i128() {
        integer(out, i, spec);
    } else if let Some(u) = value.to_u128() {
        integer(out, i128::try_from(u).unwrap_or(i128::MAX), spec);
    } else if let Some(f) = value.to_f64() {
        float(out, f, spec);
    } else {
        let start = out.len();
        let _ = write!(VecWriter(out), "{value}");
        finish_written_text(out, start, spec);
    }
}

/// A declared default, rendered as Python renders a value of its type.
fn default_value(out: &mut Vec<u8>, value: &DefaultValue, spec: &Spec) {
    // `True`, `False` and `None` are their own `repr`: no quotes, as Python prints them.
    let word = |out: &mut Vec<u8>, word: &str| {
        let start = out.len();
        out.extend_from_slice(word.as_bytes());
        finish_text(out, start, spec);
    };
    match value {
        DefaultValue::Text(t) => text(out, t, spec),
        DefaultValue::Integer(i) => integer(out, i128::from(*i), spec),
        DefaultValue::Float(f) => float(out, *f, spec),
        DefaultValue::Bool(b) => match spec.conversion {
            Conversion::Str | Conversion::Repr | Conversion::Ascii => {
                word(out, if *b { "True" } else { "False" });
            }
            _ => integer(out, i128::from(*b), spec),
        },
        DefaultValue::None => match spec.conversion {
            Conversion::Str | Conversion::Repr | Conversion::Ascii => word(out, "None"),
            // Python raises a TypeError; show it as text, as for a text key-value.
            _ => {
                let start = out.len();
                out.extend_from_slice(b"None");
                pad_spaces(out, start, spec.width, spec.flags.left);
            }
        },
    }
}

/// Appends `\nError: ...` and one `\nCaused by: ...` per `source()` when the record carries an
/// error under `error` or `err`.
fn append_error_chain(record: &Record, out: &mut Vec<u8>) {
    let key_values = record.key_values();
    // Most records carry no key-values: one call instead of a lookup per key.
    if key_values.count() == 0 {
        return;
    }
    for key in ["error", "err"] {
        let Some(value) = key_values.get(Key::from_str(key)) else {
            continue;
        };
        let Some(error) = value.to_borrowed_error() else {
            continue;
        };
        let _ = write!(VecWriter(out), "\nError: {error}");
        let mut source = error.source();
        // Bounded: a buggy `source()` could cycle.
        for _ in 0..64 {
            let Some(cause) = source else { break };
            let _ = write!(VecWriter(out), "\nCaused by: {cause}");
            source = cause.source();
        }
        return;
    }
}

impl Spec {
    /// `%s` with no flags, width or precision.
    fn plain() -> Spec {
        Spec {
            flags: Default::default(),
            width: 0,
            precision: None,
            conversion: Conversion::Str,
        }
    }
}

impl Clone for PythonEncoder {
    fn clone(&self) -> Self {
        let (asctime, asctime_id) = AsctimeCache::fresh();
        PythonEncoder {
            format: self.format.clone(),
            segments: self.segments.clone(),
            defaults: self.defaults.clone(),
            date: self.date.clone(),
            needs_time: self.needs_time,
            needs_thread: self.needs_thread,
            needs_process: self.needs_process,
            error_chain: self.error_chain,
            asctime,
            asctime_id,
        }
    }
}

impl fmt::Debug for PythonEncoder {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("PythonEncoder")
            .field("format", &self.format)
            .field("defaults", &self.defaults)
            .field("datefmt", &self.date.text)
            .finish()
    }
}

/// Records longer than this do not keep their buffer alive on the thread afterwards.
const MAX_KEPT_BUFFER: usize = 64 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Encode for PythonEncoder {
    /// Renders the record into a per-thread buffer (no allocation once it has grown to the
    /// record size) and hands it to the writer in one `write_all`, newline included.
    fn encode(&self, w: &mut dyn Write, record: &Record) -> anyhow::Result<()> {
        let write = |buf: &mut Vec<u8>, w: &mut dyn Write| {
            buf.clear();
            self.format_into(record, buf);
            buf.push(b'\n');
            w.write_all(buf)
        };
        let result = SCRATCH
            .try_with(|cell| match cell.try_borrow_mut() {
                Ok(mut buf) => {
                    let result = write(&mut buf, w);
                    if buf.capacity() > MAX_KEPT_BUFFER {
                        *buf = Vec::new();
                    }
                    Some(result)
                }
                // Re-entered (a key-value's Display logged): use a buffer of its own.
                Err(_) => None,
            })
            .ok()
            .flatten();
        match result {
            Some(r) => r?,
            None => write(&mut Vec::new(), w)?,
        }
        Ok(())
    }
}

/// The YAML shape: `encoder: { kind: python, format: "...", datefmt: "...", defaults: {..} }`.
/// See [`PythonKind`].
#[derive(SerdeDeserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonEncoderConfig {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    datefmt: Option<String>,
    #[serde(default)]
    defaults: std::collections::BTreeMap<String, DefaultValue>,
}

/// The `python` encoder kind: builds a [`PythonEncoder`] from YAML. Listed in
/// [`crate::registry`].
///
/// ```yaml
/// encoder:
///   kind: python
///   format: "%(asctime)s %(levelname)-8s %(name)s: %(message)s [user %(user_id)s]"
///   datefmt: "%Y-%m-%d %H:%M:%S"   # optional
///   defaults: { user_id: "-" }     # record key-values the format shows, and their default
/// ```
///
/// `format` defaults to [`DEFAULT_FORMAT`]; `format: ""` prints the message, as CPython's
/// `Formatter('')`. `defaults` is Python's `Formatter(fmt, defaults={...})`: a name in the
/// format that is neither an attribute nor declared there is refused. A bad format is a load-time error such as
/// `field "format": column 13 (at "%(levelnam)s"): unknown attribute "levelnam" (did you mean
/// "levelname"? ...)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PythonKind;

impl EncoderKind for PythonKind {
    const KIND: &'static str = KIND;
    type Config = PythonEncoderConfig;

    fn build(config: PythonEncoderConfig) -> anyhow::Result<Box<dyn Encode>> {
        let format = config.format.as_deref().unwrap_or(DEFAULT_FORMAT);
        let mut encoder =
            PythonEncoder::with_defaults(format, config.defaults).map_err(|e| {
                match e.0.strip_prefix("defaults: ") {
                    Some(problem) => anyhow::anyhow!("field \"defaults\": {problem}"),
                    None => anyhow::anyhow!("field \"format\": {e}"),
                }
            })?;
        if let Some(datefmt) = &config.datefmt {
            encoder = encoder
                .datefmt(datefmt)
                .map_err(|e| anyhow::anyhow!("field \"datefmt\": {e}"))?;
        }
        Ok(Box::new(encoder))
    }
}

/// log4rs's deserializer of `kind: python` (what [`crate::deserializers`] registers).
pub type PythonEncoderDeserializer = EncoderDeserializer<PythonKind>;

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> RecordEnv<'static> {
        RecordEnv {
            created_secs: 1_700_000_000,
            created_nanos: 896_123_456,
            relative_created_ms: 1234.5678,
            thread: 7,
            thread_name: "worker",
            process: 4242,
        }
    }

    fn render(format: &str, record: &Record) -> String {
        render_with(format, &[], record)
    }

    fn render_with(format: &str, defaults: &[(&str, DefaultValue)], record: &Record) -> String {
        let mut out = Vec::new();
        PythonEncoder::with_defaults(format, defaults.iter().cloned())
            .unwrap()
            .format_with_env(record, &env(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_log_records_show_pythons_unknown_function_and_file() {
        let record = Record::builder().args(format_args!("hi")).build();
        assert_eq!(
            render("%(funcName)s %(pathname)s %(filename)s %(lineno)d", &record),
            "(unknown function) (unknown file) (unknown file) 0"
        );
    }

    #[test]
    fn key_values_render_by_key_and_missing_ones_as_their_declared_default() {
        let kvs = [("user_id", Value::from(72)), ("ratio", Value::from(0.5))];
        let record = Record::builder()
            .args(format_args!("m"))
            .key_values(&kvs)
            .build();
        let defaults = [
            ("user_id", DefaultValue::from("?")),
            ("ratio", 0.0.into()),
            ("absent", "-".into()),
            ("n", 7.into()),
            ("flag", true.into()),
            ("nothing", DefaultValue::None),
        ];
        assert_eq!(
            render_with(
                "%(user_id)05d %(ratio).2f %(user_id)s [%(absent)3s] %(user_id)r",
                &defaults,
                &record
            ),
            "00072 0.50 72 [  -] 72"
        );
        // As Python: `'%(n)03d %(flag)s %(flag)r %(flag)d %(nothing)s %(nothing)r' % defaults`.
        let bare = Record::builder().args(format_args!("m")).build();
        assert_eq!(
            render_with(
                "%(n)03d %(flag)s %(flag)r %(flag)d %(nothing)s %(nothing)r %(absent)r",
                &defaults,
                &bare
            ),
            "007 True True 1 None None '-'"
        );
    }

    #[test]
    fn undeclared_names_and_defaults_for_attributes_are_refused() {
        let e = PythonEncoder::new("%(lineno)d %(linenum)d")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("column 12") && e.contains("did you mean \"lineno\""),
            "{e}"
        );
        let e = PythonEncoder::with_defaults("%(message)s", [("levelname", "x")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"levelname\" is a record attribute"), "{e}");
    }

    #[test]
    fn an_empty_format_prints_the_message_as_cpython_does() {
        let record = Record::builder().args(format_args!("hello")).build();
        let encoder = PythonEncoder::new("").unwrap();
        assert_eq!(encoder.format(), "%(message)s");
        assert_eq!(encoder.format_to_string(&record), "hello");
    }

    #[test]
    fn numeric_conversion_of_a_text_key_value_shows_the_text() {
        let kvs = [("user", Value::from("ann"))];
        let record = Record::builder()
            .args(format_args!("m"))
            .key_values(&kvs)
            .build();
        assert_eq!(
            render_with("[%(user)5d] [%(user)r]", &[("user", "-".into())], &record),
            "[  ann] ['ann']"
        );
    }

    #[derive(Debug)]
    struct Chain(&'static str, Option<Box<Chain>>);
    impl fmt::Display for Chain {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Chain {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|c| c as _)
        }
    }

    #[test]
    fn an_error_key_value_appends_its_source_chain() {
        let error = Chain(
            "charge failed",
            Some(Box::new(Chain("connection reset", None))),
        );
        let kvs = [("error", Value::from_dyn_error(&error))];
        let record = Record::builder()
            .args(format_args!("payment"))
            .key_values(&kvs)
            .build();
        assert_eq!(
            render("%(message)s", &record),
            "payment\nError: charge failed\nCaused by: connection reset"
        );
        let kvs = [("err", Value::from_dyn_error(&error))];
        let record = Record::builder()
            .args(format_args!("payment"))
            .key_values(&kvs)
            .build();
        assert!(render("%(message)s", &record).ends_with("\nCaused by: connection reset"));
    }

    #[test]
    fn asctime_defaults_to_pythons_layout_with_milliseconds() {
        let record = Record::builder().args(format_args!("m")).build();
        let s = render("%(asctime)s|%(msecs)s|%(created)s", &record);
        let (asctime, rest) = s.split_once('|').unwrap();
        assert_eq!(asctime.len(), "2023-11-14 22:13:20,896".len(), "{asctime}");
        assert!(asctime.ends_with(",896"), "{asctime}");
        // Python: 1700000000896123456 / 1e9 == 1700000000.8961234
        assert_eq!(rest, "896.0|1700000000.8961234");
    }

    #[test]
    fn encoders_alternating_on_one_thread_each_render_their_own_datefmt() {
        let record = Record::builder().args(format_args!("m")).build();
        let iso = PythonEncoder::new("%(asctime)s").unwrap();
        let dmy = PythonEncoder::new("%(asctime)s")
            .unwrap()
            .datefmt("%d/%m/%Y")
            .unwrap();
        for _ in 0..3 {
            let a = iso.format_to_string(&record);
            let b = dmy.format_to_string(&record);
            assert_eq!(a.len(), "2023-11-14 22:13:20,896".len(), "{a}");
            assert_eq!(a.as_bytes()[4], b'-', "{a}");
            assert_eq!(b.len(), "14/11/2023".len(), "{b}");
            assert_eq!(b.as_bytes()[2], b'/', "{b}");
        }
        // Changing the datefmt of an encoder already used on this thread shows the new one.
        let changed = iso.datefmt("%d/%m/%Y").unwrap();
        let c = changed.format_to_string(&record);
        assert_eq!(c.as_bytes()[2], b'/', "{c}");
        let cloned = changed.clone().format_to_string(&record);
        assert_eq!(cloned.as_bytes()[2], b'/', "{cloned}");
    }

    #[test]
    fn asctime_shows_the_next_second_with_000_where_the_float_created_rounds_up() {
        let record = Record::builder().args(format_args!("m")).build();
        let render_at = |nanos: u32| {
            let env = RecordEnv {
                created_secs: 946_684_799,
                created_nanos: nanos,
                ..env()
            };
            let mut out = Vec::new();
            PythonEncoder::new("%(asctime)s %(msecs)r")
                .unwrap()
                .format_with_env(&record, &env, &mut out);
            String::from_utf8(out).unwrap()
        };
        // 946684799.999999999 is 946684800.0 as a float: CPython 3.13 shows the next second
        // and msecs 0 (gh-102402); a nanosecond earlier than the rounding point it does not.
        let rounded = render_at(999_999_999);
        assert!(rounded.ends_with(":00,000 0.0"), "{rounded}");
        let kept = render_at(999_000_000);
        assert!(kept.ends_with(":59,999 999.0"), "{kept}");
    }

    #[test]
    fn threads_sharing_one_encoder_each_get_their_own_name_and_a_whole_asctime() {
        let encoder = std::sync::Arc::new(
            PythonEncoder::new("%(asctime)s [%(threadName)s] %(message)s").unwrap(),
        );
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let encoder = encoder.clone();
                std::thread::Builder::new()
                    .name(format!("w{t}"))
                    .spawn(move || {
                        let mut out = Vec::new();
                        for i in 0..2000 {
                            out.clear();
                            let mut w = log4rs::encode::writer::simple::SimpleWriter(&mut out);
                            encoder
                                .encode(
                                    &mut w,
                                    &Record::builder().args(format_args!("{i}")).build(),
                                )
                                .unwrap();
                            let line = std::str::from_utf8(&out).unwrap();
                            // "YYYY-mm-dd HH:MM:SS,mmm [wN] i\n"
                            assert_eq!(line.len(), 23 + format!(" [w{t}] {i}\n").len(), "{line}");
                            assert!(line.ends_with(&format!(" [w{t}] {i}\n")), "{line}");
                        }
                    })
                    .unwrap()
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn bad_formats_and_datefmts_are_errors_naming_the_problem() {
        let e = PythonEncoder::new("%(asctime)s %(levelnam)s")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("column 13 (at \"%(levelnam)s\")"), "{e}");
        assert!(e.contains("did you mean \"levelname\""), "{e}");
        let e = PythonEncoder::new("%(asctime)s")
            .unwrap()
            .datefmt("%Y %Q")
            .unwrap_err()
            .to_string();
        assert!(e.contains("datefmt"), "{e}");
        for fraction in ["%H:%M:%S%.3f", "%S.%f", "%S%.f", "%S.%3f"] {
            let e = PythonEncoder::new("%(asctime)s")
                .unwrap()
                .datefmt(fraction)
                .unwrap_err()
                .to_string();
            assert!(e.contains("%(msecs)03d"), "{fraction}: {e}");
        }
    }

    #[test]
    fn yaml_config_errors_name_the_field() {
        use log4rs::config::{Deserialize, Deserializers};
        let d = Deserializers::default();
        let value = |yaml: &str| serde_yaml::from_str::<serde_value::Value>(yaml).unwrap();
        let e = PythonEncoderDeserializer::new()
            .deserialize(value("format: '%(levelnam)s'"), &d)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("field \"format\": column 1"), "{e}");
        let e = PythonEncoderDeserializer::new()
            .deserialize(value("fromat: '%(message)s'"), &d)
            .unwrap_err()
            .to_string();
        // The unknown field and the expected ones are named.
        assert!(
            e.contains("fromat") && e.contains("format") && e.contains("datefmt"),
            "{e}"
        );
        assert!(
            PythonEncoderDeserializer::new()
                .deserialize(value("{}"), &d)
                .is_ok()
        );
    }
}
