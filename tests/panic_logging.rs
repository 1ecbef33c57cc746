//! `log_panics()`: a panic becomes an ERROR record on target `panic`, with the thread, the
//! location as the record's file and line, and a backtrace, and it is out before the process
//! aborts. The panic happens in a child process (this test binary run again), since a panic
//! hook and an abort are process-wide.

use std::path::Path;
use std::process::Command;

const CHILD_LOG: &str = "LOG4RS_APPENDERS_PANIC_TEST_LOG";
const TEST_NAME: &str =
    "a_panic_reaches_a_file_appender_with_thread_location_and_backtrace_before_an_abort";
const PANIC_MARKER: &str = "panic!(\"the answer was {}, not 42\"";

#[test]
fn a_panic_reaches_a_file_appender_with_thread_location_and_backtrace_before_an_abort() {
    if let Some(log) = std::env::var_os(CHILD_LOG) {
        child(Path::new(&log));
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("panic.log");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_LOG, &log)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the child should have aborted: {stderr}"
    );
    assert!(
        stderr.contains("previous hook ran"),
        "the hook installed before log_panics() must still run: {stderr}"
    );

    let source = std::fs::read_to_string(file!()).unwrap();
    let panic_line = source
        .lines()
        .position(|l| l.contains(PANIC_MARKER) && !l.contains("const"))
        .expect("the panic! line")
        + 1;
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let first = logged.lines().next().unwrap_or_default();
    let expected = format!(
        "ERROR|panic|panicker|{}:{panic_line}|panic_in_a_named_thread|thread 'panicker' panicked at {}:{panic_line}:",
        file!(),
        file!()
    );
    assert!(
        first.starts_with(&expected),
        "first line {first:?} should start with {expected:?}; whole log:\n{logged}"
    );
    assert!(first.contains("the answer was 41, not 42"), "{first}");
    assert!(
        logged.contains("stack backtrace:"),
        "no backtrace in the log:\n{logged}"
    );
    assert!(
        !logged.contains("log4rs_appenders::panic"),
        "the backtrace should start at the panic, not in the hook:\n{logged}"
    );
    assert!(
        logged.contains("panic_logging::panic_in_a_named_thread"),
        "the backtrace should name the function that panicked:\n{logged}"
    );
}

/// The child: logging to a file, panics logged, and a previous hook that aborts the process as
/// `panic = "abort"` would, so only what was written before the abort survives.
fn child(log: &Path) -> ! {
    use log4rs::append::file::FileAppender;
    use log4rs::config::{Appender, Config, Root};
    use log4rs::encode::pattern::PatternEncoder;

    std::panic::set_hook(Box::new(|_| {
        eprintln!("previous hook ran");
        std::process::abort();
    }));
    let file = FileAppender::builder()
        .encoder(Box::new(PatternEncoder::new(
            "{l}|{t}|{T}|{f}:{L}|{K(funcName)}|{m}|{K(error)}{n}",
        )))
        .build(log)
        .unwrap();
    let config = Config::builder()
        .appender(Appender::builder().build("file", Box::new(file)))
        .build(
            Root::builder()
                .appender("file")
                .build(log::LevelFilter::Info),
        )
        .unwrap();
    let _log = log4rs_appenders::init_config(config).unwrap();
    log4rs_appenders::log_panics();
    log4rs_appenders::log_panics(); // a second call must not log each panic twice
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

#[cfg(all(feature = "smtp", feature = "debug-smtp"))]
const CHILD_SMTP_PORT: &str = "LOG4RS_APPENDERS_PANIC_TEST_SMTP_PORT";
#[cfg(all(feature = "smtp", feature = "debug-smtp"))]
const SMTP_TEST_NAME: &str =
    "a_panic_is_mailed_before_the_process_aborts_even_inside_a_batch_window";

/// With the smtp appender batching for a minute, only the hook's flush can get the mail out
/// before the abort.
#[cfg(all(feature = "smtp", feature = "debug-smtp"))]
#[test]
fn a_panic_is_mailed_before_the_process_aborts_even_inside_a_batch_window() {
    use log4rs_appenders::debug_smtp::DebugSmtpServer;

    if let Ok(port) = std::env::var(CHILD_SMTP_PORT) {
        smtp_child(&port);
    }
    let server = DebugSmtpServer::start("127.0.0.1:0").unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([SMTP_TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_SMTP_PORT, server.local_addr().port().to_string())
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("previous hook ran"), "{stderr}");
    let mail = server
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no panic mail arrived; the child said:\n{stderr}"));
    let subject = mail.subject();
    assert!(
        subject.starts_with("ERROR panic: thread 'panicker' panicked at tests/panic_logging.rs:"),
        "{subject}"
    );
    let body = mail.body();
    assert!(body.contains("the answer was 41, not 42"), "{body}");
    assert!(body.contains("stack backtrace:"), "{body}");
    assert!(
        body.contains("panic_logging::panic_in_a_named_thread"),
        "{body}"
    );
}

#[cfg(all(feature = "smtp", feature = "debug-smtp"))]
fn smtp_child(port: &str) -> ! {
    std::panic::set_hook(Box::new(|_| {
        eprintln!("previous hook ran");
        std::process::abort();
    }));
    let yaml = format!(
        "appenders:\n  mail:\n    kind: smtp\n    host: 127.0.0.1\n    port: {port}\n    security: none\n    from: app@localhost\n    to: [ops@localhost]\n    subject: \"%(levelname)s %(name)s: %(message)s\"\n    level: error\n    batch_window: 1 minute\nroot: {{ level: info, appenders: [mail] }}\n"
    );
    let loaded = log4rs_appenders::config::load_config_str(&yaml, "inline").unwrap();
    let _log = log4rs_appenders::init_config(loaded.config).unwrap();
    log4rs_appenders::log_panics();
    panic_in_a_named_thread();
    unreachable!("the previous hook aborts");
}
