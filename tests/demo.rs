#![cfg(all(feature = "smtp", feature = "debug-smtp"))]
//! `cargo run --example microblog`, for real: the example binary runs in an empty directory,
//! starts its debugging SMTP server on 127.0.0.1:8025, and must print both mails (the request
//! error with its error chain, the panic with its backtrace) and leave the log files.

use std::path::PathBuf;
use std::process::Command;

/// Builds the example with this test's own profile and features (a no-op after `cargo test`,
/// which builds examples) and returns its path.
fn example_binary(name: &str) -> PathBuf {
    let features: Vec<&str> = [
        ("smtp", cfg!(feature = "smtp")),
        ("syslog", cfg!(feature = "syslog")),
        ("eventlog", cfg!(feature = "eventlog")),
        ("gzip", cfg!(feature = "gzip")),
        ("debug-smtp", cfg!(feature = "debug-smtp")),
        ("cli", cfg!(feature = "cli")),
        ("tracing", cfg!(feature = "tracing")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    let mut build = Command::new(env!("CARGO"));
    // Cargo gives this test CARGO_PKG_NAME and friends; some build scripts (ring's) rerun when
    // those change, so passing them on would rebuild half the tree. Build as from a shell.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_PRIMARY_",
            "CARGO_TARGET_TMPDIR",
            "CARGO_RUSTC_CURRENT_DIR",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        {
            build.env_remove(name.as_ref());
        }
    }
    build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--example", name, "--no-default-features"])
        .args(["--features", &features.join(",")]);
    if !cfg!(debug_assertions) {
        build.arg("--release");
    }
    let out = build.output().unwrap();
    assert!(
        out.status.success(),
        "building the example failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // target/<profile>/deps/demo-HASH -> target/<profile>/examples/microblog
    let profile_dir = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .to_path_buf();
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Both demos serve mail on 127.0.0.1:8025: one at a time.
static PORT_8025: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn assert_contains(haystack: &str, needle: &str, what: &str) {
    assert!(
        haystack.contains(needle),
        "{what} should contain {needle:?}; it is:\n{haystack}"
    );
}

#[test]
fn the_microblog_demo_mails_the_error_and_the_panic_and_writes_its_logs() {
    let binary = example_binary("microblog");
    let _port = PORT_8025.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(&binary)
        .current_dir(dir.path())
        .env_remove("SENTRY_DSN") // the demo as it runs without a Sentry server
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the demo failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        !stdout.contains("cannot start the debugging SMTP server"),
        "127.0.0.1:8025 is in use by another program; the demo needs it free:\n{stdout}"
    );

    // The requests: one fine, one hitting the UNIQUE constraint.
    assert_contains(&stdout, "-> 302 Found, redirect to /user/susan_b", "stdout");
    assert_contains(&stdout, "-> 500 Internal Server Error", "stdout");

    // The error mail, as the debugging server printed it: subject, body, error chain.
    let (_, after_requests) = stdout.split_once("-- the mail the admins get").unwrap();
    let (error_mail, panic_part) = after_requests
        .split_once("-- a background thread panics --")
        .unwrap();
    assert_contains(
        error_mail,
        "X-Envelope-To: admin@microblog.localhost",
        "the error mail",
    );
    assert_contains(
        error_mail,
        "Subject: Microblog Failure: Exception on /edit_profile [POST]\n",
        "the error mail (a one-line subject, the chain is in the body)",
    );
    assert_contains(
        error_mail,
        "ERROR in handle [microblog::routes, examples/microblog.rs:",
        "the error mail (funcName from the crate's macros)",
    );
    assert_contains(
        error_mail,
        "cannot save the profile of \"susan_b\" (user 2) with the new username \"john\"",
        "the error mail (its error chain)",
    );
    assert_contains(
        error_mail,
        "UNIQUE constraint failed: user.username",
        "the error mail (the cause in its error chain)",
    );

    // The panic mail: message, location, backtrace.
    let (panic_mail, logs_part) = panic_part.split_once("-- logs/microblog.log --").unwrap();
    assert_contains(
        panic_mail,
        "Subject: Microblog Failure: thread 'avatar-resizer' panicked at examples/microblog.rs:",
        "the panic mail",
    );
    assert_contains(panic_mail, "every post has an author", "the panic mail");
    assert_contains(
        panic_mail,
        "ERROR in main [panic, examples/microblog.rs:",
        "the panic mail (funcName: the function that panicked)",
    );
    assert_contains(panic_mail, "stack backtrace:", "the panic mail");
    assert_contains(panic_mail, "microblog::main", "the panic mail's backtrace");

    // The log files, read from disk (not from what the demo printed).
    let main_log = std::fs::read_to_string(dir.path().join("logs/microblog.log")).unwrap();
    assert_contains(
        &main_log,
        "INFO: Microblog startup [in examples/microblog.rs:",
        "microblog.log",
    );
    assert_contains(
        &main_log,
        "ERROR: Exception on /edit_profile [POST] [in examples/microblog.rs:",
        "microblog.log",
    );
    assert_contains(
        &main_log,
        "UNIQUE constraint failed: user.username",
        "microblog.log",
    );
    assert_contains(
        &main_log,
        "ERROR: thread 'avatar-resizer' panicked",
        "microblog.log",
    );
    assert_contains(&main_log, "INFO: Microblog shutdown", "microblog.log");
    assert!(
        !main_log.contains("DEBUG"),
        "the db logger's debug records must not reach microblog.log (threshold info):\n{main_log}"
    );
    let sql_log = std::fs::read_to_string(dir.path().join("logs/microblog-sql.log")).unwrap();
    assert_contains(
        &sql_log,
        "microblog::db.update_user: UPDATE user SET username=\"john\"",
        "microblog-sql.log",
    );
    assert_contains(
        &sql_log,
        "microblog::db.update_user: ROLLBACK",
        "microblog-sql.log",
    );
    assert_contains(
        logs_part,
        "Microblog startup",
        "the demo's printout of its log",
    );
}

/// `cargo run --example microblog_tracing`: the same demo through the tracing front end.
#[cfg(feature = "tracing")]
#[test]
fn the_microblog_tracing_demo_mails_the_error_with_its_spans_and_writes_its_logs() {
    let binary = example_binary("microblog_tracing");
    let _port = PORT_8025.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(&binary)
        .current_dir(dir.path())
        .env_remove("SENTRY_DSN") // the demo as it runs without a Sentry server
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the demo failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        !stdout.contains("cannot start the debugging SMTP server"),
        "127.0.0.1:8025 is in use by another program; the demo needs it free:\n{stdout}"
    );
    let (_, after_requests) = stdout.split_once("-- the mail the admins get").unwrap();
    let (error_mail, panic_part) = after_requests
        .split_once("-- a background thread panics --")
        .unwrap();
    assert_contains(
        error_mail,
        "Subject: Microblog Failure: Exception on /edit_profile [POST]\n",
        "the error mail",
    );
    assert_contains(
        error_mail,
        "ERROR in handle [microblog_tracing::routes, examples/microblog_tracing.rs:",
        "the error mail (funcName: the #[instrument] function)",
    );
    assert_contains(
        error_mail,
        "[request{method=\"POST\" path=\"/edit_profile\"}:handle]: Exception on /edit_profile [POST]",
        "the error mail (the span chain)",
    );
    assert_contains(
        error_mail,
        "Caused by: (sqlite3.IntegrityError) UNIQUE constraint failed: user.username",
        "the error mail (the error chain of a tracing `dyn Error` field)",
    );
    assert_contains(
        panic_part,
        "Subject: Microblog Failure: thread 'avatar-resizer' panicked at examples/microblog_tracing.rs:",
        "the panic mail (a `log` record through the bridge)",
    );
    let main_log = std::fs::read_to_string(dir.path().join("logs/microblog-tracing.log")).unwrap();
    assert_eq!(
        main_log.matches("Exception on /edit_profile").count(),
        1,
        "once:\n{main_log}"
    );
    assert!(!main_log.contains("DEBUG"), "{main_log}");
    let sql_log =
        std::fs::read_to_string(dir.path().join("logs/microblog-tracing-sql.log")).unwrap();
    assert_contains(
        &sql_log,
        "microblog_tracing::db.update_user: ROLLBACK",
        "microblog-tracing-sql.log (its own logger at debug, funcName from the span)",
    );
}
