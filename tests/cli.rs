//! The `log4rs-appenders` binary, run for real: each subcommand, its output and exit code,
//! failure paths included.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_log4rs-appenders");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn every_subcommand_has_help_that_documents_exit_codes() {
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["send-test", "--help"],
        &["smtp-debug-server", "--help"],
        &["eventlog", "--help"],
        &["eventlog", "register", "--help"],
    ] {
        let out = run(args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stdout.contains("Usage:"), "{args:?}: {stdout}");
        if args.len() == 2 && args[0] != "eventlog" || args == ["--help"] {
            assert!(stdout.contains("Exit codes:"), "{args:?}: {stdout}");
        }
    }
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    let cases: [(&[&str], &str); 4] = [
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&["check"], "required arguments were not provided"),
        (
            &["send-test", "x.yaml", "--level", "loud"],
            "unknown level \"loud\"; use one of error, warn, info, debug, trace",
        ),
        (
            &["smtp-debug-server", "--port", "1"],
            "unexpected argument '--port'",
        ),
    ];
    for (args, expected) in cases {
        let out = run(args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// Runs `check` on `yaml` (written to `name` in a temporary directory), expecting the exit code
/// `code`: (stdout, stderr).
fn check_yaml(name: &str, yaml: &str, code: i32) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), name, yaml);
    let out = run(&["check", &config]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(code), "{stdout}{stderr}");
    (stdout, stderr)
}

#[test]
fn check_lists_every_problem_at_once_and_exits_1() {
    let (_, stderr) = check_yaml(
        "bad.yaml",
        "appenders:\n  out: { kind: consol }\n  f: { kind: file }\nroot: { level: loud, appenders: [out, nope] }\n",
        1,
    );
    for expected in [
        "has 4 problems",
        "appender \"out\": field \"kind\": unknown appender kind \"consol\" (did you mean `console`?)",
        "appender \"f\":",
        "root logger: field \"level\": unknown level \"loud\"",
        "no appender named \"nope\"",
        "bad.yaml: 4 problems; nothing would be logged with this config until the problems are \
         fixed",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}

/// Counts read as English: `1 problem`, `1 filter`, `2 filters`, never `problem(s)`.
#[test]
fn check_counts_in_the_singular_for_one_and_the_plural_otherwise() {
    let (_, stderr) = check_yaml(
        "one.yaml",
        "appenders:\n  out: { kind: console }\nroot: { level: loud, appenders: [out] }\n",
        1,
    );
    assert!(stderr.contains("has 1 problem:"), "{stderr}");
    assert!(
        stderr.contains(
            "one.yaml: 1 problem; nothing would be logged with this config until the problem is \
             fixed"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("(s)"), "{stderr}");

    let (stdout, _) = check_yaml(
        "filters.yaml",
        "appenders:\n  \
           one:\n    kind: console\n    filters: [{ kind: threshold, level: warn }]\n  \
           two:\n    kind: console\n    filters:\n      - { kind: threshold, level: warn }\n      \
           - { kind: threshold, level: error }\n\
         root: { level: info, appenders: [one, two] }\n",
        0,
    );
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name} in:\n{stdout}"))
            .to_owned()
    };
    assert!(line("one").ends_with("(1 filter)"), "{stdout}");
    assert!(line("two").ends_with("(2 filters)"), "{stdout}");
    assert!(!stdout.contains("(s)"), "{stdout}");
}

#[test]
fn check_of_a_missing_file_says_so_and_exits_1() {
    let out = run(&["check", "/nonexistent/log4rs.yaml"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("cannot read it"), "{stderr}");
}

#[test]
fn check_summarizes_which_loggers_reach_which_appenders() {
    let out = run(&["check", "config-examples/per-library.yaml"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let line = |start: &str| {
        stdout
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{stdout}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        stdout.starts_with("config-examples/per-library.yaml: OK"),
        "{stdout}"
    );
    assert_eq!(line("app_log"), "app_log file -> logs/app.log");
    assert_eq!(line("root"), "root warn -> problems");
    assert_eq!(
        line("microblog"),
        "microblog info -> app_log (additive: false)"
    );
    assert_eq!(
        line("globset"),
        "globset debug -> app_log, problems (with its parents')"
    );
}

fn file_config(dir: &Path, log: &Path, extra_appender: &str, loggers: &str) -> String {
    write(
        dir,
        "log4rs.yaml",
        &format!(
            "appenders:\n  main_log:\n    kind: file\n    path: {:?}\n    encoder: {{ pattern: \"{{l}} {{t}} {{m}}{{n}}\" }}\n{extra_appender}root: {{ level: info, appenders: [main_log] }}\n{loggers}",
            log.to_string_lossy()
        ),
    )
}

#[test]
fn send_test_writes_one_record_and_reports_each_appender_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let (main_log, db_log) = (dir.path().join("main.log"), dir.path().join("db.log"));
    let config = file_config(
        dir.path(),
        &main_log,
        &format!(
            "  db_log:\n    kind: file\n    path: {:?}\n    encoder: {{ pattern: \"{{l}} {{t}} {{m}}{{n}}\" }}\n",
            db_log.to_string_lossy()
        ),
        "loggers:\n  app::db: { level: debug, appenders: [db_log] }\n",
    );
    let out = run(&[
        "send-test",
        &config,
        "--level",
        "warn",
        "--logger",
        "app::db::pool",
        "--message",
        "smoke test 7",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("configured logger \"app::db\" (level debug), appenders: db_log, main_log"),
        "{stdout}"
    );
    assert!(stdout.contains("db_log (file): DELIVERED"), "{stdout}");
    assert!(stdout.contains("main_log (file): DELIVERED"), "{stdout}");
    for log in [&main_log, &db_log] {
        assert_eq!(
            std::fs::read_to_string(log).unwrap(),
            "WARN app::db::pool smoke test 7\n"
        );
    }
}

#[test]
fn send_test_reports_an_appender_that_fails_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let ok_log = dir.path().join("ok.log");
    // /dev/full opens fine and fails every write with "no space left on device".
    let config = file_config(
        dir.path(),
        &ok_log,
        "  full_disk: { kind: file, path: /dev/full }\n",
        "loggers:\n  app: { level: info, appenders: [full_disk] }\n",
    );
    let out = run(&["send-test", &config, "--logger", "app"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("full_disk (file): FAILED:"), "{stdout}");
    assert!(stdout.to_lowercase().contains("no space left"), "{stdout}");
    assert!(stdout.contains("main_log (file): DELIVERED"), "{stdout}");
    assert!(
        std::fs::read_to_string(&ok_log)
            .unwrap()
            .starts_with("ERROR app log4rs-appenders send-test")
    );
}

#[test]
fn send_test_says_when_the_logger_level_stops_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("main.log");
    let config = file_config(dir.path(), &log, "", "");
    let out = run(&["send-test", &config, "--level", "debug"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("logger \"root\" is at level info, so a debug record on \"send_test\" goes nowhere; try --level info"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "");
}

#[test]
fn send_test_skips_an_appender_whose_filter_rejects_the_level() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("main.log");
    let quiet = dir.path().join("errors-only.log");
    let config = file_config(
        dir.path(),
        &log,
        &format!(
            "  errors_only:\n    kind: file\n    path: {:?}\n    filters: [{{ kind: threshold, level: error }}]\n",
            quiet.to_string_lossy()
        ),
        "loggers:\n  app: { level: info, appenders: [errors_only] }\n",
    );
    let out = run(&["send-test", &config, "--level", "info", "--logger", "app"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("errors_only (file): SKIPPED: its filter rejects"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&quiet).unwrap(), "");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .starts_with("INFO app ")
    );
}

#[test]
fn send_test_on_a_broken_config_lists_the_problems_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "bad.yaml", "appenders:\n  f: { kind: file }\n");
    let out = run(&["send-test", &config]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("appender \"f\":"), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
}

/// Starts `smtp-debug-server` on a free port; returns the child and the port it printed.
fn start_debug_server(
    extra: &[&str],
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    u16,
) {
    let mut child = Command::new(BIN)
        .args(["smtp-debug-server", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let port = first
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    (child, stdout, port)
}

#[test]
fn smtp_debug_server_prints_each_mail_decoded_and_stops_after_max_mails() {
    if !support::peer_available("python3", "apt-get install python3") {
        return;
    }
    let (mut child, mut stdout, port) = start_debug_server(&["--max-mails", "1"]);
    // Python's smtplib as an independent client; a UTF-8 body makes it quoted-printable or base64.
    let client = Command::new("python3")
        .args([
            "-c",
            r#"
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["Subject"] = "Microblog Failure: José"
m["From"] = "no-reply@localhost"
m["To"] = "admin@example.com"
m.set_content("Traceback (most recent call last):\n.leading dot\nusername déjà pris")
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
    s.send_message(m)
"#,
            &port.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        client.status.success(),
        "{}",
        String::from_utf8_lossy(&client.stderr)
    );
    let mut printed = String::new();
    let start = Instant::now();
    while !printed.contains("END MESSAGE") && start.elapsed() < Duration::from_secs(10) {
        if stdout.read_line(&mut printed).unwrap() == 0 {
            break;
        }
    }
    for expected in [
        "X-Envelope-From: no-reply@localhost",
        "X-Envelope-To: admin@example.com",
        "Subject: Microblog Failure: José",
        "Traceback (most recent call last):\n.leading dot\nusername déjà pris",
    ] {
        assert!(
            printed.contains(expected),
            "missing {expected:?} in:\n{printed}"
        );
    }
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "--max-mails 1 should end the server"
    );
}

fn wait_with_timeout(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn smtp_debug_server_on_a_port_in_use_says_so_and_exits_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["smtp-debug-server", "--listen", &addr]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("pick another port with --listen"),
        "{stderr}"
    );
}

#[cfg(not(windows))]
#[test]
fn eventlog_explains_it_needs_windows_and_exits_1() {
    for action in ["register", "deregister", "status"] {
        let out = run(&["eventlog", action, "Micro Blog", "--log", "Ops"]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        if cfg!(feature = "eventlog") {
            assert!(
                stderr.contains("event source \"Micro Blog\"") && stderr.contains("Ops"),
                "{stderr}"
            );
            assert!(stderr.contains("exist only on Windows"), "{stderr}");
        } else {
            assert!(stderr.contains("cargo feature `eventlog`"), "{stderr}");
        }
    }
}

#[test]
fn eventlog_rejects_an_empty_source_name_in_plain_words() {
    let out = run(&["eventlog", "status", ""]);
    let (_, stderr) = text(&out);
    if cfg!(feature = "eventlog") {
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("must not be empty"), "{stderr}");
    }
}

#[cfg(all(not(windows), feature = "eventlog"))]
#[test]
fn send_test_does_not_claim_event_log_delivery_off_windows() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("main.log");
    let config = file_config(
        dir.path(),
        &log,
        "  eventlog: { kind: windows_event_log, source: Microblog, on_other_platforms: ignore }\n",
        "loggers:\n  app: { level: info, appenders: [eventlog] }\n",
    );
    let out = run(&["send-test", &config, "--logger", "app"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "eventlog (windows_event_log): SKIPPED: the Windows Event Log exists only on Windows"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 delivered, 0 failed, 1 skipped"),
        "{stdout}"
    );
}

#[cfg(feature = "smtp")]
fn smtp_config(dir: &Path, port: u16) -> String {
    let log = dir.join("main.log");
    file_config(
        dir,
        &log,
        &format!(
            "  mail:\n    kind: smtp\n    host: 127.0.0.1\n    port: {port}\n    security: none\n    from: app@localhost\n    to: [ops@localhost]\n    subject: \"%(levelname)s: %(message)s\"\n    level: error\n    timeout: 5 seconds\n"
        ),
        "loggers:\n  app: { level: info, appenders: [mail] }\n",
    )
}

#[cfg(feature = "smtp")]
#[test]
fn send_test_mails_through_the_smtp_appender_and_reports_it_delivered() {
    let server = log4rs_appenders::debug_smtp::DebugSmtpServer::start("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = smtp_config(dir.path(), server.local_addr().port());
    let out = run(&[
        "send-test",
        &config,
        "--logger",
        "app",
        "--message",
        "smoke from CI",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "mail (smtp): DELIVERED: the mail server at 127.0.0.1:{} accepted the mail",
            server.local_addr().port()
        )),
        "{stdout}"
    );
    let mail = server
        .recv_timeout(Duration::from_secs(10))
        .expect("the test mail should have arrived before send-test said DELIVERED");
    assert_eq!(mail.subject(), "ERROR: smoke from CI");
    assert_eq!(mail.to, ["ops@localhost"]);
}

#[cfg(feature = "smtp")]
#[test]
fn send_test_reports_an_unreachable_mail_server_as_failed_and_exits_1() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let config = smtp_config(dir.path(), port);
    let out = run(&["send-test", &config, "--logger", "app"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("mail (smtp): FAILED:"), "{stdout}");
    assert!(stdout.contains("main_log (file): DELIVERED"), "{stdout}");
    assert!(
        stdout.contains("1 delivered, 1 failed, 0 skipped"),
        "{stdout}"
    );
}

/// Issue 12 item 8: `check` said OK for a 0-byte file; an empty or root-less file logs nothing.
#[test]
fn check_refuses_an_empty_or_rootless_file_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    for (name, contents, expected) in [
        ("empty.yaml", "", "the file is empty"),
        ("comments.yaml", "# to do\n\n", "the file is empty"),
        (
            "rootless.yaml",
            "appenders:\n  out: { kind: console }\n",
            "field \"root\" is missing",
        ),
    ] {
        let config = write(dir.path(), name, contents);
        let out = run(&["check", &config]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {stdout}{stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(!stdout.contains("OK"), "{name}: {stdout}");
    }
}

/// `check` only checks: a good config's files are not created (and no spool is sent).
#[test]
fn check_starts_no_appender() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let config = write(
        dir.path(),
        "good.yaml",
        &format!(
            "appenders:\n  f: {{ kind: file, path: {:?} }}\n  r: {{ kind: rotating_file, path: {:?} }}\nroot: {{ level: info, appenders: [f, r] }}\n",
            logs.join("f.log").display().to_string(),
            logs.join("r.log").display().to_string()
        ),
    );
    let out = run(&["check", &config]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("OK"), "{stdout}");
    assert!(!logs.exists(), "check created {}", logs.display());
}

#[test]
fn check_never_shows_a_secret_whatever_its_type() {
    let dir = tempfile::tempdir().unwrap();
    for value in [
        "98765432",
        "-98765432",
        "98765.432",
        "9.8765432e7",
        "true",
        "[hunter2, 98765432]",
        "{hunter2: 98765432}",
        // Too large for any number type: refused by the YAML parser before any field sees it.
        "98765432123456789012345678901234567890",
    ] {
        let config = write(
            dir.path(),
            "secret.yaml",
            &format!(
                "appenders:\n  mail:\n    kind: smtp\n    host: 127.0.0.1\n    from: a@b.c\n    \
                 to: [x@y.z]\n    username: u\n    password: {value}\nroot: {{ level: info, \
                 appenders: [mail] }}\n"
            ),
        );
        let out = run(&["check", &config]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{value}: {stdout}{stderr}");
        for part in ["98765", "hunter2", "true", "8765"] {
            assert!(
                !stdout.contains(part) && !stderr.contains(part),
                "{value}: the secret shows: {stdout}{stderr}"
            );
        }
        assert!(
            stderr.contains("the value is not shown because the field is secret")
                || stderr.contains("(value not shown)"),
            "{value}: {stderr}"
        );
    }
}

#[test]
fn check_piped_into_a_reader_that_stops_early_exits_0_quietly() {
    // `check cfg | head -2`: enough loggers that the summary outgrows the pipe's buffer, so the
    // binary is still writing when the reader goes away.
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from(
        "appenders:\n  out: { kind: console }\nroot: { level: info, appenders: [out] }\nloggers:\n",
    );
    for i in 0..5000 {
        yaml.push_str(&format!(
            "  app::module{i}: {{ level: debug, appenders: [out] }}\n"
        ));
    }
    let config = write(dir.path(), "many.yaml", &yaml);
    let mut child = Command::new(BIN)
        .args(["check", &config])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.next().unwrap().unwrap().ends_with(": OK"));
    assert_eq!(lines.next().unwrap().unwrap(), "appenders:");
    drop(lines);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn check_lists_ten_thousand_loggers_each_with_its_route() {
    // The summary routes every logger: a map, not a scan per logger (which was quadratic:
    // benches/check.rs measures the time; this pins the output).
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("appenders:\n");
    for a in 0..1000 {
        yaml.push_str(&format!("  a{a}: {{ kind: console }}\n"));
    }
    yaml.push_str("root: { level: info, appenders: [a0] }\nloggers:\n  app: { level: warn, appenders: [a1], additive: false }\n");
    for i in 0..10_000 {
        yaml.push_str(&format!(
            "  app::m{i}: {{ level: debug, appenders: [a{}] }}\n",
            i % 1000
        ));
    }
    let config = write(dir.path(), "many.yaml", &yaml);
    let out = run(&["check", &config]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let loggers: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("loggers"))
        .skip(1)
        .collect();
    assert_eq!(loggers.len(), 10_002, "root, app and 10,000 under it");
    assert!(
        loggers.contains(&"  app::m1234  debug -> a234, a1  (with its parents')"),
        "{:?}",
        &loggers[..5]
    );
    let app = format!("  {:10}  warn  -> a1  (additive: false)", "app");
    assert!(loggers.contains(&app.as_str()), "{app}");
}

#[test]
fn send_test_into_a_closed_pipe_exits_0_quietly() {
    // `send-test cfg | head -0`: the reader is gone before the first verdict is printed.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = write(
        dir.path(),
        "file.yaml",
        &format!(
            "appenders:\n  f: {{ kind: file, path: {:?} }}\nroot: {{ level: info, appenders: [f] }}\n",
            log.display().to_string()
        ),
    );
    let mut child = Command::new(BIN)
        .args(["send-test", &config])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn smtp_debug_server_whose_reader_went_away_stops_quietly_at_the_next_mail() {
    if !support::peer_available("python3", "apt-get install python3") {
        return;
    }
    // `smtp-debug-server | head -1`: the reader leaves after the greeting; the next mail cannot
    // be printed, so the server ends (exit 0, nothing on stderr) instead of panicking.
    let (mut child, stdout, port) = start_debug_server(&[]);
    drop(stdout);
    let client = Command::new("python3")
        .args([
            "-c",
            r#"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
    s.sendmail("a@localhost", ["b@localhost"], "Subject: x\r\n\r\nbody\r\n")
"#,
            &port.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        client.status.success(),
        "{}",
        String::from_utf8_lossy(&client.stderr)
    );
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
