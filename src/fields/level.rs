//! Level names, parsed once: any case, and Python's `warning` for `warn`, so configs and command
//! lines written by Python users work.

use log::{Level, LevelFilter};
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// The level names a record can have, for messages: `error, warn, info, debug, trace`.
pub const LEVEL_NAMES: &str = "error, warn, info, debug, trace";

/// The level filter names (a threshold can also be `off`), for messages.
pub const LEVEL_FILTER_NAMES: &str = "off, error, warn, info, debug, trace";

/// A level filter from its name: `off`, `error`, `warn` (or Python's `warning`), `info`,
/// `debug`, `trace`, in any case.
///
/// ```
/// use log::LevelFilter;
/// use log4rs_appenders::fields::parse_level_filter;
/// assert_eq!(parse_level_filter("WARNING"), Some(LevelFilter::Warn));
/// assert_eq!(parse_level_filter("verbose"), None);
/// ```
pub fn parse_level_filter(name: &str) -> Option<LevelFilter> {
    match name.to_ascii_lowercase().as_str() {
        "warning" => Some(LevelFilter::Warn),
        lower => lower.parse().ok(),
    }
}

/// A record level from its name, as [`parse_level_filter`] but without `off`.
///
/// ```
/// use log4rs_appenders::fields::parse_level;
/// assert_eq!(parse_level("Warning"), Some(log::Level::Warn));
/// assert_eq!(parse_level("off"), None);
/// ```
pub fn parse_level(name: &str) -> Option<Level> {
    parse_level_filter(name).and_then(|filter| filter.to_level())
}

/// A level threshold in a kind's YAML config: `error`, `warn`, `info`, `debug` or `trace` (any
/// case, surrounding blanks ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelField(pub Level);

impl<'de> Deserialize<'de> for LevelField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let s = s.trim();
        parse_level(s)
            .map(LevelField)
            .ok_or_else(|| de::Error::custom(format!("expected one of {LEVEL_NAMES}, got {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_and_log4rs_names_parse_in_any_case() {
        assert_eq!(parse_level("warning"), Some(Level::Warn));
        assert_eq!(parse_level("ERROR"), Some(Level::Error));
        assert_eq!(parse_level_filter("Off"), Some(LevelFilter::Off));
        assert_eq!(parse_level("off"), None);
        assert_eq!(parse_level("fatal"), None);
    }
}
