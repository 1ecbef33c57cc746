#![cfg(all(feature = "smtp", feature = "debug-smtp"))]
//! `cargo run --example microblog`, for real: the example binary runs in an empty directory,
//! starts its debugging SMTP server on 127.0.0.1:8025, and must print both mails (the request
//! error with its error chain, the panic with its backtrace) and leave the log files. With
//! `SENTRY_DSN` pointing at a real Bugsink (tests/bugsink), it must also store both as issues.

use std::path::PathBuf;
use std::process::Command;

#[cfg(feature = "sentry")]
mod bugsink;

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
        ("sentry", cfg!(feature = "sentry")),
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
    let stdout = check_microblog_run(&out, dir.path());
    assert!(!stdout.contains("SENTRY_DSN"), "{stdout}");
}

/// What the microblog demo must have done, with or without `SENTRY_DSN`: answered both requests,
/// mailed the error (with its chain) and the panic (with its backtrace), written both log files.
/// Returns its stdout.
fn check_microblog_run(out: &std::process::Output, dir: &std::path::Path) -> String {
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
    let main_log = std::fs::read_to_string(dir.join("logs/microblog.log")).unwrap();
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
    let sql_log = std::fs::read_to_string(dir.join("logs/microblog-sql.log")).unwrap();
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
    stdout.into_owned()
}

/// `SENTRY_DSN=... cargo run --example microblog` against a real Bugsink (tests/bugsink): the
/// request error and the panic arrive as two issues with their exceptions and the demo's own
/// function names, and the demo still mails and writes its logs as without Sentry.
#[cfg(feature = "sentry")]
#[test]
fn the_microblog_demo_with_sentry_dsn_sends_the_error_and_the_panic_to_bugsink_too() {
    let started = std::time::Instant::now();
    let Some(server) = bugsink::shared() else {
        return;
    };
    let project = server.project("microblog-demo");
    let binary = example_binary("microblog");
    let _port = PORT_8025.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let demo_started = std::time::Instant::now();
    let out = Command::new(&binary)
        .current_dir(dir.path())
        .env("SENTRY_DSN", &project.dsn)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stdout = check_microblog_run(&out, dir.path());
    assert_contains(
        &stdout,
        "SENTRY_DSN is set: the error and the panic also go to Sentry",
        "stdout",
    );
    let ran = demo_started.elapsed();
    // The DSN's key is a secret: the demo never prints it.
    let key = project
        .dsn
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(key, _)| key)
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains(key) && !stderr.contains(key),
        "the DSN's key was printed:\n{stdout}\n{stderr}"
    );

    let issues = server.wait_for_events(&project, 2, std::time::Duration::from_secs(20));
    let titles: Vec<(&str, &str)> = issues
        .iter()
        .map(|i| (i.ty.as_str(), i.value.as_str()))
        .collect();
    assert_eq!(
        titles,
        [
            (
                "RequestError",
                "cannot save the profile of \"susan_b\" (user 2) with the new username \"john\""
            ),
            ("panic", "every post has an author"),
        ],
        "two issues, the request error's and the panic's; the server's log:\n{}",
        server.log()
    );
    assert!(
        issues.iter().all(|i| i.events.len() == 1),
        "each sent once: {issues:#?}"
    );

    // The request error: its chain as exceptions (innermost first), where it was logged, the
    // records its thread logged before it as breadcrumbs, the demo's environment and release.
    let error = &issues[0].events[0];
    let exceptions: Vec<(&str, &str)> = error["exception"]["values"]
        .as_array()
        .expect("exceptions")
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default(),
                e["value"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        exceptions,
        [
            (
                "IntegrityError",
                "(sqlite3.IntegrityError) UNIQUE constraint failed: user.username [SQL: UPDATE \
                 user SET username=\"john\", about_me=\"I like tea\" WHERE user.id = 2]"
            ),
            (
                "RequestError",
                "cannot save the profile of \"susan_b\" (user 2) with the new username \"john\""
            ),
        ],
        "{error:#}"
    );
    assert_eq!(error["message"], "Exception on /edit_profile [POST]");
    assert_eq!(error["logger"], "microblog::routes");
    assert_eq!(error["extra"]["funcName"], "handle", "{error:#}");
    assert_eq!(error["extra"]["module"], "microblog::routes");
    assert_eq!(error["extra"]["file"], "examples/microblog.rs");
    assert_eq!(error["environment"], "demo");
    assert_eq!(error["release"], "microblog@0.1.0");
    assert_eq!(error["threads"]["values"][0]["name"], "main");
    let breadcrumbs: Vec<(&str, &str)> = error["breadcrumbs"]["values"]
        .as_array()
        .expect("breadcrumbs")
        .iter()
        .map(|b| {
            (
                b["message"].as_str().unwrap_or_default(),
                b["data"]["funcName"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        breadcrumbs,
        [
            ("Microblog startup", "main"),
            ("\"susan\" is now \"susan_b\"", "edit_profile"),
        ],
        "the info records before it (the db logger's debug records are not breadcrumbs)"
    );

    // The panic: unhandled, on the thread that panicked, with the stack frames from the demo's
    // closure in `main` to `Option::expect`, the demo's frame in app and the library's not.
    let panic = &issues[1].events[0];
    assert_eq!(panic["level"], "fatal");
    assert_eq!(panic["logger"], "panic");
    assert_eq!(panic["extra"]["funcName"], "main");
    assert_eq!(panic["threads"]["values"][0]["name"], "avatar-resizer");
    assert_eq!(panic["threads"]["values"][0]["crashed"], true);
    let exception = &panic["exception"]["values"][0];
    assert_eq!(exception["mechanism"]["type"], "panic");
    assert_eq!(exception["mechanism"]["handled"], false);
    let frames = exception["stacktrace"]["frames"]
        .as_array()
        .expect("frames");
    let functions: Vec<&str> = frames
        .iter()
        .map(|f| f["function"].as_str().unwrap_or_default())
        .collect();
    let demo = functions
        .iter()
        .position(|f| *f == "microblog::main::{{closure}}")
        .unwrap_or_else(|| panic!("the demo's closure in main among {functions:#?}"));
    let frame = &frames[demo];
    assert_eq!(frame["in_app"], true, "{frame:#}");
    assert!(
        frame["filename"]
            .as_str()
            .unwrap_or_default()
            .ends_with("examples/microblog.rs"),
        "{frame:#}"
    );
    assert_eq!(frame["lineno"], panic["extra"]["line"], "{frame:#}");
    assert!(
        functions[demo + 1..]
            .iter()
            .any(|f| f.contains("Option<T>::expect")),
        "Sentry's order, outermost first: the demo's frame, then expect: {functions:#?}"
    );
    assert!(
        frames[demo + 1..].iter().all(|f| f["in_app"] == false),
        "{frames:#?}"
    );
    eprintln!(
        "the demo ran in {:.1} s; the test took {:.1} s (Bugsink's start included)",
        ran.as_secs_f64(),
        started.elapsed().as_secs_f64()
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
