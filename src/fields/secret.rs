//! `Secret`: a password that never reaches Debug output, errors or logs.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

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

/// What a secret field of the wrong type says: never the value (serde's own message would quote
/// it: "invalid type: integer `98765432`"), whatever its type.
pub(crate) const NOT_A_STRING: &str = "expected a string (quote it in YAML: \"...\"); the value \
     is not shown because the field is secret";

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_string(SecretVisitor)
    }
}

/// `message` without the values serde quotes in backticks (``invalid type: integer `987...` as
/// u128``): a YAML parser's message cannot tell whether the value was a secret. (A number too
/// large for 128 bits fails before any field sees it.)
pub(crate) fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('`') {
        let Some(close) = rest[open + 1..].find('`') else {
            break;
        };
        out.push_str(rest[..open].trim_end_matches(' '));
        out.push_str(" (value not shown)");
        rest = &rest[open + 1 + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Accepts text only. Every other `visit_*` is overridden, because serde's defaults build their
/// error from the value (`Unexpected::Signed(98765432)`).
struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Secret, E> {
        Ok(Secret(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Secret, E> {
        Ok(Secret(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Secret, E> {
        String::from_utf8(v.to_vec())
            .map(Secret)
            .map_err(|_| E::custom(NOT_A_STRING))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_none<E: de::Error>(self) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Secret, D::Error> {
        d.deserialize_string(self)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Secret, E> {
        Err(E::custom(NOT_A_STRING))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Secret, D::Error> {
        d.deserialize_string(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        Err(de::Error::custom(NOT_A_STRING))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        Err(de::Error::custom(NOT_A_STRING))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        Err(de::Error::custom(NOT_A_STRING))
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

    #[test]
    fn a_secret_of_any_other_type_is_refused_without_showing_it() {
        for yaml in [
            "98765432",
            "-98765432",
            "98765.432",
            "true",
            "~",
            "[hunter2, 98765432]",
            "{hunter2: 98765432}",
            "!tagged hunter2",
        ] {
            // As the loader does: YAML -> a value tree -> the field's deserializer.
            let tree: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
            let value = serde_value::to_value(tree).unwrap_or(serde_value::Value::Unit);
            let e = Secret::deserialize(serde_value::ValueDeserializer::<
                serde_value::DeserializerError,
            >::new(value))
            .unwrap_err()
            .to_string();
            assert!(e.contains("the value is not shown"), "{yaml}: {e}");
            for part in ["98765", "hunter2", "true"] {
                assert!(!e.contains(part), "{yaml}: {e}");
            }
        }
        assert_eq!(
            serde_yaml::from_str::<Secret>("'98765432'")
                .unwrap()
                .expose(),
            "98765432"
        );
        assert_eq!(
            without_quoted_values("invalid type: integer `98765432123456789` as u128, expected x"),
            "invalid type: integer (value not shown) as u128, expected x"
        );
    }
}
