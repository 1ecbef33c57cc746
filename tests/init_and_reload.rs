//! `init_file` starts logging strictly, the handle flushes on drop, and hot reload applies only
//! configs without problems. One logger per process, so this file holds one test.

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
    drop(handle);
}
