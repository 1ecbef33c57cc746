//! The Python encoder against CPython 3.13 itself, on what is specific to it or decided when a
//! `logging.Formatter` is built: `repr` of every code point (3.13's Unicode database), the last
//! instant of a second (gh-102402), empty and style-less formats, and `defaults=`.
//!
//! Needs CPython 3.13 (see `support::python313`; scripts/install/python-encoder.sh provides it).

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use log::kv::Value;
use log4rs_appenders::encode::python::RecordEnv;
use log4rs_appenders::encode::{DefaultValue, PythonEncoder};
use serde_json::{Value as Json, json};

/// Runs `script` under `python` with `input` on stdin; returns its stdout.
fn run_python(python: &Path, script: &str, input: &str) -> Vec<u8> {
    let mut child = Command::new(python)
        .args(["-c", script])
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python 3.13");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().expect("python output");
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn env(created_secs: i64, created_nanos: u32) -> RecordEnv<'static> {
    RecordEnv {
        created_secs,
        created_nanos,
        relative_created_ms: 0.0,
        thread: 1,
        thread_name: "main",
        process: 1,
    }
}

/// Renders one record (`app`, INFO, `src/app.rs:42`, message `message`, key-values `kvs`).
fn render(encoder: &PythonEncoder, message: &str, kvs: &[(&str, Value)], at: RecordEnv) -> String {
    let mut out = Vec::new();
    encoder.format_with_env(
        &log::Record::builder()
            .args(format_args!("{message}"))
            .level(log::Level::Info)
            .target("app")
            .file(Some("src/app.rs"))
            .line(Some(42))
            .key_values(&kvs)
            .build(),
        &at,
        &mut out,
    );
    String::from_utf8(out).expect("UTF-8")
}

const EVERY_CODE_POINT_REPR: &str = r#"
import sys
out = [repr(chr(c)) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
sys.stdout.buffer.write("\n".join(out).encode("utf-8"))
"#;

#[test]
fn repr_of_every_code_point_matches_cpython_3_13() {
    let Some(python) = support::python313() else {
        return;
    };
    let theirs = run_python(&python, EVERY_CODE_POINT_REPR, "");
    let theirs: Vec<&[u8]> = theirs.split(|b| *b == b'\n').collect();
    let encoder = PythonEncoder::new("%(message)r").unwrap();
    let chars = (0..0x11_0000u32).filter_map(char::from_u32);
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for (c, python_repr) in chars.zip(&theirs) {
        compared += 1;
        let ours = render(&encoder, &c.to_string(), &[], env(0, 0));
        if ours.as_bytes() != *python_repr {
            mismatches.push(format!(
                "U+{:04X}: ours {ours:?}, CPython {:?}",
                c as u32,
                String::from_utf8_lossy(python_repr)
            ));
        }
    }
    assert_eq!(compared, theirs.len(), "one repr per code point");
    assert_eq!(
        compared,
        0x11_0000 - 0x800,
        "every code point but the surrogates"
    );
    assert!(
        mismatches.is_empty(),
        "{} of {compared} code points differ from CPython 3.13's repr, e.g.:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(20)].join("\n")
    );
}

/// CPython 3.13 makes a record at a given `time.time_ns()` and formats it.
const RECORD_AT_NS: &str = r#"
import json, logging, sys
data = json.load(sys.stdin)
out = []
for ns in data["ns"]:
    logging.time.time_ns = lambda: ns
    rec = logging.LogRecord("app", 20, "src/app.rs", 42, "m", None, None)
    out.append([logging.Formatter(f, d).format(rec) for f, d in data["formats"]])
sys.stdout.write(json.dumps(out))
"#;

#[test]
fn asctime_and_msecs_in_the_last_instant_of_a_second_match_cpython_3_13() {
    let Some(python) = support::python313() else {
        return;
    };
    // Around the point where `ns / 1e9` rounds up to the next second, and ordinary instants.
    let instants: [u64; 9] = [
        946_684_799_999_999_999,
        946_684_799_999_999_950,
        946_684_799_999_999_900,
        946_684_799_999_000_000,
        946_684_800_000_000_000,
        1_677_903_920_999_999_900,
        1_677_903_920_999_998_503,
        1_700_000_000_999_999_999,
        1_700_000_000_896_123_456,
    ];
    let formats: [(&str, Option<&str>); 3] = [
        ("%(asctime)s|%(msecs)r|%(msecs)03d|%(created)r", None),
        ("%(asctime)s.%(msecs)03d", Some("%H:%M:%S")),
        ("%(asctime)s", Some("%Y-%m-%d %H:%M:%S")),
    ];
    // Both sides use this machine's time zone (TZ or /etc/localtime), as both read it the same.
    let input = json!({"ns": instants, "formats": formats}).to_string();
    let theirs: Vec<Vec<String>> =
        serde_json::from_slice(&run_python(&python, RECORD_AT_NS, &input)).unwrap();
    let mut mismatches = Vec::new();
    for (ns, row) in instants.iter().zip(&theirs) {
        let at = env((ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as u32);
        for ((format, datefmt), python_text) in formats.iter().zip(row) {
            let mut encoder = PythonEncoder::new(format).unwrap();
            if let Some(d) = datefmt {
                encoder = encoder.datefmt(d).unwrap();
            }
            let ours = render(&encoder, "m", &[], at);
            if &ours != python_text {
                mismatches.push(format!(
                    "{ns} ns, {format:?}: ours {ours:?}, CPython {python_text:?}"
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // The case the README describes: the next second with ,000.
    assert!(
        theirs[0][0].contains(":00,000|0.0|000|946684800.0"),
        "{:?}",
        theirs[0]
    );
}

/// For each format: whether CPython 3.13 builds `Formatter(fmt)`, and if so what it prints for
/// a record whose message is "hello". For brace/dollar formats also: what they print in their
/// own style, and what `converted` prints in %-style.
const FORMATTER_ACCEPTS: &str = r#"
import json, logging, sys
data = json.load(sys.stdin)
rec = logging.LogRecord("app", 20, "src/app.rs", 42, "hello", None, None,
                        func="(unknown function)")
rec.created, rec.msecs = 0.0, 0.0
out = []
for case in data:
    row = {}
    try:
        row["text"] = logging.Formatter(case["format"]).format(rec)
    except ValueError as e:
        row["refused"] = str(e)
    if case["style"]:
        row["own_style"] = logging.Formatter(case["format"], style=case["style"]).format(rec)
        row["converted"] = logging.Formatter(case["converted"]).format(rec)
    out.append(row)
sys.stdout.write(json.dumps(out))
"#;

/// The converted format our error message suggests (`... write it as "..."`).
fn suggested_format(error: &str) -> Option<String> {
    let quoted = error.split_once("write it as ")?.1;
    serde_json::from_str(quoted).ok()
}

#[test]
fn empty_and_fieldless_formats_are_judged_as_cpython_3_13_judges_them() {
    let Some(python) = support::python313() else {
        return;
    };
    // (format, style it is written in, if not %)
    let cases: [(&str, Option<&str>); 13] = [
        ("", None),
        (
            "{levelname:>8}|{lineno:05d}|{lineno:5}|{created:.3f}|{message!r:20}|{name:10}|",
            Some("{"),
        ),
        (
            "{levelno:+d} {{literal}} {msecs:#.0f} {funcName:<12.3}|",
            Some("{"),
        ),
        ("$$ ${name}: $message 50%", Some("$")),
        ("%(message)s", None),
        ("%(levelname)s: %(message)s 100%%", None),
        ("hello", None),
        ("100%% done", None),
        ("{asctime} {levelname:<8} {message}", Some("{")),
        ("{name}: {message!r} at 100%", Some("{")),
        ("${levelname} $name: ${message}", Some("$")),
        ("$levelname: $message", Some("$")),
        ("cost: $5", None),
    ];
    let mut ours = Vec::new();
    for (format, style) in cases {
        let built = PythonEncoder::new(format);
        let converted = match (&built, style) {
            (Err(e), Some(_)) => suggested_format(&e.to_string())
                .unwrap_or_else(|| panic!("{format:?}: no converted format in {e}")),
            _ => String::new(),
        };
        ours.push((built, converted));
    }
    let input: Vec<Json> = cases
        .iter()
        .zip(&ours)
        .map(|((format, style), (_, converted))| {
            json!({"format": format, "style": style, "converted": converted})
        })
        .collect();
    let theirs: Vec<Json> = serde_json::from_slice(&run_python(
        &python,
        FORMATTER_ACCEPTS,
        &Json::from(input).to_string(),
    ))
    .unwrap();
    for (((format, style), (built, _)), python) in cases.iter().zip(&ours).zip(&theirs) {
        match (built, python.get("text")) {
            (Ok(encoder), Some(text)) => {
                assert_eq!(
                    render(encoder, "hello", &[], env(0, 0)),
                    text.as_str().unwrap(),
                    "{format:?}"
                );
            }
            (Err(e), None) => {
                let e = e.to_string();
                if let Some(style) = style {
                    let named = if *style == "{" { "brace" } else { "dollar" };
                    assert!(e.contains(named), "{format:?}: {e}");
                    // The converted format prints what the original prints in its own style.
                    assert_eq!(python["own_style"], python["converted"], "{format:?}: {e}");
                }
            }
            (built, _) => panic!(
                "{format:?}: CPython {}, ours {}",
                python,
                match built {
                    Ok(_) => "accepts it".to_owned(),
                    Err(e) => format!("refuses it: {e}"),
                }
            ),
        }
    }
}

/// CPython 3.13's `Formatter(fmt, defaults=...)` over a record with and one without the extras.
const FORMATTER_DEFAULTS: &str = r#"
import json, logging, sys
data = json.load(sys.stdin)
out = []
for case in data["cases"]:
    row = []
    for extras in data["records"]:
        rec = logging.LogRecord("app", 20, "src/app.rs", 42, "hello", None, None)
        for k, v in extras.items():
            setattr(rec, k, v)
        try:
            row.append(logging.Formatter(case["format"], defaults=case["defaults"]).format(rec))
        except ValueError as e:
            row.append("RAISED " + str(e))
    out.append(row)
sys.stdout.write(json.dumps(out))
"#;

#[test]
fn declared_defaults_render_as_cpython_3_13_formatter_defaults() {
    let Some(python) = support::python313() else {
        return;
    };
    let text = |s: &str| DefaultValue::Text(s.to_owned());
    let cases: Vec<(&str, Vec<(&str, DefaultValue)>)> = vec![
        ("%(user_id)s %(message)s", vec![("user_id", text("-"))]),
        (
            "[%(user_id)6s] [%(user_id)-6r] %(message)s",
            vec![("user_id", text("anon"))],
        ),
        (
            "%(retries)03d %(retries)s %(ratio).2f %(ratio)r",
            vec![("retries", 0.into()), ("ratio", 0.5.into())],
        ),
        (
            "%(flag)s %(flag)r %(flag)d %(nothing)s %(nothing)r %(nothing)8s|",
            vec![("flag", true.into()), ("nothing", DefaultValue::None)],
        ),
        ("%(message)s", vec![("unused", text("x"))]),
    ];
    let records = [
        json!({}),
        json!({"user_id": 72, "retries": 3, "ratio": 0.125, "nothing": "x"}),
    ];
    let python_defaults = |d: &[(&str, DefaultValue)]| -> Json {
        d.iter()
            .map(|(k, v)| {
                let v = match v {
                    DefaultValue::Text(t) => json!(t),
                    DefaultValue::Integer(i) => json!(i),
                    DefaultValue::Float(f) => json!(f),
                    DefaultValue::Bool(b) => json!(b),
                    DefaultValue::None => Json::Null,
                };
                (k.to_string(), v)
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let input = json!({
        "cases": cases.iter().map(|(f, d)| json!({"format": f, "defaults": python_defaults(d)})).collect::<Vec<_>>(),
        "records": records,
    });
    let theirs: Vec<Vec<String>> =
        serde_json::from_slice(&run_python(&python, FORMATTER_DEFAULTS, &input.to_string()))
            .unwrap();
    // (No bool key-value: Rust's `false` prints `false`, Python's `False`; documented.)
    let kvs: [(&str, Value); 4] = [
        ("user_id", Value::from(72i64)),
        ("retries", Value::from(3i64)),
        ("ratio", Value::from(0.125f64)),
        ("nothing", Value::from("x")),
    ];
    for ((format, defaults), row) in cases.iter().zip(&theirs) {
        let encoder = PythonEncoder::with_defaults(format, defaults.clone()).unwrap();
        assert_eq!(
            render(&encoder, "hello", &[], env(0, 0)),
            row[0],
            "{format:?} without the key-values"
        );
        assert_eq!(
            render(&encoder, "hello", &kvs, env(0, 0)),
            row[1],
            "{format:?} with the key-values"
        );
    }

    // A name neither an attribute nor declared: CPython raises on every record, we refuse the
    // format when it is built, naming the closest attribute.
    let theirs: Vec<Vec<String>> = serde_json::from_slice(&run_python(
        &python,
        FORMATTER_DEFAULTS,
        &json!({"cases": [{"format": "%(linenum)d %(message)s", "defaults": null}], "records": [{}]})
            .to_string(),
    ))
    .unwrap();
    assert!(
        theirs[0][0].starts_with("RAISED Formatting field not found in record: 'linenum'"),
        "{theirs:?}"
    );
    let e = PythonEncoder::new("%(linenum)d %(message)s")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown attribute \"linenum\" (did you mean \"lineno\"?)")
            && e.contains("defaults: { linenum: \"-\" }"),
        "{e}"
    );
}
