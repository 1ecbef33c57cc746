//! Strict, path-aware deserialization of a kind's YAML config: serde's errors become messages
//! naming the field, and misspelt names get a "did you mean".

use serde::de::DeserializeOwned;

/// The key under which the strict loader passes an appender's own name to our deserializers, so
/// that runtime errors can say which appender failed. Users never write it.
pub(crate) const APPENDER_NAME_KEY: &str = "__appender_name";

/// Deserializes one of our appenders' configs from log4rs's raw value, strictly.
///
/// Errors name the field (`field "port": expected a number 1-65535, got "smtp"`) and suggest the
/// closest known field for a misspelt one.
pub(crate) fn parse_config<T: DeserializeOwned>(value: serde_value::Value) -> anyhow::Result<T> {
    let deserializer = serde_value::ValueDeserializer::<serde_value::DeserializerError>::new(value);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let mut path = e.path().to_string();
        if matches!(e.inner(), serde_value::DeserializerError::UnknownField(..)) {
            // The path ends at the unknown field itself; the message names it already.
            path = path
                .rsplit_once('.')
                .map(|(parent, _)| parent.to_owned())
                .unwrap_or_default();
        }
        let message = describe_error(e.inner());
        if path == "." || path.is_empty() || path == "?" {
            anyhow::anyhow!("{message}")
        } else {
            anyhow::anyhow!("field \"{path}\": {message}")
        }
    })
}

/// serde-value's messages ("Invalid type string \"x\". Expected u16") in the plain words the
/// rest of our errors use.
fn describe_error(error: &serde_value::DeserializerError) -> String {
    use serde_value::DeserializerError as E;
    match error {
        E::Custom(message) => message.clone(),
        E::InvalidType(got, expected) | E::InvalidValue(got, expected) => {
            format!("expected {expected}, got {}", got.to_unexpected())
        }
        E::InvalidLength(len, expected) => format!("expected {expected}, got {len} items"),
        E::UnknownVariant(got, expected) => unknown_name("value", got, expected),
        E::UnknownField(got, expected) => unknown_name("field", got, expected),
        E::MissingField(field) => format!("field \"{field}\" is missing (it is required)"),
        E::DuplicateField(field) => format!("field \"{field}\" is given twice"),
    }
}

/// "unknown field `prot` (did you mean `port`?); the fields are host, port, to".
pub(crate) fn unknown_name(what: &str, got: &str, expected: &[&str]) -> String {
    let expected: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|n| *n != APPENDER_NAME_KEY)
        .collect();
    let hint = closest_name(got, expected.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    let noun = if what == "field" { "fields" } else { "values" };
    format!(
        "unknown {what} `{got}`{hint}; the {noun} are {}",
        expected.join(", ")
    )
}

/// Adds a "did you mean" to the unknown-field messages of deserializers that are not ours
/// (log4rs's kinds): serde's "unknown field `x`, expected one of `a`, `b`" and serde-value's
/// "Unknown field x. Expected one of a, b".
pub(crate) fn with_did_you_mean(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((unknown, expected)) = rest.split_once("`, expected one of ")
    {
        let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return unknown_name("field", unknown, &names);
    }
    if let Some(rest) = message.strip_prefix("Unknown field ")
        && let Some((unknown, expected)) = rest.split_once(". Expected one of ")
    {
        let names: Vec<&str> = expected.split(", ").collect();
        return unknown_name("field", unknown, &names);
    }
    message.to_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_gets_a_did_you_mean_hint() {
        let m = with_did_you_mean("unknown field `prot`, expected one of `host`, `port`, `to`");
        assert_eq!(
            m,
            "unknown field `prot` (did you mean `port`?); the fields are host, port, to"
        );
        let m = with_did_you_mean("Unknown field pattrn. Expected one of pattern");
        assert_eq!(
            m,
            "unknown field `pattrn` (did you mean `pattern`?); the fields are pattern"
        );
        let m = with_did_you_mean("unknown field `zzzzzz`, expected one of `host`, `port`");
        assert!(!m.contains("did you mean"), "{m}");
    }
}
