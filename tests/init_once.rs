//! `init_file` claims the process-wide logger before it starts any appender: a second call
//! starts nothing, and a config that fails to start leaves the logger for a corrected retry.
//! One logger per process, so this file holds one test.

fn file_config(log_path: &std::path::Path) -> String {
    format!(
        "appenders:\n  f:\n    kind: file\n    path: {:?}\n    encoder: {{ pattern: \"{{m}}{{n}}\" }}\nroot: {{ level: info, appenders: [f] }}\n",
        log_path.display().to_string()
    )
}

#[test]
fn a_failed_start_can_be_retried_and_a_second_init_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("log4rs.yaml");

    // Passes every check, fails to start: the file's folder would be inside a regular file.
    let not_a_folder = dir.path().join("not-a-folder");
    std::fs::write(&not_a_folder, "").unwrap();
    std::fs::write(&config_path, file_config(&not_a_folder.join("app.log"))).unwrap();
    let refused = log4rs_appenders::init_file(&config_path)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("appender \"f\""), "{refused}");
    assert!(refused.contains("cannot start"), "{refused}");

    // The corrected config in the same process: the logger the failed start claimed is reused.
    let first = dir.path().join("first.log");
    std::fs::write(&config_path, file_config(&first)).unwrap();
    let handle = log4rs_appenders::init_file(&config_path).unwrap();
    log::info!("one");
    handle.flush();
    assert_eq!(std::fs::read_to_string(&first).unwrap(), "one\n");

    // A second init while one runs: refused before its appenders start, so no file appears.
    let second = dir.path().join("second.log");
    std::fs::write(&config_path, file_config(&second)).unwrap();
    let again = log4rs_appenders::init_file(&config_path).unwrap_err();
    assert!(
        matches!(again, log4rs_appenders::InitError::AlreadyInitialized),
        "{again}"
    );
    assert!(
        !second.exists(),
        "the refused init created {}",
        second.display()
    );
    log::info!("two");
    handle.flush();
    assert_eq!(std::fs::read_to_string(&first).unwrap(), "one\ntwo\n");
}
