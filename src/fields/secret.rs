//! `Secret`: a password that never reaches Debug output, errors or logs.

use std::fmt;

use serde::Deserialize;
use serde::de::Deserializer;

/// A secret string (a password). `Debug` and `Display` print `***`, so it never reaches logs or
/// error messages by accident; [`Secret::expose`] gives the value to the code that needs it.
///
/// ```
/// use log4rs_appenders::fields::Secret;
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
