//! The strict loader: YAML text -> a log4rs `Config`, or every problem at once.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use log::{LevelFilter, Record};
use log4rs::append::Append;
use log4rs::config::{Appender, Config, Deserializers, Logger, Root};
use log4rs::filter::Filter;
use serde_yaml::{Mapping, Value};

use super::problems::{ConfigError, Place, Problem, Problems};
use crate::fields::env::expand_tree;
use crate::fields::strict::{APPENDER_NAME_KEY, closest_name, with_did_you_mean};
use crate::fields::{LEVEL_FILTER_NAMES, parse_level_filter};
use crate::registry::{self, CheckedAppender};

/// A config that loaded without a single problem.
#[derive(Debug)]
pub struct LoadedConfig {
    /// The log4rs config, ready for `log4rs::init_config` or a `Handle::set_config`.
    pub config: Config,
    /// `refresh_rate:` from the file: how often to check it for changes (hot reload).
    pub refresh_rate: Option<Duration>,
}

/// A config that passed every check, with nothing started yet: no file created, no thread,
/// socket or spool touched. [`start`](Self::start) starts its appenders.
///
/// ```
/// let yaml = "appenders:\n  stdout: { kind: console }\nroot: { level: info, appenders: [stdout] }\n";
/// let checked = log4rs_appenders::config::check_config_str(yaml, "inline").unwrap();
/// assert_eq!(checked.routing().root().appenders(), ["stdout"]);
/// let loaded = checked.start().unwrap();
/// assert_eq!(loaded.config.appenders().len(), 1);
/// ```
pub struct CheckedConfig {
    source_name: String,
    appenders: Vec<CheckedEntry>,
    routing: Config,
    refresh_rate: Option<Duration>,
}

/// One appender that passed its checks: its name, its filters and the appender to start.
struct CheckedEntry {
    name: String,
    filters: Vec<Box<dyn Filter>>,
    appender: Box<dyn CheckedAppender>,
}

impl std::fmt::Debug for CheckedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("CheckedConfig")
            .field("source_name", &self.source_name)
            .field(
                "appenders",
                &self.appenders.iter().map(|a| &a.name).collect::<Vec<_>>(),
            )
            .field("routing", &self.routing)
            .field("refresh_rate", &self.refresh_rate)
            .finish()
    }
}

/// Stands in for a not-yet-started appender in [`CheckedConfig::routing`]; never logs.
#[derive(Debug)]
struct NotStarted;

impl Append for NotStarted {
    fn append(&self, _: &Record) -> anyhow::Result<()> {
        Ok(())
    }

    fn flush(&self) {}
}

impl CheckedConfig {
    /// The routing as log4rs will apply it (root, loggers, levels, additivity, appender names);
    /// its appenders are placeholders without filters that drop every record, since nothing is
    /// started yet.
    pub fn routing(&self) -> &Config {
        &self.routing
    }

    /// Each appender's name, in file order, with the number of its `filters:`.
    pub fn appender_filters(&self) -> impl Iterator<Item = (&str, usize)> {
        self.appenders
            .iter()
            .map(|a| (a.name.as_str(), a.filters.len()))
    }

    /// `refresh_rate:` from the file: how often to check it for changes (hot reload).
    pub fn refresh_rate(&self) -> Option<Duration> {
        self.refresh_rate
    }

    /// Starts every appender, in file order: opens files, spawns workers, picks up spools.
    ///
    /// Only what cannot be known before trying fails here (a folder that cannot be created, a
    /// spool held by another process); the appenders started before the failing one are then
    /// dropped (flushed and stopped) and the error names the failing one.
    pub fn start(self) -> Result<LoadedConfig, ConfigError> {
        let mut started = Vec::with_capacity(self.appenders.len());
        for entry in self.appenders {
            match entry.appender.start() {
                Ok(appender) => started.push(
                    Appender::builder()
                        .filters(entry.filters)
                        .build(entry.name, appender),
                ),
                Err(e) => {
                    drop(started);
                    return Err(ConfigError::single(
                        &self.source_name,
                        Place::Appender(entry.name),
                        format!("cannot start: {e:#}"),
                    ));
                }
            }
        }
        let root = self.routing.root();
        let config = Config::builder()
            .appenders(started)
            .loggers(self.routing.loggers().iter().cloned())
            .build(
                Root::builder()
                    .appenders(root.appenders().iter().cloned())
                    .build(root.level()),
            )
            .map_err(|errors| ConfigError {
                source_name: self.source_name.clone(),
                problems: errors
                    .errors()
                    .iter()
                    .map(|e| Problem {
                        place: Place::TopLevel,
                        message: e.to_string(),
                    })
                    .collect(),
            })?;
        Ok(LoadedConfig {
            config,
            refresh_rate: self.refresh_rate,
        })
    }
}

/// Loads a YAML config file strictly: returns every problem at once, and never a partial config.
/// Every appender is checked before any is started, so a config with a problem has no side
/// effects ([`check_config_file`], then [`CheckedConfig::start`]).
///
/// ```no_run
/// match log4rs_appenders::config::load_config_file("config-examples/microblog.yaml") {
///     Ok(loaded) => println!("{} appenders", loaded.config.appenders().len()),
///     Err(e) => eprintln!("{e}"), // one line per problem
/// }
/// ```
pub fn load_config_file(path: impl AsRef<Path>) -> Result<LoadedConfig, ConfigError> {
    check_config_file(path)?.start()
}

/// Loads a YAML config from a string; `source_name` is used in messages.
///
/// ```
/// let yaml = r#"
/// appenders:
///   stdout: { kind: console }
/// root: { level: info, appenders: [stdout] }
/// "#;
/// let loaded = log4rs_appenders::config::load_config_str(yaml, "inline").unwrap();
/// assert_eq!(loaded.config.appenders().len(), 1);
/// ```
pub fn load_config_str(yaml: &str, source_name: &str) -> Result<LoadedConfig, ConfigError> {
    check_config_str(yaml, source_name)?.start()
}

/// Checks a YAML config file strictly, with no side effects: every problem at once, or a
/// [`CheckedConfig`] ready to start.
pub fn check_config_file(path: impl AsRef<Path>) -> Result<CheckedConfig, ConfigError> {
    let path = path.as_ref();
    let source_name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::single(&source_name, Place::File, format!("cannot read it: {e}"))
    })?;
    check_config_str(&text, &source_name)
}

/// Checks a YAML config from a string, with no side effects; `source_name` is used in messages.
pub fn check_config_str(yaml: &str, source_name: &str) -> Result<CheckedConfig, ConfigError> {
    let document: Value = serde_yaml::from_str(yaml).map_err(|e| {
        // The YAML parser quotes values in its messages; one may be a password.
        let message = crate::fields::without_quoted_values(&e.to_string());
        ConfigError::single(
            source_name,
            Place::File,
            format!("is not valid YAML: {message}"),
        )
    })?;
    if document.is_null() {
        // A truncated file (a deploy that failed half way, an editor's save): applying it would
        // log nothing, silently.
        return Err(ConfigError::single(
            source_name,
            Place::File,
            "the file is empty (nothing but blanks or comments); a config needs at least `root: { level: info, appenders: [...] }`".into(),
        ));
    }
    let mut document = document;
    let mut problems = Problems::default();
    let mut unexpanded = Vec::new();
    expand_tree(&mut document, &mut Vec::new(), &mut |path, var| {
        let (place, field) = place_of(path);
        unexpanded.push(place.clone());
        problems.add(
            &place,
            format!("field {field:?}: environment variable {var} is not set (set it, or remove $ENV{{{var}}})"),
        );
    });
    let Value::Mapping(top) = document else {
        return Err(ConfigError::single(
            source_name,
            Place::File,
            "expected a mapping with refresh_rate, appenders, root and loggers".into(),
        ));
    };
    let loader = Loader {
        deserializers: crate::deserializers(),
        problems,
        unexpanded,
        declared_appenders: HashSet::new(),
    };
    loader.load(top, source_name)
}

/// The place and field a dotted path (`appenders.mail.port`) points at.
fn place_of(path: &str) -> (Place, String) {
    let mut parts = path.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("appenders"), Some(name), field) => {
            (Place::Appender(name.into()), field.unwrap_or("").into())
        }
        (Some("loggers"), Some(name), field) => {
            (Place::Logger(name.into()), field.unwrap_or("").into())
        }
        (Some("root"), field, rest) => {
            let field = [field, rest]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(".");
            (Place::Root, field)
        }
        (Some(key), _, _) => (Place::TopLevel, key.into()),
        _ => (Place::TopLevel, String::new()),
    }
}

const TOP_LEVEL_KEYS: &[&str] = &["refresh_rate", "root", "appenders", "loggers"];
const LEVELS: &str = LEVEL_FILTER_NAMES;

struct Loader {
    deserializers: Deserializers,
    problems: Problems,
    /// Places with an unset `$ENV{..}`: not built, so nothing acts on an unexpanded value (such
    /// as a file appender creating a folder literally named `$ENV{LOGS}`).
    unexpanded: Vec<Place>,
    /// The declared appender names, for the loggers' references: a set, since a config may
    /// have tens of thousands of loggers and appenders (a scan per reference was quadratic).
    declared_appenders: HashSet<String>,
}

impl Loader {
    fn load(mut self, top: Mapping, source_name: &str) -> Result<CheckedConfig, ConfigError> {
        let mut refresh_rate = None;
        let mut appenders = Vec::new();
        let mut appender_names = Vec::new();
        let mut root = None;
        let mut loggers = Vec::new();
        let mut root_value = None;
        let mut loggers_value = None;

        for (key, value) in top {
            let key = key.as_str().unwrap_or("?").to_owned();
            match key.as_str() {
                "refresh_rate" => refresh_rate = self.refresh_rate(&value),
                "appenders" => {
                    (appenders, appender_names) = self.appenders(value);
                }
                "root" => root_value = Some(value),
                "loggers" => loggers_value = Some(value),
                other => self
                    .problems
                    .add(&Place::TopLevel, unknown_field(other, TOP_LEVEL_KEYS)),
            }
        }
        match root_value {
            Some(value) => {
                if let Some((level, names)) =
                    self.logger_fields(&Place::Root, value, &appender_names, false)
                {
                    root = Some(
                        Root::builder()
                            .appenders(names)
                            .build(level.0.unwrap_or(LevelFilter::Debug)),
                    );
                }
            }
            // log4rs would accept it and log nothing at all.
            None => self.problems.add(
                &Place::TopLevel,
                "field \"root\" is missing: without a root logger no record reaches an appender; add `root: { level: info, appenders: [...] }`",
            ),
        }
        if let Some(value) = loggers_value {
            loggers = self.loggers(value, &appender_names);
        }
        let mut problems = std::mem::take(&mut self.problems);
        let mut routing = None;
        if problems.0.is_empty() {
            // log4rs's own checks (duplicate names, logger names), on placeholders: nothing is
            // started until the whole config is known to be good.
            let placeholders = appenders.iter().map(|a: &CheckedEntry| {
                Appender::builder().build(a.name.clone(), Box::new(NotStarted))
            });
            match Config::builder()
                .appenders(placeholders)
                .loggers(loggers)
                .build(root.unwrap_or_else(|| Root::builder().build(LevelFilter::Debug)))
            {
                Ok(c) => routing = Some(c),
                Err(errors) => {
                    for e in errors.errors() {
                        problems.add(&Place::TopLevel, e.to_string());
                    }
                }
            }
        }
        problems.into_result(source_name, ())?;
        match routing {
            Some(routing) => Ok(CheckedConfig {
                source_name: source_name.to_owned(),
                appenders,
                routing,
                refresh_rate,
            }),
            None => Err(ConfigError::single(
                source_name,
                Place::TopLevel,
                "the config could not be built".into(),
            )),
        }
    }

    fn refresh_rate(&mut self, value: &Value) -> Option<Duration> {
        let parsed = match value {
            Value::Number(n) => n
                .as_u64()
                .map(Duration::from_secs)
                .ok_or_else(|| format!("{n}")),
            Value::String(s) => humantime::parse_duration(s).map_err(|_| format!("{s:?}")),
            other => Err(format!("{other:?}")),
        };
        match parsed {
            Ok(d) => Some(d),
            Err(got) => {
                self.problems.add(
                    &Place::TopLevel,
                    format!("field \"refresh_rate\": expected a duration such as \"30 seconds\", got {got}"),
                );
                None
            }
        }
    }

    /// Checks every appender (nothing is started); returns those that passed and the names of
    /// all that were declared (so references to a declared-but-broken appender are not reported
    /// twice).
    fn appenders(&mut self, value: Value) -> (Vec<CheckedEntry>, Vec<String>) {
        let mut built = Vec::new();
        let mut names = Vec::new();
        let Value::Mapping(map) = value else {
            if !value.is_null() {
                self.problems.add(
                    &Place::TopLevel,
                    "field \"appenders\": expected a mapping of appender names to appenders",
                );
            }
            return (built, names);
        };
        for (name, value) in map {
            let name = yaml_key(&name);
            names.push(name.clone());
            self.declared_appenders.insert(name.clone());
            let place = Place::Appender(name.clone());
            if let Some(appender) = self.appender(&place, &name, value) {
                built.push(appender);
            }
        }
        (built, names)
    }

    fn appender(&mut self, place: &Place, name: &str, value: Value) -> Option<CheckedEntry> {
        let Value::Mapping(mut map) = value else {
            self.problems.add(
                place,
                "expected a mapping with a `kind:` and the appender's fields",
            );
            return None;
        };
        let kinds = registry::appender_kinds();
        let kind = match map.remove("kind") {
            Some(Value::String(k)) => k,
            Some(other) => {
                self.problems.add(
                    place,
                    format!(
                        "field \"kind\": expected a string, got {}",
                        describe(&other)
                    ),
                );
                return None;
            }
            None => {
                self.problems.add(
                    place,
                    format!(
                        "field \"kind\": missing; expected one of {}",
                        kinds.join(", ")
                    ),
                );
                return None;
            }
        };
        if let Some(message) = registry::kind_unavailable(&kind) {
            self.problems
                .add(place, format!("field \"kind\": {message}"));
            return None;
        }
        if !kinds.contains(&kind.as_str()) {
            let hint = closest_name(&kind, kinds.iter().copied())
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            self.problems.add(
                place,
                format!(
                    "field \"kind\": unknown appender kind {kind:?}{hint}; the kinds are {}",
                    kinds.join(", ")
                ),
            );
            return None;
        }
        let filters = self.filters(place, map.remove("filters"));
        if self.unexpanded.contains(place) {
            return None;
        }
        if registry::our_appender_kind(&kind).is_some() {
            map.insert(
                Value::String(APPENDER_NAME_KEY.into()),
                Value::String(name.into()),
            );
        }
        let raw = to_raw_value(&Value::Mapping(map));
        let appender = match registry::check_appender(&kind, raw, &self.deserializers) {
            Some(Ok(a)) => a,
            Some(Err(e)) => {
                self.problems.add(place, self.explain(&e));
                return None;
            }
            None => {
                self.problems.add(
                    place,
                    format!("field \"kind\": no checker for kind {kind:?}"),
                );
                return None;
            }
        };
        Some(CheckedEntry {
            name: name.to_owned(),
            filters: filters?,
            appender,
        })
    }

    fn filters(&mut self, place: &Place, value: Option<Value>) -> Option<Vec<Box<dyn Filter>>> {
        let Some(value) = value else {
            return Some(Vec::new());
        };
        let Value::Sequence(items) = value else {
            self.problems.add(place, "field \"filters\": expected a list of filters such as `- { kind: threshold, level: warn }`");
            return None;
        };
        let mut filters = Vec::new();
        let mut ok = true;
        for (i, item) in items.into_iter().enumerate() {
            let Value::Mapping(mut map) = item else {
                self.problems.add(
                    place,
                    format!("field \"filters.{i}\": expected a mapping with a `kind:`"),
                );
                ok = false;
                continue;
            };
            let Some(Value::String(kind)) = map.remove("kind") else {
                self.problems.add(
                    place,
                    format!(
                        "field \"filters.{i}.kind\": missing; expected one of {}",
                        registry::FILTER_KINDS.join(", ")
                    ),
                );
                ok = false;
                continue;
            };
            match self
                .deserializers
                .deserialize::<dyn Filter>(&kind, to_raw_value(&Value::Mapping(map)))
            {
                Ok(f) => filters.push(f),
                Err(e) => {
                    self.problems.add(
                        place,
                        format!("field \"filters.{i}\": {}", self.explain(&e)),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(filters)
    }

    fn loggers(&mut self, value: Value, appender_names: &[String]) -> Vec<Logger> {
        let mut loggers = Vec::new();
        let Value::Mapping(map) = value else {
            if !value.is_null() {
                self.problems.add(&Place::TopLevel, "field \"loggers\": expected a mapping of logger names (targets such as `app::db` or `rustls`) to loggers");
            }
            return loggers;
        };
        for (name, value) in map {
            let name = yaml_key(&name);
            let place = Place::Logger(name.clone());
            let additive = match &value {
                Value::Mapping(m) => match m.get("additive") {
                    None => true,
                    Some(Value::Bool(b)) => *b,
                    Some(other) => {
                        self.problems.add(
                            &place,
                            format!(
                                "field \"additive\": expected true or false, got {}",
                                describe(other)
                            ),
                        );
                        true
                    }
                },
                _ => true,
            };
            if let Some((level, appenders)) =
                self.logger_fields(&place, value, appender_names, true)
            {
                let Some(level) = level.0 else {
                    self.problems.add(
                        &place,
                        format!("field \"level\": missing; expected one of {LEVELS}"),
                    );
                    continue;
                };
                loggers.push(
                    Logger::builder()
                        .appenders(appenders)
                        .additive(additive)
                        .build(name, level),
                );
            }
        }
        loggers
    }

    /// The `level` and `appenders` of the root or a logger, checking field names and that each
    /// referenced appender exists.
    fn logger_fields(
        &mut self,
        place: &Place,
        value: Value,
        appender_names: &[String],
        additive_allowed: bool,
    ) -> Option<(OptionalLevel, Vec<String>)> {
        let Value::Mapping(map) = value else {
            self.problems
                .add(place, "expected a mapping with `level:` and `appenders:`");
            return None;
        };
        let allowed: &[&str] = if additive_allowed {
            &["level", "appenders", "additive"]
        } else {
            &["level", "appenders"]
        };
        let mut level = OptionalLevel(None);
        let mut appenders = Vec::new();
        let mut ok = true;
        for (key, value) in map {
            let key = yaml_key(&key);
            match key.as_str() {
                "level" => match parse_level(&value) {
                    Ok(l) => level = OptionalLevel(Some(l)),
                    Err(m) => {
                        self.problems.add(place, m);
                        ok = false;
                    }
                },
                "appenders" => {
                    let Value::Sequence(items) = value else {
                        self.problems.add(
                            place,
                            "field \"appenders\": expected a list of appender names",
                        );
                        ok = false;
                        continue;
                    };
                    for item in items {
                        let name = yaml_key(&item);
                        if !self.declared_appenders.contains(&name) {
                            let hint =
                                closest_name(&name, appender_names.iter().map(String::as_str))
                                    .map(|n| format!(" (did you mean {n:?}?)"))
                                    .unwrap_or_default();
                            self.problems.add(place, format!(
                                "field \"appenders\": no appender named {name:?}{hint}; the appenders are: {}",
                                if appender_names.is_empty() { "(none)".to_owned() } else { appender_names.join(", ") }
                            ));
                            ok = false;
                        } else {
                            appenders.push(name);
                        }
                    }
                }
                "additive" if additive_allowed => {}
                other => {
                    self.problems.add(place, unknown_field(other, allowed));
                    ok = false;
                }
            }
        }
        ok.then_some((level, appenders))
    }

    /// Turns a deserializer's error into a message that says what exists: unknown encoder or
    /// filter kinds list the kinds; unknown fields get a "did you mean".
    fn explain(&self, error: &anyhow::Error) -> String {
        let message = format!("{error:#}");
        let mut message = with_did_you_mean(&message);
        for (what, kinds) in [
            ("encoder", registry::encoder_kinds()),
            ("filter", registry::FILTER_KINDS.to_vec()),
        ] {
            let marker = format!("no {what} deserializer for kind `");
            if let Some(start) = message.find(&marker) {
                let after = &message[start + marker.len()..];
                if let Some(end) = after.find('`') {
                    let kind = after[..end].to_owned();
                    let hint = closest_name(&kind, kinds.iter().copied())
                        .map(|k| format!(" (did you mean `{k}`?)"))
                        .unwrap_or_default();
                    let tail_start = start + marker.len() + end + 1;
                    let tail = message[tail_start..]
                        .trim_start_matches(" registered")
                        .to_owned();
                    message = format!(
                        "{}unknown {what} kind {kind:?}{hint}; the kinds are {}{tail}",
                        &message[..start],
                        kinds.join(", ")
                    );
                }
            }
        }
        message
    }
}

struct OptionalLevel(Option<LevelFilter>);

fn parse_level(value: &Value) -> Result<LevelFilter, String> {
    let text = match value {
        Value::String(s) => s.as_str(),
        other => {
            return Err(format!(
                "field \"level\": expected one of {LEVELS}, got {}",
                describe(other)
            ));
        }
    };
    parse_level_filter(text)
        .ok_or_else(|| format!("field \"level\": unknown level {text:?}; expected one of {LEVELS}"))
}

fn unknown_field(name: &str, allowed: &[&str]) -> String {
    let hint = closest_name(name, allowed.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    format!(
        "unknown field `{name}`{hint}; the fields are {}",
        allowed.join(", ")
    )
}

fn yaml_key(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

/// log4rs's deserializers take `serde_value::Value`; a YAML tree converts losslessly.
fn to_raw_value(value: &Value) -> serde_value::Value {
    serde_value::to_value(value).unwrap_or(serde_value::Value::Unit)
}
