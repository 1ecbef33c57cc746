//! What a loaded config does: each appender's kind and destination (read from the YAML, for
//! display), and which appenders a record on a given logger reaches (log4rs's routing).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use log::LevelFilter;

/// One appender as written in the YAML.
pub struct AppenderInfo {
    pub name: String,
    pub kind: String,
    /// Where it writes, for display: a path, `host:port`, a syslog address, ...
    pub destination: Option<String>,
}

/// The appenders declared in the YAML file, in file order. The file has already loaded
/// without problems, so this only reads what it needs and never fails loudly.
pub fn appenders(path: &Path) -> Vec<AppenderInfo> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
        return Vec::new();
    };
    let Some(map) = doc.get("appenders").and_then(|a| a.as_mapping()) else {
        return Vec::new();
    };
    map.iter()
        .map(|(name, value)| {
            let field = |f: &str| value.get(f).and_then(scalar_text);
            let kind = field("kind").unwrap_or_default();
            let destination = match kind.as_str() {
                "smtp" => field("host").map(|h| match field("port") {
                    Some(p) => format!("{h}:{p}"),
                    None => h,
                }),
                "syslog" => field("address"),
                "sentry" => sentry_destination(&field),
                "windows_event_log" => field("source").map(|s| format!("source {s}")),
                "console" => Some(field("target").unwrap_or_else(|| "stdout".into())),
                _ => field("path"),
            };
            AppenderInfo {
                name: scalar_text(name).unwrap_or_default(),
                kind,
                destination,
            }
        })
        .collect()
}

/// Where a sentry appender sends, without the DSN's key (a secret: never printed).
fn sentry_destination(field: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(var) = field("dsn_env") {
        return Some(format!("the DSN in ${var}"));
    }
    if let Some(file) = field("dsn_file") {
        return Some(format!("the DSN in {file}"));
    }
    let dsn = field("dsn")?;
    let Some((scheme, rest)) = dsn.split_once("://") else {
        return Some("the DSN given".to_owned());
    };
    match rest.rsplit_once('@') {
        Some((_key, place)) => Some(format!("{scheme}://{place}")),
        None => Some("the DSN given".to_owned()),
    }
}

fn scalar_text(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Where a record on one logger (target) goes.
pub struct Route {
    /// The configured logger that decides: the longest `::`-prefix of the target, or `root`.
    pub logger: String,
    pub level: LevelFilter,
    /// Appender names, the logger's own first, then its ancestors' while `additive`.
    pub appenders: Vec<String>,
}

/// The configured loggers by name, so that routing a target costs a lookup per `::` segment
/// instead of a scan of every logger (`check` routes every logger: a scan made it quadratic).
pub struct Routes<'a> {
    config: &'a log4rs::Config,
    by_name: HashMap<&'a str, &'a log4rs::config::Logger>,
}

impl<'a> Routes<'a> {
    pub fn new(config: &'a log4rs::Config) -> Self {
        let by_name = config.loggers().iter().map(|l| (l.name(), l)).collect();
        Routes { config, by_name }
    }

    /// log4rs's routing: the closest configured logger decides the level; appenders accumulate
    /// up the chain of ancestors until one has `additive: false`, ending with root's.
    pub fn route(&self, target: &str) -> Route {
        // Each `::` prefix of the target, longest first: `a::b::c`, `a::b`, `a`.
        let prefixes = std::iter::successors(Some(target), |t| t.rsplit_once("::").map(|(p, _)| p));
        let chain: Vec<_> = prefixes.filter_map(|p| self.by_name.get(p)).collect();
        let (logger, level) = match chain.first() {
            Some(l) => (l.name().to_owned(), l.level()),
            None => ("root".to_owned(), self.config.root().level()),
        };
        let mut appenders: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut add = |names: &'a [String]| {
            for n in names {
                if seen.insert(n) {
                    appenders.push(n.clone());
                }
            }
        };
        let mut reaches_root = true;
        for l in &chain {
            add(l.appenders());
            if !l.additive() {
                reaches_root = false;
                break;
            }
        }
        if reaches_root {
            add(self.config.root().appenders());
        }
        Route {
            logger,
            level,
            appenders,
        }
    }
}
