//! Field types shared by every appender's YAML config: byte sizes, durations, secrets, and the
//! strict, path-aware deserialization that turns serde errors into messages naming the field.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};

/// The key under which the strict loader passes an appender's own name to our deserializers, so
/// that runtime errors can say which appender failed. Users never write it.
pub(crate) const APPENDER_NAME_KEY: &str = "__appender_name";

/// Deserializes one of our appenders' configs from log4rs's raw value, strictly.
///
/// Errors name the field (`field "port": expected a number 1-65535, got "smtp"`) and suggest the
/// closest known field for a misspelt one. `kind` is only used in messages.
pub(crate) fn parse_config<T: DeserializeOwned>(value: serde_value::Value) -> anyhow::Result<T> {
    let deserializer = serde_value::ValueDeserializer::<serde_value::DeserializerError>::new(value);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let message = with_did_you_mean(&e.inner().to_string());
        if path == "." || path.is_empty() {
            anyhow::anyhow!("{message}")
        } else {
            anyhow::anyhow!("field \"{path}\": {message}")
        }
    })
}

/// serde reports an unknown field as "unknown field `prot`, expected one of `host`, `port`";
/// this adds "(did you mean `port`?)" when one of the expected names is close.
pub(crate) fn with_did_you_mean(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_owned();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let candidates = expected.split('`').skip(1).step_by(2);
    match closest_name(unknown, candidates) {
        Some(best) => format!("{message} (did you mean `{best}`?)"),
        None => message.to_owned(),
    }
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
pub(crate) fn closest_name<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len().max(name.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// A number of bytes: an integer, or a string such as `"10 KiB"`, `"10 mb"`, `"64kb"`.
///
/// Units are case-insensitive; `k`/`kb`/`kib` all mean 1024 (as log4rs's size trigger does).
///
/// ```
/// use log4rs_appenders::config::ByteSize;
/// assert_eq!("10 KiB".parse::<ByteSize>().unwrap().0, 10 * 1024);
/// assert_eq!("2 mb".parse::<ByteSize>().unwrap().0, 2 * 1024 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (digits, unit) = s.split_at(split);
        let number: u64 = digits
            .parse()
            .map_err(|_| format!("expected a size such as 10240 or \"10 KiB\", got {s:?}"))?;
        let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            "t" | "tb" | "tib" => 1 << 40,
            other => {
                return Err(format!(
                    "unknown size unit {other:?} in {s:?}; use b, KiB, MiB, GiB or TiB"
                ));
            }
        };
        number
            .checked_mul(multiplier)
            .map(ByteSize)
            .ok_or_else(|| format!("size {s:?} is too large"))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as 10240 or \"10 KiB\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("expected a size of 0 or more bytes, got {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A duration: a string such as `"10 seconds"`, `"500ms"`, `"1h 30m"` (humantime's syntax, as
/// log4rs's `refresh_rate`), or an integer number of seconds.
///
/// ```
/// use log4rs_appenders::config::HumanDuration;
/// let d: HumanDuration = "10 seconds".parse().unwrap();
/// assert_eq!(d.0, std::time::Duration::from_secs(10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct HumanDuration(pub Duration);

impl std::str::FromStr for HumanDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        humantime::parse_duration(s.trim())
            .map(HumanDuration)
            .map_err(|e| format!("expected a duration such as \"10 seconds\", got {s:?} ({e})"))
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"10 seconds\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanDuration, E> {
                Ok(HumanDuration(Duration::from_secs(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanDuration, E> {
                u64::try_from(v)
                    .map(|s| HumanDuration(Duration::from_secs(s)))
                    .map_err(|_| E::custom(format!("expected a duration of 0 or more, got {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanDuration, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A secret string (a password). `Debug` and `Display` print `***`, so it never reaches logs or
/// error messages by accident; [`Secret::expose`] gives the value to the code that needs it.
///
/// ```
/// use log4rs_appenders::config::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "***");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call it only where the value is handed to the peer that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Resolves a secret given in one of three ways (exactly one may be set): inline, from an
    /// environment variable, or from a file (its content without the trailing newline). Errors
    /// name the field that failed, never the value.
    pub fn resolve(
        inline: Option<Secret>,
        env_var: Option<&str>,
        file: Option<&std::path::Path>,
        field: &str,
    ) -> anyhow::Result<Option<Secret>> {
        let given = [inline.is_some(), env_var.is_some(), file.is_some()];
        if given.iter().filter(|g| **g).count() > 1 {
            anyhow::bail!(
                "field \"{field}\": give only one of {field}, {field}_env and {field}_file"
            );
        }
        if let Some(name) = env_var {
            return match std::env::var(name) {
                Ok(v) => Ok(Some(Secret(v))),
                Err(_) => Err(anyhow::anyhow!(
                    "field \"{field}_env\": environment variable {name} is not set (set it, or use {field}_file)"
                )),
            };
        }
        if let Some(path) = file {
            return match std::fs::read_to_string(path) {
                Ok(v) => Ok(Some(Secret(v.trim_end_matches(['\r', '\n']).to_owned()))),
                Err(e) => Err(anyhow::anyhow!(
                    "field \"{field}_file\": cannot read {}: {e}",
                    path.display()
                )),
            };
        }
        Ok(inline)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_accept_units_in_any_case() {
        assert_eq!("10 KiB".parse::<ByteSize>().unwrap(), ByteSize(10240));
        assert_eq!("10kb".parse::<ByteSize>().unwrap(), ByteSize(10240));
        assert_eq!("3 MB".parse::<ByteSize>().unwrap(), ByteSize(3 << 20));
        assert_eq!("7".parse::<ByteSize>().unwrap(), ByteSize(7));
        assert!("ten".parse::<ByteSize>().is_err());
        assert!(
            "10 parsecs"
                .parse::<ByteSize>()
                .unwrap_err()
                .contains("unknown size unit")
        );
    }

    #[test]
    fn unknown_field_gets_a_did_you_mean_hint() {
        let m = with_did_you_mean("unknown field `prot`, expected one of `host`, `port`, `to`");
        assert!(m.ends_with("(did you mean `port`?)"), "{m}");
        let m = with_did_you_mean("unknown field `zzzzzz`, expected one of `host`, `port`");
        assert!(!m.contains("did you mean"), "{m}");
    }

    #[test]
    fn secret_debug_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
    }

    #[test]
    fn secret_env_var_that_is_unset_names_the_field() {
        let e = Secret::resolve(
            None,
            Some("LOG4RS_APPENDERS_SURELY_UNSET"),
            None,
            "password",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("password_env") && e.contains("LOG4RS_APPENDERS_SURELY_UNSET"),
            "{e}"
        );
    }
}
