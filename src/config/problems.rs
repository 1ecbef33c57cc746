//! The error a strict load returns: every problem found in a config, each naming where it is.

use std::fmt;

use crate::count::Count;

/// Where in a config a problem is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// The file itself (cannot be read, or is not YAML).
    File,
    /// A top-level key (`refresh_rate`, or an unknown one).
    TopLevel,
    /// The `root` logger.
    Root,
    /// An appender, by its name under `appenders:`.
    Appender(String),
    /// A logger, by its name under `loggers:`.
    Logger(String),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Place::File => f.write_str("config file"),
            Place::TopLevel => f.write_str("config"),
            Place::Root => f.write_str("root logger"),
            Place::Appender(name) => write!(f, "appender {name:?}"),
            Place::Logger(name) => write!(f, "logger {name:?}"),
        }
    }
}

/// One problem in a config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where it is.
    pub place: Place,
    /// What is wrong and what is expected, starting with the field when there is one
    /// (`field "port": expected a number 1-65535, got "smtp"`).
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// Every problem found while loading a config; nothing was started.
///
/// `Display` lists them one per line:
/// ```text
/// config "log4rs.yaml" has 2 problems:
///   appender "mail": field "port": expected a number 1-65535, got "smtp"
///   logger "app": field "level": unknown level "verbose"; expected one of off, error, warn, info, debug, trace
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// What was loaded: a path, or the name given to `load_config_str`.
    pub source_name: String,
    /// The problems, ordered by place.
    pub problems: Vec<Problem>,
}

impl ConfigError {
    pub(crate) fn single(source_name: &str, place: Place, message: String) -> Self {
        ConfigError {
            source_name: source_name.to_owned(),
            problems: vec![Problem { place, message }],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "config {:?} has {}:",
            self.source_name,
            Count::new(self.problems.len() as u64, "problem")
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Collects problems while a config is checked.
#[derive(Default)]
pub(crate) struct Problems(pub(crate) Vec<Problem>);

impl Problems {
    pub(crate) fn add(&mut self, place: &Place, message: impl Into<String>) {
        self.0.push(Problem {
            place: place.clone(),
            message: message.into(),
        });
    }

    pub(crate) fn into_result<T>(mut self, source_name: &str, ok: T) -> Result<T, ConfigError> {
        if self.0.is_empty() {
            return Ok(ok);
        }
        self.0.sort_by(|a, b| a.place.cmp(&b.place));
        Err(ConfigError {
            source_name: source_name.to_owned(),
            problems: self.0,
        })
    }
}
