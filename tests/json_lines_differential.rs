//! Differential: the same records through the json_lines encoder and through its Python peers,
//! Elastic's `ecs-logging` (`StdlibFormatter`, for `fields: ecs`) and `python-json-logger`
//! (`JsonFormatter`, for `fields: flat`), give the same keys and the same values, timestamps
//! and ids aside. Nested and dotted keys are compared as dotted paths (`{"log": {"level": x}}`
//! and `{"log.level": x}` are the same field to Elasticsearch).
//!
//! The peers run in the venv `scripts/install/json.sh` makes
//! (`$LOG4RS_APPENDERS_JSON_VENV`, default `~/.cache/log4rs-appenders/json-venv`).

mod support;

use std::fmt;
use std::path::PathBuf;
use std::process::Command;

use log::kv::Value as KvValue;
use log4rs_appenders::encode::{FieldSet, JsonLinesEncoder};
use serde_json::{Value, json};

fn venv_python() -> Option<PathBuf> {
    let venv = std::env::var_os("LOG4RS_APPENDERS_JSON_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/log4rs-appenders/json-venv"))
        })?;
    let python = venv.join("bin/python");
    let ok = Command::new(&python)
        .args(["-c", "import ecs_logging, pythonjsonlogger"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    let message = format!(
        "SKIPPED: the venv with ecs-logging and python-json-logger is missing at {}. Install it \
         with: bash scripts/install/json.sh (or run scripts/test.sh)",
        venv.display()
    );
    if std::env::var("LOG4RS_APPENDERS_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{message} [LOG4RS_APPENDERS_REQUIRE_PEERS=1 makes this a failure]");
    }
    eprintln!("\n{message}\n");
    None
}

#[derive(Debug)]
struct Cause;

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("connection reset by peer")
    }
}

impl std::error::Error for Cause {}

#[derive(Debug)]
struct ChargeFailed(Cause);

impl fmt::Display for ChargeFailed {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("request to the card processor failed: \"timeout\"")
    }
}

impl std::error::Error for ChargeFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// One record, as both sides get it.
struct Spec {
    level: log::Level,
    target: &'static str,
    message: &'static str,
    file: &'static str,
    module_path: &'static str,
    line: u32,
    function: &'static str,
    kvs: Vec<(&'static str, Value)>,
    error: bool,
}

fn python_level(level: log::Level) -> (&'static str, u32) {
    match level {
        log::Level::Error => ("ERROR", 40),
        log::Level::Warn => ("WARNING", 30),
        log::Level::Info => ("INFO", 20),
        log::Level::Debug => ("DEBUG", 10),
        log::Level::Trace => ("TRACE", 5),
    }
}

fn specs() -> Vec<Spec> {
    let levels = [
        log::Level::Info,
        log::Level::Warn,
        log::Level::Error,
        log::Level::Debug,
        log::Level::Trace,
    ];
    let messages = [
        "user 72000 logged in from 10.0.0.7",
        "quotes \" backslash \\ newline \n tab \t nul \0 bell \u{7}",
        "unicode é ✓ 😀 \u{2028} \u{2029} \u{feff}",
        "",
        "{\"looks\": \"like json\"}",
    ];
    let mut specs = Vec::new();
    for i in 0..40usize {
        let mut kvs = vec![
            ("user_id", json!(72_000 + i)),
            ("client", json!(format!("10.0.0.{i}"))),
            ("ratio", json!(0.125 * i as f64)),
            ("admin", json!(i % 2 == 0)),
            ("negative", json!(-(i as i64))),
        ];
        if i % 3 == 0 {
            kvs.push((
                "order",
                json!({"id": i, "items": ["tea", "scone"], "total": 4.5, "note": null, "tags": {"rush": true}}),
            ));
        }
        if i % 4 == 0 {
            kvs.push(("http.request.method", json!("POST")));
        }
        specs.push(Spec {
            level: levels[i % levels.len()],
            target: ["microblog::routes", "sqlx::query", "app"][i % 3],
            message: messages[i % messages.len()],
            file: ["src/routes.rs", "src/db/mod.rs", "main.rs"][i % 3],
            module_path: ["microblog::routes", "microblog::db", "app"][i % 3],
            line: 10 + i as u32,
            function: ["handle_login", "update_user", "main"][i % 3],
            kvs,
            error: i % 5 == 2,
        });
    }
    specs
}

/// Our lines for `specs`, at a fixed time, on a thread named "worker-1".
fn ours(encoder: &JsonLinesEncoder, specs: &[Spec]) -> Vec<Value> {
    let error = ChargeFailed(Cause);
    specs
        .iter()
        .map(|s| {
            let mut kvs: Vec<(&str, KvValue)> = s
                .kvs
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        Value::String(t) => KvValue::from(t.as_str()),
                        Value::Bool(b) => KvValue::from(*b),
                        Value::Number(n) if n.is_i64() => KvValue::from(n.as_i64().unwrap()),
                        Value::Number(n) if n.is_u64() => KvValue::from(n.as_u64().unwrap()),
                        Value::Number(n) => KvValue::from(n.as_f64().unwrap()),
                        other => KvValue::from_serde(other),
                    };
                    (*k, value)
                })
                .collect();
            kvs.push(("funcName", KvValue::from(s.function)));
            if s.error {
                kvs.push(("error", KvValue::from_dyn_error(&error)));
            }
            let mut out = Vec::new();
            encoder.format_at(
                &log::Record::builder()
                    .args(format_args!("{}", s.message))
                    .level(s.level)
                    .target(s.target)
                    .file(Some(s.file))
                    .line(Some(s.line))
                    .module_path(Some(s.module_path))
                    .key_values(&kvs.as_slice())
                    .build(),
                1_764_630_475,
                123_456_789,
                Some("worker-1"),
                &mut out,
            );
            serde_json::from_slice(&out).unwrap()
        })
        .collect()
}

/// The peers' lines for `specs`: (ecs-logging, python-json-logger).
fn theirs(python: &PathBuf, specs: &[Spec]) -> (Vec<Value>, Vec<Value>) {
    let records: Vec<Value> = specs
        .iter()
        .map(|s| {
            let (levelname, levelno) = python_level(s.level);
            json!({
                "target": s.target,
                "message": s.message,
                "levelname": levelname,
                "levelno": levelno,
                "file": s.file,
                "module": s.module_path.rsplit("::").next().unwrap(),
                "line": s.line,
                "function": s.function,
                "thread": "worker-1",
                "pid": std::process::id(),
                "kvs": s.kvs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<serde_json::Map<_, _>>(),
                "error": s.error.then(|| json!({
                    "type": "ChargeFailed",
                    "message": ChargeFailed(Cause).to_string(),
                })),
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.json");
    let doc = json!({
        "service": "microblog",
        "host": "web-1",
        "extra": {"env": "prod", "region": "eu-west-1"},
        "records": records,
    });
    std::fs::write(&spec, doc.to_string()).unwrap();
    let (ecs, flat) = (dir.path().join("ecs.jsonl"), dir.path().join("flat.jsonl"));
    let out = Command::new(python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/json_peers.py"))
        .args([&spec, &ecs, &flat])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "json_peers.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |p: &PathBuf| -> Vec<Value> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    (read(&ecs), read(&flat))
}

/// Compares one line: same keys; same values except `skip_values` (times, ids, traces), and
/// minus `only_theirs` (fields the peer writes that we document as left out).
fn compare(i: usize, ours: &Value, theirs: &Value, skip_values: &[&str], only_theirs: &[&str]) {
    let ours = support::flatten_json(ours);
    let mut theirs = support::flatten_json(theirs);
    for key in only_theirs {
        theirs.remove(*key);
    }
    let our_keys: Vec<_> = ours.keys().collect();
    let their_keys: Vec<_> = theirs.keys().collect();
    assert_eq!(our_keys, their_keys, "record {i}: keys differ");
    for (key, value) in &ours {
        if skip_values.contains(&key.as_str()) {
            continue;
        }
        assert_eq!(Some(value), theirs.get(key), "record {i}: {key}");
    }
}

#[test]
fn ecs_lines_match_elastics_ecs_logging() {
    let Some(python) = venv_python() else { return };
    let specs = specs();
    let encoder = JsonLinesEncoder::builder()
        .fields(FieldSet::Ecs)
        .service("microblog")
        .hostname("web-1")
        .extra("env", "prod")
        .extra("region", "eu-west-1")
        .build()
        .unwrap();
    let ours = ours(&encoder, &specs);
    let (theirs, _) = theirs(&python, &specs);
    assert_eq!(ours.len(), theirs.len());
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        compare(
            i,
            o,
            t,
            &["@timestamp", "error.stack_trace"],
            // ecs-logging's Python-only fields, and the message again: documented as left out.
            &["process.name", "process.thread.id", "log.original"],
        );
    }
}

#[test]
fn flat_lines_match_python_json_logger() {
    let Some(python) = venv_python() else { return };
    let specs = specs();
    let encoder = JsonLinesEncoder::builder()
        .fields(FieldSet::Flat)
        .service("microblog")
        .extra("env", "prod")
        .extra("region", "eu-west-1")
        .build()
        .unwrap();
    let ours = ours(&encoder, &specs);
    let (_, theirs) = theirs(&python, &specs);
    assert_eq!(ours.len(), theirs.len());
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        compare(i, o, t, &["timestamp", "exc_info"], &[]);
    }
}
