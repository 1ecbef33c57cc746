//! The YAML shape of the `windows_event_log` kind, and the rules it configures: which event id a
//! record gets, what happens on other platforms, what happens to over-long messages.

use std::fmt;

use log::Record;
use log4rs::encode::EncoderConfig;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_value::Value;

/// The highest event id the appender writes.
///
/// Event Viewer shows the low 16 bits of an event id, and the message file registered by
/// [`register_source`](super::register_source) (.NET's `EventLogMessages.dll`) holds a `%1`
/// message for each id from 0 to 65535, so ids stay in that range.
pub const MAX_EVENT_ID: u32 = 65_535;

/// The `windows_event_log` appender's YAML config.
///
/// ```yaml
/// kind: windows_event_log
/// source: Microblog          # required: the event source name
/// log: Application           # default Application
/// event_id: 1                # default 1; or { error: 1000, warn: 2000, default: 3000 }
///                            # or { from_key: event_id, default: 1 }
/// category: 0                # default 0
/// encoder: { kind: python, format: "%(message)s" }   # default %(message)s
/// on_other_platforms: error  # or ignore: do nothing on Linux/macOS
/// long_messages: split       # or truncate (limit: 31,839 characters per event)
/// ```
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowsEventLogConfig {
    /// The appender's name in the YAML file, passed by the strict loader.
    #[serde(rename = "__appender_name", default)]
    pub appender_name: String,
    /// The event source name (Python's `appname`). Required; missing, the builder says so.
    #[serde(default)]
    pub source: String,
    /// The log the source is registered in (used to check and register the source).
    #[serde(default = "default_log")]
    pub log: String,
    /// The event id rule.
    #[serde(default)]
    pub event_id: EventId,
    /// The event category.
    #[serde(default)]
    pub category: u16,
    /// The encoder that renders each record's text.
    #[serde(default)]
    pub encoder: Option<EncoderConfig>,
    /// What building the appender does on a platform other than Windows.
    #[serde(default)]
    pub on_other_platforms: OnOtherPlatforms,
    /// What happens to a message over the Event Log's limit.
    #[serde(default)]
    pub long_messages: LongMessages,
}

fn default_log() -> String {
    "Application".to_owned()
}

/// What a `windows_event_log` appender does when the configuration is loaded on a platform
/// other than Windows (YAML `on_other_platforms`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnOtherPlatforms {
    /// Building the appender fails with a message saying it is only available on Windows (the
    /// default: a config meant for Windows should not silently log nowhere).
    #[default]
    Error,
    /// The appender is built and does nothing, so one YAML file can serve Linux and Windows.
    Ignore,
}

/// What happens to a message longer than the Event Log's limit of
/// [`MAX_MESSAGE_CHARS`](super::MAX_MESSAGE_CHARS) characters (YAML `long_messages`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LongMessages {
    /// Write it as several events, each ending in ` [part i/n]` (the default: nothing is lost).
    #[default]
    Split,
    /// Write one event: the start of the message, ending in `[... N characters truncated]`.
    Truncate,
}

/// Which event id a record gets (YAML `event_id`).
///
/// ```yaml
/// event_id: 7                                  # every record
/// event_id: { error: 100, warn: 200, default: 300 }   # by level; unlisted levels use default (1)
/// event_id: { from_key: event_id, default: 1 }        # from the record's key-value `event_id`
/// ```
/// Ids are 0 to [`MAX_EVENT_ID`]. A key-value that is missing, not a number or out of range
/// gives the `default`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventId {
    /// The same id for every record.
    Fixed(u16),
    /// An id per level.
    ByLevel {
        /// Id for `error` records.
        error: u16,
        /// Id for `warn` records.
        warn: u16,
        /// Id for `info` records.
        info: u16,
        /// Id for `debug` records.
        debug: u16,
        /// Id for `trace` records.
        trace: u16,
    },
    /// The id from a record key-value (`log::info!(event_id = 42; "...")`).
    FromKey {
        /// The key-value's key.
        key: String,
        /// The id when the record has no usable value under `key`.
        default: u16,
    },
}

impl Default for EventId {
    /// Event id 1 for every record.
    fn default() -> Self {
        EventId::Fixed(1)
    }
}

impl EventId {
    /// The event id for `record`.
    ///
    /// ```
    /// use log4rs_appenders::eventlog::EventId;
    /// let rule = EventId::FromKey { key: "event_id".into(), default: 1 };
    /// let kvs = [("event_id", 42)];
    /// let record = log::Record::builder().key_values(&kvs).build();
    /// assert_eq!(rule.for_record(&record), 42);
    /// ```
    pub fn for_record(&self, record: &Record) -> u16 {
        match self {
            EventId::Fixed(id) => *id,
            EventId::ByLevel {
                error,
                warn,
                info,
                debug,
                trace,
            } => match record.level() {
                log::Level::Error => *error,
                log::Level::Warn => *warn,
                log::Level::Info => *info,
                log::Level::Debug => *debug,
                log::Level::Trace => *trace,
            },
            EventId::FromKey { key, default } => record
                .key_values()
                .get(log::kv::Key::from_str(key))
                .and_then(|v| {
                    v.to_u64()
                        .or_else(|| v.to_borrowed_str().and_then(|s| s.trim().parse().ok()))
                })
                .and_then(|id| u16::try_from(id).ok())
                .unwrap_or(*default),
        }
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        event_id_from_value(value).map_err(de::Error::custom)
    }
}

const EVENT_ID_SHAPES: &str = "a number 0-65535, a map of levels to ids such as \
    { error: 100, warn: 200, default: 300 }, or { from_key: event_id, default: 1 }";

fn event_id_from_value(value: Value) -> Result<EventId, String> {
    match value {
        Value::Map(map) => {
            let mut entries = Vec::new();
            for (k, v) in map {
                let Value::String(k) = k else {
                    return Err(format!("expected {EVENT_ID_SHAPES}; a key is not a string"));
                };
                entries.push((k, v));
            }
            if entries.iter().any(|(k, _)| k == "from_key") {
                event_id_from_key(entries)
            } else {
                event_id_by_level(entries)
            }
        }
        other => id_number(&other, "event_id").map(EventId::Fixed),
    }
}

fn event_id_from_key(entries: Vec<(String, Value)>) -> Result<EventId, String> {
    let mut key = None;
    let mut default = 1;
    for (k, v) in entries {
        match k.as_str() {
            "from_key" => match v {
                Value::String(s) if !s.is_empty() => key = Some(s),
                _ => {
                    return Err(
                        "\"from_key\" must name a record key-value, such as event_id".into(),
                    );
                }
            },
            "default" => default = id_number(&v, "default")?,
            other => {
                return Err(format!(
                    "with from_key, the only other key is default, not {other:?} \
                     (ids by level and from_key cannot be mixed)"
                ));
            }
        }
    }
    Ok(EventId::FromKey {
        key: key.unwrap_or_default(),
        default,
    })
}

fn event_id_by_level(entries: Vec<(String, Value)>) -> Result<EventId, String> {
    let mut ids: [Option<u16>; 5] = [None; 5];
    let mut default = 1;
    for (k, v) in entries {
        let id = id_number(&v, &k)?;
        let slot = match k.to_ascii_lowercase().as_str() {
            "default" => {
                default = id;
                continue;
            }
            name => crate::fields::parse_level(name).ok_or_else(|| {
                format!(
                    "unknown key {k:?}; use level names (error, warn, info, debug, trace) and \
                     default, or from_key"
                )
            })?,
        };
        ids[slot as usize - 1] = Some(id);
    }
    let id = |i: usize| ids[i].unwrap_or(default);
    Ok(EventId::ByLevel {
        error: id(0),
        warn: id(1),
        info: id(2),
        debug: id(3),
        trace: id(4),
    })
}

fn id_number(value: &Value, what: &str) -> Result<u16, String> {
    let number: Option<i128> = match value {
        Value::U8(n) => Some((*n).into()),
        Value::U16(n) => Some((*n).into()),
        Value::U32(n) => Some((*n).into()),
        Value::U64(n) => Some((*n).into()),
        Value::I8(n) => Some((*n).into()),
        Value::I16(n) => Some((*n).into()),
        Value::I32(n) => Some((*n).into()),
        Value::I64(n) => Some((*n).into()),
        _ => None,
    };
    // Inside a map, say which key; at the top, the path already names `event_id`.
    let key = if what == "event_id" {
        String::new()
    } else {
        format!("{what:?}: ")
    };
    match number {
        Some(n) => u16::try_from(n)
            .map_err(|_| format!("{key}event id {n} is out of range; use 0 to {MAX_EVENT_ID}")),
        None if what == "event_id" => Err(format!(
            "expected {EVENT_ID_SHAPES}, got {}",
            describe(value)
        )),
        None => Err(format!(
            "{key}expected an event id 0-{MAX_EVENT_ID}, got {}",
            describe(value)
        )),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Bool(b) => b.to_string(),
        Value::F32(f) => f.to_string(),
        Value::F64(f) => f.to_string(),
        Value::Unit | Value::Option(None) => "nothing".to_owned(),
        Value::Seq(_) => "a list".to_owned(),
        Value::Map(_) => "a map".to_owned(),
        _ => "something else".to_owned(),
    }
}

impl fmt::Display for OnOtherPlatforms {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            OnOtherPlatforms::Error => "error",
            OnOtherPlatforms::Ignore => "ignore",
        })
    }
}

impl WindowsEventLogConfig {
    /// The builder this config describes (checks happen in the builder, as for code);
    /// `deserializers` build the `encoder`.
    pub(crate) fn into_builder(
        self,
        deserializers: &log4rs::config::Deserializers,
    ) -> anyhow::Result<super::WindowsEventLogAppenderBuilder> {
        let mut builder = super::WindowsEventLogAppender::builder();
        if let Some(encoder) = self.encoder {
            builder = builder.encoder(crate::encode::build_encoder(encoder, deserializers)?);
        }
        Ok(builder
            .name(self.appender_name)
            .source(self.source)
            .log(self.log)
            .event_id(self.event_id)
            .category(self.category)
            .long_messages(self.long_messages)
            .on_other_platforms(self.on_other_platforms))
    }
}
