//! Every kind in the registry (`src/registry/kinds.rs`) is complete: it has a ready-to-copy file
//! in `config-examples/` that uses it and loads through the strict loader, the strict loader
//! knows it, its cargo feature exists, and when the feature is off the loader names it.
//!
//! Adding a kind? This test tells you what is missing; see the README's "Adding a kind".

use std::path::{Path, PathBuf};

use log4rs_appenders::config::check_config_str;
use log4rs_appenders::registry::{KindInfo, KindRole, kinds};
use serde_yaml::Value;

/// Each kind's example in `config-examples/`. A new kind adds its line here and its file there.
const EXAMPLES: &[(&str, &str)] = &[
    ("rotating_file", "rotating-file.yaml"),
    ("smtp", "smtp.yaml"),
    ("syslog", "syslog.yaml"),
    ("windows_event_log", "eventlog-shared.yaml"),
    ("python", "python-encoder.yaml"),
    ("json_lines", "json-lines.yaml"),
    ("sentry", "sentry.yaml"),
];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config-examples")
}

fn role(k: &KindInfo) -> &'static str {
    match k.role {
        KindRole::Appender => "appender",
        KindRole::Encoder => "encoder",
    }
}

/// The `kind:` values a config uses, as appenders and as encoders.
fn kinds_used(config: &Value) -> (Vec<String>, Vec<String>) {
    let (mut appenders, mut encoders) = (Vec::new(), Vec::new());
    if let Some(map) = config.get("appenders").and_then(Value::as_mapping) {
        for appender in map.values() {
            if let Some(kind) = appender.get("kind").and_then(Value::as_str) {
                appenders.push(kind.to_owned());
            }
            if let Some(kind) = appender
                .get("encoder")
                .and_then(|e| e.get("kind"))
                .and_then(Value::as_str)
            {
                encoders.push(kind.to_owned());
            }
        }
    }
    (appenders, encoders)
}

#[test]
fn every_kind_has_an_example_that_uses_it_and_loads_strictly() {
    let mut missing = Vec::new();
    for k in kinds() {
        let Some((_, file)) = EXAMPLES.iter().find(|(kind, _)| *kind == k.kind) else {
            missing.push(format!(
                "{} kind `{kind}` is in src/registry/kinds.rs but has no example: add \
                 config-examples/{file}.yaml (a ready-to-copy config using `kind: {kind}`) and the \
                 line `(\"{kind}\", \"{file}.yaml\"),` to EXAMPLES in tests/registry.rs",
                role(&k),
                kind = k.kind,
                file = k.kind.replace('_', "-"),
            ));
            continue;
        };
        let path = examples_dir().join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            missing.push(format!(
                "kind `{}`: tests/registry.rs names config-examples/{file}, which does not exist: add it",
                k.kind
            ));
            continue;
        };
        let yaml: Value = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("config-examples/{file} is not YAML: {e}"));
        let (appenders, encoders) = kinds_used(&yaml);
        let used = match k.role {
            KindRole::Appender => &appenders,
            KindRole::Encoder => &encoders,
        };
        if !used.iter().any(|u| u == k.kind) {
            missing.push(format!(
                "config-examples/{file} is the example of {} kind `{}` but does not use it \
                 (it uses appender kinds {appenders:?}, encoder kinds {encoders:?})",
                role(&k),
                k.kind
            ));
            continue;
        }
        // A build without some feature may refuse a field that needs it (`compress: gzip`),
        // naming the feature; anything else is a broken example.
        if k.compiled_in
            && let Err(e) = check_config_str(&text, &format!("config-examples/{file}"))
            && !e.problems.iter().all(|p| p.message.contains("feature `"))
        {
            missing.push(format!(
                "config-examples/{file}, the example of kind `{}`, does not load strictly:\n{e}",
                k.kind
            ));
        }
    }
    assert!(missing.is_empty(), "\n{}\n", missing.join("\n\n"));
}

#[test]
fn every_example_mapping_names_a_kind_of_the_registry() {
    for (kind, file) in EXAMPLES {
        assert!(
            kinds().any(|k| k.kind == *kind),
            "EXAMPLES in tests/registry.rs maps `{kind}` to {file}, but src/registry/kinds.rs \
             has no such kind: remove the line or add the kind"
        );
    }
}

/// The strict loader knows each kind: it lists it among the kinds that exist, and a config using
/// it is never refused as an unknown kind (only, when the feature is off, for that feature).
#[test]
fn the_strict_loader_knows_every_kind_and_names_a_missing_feature() {
    let unknown_appender = check_config_str(
        "appenders:\n  a: { kind: no_such_kind }\nroot: { level: info, appenders: [a] }\n",
        "unknown.yaml",
    )
    .unwrap_err()
    .to_string();
    let unknown_encoder = check_config_str(
        "appenders:\n  a: { kind: console, encoder: { kind: no_such_kind } }\nroot: { level: info, appenders: [a] }\n",
        "unknown.yaml",
    )
    .unwrap_err()
    .to_string();
    for k in kinds() {
        let (listing, yaml) = match k.role {
            KindRole::Appender => (
                &unknown_appender,
                format!(
                    "appenders:\n  a: {{ kind: {} }}\nroot: {{ level: info, appenders: [a] }}\n",
                    k.kind
                ),
            ),
            KindRole::Encoder => (
                &unknown_encoder,
                format!(
                    "appenders:\n  a: {{ kind: console, encoder: {{ kind: {} }} }}\nroot: {{ level: info, appenders: [a] }}\n",
                    k.kind
                ),
            ),
        };
        let kinds_listed = listing
            .split("the kinds are ")
            .nth(1)
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default();
        let listed = kinds_listed
            .split(", ")
            .any(|n| n.trim_end_matches(';') == k.kind);
        assert_eq!(
            listed,
            k.compiled_in,
            "{} kind `{}` (compiled in: {}): the strict loader's list of kinds is {kinds_listed:?}; \
             the registry's list (src/registry/kinds.rs) feeds it",
            role(&k),
            k.kind,
            k.compiled_in
        );
        // Missing required fields are fine here; being unknown is not.
        let answer = match check_config_str(&yaml, "minimal.yaml") {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        assert!(
            !answer.contains("unknown appender kind") && !answer.contains("unknown encoder kind"),
            "kind `{}`: {answer}",
            k.kind
        );
        if !k.compiled_in {
            let feature = k.feature.expect("only a feature can leave a kind out");
            assert!(
                answer.contains(&format!("cargo feature `{feature}`")),
                "kind `{}` without its feature: {answer}",
                k.kind
            );
        }
    }
}

/// A kind's feature is a real cargo feature, and `.ci/run` checks it alone.
#[test]
fn every_kind_feature_exists_in_cargo_toml_and_the_ci_feature_loop() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let ci_loop = ci
        .lines()
        .find(|l| l.trim_start().starts_with("for feature in "))
        .expect(".ci/run has its per-feature loop");
    for k in kinds() {
        let Some(feature) = k.feature else { continue };
        assert!(
            manifest
                .lines()
                .any(|l| l.starts_with(&format!("{feature} = ["))),
            "kind `{}` names cargo feature `{feature}`, which Cargo.toml's [features] lacks: add it",
            k.kind
        );
        assert!(
            ci_loop
                .split_whitespace()
                .any(|w| w.trim_end_matches(';') == feature),
            "kind `{}`: add its feature `{feature}` to the per-feature loop in .ci/run ({ci_loop})",
            k.kind
        );
    }
}
