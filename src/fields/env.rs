//! `$ENV{VAR}` expansion in every string of a config, as log4rs does for file paths.

/// Expands every `$ENV{NAME}` in `s`. Returns the names of variables that are not set (the text
/// is then left unexpanded there).
pub(crate) fn expand_env(s: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(s.len());
    let mut missing = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("$ENV{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 5..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return (out, missing);
        };
        let name = &after[..end];
        match std::env::var(name) {
            Ok(value) => out.push_str(&value),
            Err(_) => {
                missing.push(name.to_owned());
                out.push_str(&rest[start..start + 5 + end + 1]);
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    (out, missing)
}

/// Expands `$ENV{..}` in every string value of a YAML tree; `on_missing(field_path, var)` is
/// called for each unset variable.
pub(crate) fn expand_tree(
    value: &mut serde_yaml::Value,
    path: &mut Vec<String>,
    on_missing: &mut dyn FnMut(&str, &str),
) {
    match value {
        serde_yaml::Value::String(s) if s.contains("$ENV{") => {
            let (expanded, missing) = expand_env(s);
            for var in missing {
                on_missing(&path.join("."), &var);
            }
            *s = expanded;
        }
        serde_yaml::Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                expand_tree(item, path, on_missing);
                path.pop();
            }
        }
        serde_yaml::Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                path.push(key.as_str().unwrap_or("?").to_owned());
                expand_tree(item, path, on_missing);
                path.pop();
            }
        }
        serde_yaml::Value::Tagged(tagged) => expand_tree(&mut tagged.value, path, on_missing),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_set_variables_and_reports_unset_ones() {
        // PATH is set in every environment a test runs in.
        let path = std::env::var("PATH").unwrap();
        let (s, missing) = expand_env("a $ENV{PATH} b $ENV{LOG4RS_APPENDERS_UNSET_X} c");
        assert_eq!(s, format!("a {path} b $ENV{{LOG4RS_APPENDERS_UNSET_X}} c"));
        assert_eq!(missing, vec!["LOG4RS_APPENDERS_UNSET_X".to_owned()]);
    }

    #[test]
    fn leaves_an_unterminated_reference_alone() {
        assert_eq!(expand_env("x $ENV{OOPS").0, "x $ENV{OOPS");
    }
}
