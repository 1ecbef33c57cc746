//! `kind: json_lines` end to end: loaded from YAML by the strict loader, written by a real
//! rotating_file appender through the global logger, and every line of a 100,000-record file,
//! hostile messages and key-values included, read back by Python's `json` (an independent
//! parser), with and without `ensure_ascii`.

mod support;

use std::process::Command;

use log4rs_appenders::config::check_config_str;

/// Messages that try to break a line or the JSON: every control character, quotes, backslashes,
/// U+2028 / U+2029, a BOM, astral characters, a long message, JSON look-alikes.
fn hostile_messages() -> Vec<String> {
    let mut all_controls: String = (0u8..0x20).map(char::from).collect();
    all_controls.push('\u{7f}');
    vec![
        "plain".to_owned(),
        String::new(),
        "quote \" and backslash \\ and \\\" both".to_owned(),
        "line one\nline two\r\nline three".to_owned(),
        all_controls,
        "separators \u{2028} and \u{2029}".to_owned(),
        "\u{feff}bom first".to_owned(),
        "emoji 😀 and 𝄞 and é".to_owned(),
        "\"}, {\"injected\": true, \"x\": \"".to_owned(),
        "\\u0000 is not a NUL".to_owned(),
        "long ".repeat(400),
    ]
}

const RECORDS: usize = 100_000;

fn python_check(path: &std::path::Path, expected: &std::path::Path, ascii: bool) -> String {
    // Reads the file as bytes and splits on b"\n" only, so a raw U+2028 or CR inside a line
    // would show up as a broken line.
    let script = r#"
import json, sys
path, expected_path, ascii = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
expected = json.load(open(expected_path, encoding="utf-8"))
data = open(path, "rb").read()
assert data.endswith(b"\n"), "the file does not end with a newline"
lines = data[:-1].split(b"\n")
count = 0
for i, raw in enumerate(lines):
    if ascii:
        assert all(b < 0x80 for b in raw), f"line {i} is not ASCII"
    text = raw.decode("utf-8")
    assert "\u2028" not in text and "\u2029" not in text and "\r" not in text, f"line {i}"
    obj = json.loads(text)
    assert isinstance(obj, dict), f"line {i} is not an object"
    assert obj["message"] == expected[i % len(expected)], f"line {i}: message {obj['message']!r:.80}"
    assert obj["log.level"] == "info", f"line {i}"
    assert obj["seq"] == i, f"line {i}: seq {obj['seq']}"
    assert obj[expected[i % len(expected)][:30] or "empty"] == (i % 3 == 0), f"line {i}: hostile key"
    assert obj["order"] == {"id": i, "items": ["tea", "scone\u2028"]}, f"line {i}: order"
    assert obj["log.origin.function"] == "write_records", f"line {i}: function"
    assert obj["env"] == "prod" and obj["service.name"] == "microblog", f"line {i}"
    count += 1
print(f"ok {count}")
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(expected)
        .arg(if ascii { "1" } else { "0" })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python's json refused {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[derive(serde::Serialize)]
struct Order {
    id: usize,
    items: [&'static str; 2],
}

/// Logs through this crate's macros (so `funcName` is set), from a named function.
fn write_records(messages: &[String]) {
    use log4rs_appenders::prelude::*;
    for i in 0..RECORDS {
        let message = &messages[i % messages.len()];
        // The message's first 30 characters (Python's `[:30]`) as a key.
        let hostile_key: String = if message.is_empty() {
            "empty".to_owned()
        } else {
            message.chars().take(30).collect()
        };
        let order = Order {
            id: i,
            items: ["tea", "scone\u{2028}"],
        };
        let kvs: [(&str, log::kv::Value); 3] = [
            ("seq", log::kv::Value::from(i)),
            (hostile_key.as_str(), log::kv::Value::from(i % 3 == 0)),
            ("order", log::kv::Value::from_serde(&order)),
        ];
        log::logger().log(
            &log::Record::builder()
                .args(format_args!("{message}"))
                .level(log::Level::Info)
                .target("microblog::load")
                .file(Some(file!()))
                .line(Some(line!()))
                .key_values(&Kvs(&kvs))
                .build(),
        );
    }
    // One through the macro itself, for the function name it records.
    info!(seq = RECORDS; "done");
}

/// Adds `funcName`, as this crate's macros do, to hand-built records.
struct Kvs<'a>(&'a [(&'a str, log::kv::Value<'a>)]);

impl log::kv::Source for Kvs<'_> {
    fn visit<'kvs>(
        &'kvs self,
        visitor: &mut dyn log::kv::VisitSource<'kvs>,
    ) -> Result<(), log::kv::Error> {
        visitor.visit_pair(
            log::kv::Key::from_str("funcName"),
            log::kv::Value::from("write_records"),
        )?;
        self.0.visit(visitor)
    }
}

#[test]
fn a_100k_record_file_with_hostile_input_parses_line_by_line_with_pythons_json() {
    if !support::peer_available("python3", "apt-get install python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
appenders:
  utf8:
    kind: rotating_file
    path: {dir}/utf8.json
    max_bytes: 0
    buffer: 64 KiB
    encoder: {{ kind: json_lines, fields: ecs, service: microblog, extra: {{ env: prod }} }}
  ascii:
    kind: rotating_file
    path: {dir}/ascii.json
    max_bytes: 0
    encoder: {{ kind: json_lines, fields: ecs, service: microblog, extra: {{ env: prod }}, ensure_ascii: true }}
root: {{ level: info, appenders: [utf8, ascii] }}
"#,
        dir = dir.path().display()
    );
    let config = dir.path().join("log4rs.yaml");
    std::fs::write(&config, yaml).unwrap();
    let messages = hostile_messages();
    let expected = dir.path().join("expected.json");
    std::fs::write(&expected, serde_json::to_string(&messages).unwrap()).unwrap();

    let handle = log4rs_appenders::init_file(&config).unwrap();
    write_records(&messages);
    drop(handle); // flushes

    for (file, ascii) in [("utf8.json", false), ("ascii.json", true)] {
        let path = dir.path().join(file);
        // The last line is the macro's "done" record: drop it for the check.
        let data = std::fs::read(&path).unwrap();
        let cut = data[..data.len() - 1]
            .iter()
            .rposition(|b| *b == b'\n')
            .unwrap();
        let last: serde_json::Value = serde_json::from_slice(&data[cut + 1..]).unwrap();
        assert_eq!(last["message"], "done");
        assert_eq!(
            last["log.origin.function"], "write_records",
            "the crate's macros give the function"
        );
        let body = dir.path().join(format!("{file}.body"));
        std::fs::write(&body, &data[..=cut]).unwrap();
        assert_eq!(
            python_check(&body, &expected, ascii),
            format!("ok {RECORDS}"),
            "{file}"
        );
    }
}

#[test]
fn the_strict_loader_names_the_extra_key_that_is_a_field() {
    let yaml = r#"
appenders:
  out:
    kind: console
    encoder: { kind: json_lines, fields: ecs, extra: { message: x } }
root: { level: info, appenders: [out] }
"#;
    let Err(e) = check_config_str(yaml, "test.yaml") else {
        panic!("refused")
    };
    let text = e.to_string();
    assert!(
        text.contains("appender \"out\"")
            && text.contains(
                "field \"extra\": key \"message\" is a field the ecs field set writes itself"
            ),
        "{text}"
    );
}

#[test]
fn the_strict_loader_suggests_the_field_set_for_a_typo() {
    let yaml = r#"
appenders:
  out:
    kind: console
    encoder: { kind: json_lines, fields: otle }
root: { level: info, appenders: [out] }
"#;
    let Err(e) = check_config_str(yaml, "test.yaml") else {
        panic!("refused")
    };
    let text = e.to_string();
    assert!(text.contains("did you mean `otel`"), "{text}");
}

/// Through the `tracing` front end: an event's typed fields, its error (with the chain) and
/// its function reach the line as they do from `log`.
#[cfg(feature = "tracing")]
#[test]
fn a_tracing_event_becomes_a_line_with_typed_fields_and_its_error_chain() {
    use log4rs_appenders::encode::{FieldSet, JsonLinesEncoder};
    use log4rs_appenders::file::RotatingFileAppender;
    use log4rs_appenders::tracing::AppenderLayer;
    use tracing_subscriber::prelude::*;

    #[derive(Debug)]
    struct Constraint;
    impl std::fmt::Display for Constraint {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("UNIQUE constraint failed: user.username")
        }
    }
    impl std::error::Error for Constraint {}

    #[derive(Debug)]
    struct SaveError(Constraint);
    impl std::fmt::Display for SaveError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("cannot save the profile of \"susan\"")
        }
    }
    impl std::error::Error for SaveError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[tracing::instrument]
    fn update_user(id: u64) {
        let error = SaveError(Constraint);
        tracing::error!(
            user_id = 42,
            ratio = 0.25,
            ok = false,
            error = &error as &dyn std::error::Error,
            "Exception on /edit_profile [POST]"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.json");
    let file = RotatingFileAppender::builder()
        .encoder(Box::new(JsonLinesEncoder::new(FieldSet::Ecs)))
        .build(&path)
        .unwrap();
    let layer = AppenderLayer::new(file);
    let flush = layer.flush_guard();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || update_user(2));
    drop(flush);
    let text = std::fs::read_to_string(&path).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(
        line["message"], "Exception on /edit_profile [POST]",
        "{text}"
    );
    assert_eq!(line["log.level"], "error");
    assert_eq!(line["user_id"], 42, "{text}");
    assert_eq!(line["ratio"], 0.25, "{text}");
    assert_eq!(line["ok"], false, "{text}");
    assert_eq!(line["log.origin.function"], "update_user", "{text}");
    // A span field is a key-value of its own, `span.field`, with its type.
    assert_eq!(line["update_user.id"], 2, "{text}");
    assert_eq!(
        line["error.message"], "cannot save the profile of \"susan\"",
        "{text}"
    );
    // The front end's copy of the chain keeps the original's type.
    assert_eq!(line["error.type"], "SaveError", "{text}");
    assert_eq!(
        line["error.stack_trace"],
        "Error: cannot save the profile of \"susan\"\nCaused by: UNIQUE constraint failed: user.username",
        "{text}"
    );
}

/// The error fields of a line (`error.*`, `exception.*`, `exc_info`, `@type`, `stack_trace`),
/// with dotted keys.
#[cfg(feature = "tracing")]
fn error_fields(line: &serde_json::Value) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut fields = support::flatten_json(line);
    fields.retain(|key, _| {
        let leaf = key.rsplit('.').next().unwrap_or(key);
        ["error.", "exception."].iter().any(|p| key.contains(p))
            || ["exc_info", "@type", "stack_trace"].contains(&leaf)
    });
    fields
}

/// An error field of a `tracing` event (`error = &err as &dyn Error`) gives, in every field
/// set, the same error fields as the same error in a `log` record's `error` key-value: with
/// its type where the field set has one (ecs `error.type`, otel `exception.type`), also for a
/// `std::io::Error`.
#[cfg(feature = "tracing")]
#[test]
fn a_tracing_error_field_gives_the_same_error_fields_as_a_log_error_key_value() {
    use log4rs_appenders::encode::{FieldSet, JsonLinesEncoder};
    use log4rs_appenders::file::RotatingFileAppender;
    use log4rs_appenders::tracing::AppenderLayer;
    use tracing_subscriber::prelude::*;

    let errors: [(&str, Box<dyn std::error::Error>); 2] = [
        ("ParseIntError", Box::new("x".parse::<u32>().unwrap_err())),
        (
            "std::io::Error",
            Box::new(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "profiles/ann.json",
            )),
        ),
    ];
    let field_sets = [FieldSet::Ecs, FieldSet::Otel, FieldSet::Gcp, FieldSet::Flat];

    for field_set in field_sets {
        for (type_name, error) in &errors {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("app.json");
            let file = RotatingFileAppender::builder()
                .encoder(Box::new(JsonLinesEncoder::new(field_set)))
                .build(&path)
                .unwrap();
            let layer = AppenderLayer::new(file);
            let flush = layer.flush_guard();
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::with_default(subscriber, || {
                tracing::error!(
                    error = &**error as &dyn std::error::Error,
                    "checkout failed"
                );
            });
            drop(flush);
            let text = std::fs::read_to_string(&path).unwrap();
            let traced: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();

            let kvs = [("error", log::kv::Value::from_dyn_error(&**error))];
            let mut out = Vec::new();
            JsonLinesEncoder::new(field_set).format_at(
                &log::Record::builder()
                    .args(format_args!("checkout failed"))
                    .level(log::Level::Error)
                    .key_values(&kvs.as_slice())
                    .build(),
                1_764_630_475,
                0,
                None,
                &mut out,
            );
            let logged: serde_json::Value = serde_json::from_slice(&out).unwrap();

            let (traced, logged) = (error_fields(&traced), error_fields(&logged));
            assert!(!logged.is_empty(), "{field_set:?}: {logged:?}");
            assert_eq!(traced, logged, "{field_set:?}, {type_name}");
            let typed = match field_set {
                FieldSet::Ecs => Some("error.type"),
                FieldSet::Otel => Some("attributes.exception.type"),
                // Their documented error fields carry no type (gcp: `@type` is Error
                // Reporting's constant).
                _ => None,
            };
            if let Some(key) = typed {
                assert_eq!(traced[key], *type_name, "{field_set:?}: {traced:?}");
            }
        }
    }
}
