//! The smtp appender against a real SMTP server we did not write: aiosmtpd, run by
//! tests/smtp_server.py (installed by scripts/install/smtp.sh).
#![cfg(feature = "smtp")]

mod smtp_peer;
mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::config::Secret;
use log4rs_appenders::smtp::{Security, SmtpAppender, SmtpAppenderBuilder};
use smtp_peer::{ReceivedMail, SmtpServer};

const WAIT: Duration = Duration::from_secs(15);

fn peer() -> bool {
    support::python_module_available(
        "aiosmtpd",
        "bash scripts/install/smtp.sh (pip install aiosmtpd)",
    )
}

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

fn log(a: &SmtpAppender, level: Level, line: u32, message: &str) {
    let appended = a.append(
        &Record::builder()
            .level(level)
            .target("app::db")
            .file(Some("src/db.rs"))
            .line(Some(line))
            .args(format_args!("{message}"))
            .build(),
    );
    // A full queue (a loaded machine, a storm) is reported and counted in the next mail, which
    // the tests check; any other failure is a bug.
    if let Err(e) = appended {
        assert!(format!("{e}").contains("the mail queue is full"), "{e:#}");
    }
}

/// A plain-SMTP appender to `port` with short windows for tests.
fn plain(name: &str, port: u16) -> SmtpAppenderBuilder {
    let _ = reported();
    SmtpAppender::builder()
        .name(name)
        .host("127.0.0.1")
        .port(port)
        .security(Security::None)
        .from("app@example.com")
        .to("ops@example.com")
        .batch_window(Duration::ZERO)
        .max_mails_per_hour(10_000)
        .timeout(Duration::from_secs(5))
}

struct Cert {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

/// A self-signed certificate for 127.0.0.1/localhost, made for this test.
fn self_signed() -> Cert {
    let dir = tempfile::tempdir().unwrap();
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    Cert {
        _dir: dir,
        cert,
        key,
    }
}

fn tls_server(mode: &str, cert: &Cert, auth: Option<&str>) -> SmtpServer {
    let mut args = vec![
        "--mode",
        mode,
        "--cert",
        cert.cert.to_str().unwrap(),
        "--key",
        cert.key.to_str().unwrap(),
    ];
    if let Some(a) = auth {
        args.extend(["--auth", a]);
    }
    SmtpServer::start(&args)
}

fn sum_records(mails: &[ReceivedMail]) -> u64 {
    mails.iter().map(ReceivedMail::records).sum()
}

#[test]
fn an_error_arrives_as_a_mail_with_rendered_subject_and_body() {
    if !peer() {
        return;
    }
    let server = SmtpServer::start(&[]);
    let a = plain("plain", server.port)
        .subject("%(levelname)s in %(name)s")
        .build()
        .unwrap();
    log(&a, Level::Info, 1, "below the threshold, not mailed");
    log(&a, Level::Error, 2, "database is gone");
    a.flush();
    let mails = server.wait_until(WAIT, |m| !m.is_empty());
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(m.from, "app@example.com");
    assert_eq!(m.to, vec!["ops@example.com"]);
    assert_eq!(m.subject, "ERROR in app::db");
    assert!(m.body.contains("database is gone"), "{}", m.body);
    assert!(m.body.contains("src/db.rs:2"), "{}", m.body);
    assert!(!m.body.contains("below the threshold"), "{}", m.body);
    assert_eq!(m.records(), 1);
}

#[test]
fn starttls_with_auth_and_a_custom_root_certificate_delivers() {
    if !peer() {
        return;
    }
    let cert = self_signed();
    let server = tls_server("starttls", &cert, Some("mailer:s3cret-pw"));
    let a = plain("starttls", server.port)
        .security(Security::Starttls)
        .root_certificate(&cert.cert)
        .credentials("mailer", Secret::new("s3cret-pw"))
        .build()
        .unwrap();
    log(&a, Level::Error, 3, "over starttls");
    a.flush();
    let mails = server.wait_until(WAIT, |m| !m.is_empty());
    assert_eq!(mails.len(), 1, "reports: {:?}", reports_for("starttls"));
    assert_eq!(mails[0].auth.as_deref(), Some("mailer"));
    assert!(mails[0].body.contains("over starttls"));
}

#[test]
fn implicit_tls_with_auth_delivers() {
    if !peer() {
        return;
    }
    let cert = self_signed();
    let server = tls_server("tls", &cert, Some("mailer:pw2"));
    let pem = std::fs::read(&cert.cert).unwrap();
    let a = plain("smtps", server.port)
        .security(Security::Tls)
        .root_certificate_pem(pem)
        .credentials("mailer", Secret::new("pw2"))
        .build()
        .unwrap();
    log(&a, Level::Error, 4, "over implicit tls");
    a.flush();
    let mails = server.wait_until(WAIT, |m| !m.is_empty());
    assert_eq!(mails.len(), 1, "reports: {:?}", reports_for("smtps"));
    assert_eq!(mails[0].auth.as_deref(), Some("mailer"));
}

#[test]
fn an_unknown_certificate_is_refused_and_reported_unless_explicitly_accepted() {
    if !peer() {
        return;
    }
    let cert = self_signed();
    let server = tls_server("tls", &cert, None);
    let a = plain("untrusted", server.port)
        .security(Security::Tls)
        .retry_backoff(Duration::from_secs(30))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    log(&a, Level::Error, 5, "must not leak to an unverified server");
    a.flush();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.received().is_empty(),
        "a mail went to a server with an unknown certificate"
    );
    let reports = reports_for("untrusted");
    assert!(
        reports
            .iter()
            .any(|r| r.contains("certificate") && r.contains("cannot deliver mail")),
        "{reports:?}"
    );

    let b = plain("dangerous", server.port)
        .security(Security::Tls)
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    log(&b, Level::Error, 6, "accepted on purpose");
    b.flush();
    let mails = server.wait_until(WAIT, |m| !m.is_empty());
    assert_eq!(mails.len(), 1);
    assert!(mails[0].body.contains("accepted on purpose"));
}

#[test]
fn a_refused_login_is_reported_once_naming_the_user_and_never_retried() {
    if !peer() {
        return;
    }
    let cert = self_signed();
    let server = tls_server("starttls", &cert, Some("mailer:right"));
    let secret = "Wr0ng-Pa55-do-not-print";
    let builder = plain("badlogin", server.port)
        .security(Security::Starttls)
        .root_certificate(&cert.cert)
        .credentials("mailer", Secret::new(secret))
        .retry_backoff(Duration::from_millis(20))
        .timeout(Duration::from_secs(1));
    assert!(!format!("{builder:?}").contains(secret));
    let a = builder.build().unwrap();
    assert!(!format!("{a:?}").contains(secret));
    log(&a, Level::Error, 7, "cannot log in");
    // Time for a dozen retries at a 20 ms backoff, had the 535 been retried.
    std::thread::sleep(Duration::from_millis(600));
    log(&a, Level::Error, 8, "still cannot log in");
    a.flush();
    std::thread::sleep(Duration::from_millis(300));
    let reports = reports_for("badlogin");
    let auth_reports: Vec<_> = reports
        .iter()
        .filter(|r| r.contains("authentication failed"))
        .collect();
    assert_eq!(auth_reports.len(), 1, "{reports:?}");
    assert!(auth_reports[0].contains("\"mailer\""), "{reports:?}");
    assert!(auth_reports[0].contains("535"), "{reports:?}");
    assert!(reports.iter().all(|r| !r.contains(secret)), "{reports:?}");
    assert_eq!(server.events("auth").len(), 1, "login attempts");
    assert!(server.received().is_empty());
}

#[test]
fn a_server_that_stops_answering_is_reported_as_a_timeout_at_that_step() {
    if !peer() {
        return;
    }
    let server = SmtpServer::start(&["--stall-at", "MAIL"]);
    let a = plain("stalled", server.port)
        .timeout(Duration::from_millis(700))
        .retry_backoff(Duration::from_secs(30))
        .build()
        .unwrap();
    log(&a, Level::Error, 9, "nobody answers");
    let end = std::time::Instant::now() + WAIT;
    while reports_for("stalled").is_empty() && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let reports = reports_for("stalled");
    assert!(
        reports
            .iter()
            .any(|r| r.contains("the server did not answer within 700ms at MAIL FROM")),
        "{reports:?}"
    );
    assert!(
        reports.iter().all(|r| !r.contains("os error")),
        "{reports:?}"
    );
}

#[test]
fn a_refused_recipient_is_reported_once_and_the_others_still_get_every_mail() {
    if !peer() {
        return;
    }
    let server = SmtpServer::start(&["--refuse", "departed@example.com"]);
    let a = plain("refused-rcpt", server.port)
        .to("departed@example.com")
        .to("oncall@example.com")
        .build()
        .unwrap();
    log(&a, Level::Error, 10, "first");
    a.flush();
    log(&a, Level::Error, 11, "second");
    a.flush();
    let mails = server.wait_until(WAIT, |m| m.len() >= 2);
    assert_eq!(mails.len(), 2, "{mails:?}");
    for m in &mails {
        assert_eq!(m.to, vec!["ops@example.com", "oncall@example.com"]);
    }
    let reports = reports_for("refused-rcpt");
    let refused: Vec<_> = reports
        .iter()
        .filter(|r| r.contains("departed@example.com"))
        .collect();
    assert_eq!(refused.len(), 1, "once per streak: {reports:?}");
    assert!(refused[0].contains("550"), "{reports:?}");
    // One refused, two accepted: each counted in its own number.
    assert!(
        refused[0].contains("the server refused recipient departed@example.com")
            && refused[0].contains("the mail went to the 2 accepted recipients"),
        "{}",
        refused[0]
    );
}

#[test]
fn a_mail_whose_every_recipient_is_refused_is_refused_naming_them() {
    if !peer() {
        return;
    }
    let server = SmtpServer::start(&["--refuse", "ops@example.com"]);
    let a = plain("all-refused", server.port).build().unwrap();
    log(&a, Level::Error, 12, "nobody wants it");
    a.flush();
    let reports = reports_for("all-refused");
    assert!(
        reports.iter().any(|r| r.contains("refused every recipient")
            && r.contains("ops@example.com (permanent error (550)")
            && r.contains("not retried")),
        "{reports:?}"
    );
    assert!(server.received().is_empty());
}

#[test]
fn a_deferred_recipient_gets_the_mail_later_and_nobody_gets_it_twice() {
    if !peer() {
        return;
    }
    let server = SmtpServer::start(&["--defer-once", "later@example.com"]);
    let a = plain("deferred-rcpt", server.port)
        .to("later@example.com")
        .retry_backoff(Duration::from_millis(50))
        .build()
        .unwrap();
    log(&a, Level::Error, 13, "for both, once each");
    a.flush();
    let mails = server.wait_until(WAIT, |m| m.len() >= 2);
    std::thread::sleep(Duration::from_millis(300));
    let mails_after = server.received();
    assert_eq!(mails_after.len(), 2, "{mails:?}");
    assert_eq!(mails_after[0].to, vec!["ops@example.com"]);
    assert_eq!(mails_after[1].to, vec!["later@example.com"]);
    assert_eq!(mails_after[0].body, mails_after[1].body);
}

#[test]
fn a_storm_of_100000_errors_becomes_a_handful_of_mails_that_count_every_one() {
    if !peer() {
        return;
    }
    let server = SmtpServer::start(&[]);
    let a = plain("storm", server.port)
        .batch_window(Duration::from_millis(500))
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    for i in 0..100_000u32 {
        // Three call sites, messages that differ every time.
        log(
            &a,
            Level::Error,
            10 + i % 3,
            &format!("request {i} failed: timeout"),
        );
    }
    let produced_in = start.elapsed();
    a.flush();
    let mails = server.wait_until(WAIT, |m| sum_records(m) >= 100_000);
    assert_eq!(sum_records(&mails), 100_000, "{} mails", mails.len());
    assert!(
        mails.len() <= 20,
        "{} mails for a storm of {produced_in:?}",
        mails.len()
    );
    // The body's own counts agree with the header: listed repeats + suppressed + dropped.
    let mut listed = 0u64;
    for m in &mails {
        let mut in_mail = 0;
        for line in m.body.lines() {
            if let Some(rest) = line.strip_prefix("--- ") {
                in_mail += rest.split('x').next().unwrap().parse::<u64>().unwrap();
            }
            for prefix in ["Suppressed: ", "Dropped: "] {
                if let Some(rest) = line.strip_prefix(prefix) {
                    in_mail += rest.split(' ').next().unwrap().parse::<u64>().unwrap();
                }
            }
        }
        assert_eq!(in_mail, m.records(), "{}", m.body);
        listed += in_mail;
        assert!(m.body.lines().filter(|l| l.starts_with("--- ")).count() <= 3);
    }
    assert_eq!(listed, 100_000);
    eprintln!(
        "storm: 100000 errors in {produced_in:?} -> {} mails",
        mails.len()
    );
}

#[test]
fn context_records_before_an_error_are_included() {
    if !peer() {
        return;
    }
    let server = SmtpServer::start(&[]);
    let a = plain("context", server.port)
        .context_records(3)
        .build()
        .unwrap();
    for i in 1..=5 {
        log(&a, Level::Info, 20, &format!("step {i} of the request"));
    }
    log(&a, Level::Error, 21, "and then it failed");
    a.flush();
    let mails = server.wait_until(WAIT, |m| !m.is_empty());
    assert_eq!(mails.len(), 1);
    let body = &mails[0].body;
    assert!(!body.contains("step 2 of"), "{body}");
    for i in 3..=5 {
        assert!(body.contains(&format!("step {i} of the request")), "{body}");
    }
    assert!(body.find("step 5").unwrap() < body.find("and then it failed").unwrap());
    assert_eq!(
        mails[0].records(),
        1,
        "context records are not counted as errors"
    );
}

#[test]
fn every_error_arrives_exactly_once_across_a_server_restart() {
    if !peer() {
        return;
    }
    let mails = Arc::new(Mutex::new(Vec::new()));
    let server = SmtpServer::start_into(&[], mails.clone());
    let port = server.port;
    let spool = tempfile::tempdir().unwrap();
    let a = plain("restart", port)
        .spool_dir(spool.path())
        .spool_after(Duration::from_millis(300))
        .retry_backoff(Duration::from_millis(100))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut server = Some(server);
    let total = 60u32;
    for i in 0..total {
        if i == 20 {
            server.take().unwrap().stop();
        }
        if i == 40 {
            server = Some(SmtpServer::start_into(
                &["--port", &port.to_string()],
                mails.clone(),
            ));
        }
        // One call site per error, so each is listed with its text.
        log(&a, Level::Error, 100 + i, &format!("error number <{i}>"));
        std::thread::sleep(Duration::from_millis(40));
    }
    a.flush();
    let server = server.unwrap();
    let received = server.wait_until(WAIT, |m| sum_records(m) >= total as u64);
    let all: String = received.iter().map(|m| m.body.as_str()).collect();
    for i in 0..total {
        assert_eq!(
            all.matches(&format!("error number <{i}>")).count(),
            1,
            "error {i} in:\n{all}"
        );
    }
    assert_eq!(sum_records(&received), total as u64);
    assert!(
        !reports_for("restart").is_empty(),
        "the outage was reported"
    );
    // Mails that waited past spool_after went through the spool, and left it once delivered.
    let files = spool_files(spool.path());
    assert!(files.is_empty(), "{files:?}");
}

#[test]
fn a_spooled_mail_is_sent_by_the_next_run_and_then_removed() {
    if !peer() {
        return;
    }
    let spool = tempfile::tempdir().unwrap();
    let dead_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    {
        let a = plain("spool-run1", dead_port)
            .spool_dir(spool.path())
            .spool_after(Duration::ZERO)
            .retry_backoff(Duration::from_millis(50))
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        log(&a, Level::Error, 30, "written while the server was down");
        a.flush();
    } // the application stops
    assert_eq!(spool_files(spool.path()).len(), 1, "one mail in the spool");

    let server = SmtpServer::start(&[]);
    let _b = plain("spool-run2", server.port)
        .spool_dir(spool.path())
        .build()
        .unwrap();
    let mails = server.wait_until(WAIT, |m| !m.is_empty());
    std::thread::sleep(Duration::from_millis(200));
    let mails_after = server.received();
    assert_eq!(mails_after.len(), 1, "{mails:?}");
    assert!(
        mails_after[0]
            .body
            .contains("written while the server was down")
    );
    let end = std::time::Instant::now() + WAIT;
    while !spool_files(spool.path()).is_empty() && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        spool_files(spool.path()).is_empty(),
        "delivered mail left in the spool"
    );
}

/// The spooled mails (and anything else) in `dir`, but not the spool's `.lock`.
fn spool_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.file_name().is_some_and(|n| n != ".lock"));
    files.sort();
    files
}

#[cfg(unix)]
#[test]
fn the_spool_is_private_and_a_shared_or_linked_spool_dir_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    let dead_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let spooling = |name: &str, dir: &Path| {
        plain(name, dead_port)
            .spool_dir(dir)
            .spool_after(Duration::ZERO)
            .retry_backoff(Duration::from_millis(50))
            .timeout(Duration::from_millis(300))
    };

    // Created by the appender: the folder 0700, each mail 0600 (whatever the umask).
    let spool = root.path().join("spool");
    {
        let a = spooling("private-spool", &spool).build().unwrap();
        log(&a, Level::Error, 40, "secret error text");
        a.flush();
    }
    let files = spool_files(&spool);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&spool), 0o700);
    assert_eq!(mode(&files[0]), 0o600);

    // Writable by others: refused, naming the fix.
    let shared = root.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = spooling("shared-spool", &shared)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spool_dir") && e.contains("writable by other users") && e.contains("chmod 700"),
        "{e}"
    );

    // A symbolic link, even to a private folder: refused, never followed.
    let link = root.path().join("link");
    std::os::unix::fs::symlink(&spool, &link).unwrap();
    let e = spooling("linked-spool", &link)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spool_dir") && e.contains("symbolic link"),
        "{e}"
    );
}

#[test]
fn log_text_cannot_inject_headers_and_subjects_are_cut_and_utf8_encoded() {
    if !peer() {
        return;
    }
    let server = SmtpServer::start(&[]);
    let a = plain("headers", server.port)
        .subject("%(message)s")
        .build()
        .unwrap();
    log(
        &a,
        Level::Error,
        40,
        "boom\r\nBcc: victim@example.com\r\nX-Injected: yes\n\nbody?",
    );
    a.flush();
    log(&a, Level::Error, 41, "Größe überschritten ✓ — 東京");
    a.flush();
    log(&a, Level::Error, 42, &"long subject ".repeat(40));
    a.flush();
    let mails = server.wait_until(WAIT, |m| m.len() >= 3);
    assert_eq!(mails.len(), 3);
    let injected = &mails[0];
    assert_eq!(injected.to, vec!["ops@example.com"], "no extra recipient");
    assert!(
        !injected
            .headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("bcc")),
        "{:?}",
        injected.headers
    );
    assert!(
        !injected
            .headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("x-injected"))
    );
    assert_eq!(
        injected.subject,
        "boom Bcc: victim@example.com X-Injected: yes body?"
    );

    let utf8 = &mails[1];
    assert_eq!(utf8.subject, "Größe überschritten ✓ — 東京");
    let raw_subject = utf8
        .data
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap();
    assert!(
        raw_subject.is_ascii(),
        "the raw header is RFC 2047 encoded: {raw_subject}"
    );

    let long = &mails[2];
    assert!(long.subject.chars().count() <= log4rs_appenders::smtp::MAX_SUBJECT_CHARS);
    assert!(
        long.subject.ends_with('…') && long.subject.starts_with("long subject long"),
        "{}",
        long.subject
    );
}

#[test]
fn flush_returns_after_its_timeout_and_a_slow_server_still_gets_the_mail_once() {
    if !peer() {
        return;
    }
    // The server takes 2 s to accept; the appender's timeout is 0.5 s.
    let server = SmtpServer::start(&["--delay", "2"]);
    let a = plain("slow", server.port)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    log(&a, Level::Error, 50, "slow but sure");
    let start = std::time::Instant::now();
    a.flush();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "flush waited {:?}",
        start.elapsed()
    );
    let mails = server.wait_until(WAIT, |m| !m.is_empty());
    assert_eq!(mails.len(), 1);
    // No resend after the slow acceptance (the reply to the final dot gets RFC 5321's patience).
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(server.received().len(), 1);
    assert!(
        reports_for("slow")
            .iter()
            .any(|r| r.contains("flush timed out"))
    );
}

fn load(yaml: &str) -> anyhow::Result<Box<dyn Append>> {
    let value: serde_value::Value = serde_yaml::from_str(yaml).unwrap();
    log4rs_appenders::deserializers().deserialize::<dyn Append>("smtp", value)
}

#[test]
fn bad_configs_fail_at_load_time_naming_the_field() {
    let base = "host: smtp.example.com\nfrom: app@example.com\n";
    let cases = [
        (
            base.to_string(),
            r#"field "to": give at least one recipient"#,
        ),
        (
            format!("{base}to: [ops@example.com, 'not an address']"),
            r#"field "to[1]": "not an address" is not a valid mail address"#,
        ),
        (
            format!("{base}to: [ops@example.com]\nport: smtp"),
            r#"field "port": expected a number 1-65535, got "smtp""#,
        ),
        (
            format!(
                "{base}to: [ops@example.com]\nusername: u\npassword_env: LOG4RS_APPENDERS_TEST_SURELY_UNSET"
            ),
            r#"field "password_env": environment variable LOG4RS_APPENDERS_TEST_SURELY_UNSET is not set"#,
        ),
        (
            format!("{base}to: [ops@example.com]\nroot_certificate: /nonexistent/ca.pem"),
            r#"field "root_certificate": cannot read /nonexistent/ca.pem"#,
        ),
        (
            format!("{base}to: [ops@example.com]\nusername: u"),
            r#"field "password": username is set but no password"#,
        ),
    ];
    for (yaml, expected) in cases {
        let e = format!(
            "{:#}",
            load(&yaml)
                .err()
                .unwrap_or_else(|| panic!("loaded: {yaml}"))
        );
        assert!(
            e.contains(expected),
            "for\n{yaml}\ngot: {e}\nwanted: {expected}"
        );
    }
    let e = format!(
        "{:#}",
        load(&format!(
            "{base}to: [x@example.com]\npassword: hunter2-secret\nusername: u\nport: 0"
        ))
        .err()
        .unwrap()
    );
    assert!(!e.contains("hunter2-secret"), "{e}");
}

#[test]
fn the_config_example_loads_without_a_server() {
    let raw = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config-examples/smtp.yaml"),
    )
    .unwrap();
    let config: log4rs::config::RawConfig = serde_yaml::from_str(&raw).unwrap();
    let (appenders, errors) = config.appenders_lossy(&log4rs_appenders::deserializers());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(appenders.len(), 2);
}

/// Issue 12 item 7: a config refused for any reason starts nothing. Before, the strict loader
/// built each appender as it checked it, so the smtp appender of a refused config sent the
/// spool (and the running one sent it again), and log4rs's file kinds created their files.
#[test]
fn a_refused_config_neither_sends_the_spool_nor_creates_files() {
    if !peer() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let logs = dir.path().join("logs");
    let dead_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    {
        let a = plain("refused-run1", dead_port)
            .spool_dir(&spool)
            .spool_after(Duration::ZERO)
            .retry_backoff(Duration::from_millis(50))
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        log(&a, Level::Error, 60, "waiting in the spool");
        a.flush();
    }
    let spooled = spool_files(&spool);
    assert_eq!(spooled.len(), 1, "one mail in the spool: {spooled:?}");
    let spooled_text = std::fs::read(&spooled[0]).unwrap();

    let server = SmtpServer::start(&[]);
    let config = |root_appenders: &str| {
        format!(
            r#"
appenders:
  mail:
    kind: smtp
    host: 127.0.0.1
    port: {port}
    security: none
    from: app@example.com
    to: [ops@example.com]
    batch_window: 0 seconds
    spool_dir: {spool:?}
  plain_file: {{ kind: file, path: {logs:?} }}
  rolling:
    kind: rolling_file
    path: {rolling:?}
    policy: {{ trigger: {{ kind: size, limit: 1 mb }}, roller: {{ kind: delete }} }}
  rotating: {{ kind: rotating_file, path: {rotating:?} }}
  stdout: {{ kind: console }}
root: {{ level: info, appenders: [{root_appenders}] }}
"#,
            port = server.port,
            spool = spool.display().to_string(),
            logs = logs.join("file.log").display().to_string(),
            rolling = logs.join("rolling.log").display().to_string(),
            rotating = logs.join("rotating.log").display().to_string(),
        )
    };

    // One problem, far from the smtp appender: a root that names an appender that does not exist.
    let refused = log4rs_appenders::config::load_config_str(
        &config("mail, plain_file, rolling, rotating, no_such_appender"),
        "refused.yaml",
    )
    .unwrap_err()
    .to_string();
    assert!(refused.contains("no_such_appender"), "{refused}");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        server.received().is_empty(),
        "a refused config sent the spool: {:?}",
        server.received()
    );
    assert_eq!(spool_files(&spool), spooled, "the spool was touched");
    assert_eq!(std::fs::read(&spooled[0]).unwrap(), spooled_text);
    assert!(
        !logs.exists(),
        "a refused config created {:?}",
        spool_files(&logs)
    );

    // The same config without the problem starts, sends the spooled mail once and creates the
    // files: what the refused one must not have done.
    let loaded = log4rs_appenders::config::load_config_str(
        &config("mail, plain_file, rolling, rotating"),
        "good.yaml",
    )
    .unwrap();
    let mails = server.wait_until(WAIT, |m| !m.is_empty());
    assert!(mails[0].body.contains("waiting in the spool"), "{mails:?}");
    for name in ["file.log", "rolling.log", "rotating.log"] {
        assert!(logs.join(name).is_file(), "{name} not created");
    }
    drop(loaded);
    assert_eq!(server.received().len(), 1, "{:?}", server.received());
}

/// During a reload to a config with the same `spool_dir`, the old appender is still draining
/// while the new one starts: one at a time owns the spool, so each spooled mail goes out once.
#[test]
fn two_appenders_on_one_spool_dir_send_each_spooled_mail_once() {
    if !peer() {
        return;
    }
    let spool = tempfile::tempdir().unwrap();
    let dead_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let old = plain("spool-old", dead_port)
        .spool_dir(spool.path())
        .spool_after(Duration::ZERO)
        .retry_backoff(Duration::from_millis(50))
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    log(&old, Level::Error, 70, "spooled by the old appender");
    old.flush();
    assert_eq!(spool_files(spool.path()).len(), 1, "one mail in the spool");

    let server = SmtpServer::start(&[]);
    let new = plain("spool-new", server.port)
        .spool_dir(spool.path())
        .build()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        server.received().is_empty(),
        "the new appender sent a spool the old one still holds: {:?}",
        server.received()
    );

    drop(old); // the reload's old config goes away
    let mails = server.wait_until(WAIT, |m| !m.is_empty());
    assert!(
        mails[0].body.contains("spooled by the old appender"),
        "{mails:?}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.received().len(), 1, "{:?}", server.received());
    let end = std::time::Instant::now() + WAIT;
    while !spool_files(spool.path()).is_empty() && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        spool_files(spool.path()).is_empty(),
        "delivered mail left in the spool"
    );
    drop(new);
    assert!(
        reports_for("spool-new").is_empty(),
        "{:?}",
        reports_for("spool-new")
    );
}

/// The header lines of a raw mail, with the `To:` header unfolded.
fn header_lines_and_to(data: &str) -> (Vec<String>, String) {
    let head = data.split("\r\n\r\n").next().unwrap_or(data);
    let head = head.split("\n\n").next().unwrap_or(head);
    let lines: Vec<String> = head.lines().map(str::to_owned).collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("To: "))
        .expect("a To: header");
    let mut to = lines[start]["To: ".len()..].to_owned();
    for l in lines[start + 1..]
        .iter()
        .take_while(|l| l.starts_with([' ', '\t']))
    {
        to.push_str(l);
    }
    (lines, to)
}

#[test]
fn ten_thousand_recipients_are_all_in_the_envelope_and_every_header_line_stays_short() {
    if !peer() {
        return;
    }
    let server = SmtpServer::start(&[]);
    // 50 recipients: all listed in a folded To: header.
    let mut few = plain("fifty", server.port);
    for i in 1..50 {
        few = few.to(format!("oncall-{i}@example.com"));
    }
    let few = few.build().unwrap();
    log(&few, Level::Error, 1, "to fifty");
    few.flush();
    let mails = server.wait_until(WAIT, |m| !m.is_empty());
    let (lines, to) = header_lines_and_to(&mails[0].data);
    assert!(lines.iter().all(|l| l.len() <= 78), "{lines:#?}");
    let listed: Vec<&str> = to.split(", ").collect();
    assert_eq!(listed.len(), 50, "{to}");
    assert_eq!(
        listed, mails[0].to,
        "the header lists the envelope's recipients in order"
    );

    // 10,000: the envelope has every one, the header none.
    let mut many = plain("ten-thousand", server.port).timeout(Duration::from_secs(60));
    for i in 1..10_000 {
        many = many.to(format!("oncall-{i}@example.com"));
    }
    let many = many.build().unwrap();
    log(&many, Level::Error, 2, "to ten thousand");
    many.flush();
    let mails = server.wait_until(Duration::from_secs(180), |m| m.len() >= 2);
    assert_eq!(mails.len(), 2, "reports: {:?}", reports_for("ten-thousand"));
    let m = &mails[1];
    assert_eq!(m.to.len(), 10_000);
    let distinct: std::collections::HashSet<&String> = m.to.iter().collect();
    assert_eq!(distinct.len(), 10_000);
    assert!(m.to.contains(&"oncall-9999@example.com".to_owned()));
    let (lines, to) = header_lines_and_to(&m.data);
    assert_eq!(to, "undisclosed-recipients:;");
    assert!(lines.iter().all(|l| l.len() <= 78), "{lines:#?}");
    assert!(m.body.contains("to ten thousand"), "{}", m.body);
}

/// Logs three errors (one mail, with a long `batch_window`) and drops the appender: how long
/// the drop took.
fn three_errors_then_drop(a: SmtpAppender) -> Duration {
    for line in 1..=3 {
        log(&a, Level::Error, line, "the disk is full");
    }
    let dropping = std::time::Instant::now();
    drop(a);
    dropping.elapsed()
}

/// What `name` reported about undelivered mail when it was dropped.
fn shutdown_reports(name: &str) -> Vec<String> {
    reports_for(name)
        .into_iter()
        .filter(|r| r.contains("shutting down") || r.contains("undelivered"))
        .collect()
}

/// An application that exits while the mail server is unreachable: every record is accounted for
/// when the appender is dropped (those in memory lost, with their count, in the crate's one
/// lost-records sentence; the spooled mails kept for the next run), within the shutdown timeout.
/// No peer needed: the port is closed.
#[test]
fn an_exit_during_an_outage_reports_the_records_lost_and_the_mails_the_spool_keeps() {
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let timeout = Duration::from_millis(500);
    let start = |name: &str| {
        plain(name, dead_port)
            // One mail for all three errors, composed at shutdown.
            .batch_window(Duration::from_secs(30))
            .retry_backoff(Duration::from_millis(50))
            .timeout(timeout)
    };

    let a = start("exit-in-memory").build().unwrap();
    let took = three_errors_then_drop(a);
    assert_eq!(
        shutdown_reports("exit-in-memory"),
        [format!(
            "appender \"exit-in-memory\": shutting down: 3 records were lost while \
             127.0.0.1:{dead_port} (plain) was not taking them (set spool_dir to keep them for \
             the next run)"
        )]
    );
    assert!(
        took < timeout * 2,
        "the drop took {took:?}, beyond the shutdown timeout of {timeout:?}"
    );

    let spool = tempfile::tempdir().unwrap();
    let a = start("exit-spooled")
        .spool_dir(spool.path())
        .build()
        .unwrap();
    three_errors_then_drop(a);
    assert_eq!(
        shutdown_reports("exit-spooled"),
        [format!(
            "appender \"exit-spooled\": shutting down: 1 mail is kept in spool_dir {} and sent by \
             the next run",
            spool.path().display()
        )]
    );
    assert_eq!(spool_files(spool.path()).len(), 1);
}

/// A server that takes the data and then does not answer (the final `.` waits up to 10 minutes
/// for its reply): the drop does not wait for it beyond the shutdown timeout, and says, naming
/// the appender, how many mails the sending thread still held.
#[test]
fn a_drop_while_the_server_sits_on_the_data_reports_the_mail_it_may_not_have_taken() {
    if !peer() {
        return;
    }
    let server = SmtpServer::start(&["--delay", "30"]);
    let timeout = Duration::from_millis(500);
    let a = plain("exit-hung", server.port)
        .batch_window(Duration::from_secs(30))
        .timeout(timeout)
        .build()
        .unwrap();
    let took = three_errors_then_drop(a);
    assert_eq!(
        shutdown_reports("exit-hung"),
        [
            "appender \"exit-hung\": shutting down: the worker did not finish within 500ms; up to 1 \
          mail it still held may not have been delivered"
        ],
        "the drop took {took:?}"
    );
    assert!(took < timeout * 2 + Duration::from_secs(2), "{took:?}");
}
