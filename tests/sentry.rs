//! The sentry appender against a real Sentry-protocol server we did not write: Bugsink (Django +
//! SQLite), one per test binary (tests/bugsink), a project per test, and what it stored read
//! back through its own models. Installed by scripts/install/sentry.sh.
#![cfg(feature = "sentry")]

mod bugsink;

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use log::kv::Value;
use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::fields::Secret;
use log4rs_appenders::sentry::{SentryAppender, SentryAppenderBuilder};
use serde_json::Value as Json;

use bugsink::{Bugsink, Project};

const WAIT: Duration = Duration::from_secs(20);

/// Everything the appenders reported from their threads, for assertions by appender name.
fn reported() -> &'static Mutex<Vec<String>> {
    static REPORTS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    REPORTS.get_or_init(|| {
        log4rs_appenders::set_error_handler(|e| {
            eprintln!("log4rs (captured): {e:#}");
            reported().lock().unwrap().push(format!("{e:#}"));
        });
        Mutex::new(Vec::new())
    })
}

fn reports_for(name: &str) -> Vec<String> {
    let needle = format!("appender \"{name}\"");
    reported()
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.contains(&needle))
        .cloned()
        .collect()
}

fn builder(project: &Project, name: &str) -> SentryAppenderBuilder {
    reported();
    SentryAppender::builder()
        .name(name)
        .dsn(Secret::new(project.dsn.clone()))
        .environment("test")
        .release("microblog@1.4.2")
}

#[derive(Debug)]
struct ProfileError(std::io::Error);

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("cannot write the profile file")
    }
}

impl std::error::Error for ProfileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn texts(values: &Json) -> Vec<(String, String)> {
    values
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["type"].as_str().unwrap_or_default().to_owned(),
                        e["value"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn server() -> Option<&'static Bugsink> {
    bugsink::shared()
}

#[test]
fn an_error_with_a_source_chain_arrives_with_its_title_exceptions_tags_and_extra() {
    let Some(server) = server() else { return };
    let _up = server.shared_use();
    let project = server.project("chain");
    let appender = builder(&project, "chain")
        .tags(["user_id"])
        .build()
        .unwrap();
    let error = ProfileError(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        "permission denied: profiles/alice.json",
    ));
    let who = String::from("alice");
    let kvs: &[(&str, Value)] = &[
        ("error", Value::from_dyn_error(&error)),
        ("user_id", Value::from(42)),
        ("request_id", Value::from("r-7")),
    ];
    appender
        .append(
            &Record::builder()
                .level(Level::Error)
                .target("microblog::profile")
                .file(Some("src/profile.rs"))
                .line(Some(42))
                .module_path(Some("microblog::profile"))
                .args(format_args!("cannot save the profile of {who}"))
                .key_values(&kvs)
                .build(),
        )
        .unwrap();
    appender.flush();
    let issues = server.wait_for_events(&project, 1, WAIT);
    assert_eq!(issues.len(), 1, "{issues:#?}\n{}", server.log());
    let issue = &issues[0];
    // Sentry's title: the outermost exception.
    assert_eq!(
        (issue.ty.as_str(), issue.value.as_str()),
        ("ProfileError", "cannot write the profile file")
    );
    let event = &issue.events[0];
    assert_eq!(
        texts(&event["exception"]["values"]),
        [
            (
                "Custom".to_owned(),
                "permission denied: profiles/alice.json".to_owned()
            ),
            (
                "ProfileError".to_owned(),
                "cannot write the profile file".to_owned()
            ),
        ],
        "innermost first, the error itself last"
    );
    assert_eq!(event["message"], "cannot save the profile of alice");
    assert_eq!(event["logger"], "microblog::profile");
    assert_eq!(event["tags"]["user_id"], "42");
    assert_eq!(event["extra"]["request_id"], "r-7");
    assert_eq!(event["extra"]["line"], 42);
    assert_eq!(event["environment"], "test");
    assert_eq!(event["release"], "microblog@1.4.2");
    assert!(event["server_name"].is_string());
    assert!(
        reports_for("chain").is_empty(),
        "{:?}",
        reports_for("chain")
    );
}

const BIN: &str = env!("CARGO_BIN_EXE_log4rs-appenders");

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sentry_config(dir: &std::path::Path, dsn: &str, extra: &str) -> String {
    let path = dir.join("log4rs.yaml");
    std::fs::write(
        &path,
        format!(
            "appenders:\n  sentry:\n    kind: sentry\n    dsn: \"{dsn}\"\n    timeout: 2 s\n{extra}root:\n  level: info\n  appenders: [sentry]\n"
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn check_shows_where_events_go_but_never_the_dsn_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = "5ecre7ke70123456789abcdef0123456";
    let config = sentry_config(
        dir.path(),
        &format!("https://{key}@sentry.example.com/42"),
        "",
    );
    let (ok, out, err) = cli(&["check", &config]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("sentry.example.com/42"), "{out}");
    assert!(!out.contains(key) && !err.contains(key), "{out}{err}");

    // A broken DSN: the field is named, the key is not shown.
    let config = sentry_config(
        dir.path(),
        &format!("htps://{key}@sentry.example.com/42"),
        "",
    );
    let (ok, out, err) = cli(&["check", &config]);
    assert!(!ok);
    assert!(err.contains("dsn") || out.contains("dsn"), "{out}{err}");
    assert!(!out.contains(key) && !err.contains(key), "{out}{err}");
}

#[test]
fn send_test_reports_an_event_bugsink_stored_as_delivered() {
    let Some(server) = server() else { return };
    let _up = server.shared_use();
    let project = server.project("send-test");
    let dir = tempfile::tempdir().unwrap();
    let config = sentry_config(dir.path(), &project.dsn, "");
    let (ok, out, err) = cli(&["send-test", &config, "--message", "send-test event 4711"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("sentry (sentry): DELIVERED"), "{out}");
    let key = project
        .dsn
        .split('@')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert!(!out.contains(key) && !err.contains(key), "{out}{err}");
    let issues = server.wait_for_events(&project, 1, WAIT);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].events[0]["message"], "send-test event 4711");
}

#[test]
fn send_test_reports_an_unreachable_server_as_failed() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = sentry_config(
        dir.path(),
        &format!("http://0123456789abcdef@127.0.0.1:{port}/1"),
        "",
    );
    let (ok, out, err) = cli(&["send-test", &config]);
    assert!(!ok, "{out}{err}");
    assert!(out.contains("sentry (sentry): FAILED"), "{out}");
    assert!(!out.contains("0123456789abcdef"), "{out}");
}

#[test]
fn errors_from_one_call_site_group_into_one_issue_and_another_site_gets_its_own() {
    let Some(server) = server() else { return };
    let _up = server.shared_use();
    let project = server.project("grouping");
    let appender = builder(&project, "grouping").build().unwrap();
    let log = |who: &str, what: &str, line: u32| {
        appender
            .append(
                &Record::builder()
                    .level(Level::Error)
                    .target("microblog::profile")
                    .file(Some("src/profile.rs"))
                    .line(Some(line))
                    .args(format_args!("cannot save the {what} of {who}"))
                    .build(),
            )
            .unwrap();
    };
    // Messages that differ in words, not only in numbers: the server's own grouping would
    // split them; the call site keeps them together.
    log("alice", "profile", 42);
    log("bob", "avatar picture", 42);
    log("carol", "notification settings", 42);
    // The same words from another call site: another issue.
    log("alice", "profile", 57);
    appender.flush();
    let issues = server.wait_for_events(&project, 4, WAIT);
    let mut counts: Vec<(u64, usize)> = issues
        .iter()
        .map(|i| (i.event_count, i.events.len()))
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, [(1, 1), (3, 3)], "{issues:#?}");
    let three = issues.iter().find(|i| i.event_count == 3).unwrap();
    let lines: Vec<&Json> = three.events.iter().map(|e| &e["extra"]["line"]).collect();
    assert!(lines.iter().all(|l| **l == 42), "{lines:?}");
}

fn spooled(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "envelope"))
                .collect()
        })
        .unwrap_or_default()
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn outage_error(appender: &SentryAppender, text: &str) {
    appender
        .append(
            &Record::builder()
                .level(Level::Error)
                .target("microblog::jobs")
                .file(Some("src/jobs.rs"))
                .line(Some(7))
                .args(format_args!("{text}"))
                .build(),
        )
        .unwrap();
}

/// Every message of a project's events, with how often each arrived.
fn message_counts(issues: &[bugsink::StoredIssue]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for event in issues.iter().flat_map(|i| &i.events) {
        let m = event["message"].as_str().unwrap_or_default().to_owned();
        *counts.entry(m).or_insert(0) += 1;
    }
    counts
}

#[test]
fn an_outage_with_a_spool_delivers_every_event_exactly_once_also_across_a_restart() {
    let Some(server) = server() else { return };
    let _alone = server.exclusive();
    let project = server.project("outage");
    let spool = tempfile::tempdir().unwrap();
    let spool_dir = spool.path().join("sentry");
    let start = |name: &str| {
        builder(&project, name)
            .spool_dir(&spool_dir)
            .retry_backoff(Duration::from_millis(100))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    };

    server.stop();
    let appender = start("outage");
    for i in 0..50 {
        outage_error(
            &appender,
            &format!("job {i} failed while the tracker was down"),
        );
    }
    // Written before any attempt to send: all 50 are on disk, private.
    wait_until("50 spooled events", WAIT, || {
        spooled(&spool_dir).len() == 50
    });
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&spool_dir), 0o700);
        assert!(spooled(&spool_dir).iter().all(|f| mode(f) == 0o600));
    }
    server.start();
    let issues = server.wait_for_events(&project, 50, Duration::from_secs(90));
    let counts = message_counts(&issues);
    assert_eq!(counts.len(), 50, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "duplicates: {counts:?}");
    wait_until("an empty spool", WAIT, || spooled(&spool_dir).is_empty());
    // Reported when it starts (and once per later streak: on this loaded machine a request
    // can time out, and the resend carries the same event_id, which the server keeps once).
    let reports = reports_for("outage");
    assert!(
        reports
            .first()
            .is_some_and(|r| r.contains("kept in spool_dir") && r.contains("cannot reach")),
        "{reports:?}"
    );
    assert!(
        !reports
            .iter()
            .any(|r| r.contains("dropped") || r.contains("lost,") || tells_of_a_loss(r)),
        "{reports:?}"
    );
    drop(appender);

    // An application that stops during an outage: the next run sends what it left.
    server.stop();
    let first_run = start("outage-first-run");
    for i in 0..5 {
        outage_error(&first_run, &format!("left by the first run {i}"));
    }
    wait_until("5 spooled events", WAIT, || spooled(&spool_dir).len() == 5);
    drop(first_run);
    assert_eq!(spooled(&spool_dir).len(), 5, "nothing is lost at exit");
    server.start();
    let second_run = start("outage-second-run");
    let issues = server.wait_for_events(&project, 55, Duration::from_secs(60));
    let counts = message_counts(&issues);
    assert_eq!(counts.len(), 55, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "duplicates: {counts:?}");
    wait_until("an empty spool", WAIT, || spooled(&spool_dir).is_empty());
    drop(second_run);
}

#[test]
fn a_spool_dir_writable_by_others_or_a_link_is_refused_at_check() {
    let dir = tempfile::tempdir().unwrap();
    let dsn = Secret::new("https://0123456789abcdef@sentry.example.com/1");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = SentryAppender::builder()
            .dsn(dsn.clone())
            .spool_dir(&shared)
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("spool_dir") && e.contains("writable by other users"),
            "{e}"
        );
        let private = dir.path().join("private");
        std::fs::create_dir(&private).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&private, &link).unwrap();
        let e = SentryAppender::builder()
            .dsn(dsn.clone())
            .spool_dir(&link)
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("spool_dir") && e.contains("symbolic link"),
            "{e}"
        );
    }
    // Checking creates nothing.
    let fresh = dir.path().join("fresh");
    SentryAppender::builder()
        .dsn(dsn)
        .spool_dir(&fresh)
        .check()
        .unwrap();
    assert!(!fresh.exists());
}

#[inline(never)]
fn load_user_profile(user: &str) -> String {
    if user == "mallory" {
        panic!("profile store unreachable for {user}");
    }
    user.to_owned()
}

#[inline(never)]
fn handle_profile_request(user: &str) -> usize {
    load_user_profile(user).len()
}

#[test]
fn a_panic_arrives_unhandled_with_its_message_and_the_application_s_stack_frames() {
    let Some(server) = server() else { return };
    let _up = server.shared_use();
    let project = server.project("panic");
    // log_panics() logs through the global logger: route it to this project (the only test
    // of this binary that sets one).
    let appender = builder(&project, "panic").build().unwrap();
    let config = log4rs::Config::builder()
        .appender(log4rs::config::Appender::builder().build("sentry", Box::new(appender)))
        .build(
            log4rs::config::Root::builder()
                .appender("sentry")
                .build(log::LevelFilter::Info),
        )
        .unwrap();
    let _handle = log4rs::init_config(config).unwrap();
    log4rs_appenders::log_panics();
    let worker = std::thread::Builder::new()
        .name("profile-worker".into())
        .spawn(|| handle_profile_request("mallory"))
        .unwrap();
    assert!(worker.join().is_err(), "the thread panicked");
    log::logger().flush();

    let issues = server.wait_for_events(&project, 1, WAIT);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let issue = &issues[0];
    assert_eq!(
        (issue.ty.as_str(), issue.value.as_str()),
        ("panic", "profile store unreachable for mallory")
    );
    let event = &issue.events[0];
    assert_eq!(event["level"], "fatal");
    let exception = &event["exception"]["values"][0];
    assert_eq!(exception["mechanism"]["type"], "panic");
    assert_eq!(exception["mechanism"]["handled"], false);
    let frames = exception["stacktrace"]["frames"]
        .as_array()
        .expect("frames");
    let functions: Vec<&str> = frames
        .iter()
        .map(|f| f["function"].as_str().unwrap_or_default())
        .collect();
    // Sentry's order: outermost first, the panicking function last.
    let panicking = frames.last().unwrap();
    assert_eq!(
        panicking["function"], "sentry::load_user_profile",
        "{functions:#?}"
    );
    assert_eq!(panicking["in_app"], true);
    assert!(
        panicking["filename"]
            .as_str()
            .unwrap()
            .ends_with("sentry.rs")
    );
    assert!(panicking["lineno"].as_u64().is_some());
    let caller = functions
        .iter()
        .position(|f| *f == "sentry::handle_profile_request")
        .expect("the caller's frame");
    assert_eq!(caller + 2, frames.len(), "{functions:#?}");
    assert!(
        frames
            .iter()
            .filter(|f| f["function"]
                .as_str()
                .unwrap_or_default()
                .starts_with("std::"))
            .all(|f| f["in_app"] == false),
        "{frames:#?}"
    );
    assert_eq!(event["threads"]["values"][0]["name"], "profile-worker");
    assert_eq!(event["threads"]["values"][0]["crashed"], true);
}

fn info(appender: &SentryAppender, text: &str) {
    log_at(appender, Level::Info, text)
}

fn log_at(appender: &SentryAppender, level: Level, text: &str) {
    appender
        .append(
            &Record::builder()
                .level(level)
                .target("microblog::auth")
                .args(format_args!("{text}"))
                .build(),
        )
        .unwrap();
}

#[test]
fn an_event_carries_the_breadcrumbs_its_thread_logged_before_it() {
    let Some(server) = server() else { return };
    let _up = server.shared_use();
    let project = server.project("breadcrumbs");
    let appender = std::sync::Arc::new(
        builder(&project, "breadcrumbs")
            .max_breadcrumbs(2)
            .build()
            .unwrap(),
    );
    info(&appender, "user alice logged in");
    info(&appender, "alice opened her settings");
    log_at(&appender, Level::Warn, "alice changed her avatar");
    // Debug is below `breadcrumbs: info`: not kept.
    appender
        .append(
            &Record::builder()
                .level(Level::Debug)
                .args(format_args!("cache miss"))
                .build(),
        )
        .unwrap();
    // Another thread's records are its own breadcrumbs (scope: thread).
    let other = appender.clone();
    std::thread::spawn(move || info(&other, "bob logged in"))
        .join()
        .unwrap();
    appender
        .append(
            &Record::builder()
                .level(Level::Error)
                .target("microblog::profile")
                .file(Some("src/profile.rs"))
                .line(Some(9))
                .args(format_args!("cannot save the avatar"))
                .build(),
        )
        .unwrap();
    appender.flush();
    let issues = server.wait_for_events(&project, 1, WAIT);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let crumbs = issues[0].events[0]["breadcrumbs"]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let messages: Vec<&str> = crumbs
        .iter()
        .map(|c| c["message"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        messages,
        ["alice opened her settings", "alice changed her avatar"],
        "the latest max_breadcrumbs of this thread, oldest first"
    );
    assert_eq!(crumbs[0]["category"], "microblog::auth");
    // Sentry's default level of a breadcrumb is info, so it is left out; others are named.
    assert!(crumbs[0]["level"].is_null() || crumbs[0]["level"] == "info");
    assert_eq!(crumbs[1]["level"], "warning");
    assert!(crumbs[0]["timestamp"].is_number() || crumbs[0]["timestamp"].is_string());
}

/// What the `tracing` tests emit: an info event (a breadcrumb) and an error with fields and a
/// `dyn Error`, inside `request{..}:save_profile`.
#[cfg(feature = "tracing")]
fn emit_tracing_error() {
    let request = tracing::info_span!("request", request_id = "r-7", user = "ann");
    let _request = request.enter();
    tracing::info!(target: "microblog::auth", "ann opened her settings");
    let save = tracing::info_span!("save_profile");
    let _save = save.enter();
    let error = ProfileError(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        "permission denied: profiles/ann.json",
    ));
    tracing::error!(
        target: "microblog::profile",
        user_id = 42,
        attempt = 3,
        error = &error as &dyn std::error::Error,
        "cannot save the profile of {}",
        "ann"
    );
}

/// What Bugsink must have stored for [`emit_tracing_error`].
#[cfg(feature = "tracing")]
fn check_tracing_event(server: &Bugsink, project: &Project) {
    let issues = server.wait_for_events(project, 1, WAIT);
    assert_eq!(issues.len(), 1, "{issues:#?}\n{}", server.log());
    let issue = &issues[0];
    assert_eq!(
        (issue.ty.as_str(), issue.value.as_str()),
        ("ProfileError", "cannot write the profile file"),
        "the title is the outermost exception, with its type"
    );
    let event = &issue.events[0];
    assert_eq!(
        texts(&event["exception"]["values"]),
        [
            (
                "Custom".to_owned(),
                "permission denied: profiles/ann.json".to_owned()
            ),
            (
                "ProfileError".to_owned(),
                "cannot write the profile file".to_owned()
            ),
        ],
        "the source() chain, innermost first"
    );
    assert_eq!(event["message"], "cannot save the profile of ann");
    // Error is the event's default level, which sentry-types leaves out.
    assert!(
        event["level"].is_null() || event["level"] == "error",
        "{event:#}"
    );
    assert_eq!(event["logger"], "microblog::profile");
    assert_eq!(event["tags"]["user_id"], "42");
    assert_eq!(event["extra"]["attempt"], 3);
    assert!(event["extra"].get("error").is_none(), "{event:#}");
    // The span context: the chain with its fields, the innermost span as funcName.
    assert_eq!(
        event["extra"]["spans"], "request{request_id=\"r-7\" user=\"ann\"}:save_profile",
        "{event:#}"
    );
    assert_eq!(event["extra"]["funcName"], "save_profile");
    assert!(
        event["extra"]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("sentry.rs")),
        "{event:#}"
    );
    let crumbs: Vec<&str> = event["breadcrumbs"]["values"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["message"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(crumbs, ["ann opened her settings"], "{event:#}");
}

#[cfg(feature = "tracing")]
#[test]
fn a_tracing_error_routed_by_yaml_arrives_with_its_exception_chain_tags_and_spans() {
    use tracing_subscriber::prelude::*;
    let Some(server) = server() else { return };
    let _up = server.shared_use();
    reported();
    let project = server.project("tracing-yaml");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log4rs.yaml");
    std::fs::write(
        &path,
        format!(
            "appenders:\n  sentry:\n    kind: sentry\n    dsn: \"{}\"\n    environment: test\n    \
             tags: [user_id]\nroot:\n  level: info\n  appenders: [sentry]\n",
            project.dsn
        ),
    )
    .unwrap();
    let layer = log4rs_appenders::tracing::layer_from_file(&path).unwrap();
    let flush = layer.flush_guard();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, emit_tracing_error);
    flush.flush();
    check_tracing_event(server, &project);
    assert!(
        reports_for("sentry").is_empty(),
        "{:?}",
        reports_for("sentry")
    );
}

#[cfg(feature = "tracing")]
#[test]
fn a_tracing_error_through_an_appender_layer_arrives_with_its_exception_chain_tags_and_spans() {
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::prelude::*;
    let Some(server) = server() else { return };
    let _up = server.shared_use();
    let project = server.project("tracing-layer");
    let appender = builder(&project, "tracing-layer")
        .tags(["user_id"])
        .build()
        .unwrap();
    let layer = log4rs_appenders::tracing::AppenderLayer::new(appender);
    let flush = layer.flush_guard();
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO));
    tracing::subscriber::with_default(subscriber, emit_tracing_error);
    flush.flush();
    check_tracing_event(server, &project);
    assert!(
        reports_for("tracing-layer").is_empty(),
        "{:?}",
        reports_for("tracing-layer")
    );
}

/// During a reload to a config with the same `spool_dir`, the old appender is still draining
/// while the new one starts: one at a time owns the spool (as the smtp appender's), so each
/// spooled event goes out once, and the new one sends its own events meanwhile.
#[test]
fn two_appenders_on_one_spool_dir_send_each_spooled_event_once() {
    let Some(server) = server() else { return };
    let _up = server.shared_use();
    let project = server.project("spool-lock");
    let spool = tempfile::tempdir().unwrap();
    let spool_dir = spool.path().join("sentry");
    // The old appender cannot deliver: its server is gone (a port nobody listens on).
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead_dsn = project
        .dsn
        .replace(&format!(":{}/", server.port), &format!(":{dead_port}/"));
    let old = SentryAppender::builder()
        .name("spool-old")
        .dsn(Secret::new(dead_dsn))
        .spool_dir(&spool_dir)
        .timeout(Duration::from_millis(500))
        .retry_backoff(Duration::from_millis(50))
        .build()
        .unwrap();
    outage_error(&old, "spooled by the old appender");
    wait_until("1 spooled event", WAIT, || spooled(&spool_dir).len() == 1);

    let new = builder(&project, "spool-new")
        .spool_dir(&spool_dir)
        .retry_backoff(Duration::from_millis(100))
        .build()
        .unwrap();
    outage_error(&new, "sent by the new appender");
    new.flush();
    let issues = server.wait_for_events(&project, 1, WAIT);
    std::thread::sleep(Duration::from_millis(1500));
    let counts = message_counts(&server.issues(&project));
    assert_eq!(
        counts.keys().collect::<Vec<_>>(),
        ["sent by the new appender"],
        "the new appender sends its own events, and leaves the spool the old one holds: {issues:#?}"
    );

    drop(old); // the reload's old config goes away
    let issues = server.wait_for_events(&project, 2, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    let counts = message_counts(&server.issues(&project));
    assert_eq!(counts.len(), 2, "{issues:#?}");
    assert!(counts.values().all(|n| *n == 1), "duplicates: {counts:?}");
    wait_until("an empty spool", WAIT, || spooled(&spool_dir).is_empty());
    drop(new);
    assert!(
        reports_for("spool-new").is_empty(),
        "{:?}",
        reports_for("spool-new")
    );
}

/// Bugsink answers 429 with `X-Sentry-Rate-Limits: 60::key, ...` while a project is over its
/// quota (its real ingest view; the quota state is set through its model, as its own tests do,
/// instead of sending it 1,000 events). The appender pauses for the 60 s asked, sends nothing
/// meanwhile, loses nothing, and the next run sends what it kept.
#[test]
fn a_429_with_x_sentry_rate_limits_from_bugsink_pauses_sending_and_loses_nothing() {
    let Some(server) = server() else { return };
    let _up = server.shared_use();
    let project = server.project("rate-limited");
    let spool = tempfile::tempdir().unwrap();
    let spool_dir = spool.path().join("sentry");
    let start = |name: &str| {
        builder(&project, name)
            .spool_dir(&spool_dir)
            .retry_backoff(Duration::from_millis(100))
            .build()
            .unwrap()
    };
    server.exceed_quota(&project, 600);
    let appender = start("rate-limited");
    outage_error(&appender, "sent while over quota");
    wait_until("the 429", WAIT, || {
        server.envelope_requests(&project, 429) == 1
    });
    wait_until("the report of the pause", WAIT, || {
        !reports_for("rate-limited").is_empty()
    });
    let reports = reports_for("rate-limited");
    assert!(
        reports[0].contains("pause for 59 s") || reports[0].contains("pause for 60 s"),
        "{reports:?}"
    );
    // The quota is lifted, but the server asked for 60 s: nothing is sent before that.
    server.exceed_quota(&project, 0);
    outage_error(&appender, "sent during the pause");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        (
            server.envelope_requests(&project, 429),
            server.envelope_requests(&project, 200)
        ),
        (1, 0),
        "one request, then none during the pause\n{}",
        server.log()
    );
    assert!(server.issues(&project).is_empty());
    assert_eq!(spooled(&spool_dir).len(), 2, "both kept");
    drop(appender);

    // The next run (no pause of its own yet) sends both, once each.
    let next = start("rate-limited-next-run");
    let issues = server.wait_for_events(&project, 2, WAIT);
    let counts = message_counts(&issues);
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "duplicates: {counts:?}");
    wait_until("an empty spool", WAIT, || spooled(&spool_dir).is_empty());
    drop(next);
    assert!(
        !reports
            .iter()
            .any(|r| r.contains("dropped") || r.contains("refused") || tells_of_a_loss(r)),
        "{reports:?}"
    );
}

/// Whether a report tells of records or events lost: the start of a drop streak says they
/// "are dropped", its count "N records were lost .." or "1 error event was lost .." (and a
/// recovery's "nothing was lost" is not a loss).
fn tells_of_a_loss(report: &str) -> bool {
    ["record", "event"].iter().any(|noun| {
        report.contains(&format!(" {noun}s were lost"))
            || report.contains(&format!(" {noun} was lost"))
    })
}

/// A test CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem,
/// server.key) in `dir`.
fn write_test_pki(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "log4rs-appenders test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "bugsink");
    let cert = params.signed_by(&key, &issuer).unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    (paths.0, paths.1, paths.2)
}

/// HTTPS to Bugsink behind a real TLS terminator (gunicorn with Python's ssl) whose certificate
/// a private CA signed: delivered with `root_certificate: <the CA>`; without it (Mozilla's
/// roots), the certificate is refused, reported, and the event kept, never sent in clear.
#[test]
fn https_with_a_private_ca_delivers_with_root_certificate_and_is_refused_without_it() {
    let Some(server) = server() else { return };
    let _up = server.shared_use();
    let project = server.project("tls");
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = write_test_pki(dir.path());
    let front = server.start_tls(&cert, &key);
    let https_dsn = project
        .dsn
        .replace("http://", "https://")
        .replace(&format!(":{}/", server.port), &format!(":{}/", front.port));

    // Mozilla's roots do not know the private CA: refused, reported, nothing stored.
    let untrusting = SentryAppender::builder()
        .name("tls-untrusted")
        .dsn(Secret::new(https_dsn.clone()))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    outage_error(&untrusting, "sent to a certificate nobody vouched for");
    wait_until("the refusal report", WAIT, || {
        !reports_for("tls-untrusted").is_empty()
    });
    let reports = reports_for("tls-untrusted");
    assert!(
        reports[0].contains("cannot reach")
            && reports[0].contains("UnknownIssuer")
            && reports[0].contains("set root_certificate"),
        "{reports:?}"
    );
    drop(untrusting);

    let trusting = SentryAppender::builder()
        .name("tls-trusted")
        .dsn(Secret::new(https_dsn))
        .root_certificate(&ca)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    outage_error(&trusting, "sent over TLS to the private CA's server");
    trusting.flush();
    let issues = server.wait_for_events(&project, 1, WAIT);
    let counts = message_counts(&issues);
    assert_eq!(
        counts.keys().collect::<Vec<_>>(),
        ["sent over TLS to the private CA's server"],
        "{issues:#?}"
    );
    assert!(
        reports_for("tls-trusted").is_empty(),
        "{:?}",
        reports_for("tls-trusted")
    );
    drop(front);
}

/// Without `spool_dir`, an outage keeps the newest `queue_size` events in memory; the older ones
/// are dropped, reported when the drops start (once), counted, and the count reported when
/// delivery works again, to stderr and to Sentry itself as a warning event.
#[test]
fn an_outage_without_a_spool_keeps_the_newest_events_and_reports_the_count_of_the_others() {
    let Some(server) = server() else { return };
    let _alone = server.exclusive();
    let project = server.project("backlog");
    server.stop();
    // on_full: block, so that only the backlog drops (the queue between the threads, of
    // queue_size too, never does, however slowly the sending thread runs on a loaded machine).
    let appender = builder(&project, "backlog")
        .queue_size(5)
        .on_full(log4rs_appenders::worker::OnFull::Block)
        .retry_backoff(Duration::from_millis(100))
        .build()
        .unwrap();
    for i in 0..20 {
        outage_error(&appender, &format!("job {i} failed"));
    }
    wait_until("the report of the first drop", WAIT, || {
        reports_for("backlog")
            .iter()
            .any(|r| r.contains("the in-memory backlog of 5 events"))
    });
    server.start();
    let issues = server.wait_for_events(&project, 6, Duration::from_secs(60));
    let counts = message_counts(&issues);
    let lost = format!(
        "15 error events were lost: the buffer of 5 events was full while {} could not be reached \
         (queue_size; set spool_dir to keep them)",
        project
            .dsn
            .split_once('@')
            .map(|(_, rest)| {
                let (host, id) = rest.rsplit_once('/').unwrap();
                format!("http://{host}/api/{id}/envelope/")
            })
            .unwrap()
    );
    let mut expected: Vec<String> = (15..20).map(|i| format!("job {i} failed")).collect();
    expected.push(lost.clone());
    expected.sort();
    assert_eq!(
        counts.keys().cloned().collect::<Vec<_>>(),
        expected,
        "the newest 5 and the count of the others\n{issues:#?}"
    );
    assert!(counts.values().all(|n| *n == 1), "duplicates: {counts:?}");
    let notice = issues
        .iter()
        .flat_map(|i| &i.events)
        .find(|e| e["message"] == lost.as_str())
        .unwrap();
    assert_eq!(notice["level"], "warning");
    let reports = reports_for("backlog");
    assert_eq!(
        reports
            .iter()
            .filter(|r| r.contains("the in-memory backlog"))
            .count(),
        1,
        "once per streak: {reports:?}"
    );
    assert!(reports.iter().any(|r| r.ends_with(&lost)), "{reports:?}");
    drop(appender);
}

/// An application that exits while the server is unreachable: every event is accounted for when
/// the appender is dropped (the in-memory ones lost, with their count; the spooled ones kept for
/// the next run).
#[test]
fn an_exit_during_an_outage_reports_what_is_lost_and_what_the_spool_keeps() {
    reported();
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dsn = format!("http://0123456789abcdef@127.0.0.1:{dead_port}/7");
    let url = format!("http://127.0.0.1:{dead_port}/api/7/envelope/");
    let start = |name: &str| {
        SentryAppender::builder()
            .name(name)
            .dsn(Secret::new(dsn.clone()))
            .queue_size(2)
            .on_full(log4rs_appenders::worker::OnFull::Block)
            .timeout(Duration::from_millis(500))
    };

    let appender = start("exit-in-memory").build().unwrap();
    for i in 0..5 {
        outage_error(&appender, &format!("job {i} failed"));
    }
    drop(appender);
    let reports: Vec<String> = reports_for("exit-in-memory")
        .into_iter()
        .filter(|r| r.contains("shutting down"))
        .collect();
    assert_eq!(
        reports,
        [
            format!(
                "appender \"exit-in-memory\": shutting down: 3 error events were lost: the buffer \
                 of 2 events was full while {url} could not be reached (queue_size; set spool_dir \
                 to keep them)"
            ),
            format!(
                "appender \"exit-in-memory\": shutting down: 2 error events were lost while {url} \
                 was not taking them (set spool_dir to keep them for the next run)"
            ),
        ]
    );

    let spool = tempfile::tempdir().unwrap();
    let spool_dir = spool.path().join("sentry");
    let appender = start("exit-spooled").spool_dir(&spool_dir).build().unwrap();
    for i in 0..5 {
        outage_error(&appender, &format!("job {i} failed"));
    }
    drop(appender);
    let reports: Vec<String> = reports_for("exit-spooled")
        .into_iter()
        .filter(|r| r.contains("shutting down"))
        .collect();
    assert_eq!(
        reports,
        [format!(
            "appender \"exit-spooled\": shutting down: 5 events are kept in spool_dir {} and sent \
             by the next run",
            spool_dir.display()
        )]
    );
    assert_eq!(spooled(&spool_dir).len(), 5);
}
