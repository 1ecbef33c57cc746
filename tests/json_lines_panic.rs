//! A panic logged by `log_panics()` reaches a json_lines line with its message, thread,
//! location and backtrace in the field set's error fields, before the process aborts. The
//! panic happens in a child process (this test binary run again), since a panic hook and an
//! abort are process-wide.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const CHILD_DIR: &str = "LOG4RS_APPENDERS_JSON_PANIC_TEST_DIR";
const TEST_NAME: &str = "a_panic_becomes_a_json_line_with_its_backtrace_before_an_abort";
const PANIC_MARKER: &str = "panic!(\"the answer was {}, not 42\"";

#[test]
fn a_panic_becomes_a_json_line_with_its_backtrace_before_an_abort() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        child(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("previous hook ran"), "{stderr}");

    let source = std::fs::read_to_string(file!()).unwrap();
    let panic_line = source
        .lines()
        .position(|l| l.contains(PANIC_MARKER) && !l.contains("const"))
        .expect("the panic! line")
        + 1;
    let first_line = |name: &str| -> Value {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
        let line = text.lines().next().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: {e}: {text}"))
    };

    let ecs = first_line("ecs.json");
    assert_eq!(ecs["log.level"], "error");
    assert_eq!(ecs["log.logger"], "panic");
    assert_eq!(ecs["process.thread.name"], "panicker");
    assert_eq!(ecs["log.origin.file.name"], "json_lines_panic.rs");
    assert_eq!(ecs["log.origin.file.line"], panic_line);
    assert_eq!(ecs["log.origin.function"], "panic_in_a_named_thread");
    assert_eq!(ecs["error.type"], "panic");
    assert_eq!(ecs["error.message"], "the answer was 41, not 42");
    let message = ecs["message"].as_str().unwrap();
    assert!(
        message.starts_with("thread 'panicker' panicked at tests/json_lines_panic.rs:"),
        "{message}"
    );
    let trace = ecs["error.stack_trace"].as_str().unwrap();
    assert!(
        trace.contains("json_lines_panic::panic_in_a_named_thread"),
        "the backtrace should name the function that panicked: {trace}"
    );
    assert!(
        !trace.contains("stack backtrace:"),
        "only the frames: {trace}"
    );

    let otel = first_line("otel.json");
    assert_eq!(otel["attributes"]["exception.type"], "panic");
    assert_eq!(
        otel["attributes"]["exception.message"],
        "the answer was 41, not 42"
    );
    assert_eq!(otel["attributes"]["exception.stacktrace"], trace);

    let flat = first_line("flat.json");
    let exc_info = flat["exc_info"].as_str().unwrap();
    assert!(
        exc_info.starts_with("panic: the answer was 41, not 42 (at tests/json_lines_panic.rs:"),
        "{exc_info}"
    );
    assert!(exc_info.contains("\nstack backtrace:\n"), "{exc_info}");
    assert!(exc_info.contains("panic_in_a_named_thread"), "{exc_info}");
}

/// The child: three files in three field sets, panics logged, and a previous hook that aborts
/// as `panic = "abort"` would, so only what was written before the abort survives.
fn child(dir: &Path) -> ! {
    use log4rs::append::file::FileAppender;
    use log4rs::config::{Appender, Config, Root};
    use log4rs_appenders::encode::{FieldSet, JsonLinesEncoder};

    std::panic::set_hook(Box::new(|_| {
        eprintln!("previous hook ran");
        std::process::abort();
    }));
    let mut config = Config::builder();
    let mut root = Root::builder();
    for (name, fields) in [
        ("ecs", FieldSet::Ecs),
        ("otel", FieldSet::Otel),
        ("flat", FieldSet::Flat),
    ] {
        let file = FileAppender::builder()
            .encoder(Box::new(JsonLinesEncoder::new(fields)))
            .build(dir.join(format!("{name}.json")))
            .unwrap();
        config = config.appender(Appender::builder().build(name, Box::new(file)));
        root = root.appender(name);
    }
    let config = config.build(root.build(log::LevelFilter::Info)).unwrap();
    let _log = log4rs_appenders::init_config(config).unwrap();
    log4rs_appenders::log_panics();
    panic_in_a_named_thread();
    unreachable!("the previous hook aborts");
}

#[inline(never)]
fn panic_in_a_named_thread() {
    std::thread::Builder::new()
        .name("panicker".into())
        .spawn(|| {
            let answer = std::hint::black_box(41);
            panic!("the answer was {}, not 42", answer);
        })
        .unwrap()
        .join()
        .ok();
}
