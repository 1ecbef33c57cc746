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
