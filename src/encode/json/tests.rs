use super::*;
use log::kv::Value;
use serde_json::{Value as J, json};

#[derive(Debug)]
struct Upstream;

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("connection reset by peer")
    }
}

impl std::error::Error for Upstream {}

#[derive(Debug)]
struct ChargeFailed(Upstream);

impl fmt::Display for ChargeFailed {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("request to the card processor failed")
    }
}

impl std::error::Error for ChargeFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn encoder(fields: FieldSet) -> JsonLinesEncoder {
    JsonLinesEncoder::builder()
        .fields(fields)
        .service("shop")
        .hostname("web-1")
        .extra("env", "prod")
        .build()
        .unwrap()
}

/// 2026-12-01T23:07:55.123456789Z
const SECS: i64 = 1_796_166_475;
const NANOS: u32 = 123_456_789;

fn line(encoder: &JsonLinesEncoder, record: &Record) -> J {
    let mut out = Vec::new();
    encoder.format_at(record, SECS, NANOS, Some("worker-1"), &mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains('\n'), "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn with_record<R>(f: impl FnOnce(&Record) -> R) -> R {
    let error = ChargeFailed(Upstream);
    let kvs = [
        ("user_id", Value::from(72)),
        ("ratio", Value::from(0.5)),
        ("admin", Value::from(false)),
        ("client", Value::from("10.0.0.7")),
        ("funcName", Value::from("charge")),
        ("error", Value::from_dyn_error(&error)),
    ];
    f(&Record::builder()
        .args(format_args!("charge of {} failed", 42))
        .level(log::Level::Error)
        .target("shop::pay")
        .file(Some("src/pay/mod.rs"))
        .line(Some(42))
        .module_path(Some("shop::pay"))
        .key_values(&kvs)
        .build())
}

#[test]
fn flat_has_python_json_loggers_keys() {
    let pid = std::process::id();
    let got = with_record(|r| line(&encoder(FieldSet::Flat), r));
    assert_eq!(
        got,
        json!({
            "timestamp": "2026-12-01T23:07:55.123456Z",
            "levelname": "ERROR",
            "name": "shop::pay",
            "message": "charge of 42 failed",
            "pathname": "src/pay/mod.rs",
            "lineno": 42,
            "module": "pay",
            "threadName": "worker-1",
            "process": pid,
            "service": "shop",
            "env": "prod",
            "user_id": 72,
            "ratio": 0.5,
            "admin": false,
            "client": "10.0.0.7",
            "funcName": "charge",
            "exc_info": "Error: request to the card processor failed\nCaused by: connection reset by peer",
        })
    );
}

#[test]
fn ecs_has_the_fields_ecs_logging_writes() {
    let pid = std::process::id();
    let got = with_record(|r| line(&encoder(FieldSet::Ecs), r));
    assert_eq!(
        got,
        json!({
            "@timestamp": "2026-12-01T23:07:55.123Z",
            "log.level": "error",
            "message": "charge of 42 failed",
            "ecs.version": "1.6.0",
            "log.logger": "shop::pay",
            "log.origin.file.name": "mod.rs",
            "log.origin.file.line": 42,
            "log.origin.function": "charge",
            "process.pid": pid,
            "process.thread.name": "worker-1",
            "host.hostname": "web-1",
            "service.name": "shop",
            "env": "prod",
            "user_id": 72,
            "ratio": 0.5,
            "admin": false,
            "client": "10.0.0.7",
            "error.type": "ChargeFailed",
            "error.message": "request to the card processor failed",
            "error.stack_trace": "Error: request to the card processor failed\nCaused by: connection reset by peer",
        })
    );
}

#[test]
fn gcp_has_cloud_loggings_special_fields() {
    let got = with_record(|r| line(&encoder(FieldSet::Gcp), r));
    assert_eq!(
        got,
        json!({
            "severity": "ERROR",
            "message": "charge of 42 failed",
            "time": "2026-12-01T23:07:55.123456789Z",
            "logging.googleapis.com/labels": {"logger": "shop::pay", "env": "prod"},
            "logging.googleapis.com/sourceLocation": {"file": "src/pay/mod.rs", "line": "42", "function": "charge"},
            "serviceContext": {"service": "shop"},
            "user_id": 72,
            "ratio": 0.5,
            "admin": false,
            "client": "10.0.0.7",
            "@type": REPORTED_ERROR_EVENT,
            "stack_trace": "Error: request to the card processor failed\nCaused by: connection reset by peer",
        })
    );
}

#[test]
fn otel_has_the_log_data_model() {
    let pid = std::process::id();
    let got = with_record(|r| line(&encoder(FieldSet::Otel), r));
    assert_eq!(
        got,
        json!({
            "timeUnixNano": "1796166475123456789",
            "severityNumber": 17,
            "severityText": "ERROR",
            "body": "charge of 42 failed",
            "attributes": {
                "code.file.path": "src/pay/mod.rs",
                "code.line.number": 42,
                "code.function.name": "charge",
                "thread.name": "worker-1",
                "user_id": 72,
                "ratio": 0.5,
                "admin": false,
                "client": "10.0.0.7",
                "exception.type": "ChargeFailed",
                "exception.message": "request to the card processor failed",
                "exception.stacktrace": "Error: request to the card processor failed\nCaused by: connection reset by peer",
            },
            "instrumentationScope": {"name": "shop::pay"},
            "resource": {"service.name": "shop", "host.name": "web-1", "process.pid": pid, "env": "prod"},
        })
    );
}

#[test]
fn a_bare_record_gives_a_valid_line_in_every_field_set() {
    for fields in [FieldSet::Flat, FieldSet::Ecs, FieldSet::Gcp, FieldSet::Otel] {
        let record = Record::builder().args(format_args!("")).build();
        let mut out = Vec::new();
        JsonLinesEncoder::new(fields).format_at(&record, 0, 0, None, &mut out);
        let text = String::from_utf8(out).unwrap();
        let value: J =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{fields}: {e}: {text}"));
        assert!(value.is_object(), "{text}");
    }
    let record = Record::builder().args(format_args!("")).build();
    let otel = line(&JsonLinesEncoder::new(FieldSet::Otel), &record);
    assert_eq!(otel["resource"]["service.name"], UNKNOWN_SERVICE);
}

#[test]
fn key_values_that_reuse_a_field_name_are_prefixed() {
    let kvs = [
        ("message", Value::from("kv message")),
        ("log", Value::from("kv log")),
        ("env", Value::from("kv env")),
        ("code.line.number", Value::from(7)),
    ];
    let record = Record::builder()
        .args(format_args!("real"))
        .key_values(&kvs)
        .build();
    let ecs = line(&encoder(FieldSet::Ecs), &record);
    assert_eq!(ecs["message"], "real");
    assert_eq!(ecs["labels.message"], "kv message");
    assert_eq!(ecs["labels.log"], "kv log");
    assert_eq!(ecs["env"], "prod");
    assert_eq!(ecs["labels.env"], "kv env");
    let flat = line(&encoder(FieldSet::Flat), &record);
    assert_eq!(flat["message"], "real");
    assert_eq!(flat["kv.message"], "kv message");
    assert_eq!(flat["log"], "kv log");
    let otel = line(&encoder(FieldSet::Otel), &record);
    assert_eq!(otel["attributes"]["message"], "kv message");
    assert_eq!(otel["attributes"]["kv.code.line.number"], 7);
}

#[test]
fn extra_keys_that_reuse_a_field_name_are_refused_naming_it() {
    let e = JsonLinesEncoder::builder()
        .fields(FieldSet::Ecs)
        .extra("log", "x")
        .build()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "field \"extra\": key \"log\" conflicts with the ecs field set's field \"log.level\" \
         (one would nest inside the other) (top level); choose another name"
    );
    let e = JsonLinesEncoder::builder()
        .fields(FieldSet::Flat)
        .extra("message", "x")
        .build()
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("key \"message\" is a field the flat field set writes itself"),
        "{e}"
    );
    let e = JsonLinesEncoder::builder()
        .fields(FieldSet::Otel)
        .extra("service.name", "x")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("(resource)"), "{e}");
    // gcp's extra goes into the labels, where `message` is free.
    assert!(
        JsonLinesEncoder::builder()
            .fields(FieldSet::Gcp)
            .extra("message", "x")
            .build()
            .is_ok()
    );
    let e = JsonLinesEncoder::builder().service("").build().unwrap_err();
    assert!(e.to_string().starts_with("field \"service\""), "{e}");
}

#[test]
fn gcp_labels_are_strings() {
    let encoder = JsonLinesEncoder::builder()
        .fields(FieldSet::Gcp)
        .extra("replicas", 3)
        .extra("canary", true)
        .extra("tags", json!(["a", "b"]))
        .build()
        .unwrap();
    let record = Record::builder().args(format_args!("m")).build();
    let got = line(&encoder, &record);
    assert_eq!(
        got["logging.googleapis.com/labels"],
        json!({"logger": "", "replicas": "3", "canary": "true", "tags": "[\"a\",\"b\"]"})
    );
}

#[test]
fn hostile_text_stays_one_valid_line() {
    let hostile = "quote \" backslash \\ newline \n cr \r tab \t nul \0 esc \u{1b} del \u{7f} \
                   ls \u{2028} ps \u{2029} bom \u{feff} emoji 😀 }{\"";
    let kvs = [(hostile, Value::from(hostile))];
    for ascii in [false, true] {
        for fields in [FieldSet::Flat, FieldSet::Ecs, FieldSet::Gcp, FieldSet::Otel] {
            let encoder = JsonLinesEncoder::builder()
                .fields(fields)
                .ensure_ascii(ascii)
                .service(hostile)
                .extra(hostile, hostile)
                .build()
                .unwrap();
            let mut out = Vec::new();
            encoder.format_at(
                &Record::builder()
                    .args(format_args!("{hostile}"))
                    .target(hostile)
                    .file(Some(hostile))
                    .key_values(&kvs)
                    .build(),
                SECS,
                NANOS,
                Some(hostile),
                &mut out,
            );
            let text = String::from_utf8(out).unwrap();
            assert!(
                !text.contains(['\n', '\r', '\u{2028}', '\u{2029}']),
                "{text}"
            );
            if ascii {
                assert!(text.is_ascii(), "{text}");
            }
            let value: J = serde_json::from_str(&text).unwrap();
            let message = match fields {
                FieldSet::Otel => &value["body"],
                _ => &value["message"],
            };
            assert_eq!(message, hostile);
        }
    }
}

#[test]
fn nested_serde_values_and_debug_captures_keep_their_shape() {
    #[derive(serde::Serialize)]
    struct Order<'a> {
        id: u64,
        items: Vec<&'a str>,
        total: f64,
        note: Option<&'a str>,
    }
    let order = Order {
        id: 7,
        items: vec!["tea", "scone\u{2028}"],
        total: 4.5,
        note: None,
    };
    let big: u128 = u128::MAX;
    let kvs = [
        ("order", Value::from_serde(&order)),
        ("big", Value::from(big)),
        ("nan", Value::from(f64::NAN)),
        ("neg", Value::from(-3i64)),
        ("ch", Value::from('x')),
        ("dbg", Value::from_debug(&Some("x"))),
        ("shown", Value::from_display(&"a \"b\"")),
    ];
    let record = Record::builder()
        .args(format_args!("m"))
        .key_values(&kvs)
        .build();
    let mut out = Vec::new();
    JsonLinesEncoder::new(FieldSet::Flat).format_at(&record, SECS, NANOS, None, &mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("scone\\u2028"), "{text}");
    let got: J = serde_json::from_str(&text).unwrap();
    assert_eq!(
        got["order"],
        json!({"id": 7, "items": ["tea", "scone\u{2028}"], "total": 4.5, "note": null})
    );
    assert!(text.contains(&format!("\"big\":{big}")), "{text}");
    assert_eq!(got["nan"], J::Null);
    assert_eq!(got["neg"], -3);
    assert_eq!(got["ch"], "x");
    assert_eq!(got["dbg"], "Some(\"x\")");
    assert_eq!(got["shown"], "a \"b\"");
}

#[test]
fn err_is_the_error_when_there_is_no_error_key() {
    let first = ChargeFailed(Upstream);
    let second = Upstream;
    let kvs = [
        ("err", Value::from_dyn_error(&second)),
        ("error", Value::from_dyn_error(&first)),
    ];
    let record = Record::builder()
        .args(format_args!("m"))
        .key_values(&kvs)
        .build();
    let got = line(&JsonLinesEncoder::new(FieldSet::Ecs), &record);
    assert_eq!(got["error.message"], "request to the card processor failed");
    assert_eq!(got["err"], "connection reset by peer");
    let kvs = [("err", Value::from_dyn_error(&second))];
    let record = Record::builder()
        .args(format_args!("m"))
        .key_values(&kvs)
        .build();
    let got = line(&JsonLinesEncoder::new(FieldSet::Ecs), &record);
    assert_eq!(got["error.message"], "connection reset by peer");
    assert_eq!(got["error.type"], "Upstream");
    assert!(got.get("err").is_none());
}

#[test]
fn the_yaml_kind_refuses_unknown_fields_and_field_sets() {
    let parse = |yaml: &str| {
        let value: serde_value::Value = serde_yaml::from_str(yaml).unwrap();
        crate::fields::parse_config::<JsonLinesConfig>(value).and_then(JsonLinesKind::build)
    };
    assert!(parse("fields: ecs\nservice: shop\nextra: {env: prod}\nensure_ascii: true").is_ok());
    let e = parse("fields: ecss").unwrap_err().to_string();
    assert!(
        e.contains("fields") && e.contains("did you mean `ecs`"),
        "{e}"
    );
    let e = parse("extra: {message: x}").unwrap_err().to_string();
    assert!(e.contains("field \"extra\": key \"message\""), "{e}");
    let e = parse("feilds: ecs").unwrap_err().to_string();
    assert!(e.contains("did you mean `fields`"), "{e}");
}
