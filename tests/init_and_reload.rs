//! `init_file` starts logging strictly, the handle flushes on drop, and hot reload applies only
//! configs without problems. One logger per process, so this file holds one test.

mod smtp_peer;
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn config(log_path: &std::path::Path, extra: &str) -> String {
    format!(
        "refresh_rate: 200ms\nappenders:\n  f:\n    kind: file\n    path: {:?}\n    encoder: {{ pattern: \"{{m}}{{n}}\" }}\n{extra}root: {{ level: info, appenders: [f] }}\n",
        log_path.display().to_string()
    )
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn write_config(path: &std::path::Path, text: &str) {
    // A different length and a later mtime, so the change is seen even on coarse clocks.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(path, text).unwrap();
}

#[test]
fn init_file_refuses_broken_configs_and_hot_reload_applies_only_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("log4rs.yaml");
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));

    std::fs::write(&config_path, "appenders:\n  f: { kind: nope }\n").unwrap();
    let refused = log4rs_appenders::init_file(&config_path)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("unknown appender kind \"nope\""),
        "{refused}"
    );

    let reported = Arc::new(Mutex::new(Vec::<String>::new()));
    log4rs_appenders::set_error_handler({
        let reported = reported.clone();
        move |e| reported.lock().unwrap().push(e.to_string())
    });

    std::fs::write(&config_path, config(&a, "")).unwrap();
    let handle = log4rs_appenders::init_file(&config_path).unwrap();
    log::info!("one");
    handle.flush();
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "one\n");

    write_config(&config_path, &config(&b, "  broken: { kind: file }\n"));
    wait_for("the broken reload to be reported", || {
        reported
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.contains("config reload skipped"))
    });
    log::info!("two");
    handle.flush();
    assert_eq!(
        std::fs::read_to_string(&a).unwrap(),
        "one\ntwo\n",
        "the running config stayed"
    );
    assert!(
        std::fs::read_to_string(&b).unwrap_or_default().is_empty(),
        "nothing was logged through the rejected config"
    );

    write_config(&config_path, &config(&b, ""));
    wait_for("the good reload to take effect", || {
        log::info!("three");
        log::logger().flush();
        std::fs::read_to_string(&b).is_ok_and(|t| t.contains("three"))
    });

    // Issue 12 item 8: a truncated (empty) file, or one without `root:`, is refused and the
    // running config stays.
    let refused_reload = |text: &str, expected: &str| {
        reported.lock().unwrap().clear();
        write_config(&config_path, text);
        wait_for("the refused reload to be reported", || {
            reported
                .lock()
                .unwrap()
                .iter()
                .any(|r| r.contains("config reload skipped"))
        });
        let reports = reported.lock().unwrap().join("\n");
        assert!(reports.contains(expected), "{reports}");
        let before = std::fs::read_to_string(&b).unwrap();
        log::info!("still logging");
        log::logger().flush();
        assert_eq!(
            std::fs::read_to_string(&b).unwrap(),
            format!("{before}still logging\n"),
            "the running config stayed"
        );
    };
    refused_reload("", "the file is empty");
    refused_reload("# nothing here yet\n\n", "the file is empty");
    refused_reload(
        &config(&b, "").replace("root: { level: info, appenders: [f] }\n", ""),
        "field \"root\" is missing",
    );

    // Issue 12 item 7: a reload refused for one problem starts none of its appenders: the smtp
    // appender does not send the spool, a file appender creates no file.
    #[cfg(feature = "smtp")]
    if support::python_module_available(
        "aiosmtpd",
        "bash scripts/install/smtp.sh (pip install aiosmtpd)",
    ) {
        let spool = dir.path().join("spool");
        {
            let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let spooling = log4rs_appenders::smtp::SmtpAppender::builder()
                .name("earlier-run")
                .host("127.0.0.1")
                .port(dead_port)
                .security(log4rs_appenders::smtp::Security::None)
                .from("app@example.com")
                .to("ops@example.com")
                .batch_window(Duration::ZERO)
                .spool_dir(&spool)
                .spool_after(Duration::ZERO)
                .retry_backoff(Duration::from_millis(50))
                .timeout(Duration::from_millis(500))
                .build()
                .unwrap();
            log4rs::append::Append::append(
                &spooling,
                &log::Record::builder()
                    .level(log::Level::Error)
                    .args(format_args!("waiting in the spool"))
                    .build(),
            )
            .unwrap();
            log4rs::append::Append::flush(&spooling);
        }
        let mails_in = |dir: &std::path::Path| -> Vec<_> {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "mail"))
                .collect()
        };
        let spooled = mails_in(&spool);
        assert_eq!(spooled.len(), 1, "{spooled:?}");
        let server = smtp_peer::SmtpServer::start(&[]);
        let other_logs = dir.path().join("other-logs");
        let extra = format!(
            "  mail:\n    kind: smtp\n    host: 127.0.0.1\n    port: {}\n    security: none\n    from: app@example.com\n    to: [ops@example.com]\n    spool_dir: {:?}\n  other: {{ kind: rotating_file, path: {:?} }}\n",
            server.port,
            spool.display().to_string(),
            other_logs.join("other.log").display().to_string()
        );
        let with_problem =
            config(&b, &extra).replace("appenders: [f]", "appenders: [f, mail, other, missing]");
        refused_reload(&with_problem, "no appender named \"missing\"");
        std::thread::sleep(Duration::from_millis(1000));
        assert!(
            server.received().is_empty(),
            "a refused reload sent the spool: {:?}",
            server.received()
        );
        let still = mails_in(&spool);
        assert_eq!(still, spooled, "the spool was touched");
        assert!(!other_logs.exists(), "a refused reload created a file");
    }
    drop(handle);
}
