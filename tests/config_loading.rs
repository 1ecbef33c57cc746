//! The strict loader: every problem at once, each naming place and field; examples all load.

use log4rs_appenders::config::{Place, load_config_file, load_config_str};

fn problems(yaml: &str) -> Vec<String> {
    match load_config_str(yaml, "test.yaml") {
        Ok(_) => panic!("config unexpectedly loaded"),
        Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
    }
}

fn assert_has(all: &[String], needle: &str) {
    assert!(
        all.iter().any(|p| p.contains(needle)),
        "no problem contains {needle:?}; problems:\n{}",
        all.join("\n")
    );
}

#[test]
fn a_broken_config_reports_every_problem_at_once() {
    let all = problems(
        r#"
refresh_rate: soon
appenders:
  stdout:
    kind: console
    encoder: { kind: pattern, pattrn: "{m}" }
  logfile:
    kind: fille
    path: logs/x.log
  other:
    kind: console
    encoder: { kind: pythn }
root:
  level: verbose
  appenders: [stdot]
loggers:
  app:
    level: info
    appenders: [nosuch]
    additve: false
  db:
    appenders: [stdout]
rooot: {}
"#,
    );
    assert_has(&all, "config: field \"refresh_rate\": expected a duration");
    assert_has(&all, "appender \"stdout\":");
    assert_has(&all, "did you mean `pattern`?");
    assert_has(
        &all,
        "appender \"logfile\": field \"kind\": unknown appender kind \"fille\" (did you mean `file`?)",
    );
    assert_has(
        &all,
        "unknown encoder kind \"pythn\" (did you mean `python`?)",
    );
    assert_has(
        &all,
        "root logger: field \"level\": unknown level \"verbose\"",
    );
    assert_has(
        &all,
        "root logger: field \"appenders\": no appender named \"stdot\" (did you mean \"stdout\"?)",
    );
    assert_has(
        &all,
        "logger \"app\": field \"appenders\": no appender named \"nosuch\"",
    );
    assert_has(
        &all,
        "logger \"app\": unknown field `additve` (did you mean `additive`?)",
    );
    assert_has(&all, "logger \"db\": field \"level\": missing");
    assert_has(&all, "config: unknown field `rooot` (did you mean `root`?)");
    assert!(
        all.len() >= 10,
        "expected every problem, got:\n{}",
        all.join("\n")
    );
}

#[test]
fn unknown_kind_lists_the_kinds_that_exist() {
    let all = problems("appenders:\n  a: { kind: carrier_pigeon }\n");
    assert_has(&all, "the kinds are console, file, rolling_file");
}

#[test]
fn an_unset_environment_variable_names_the_field_and_variable() {
    let scratch = tempfile::tempdir().unwrap();
    let all = problems(&format!(
        "appenders:\n  f: {{ kind: file, path: \"{}/$ENV{{LOG4RS_APPENDERS_TEST_UNSET}}/x.log\" }}\n",
        scratch.path().display()
    ));
    assert_has(
        &all,
        "appender \"f\": field \"path\": environment variable LOG4RS_APPENDERS_TEST_UNSET is not set",
    );
    assert!(
        std::fs::read_dir(scratch.path()).unwrap().next().is_none(),
        "the appender with the unexpanded path was not built (no folder named $ENV{{..}})"
    );
}

#[test]
fn environment_variables_expand_in_string_fields() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: set before any other thread of this test reads the environment for this name.
    unsafe { std::env::set_var("LOG4RS_APPENDERS_TEST_DIR", dir.path()) };
    let loaded = load_config_str(
        "appenders:\n  f: { kind: file, path: \"$ENV{LOG4RS_APPENDERS_TEST_DIR}/x.log\" }\nroot: { level: info, appenders: [f] }\n",
        "env.yaml",
    )
    .unwrap();
    assert_eq!(loaded.config.appenders().len(), 1);
    assert!(
        dir.path().join("x.log").exists(),
        "the file appender opened the expanded path"
    );
}

#[test]
fn python_users_level_name_warning_is_accepted() {
    let loaded = load_config_str("root: { level: WARNING }\n", "w.yaml").unwrap();
    assert_eq!(loaded.config.root().level(), log::LevelFilter::Warn);
}

#[test]
fn a_good_config_keeps_loggers_levels_and_additivity() {
    let loaded = load_config_str(
        r#"
refresh_rate: 30 seconds
appenders:
  stdout: { kind: console }
root: { level: warn, appenders: [stdout] }
loggers:
  app: { level: debug, appenders: [stdout], additive: false }
  rustls: { level: info }
"#,
        "good.yaml",
    )
    .unwrap();
    assert_eq!(
        loaded.refresh_rate,
        Some(std::time::Duration::from_secs(30))
    );
    let app = loaded
        .config
        .loggers()
        .iter()
        .find(|l| l.name() == "app")
        .unwrap();
    assert_eq!(app.level(), log::LevelFilter::Debug);
    assert!(!app.additive());
}

#[test]
fn a_missing_file_is_one_clear_problem() {
    let e = load_config_file("/nonexistent/log4rs.yaml").unwrap_err();
    assert_eq!(e.problems.len(), 1);
    assert_eq!(e.problems[0].place, Place::File);
    assert!(e.to_string().contains("cannot read it"), "{e}");
}

fn config_examples() -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir("config-examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "config-examples/ has no YAML files");
    paths
}

/// `init_file` installs the global logger, which a process can do once: so each example is
/// started in a child process running `init_one_example` below.
#[test]
fn init_file_succeeds_on_every_config_example() {
    let scratch = tempfile::tempdir().unwrap();
    for path in config_examples() {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "init_one_example",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(
                "LOG4RS_APPENDERS_EXAMPLE",
                std::fs::canonicalize(&path).unwrap(),
            )
            // Relative paths in the examples (logs/...) land in the scratch dir.
            .current_dir(scratch.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && text.contains("initialized"),
            "init_file({}) failed:\n{text}",
            path.display()
        );
    }
}

/// The child side of `init_file_succeeds_on_every_config_example`; does nothing on its own.
#[test]
fn init_one_example() {
    let Some(path) = std::env::var_os("LOG4RS_APPENDERS_EXAMPLE") else {
        return;
    };
    match log4rs_appenders::init_file(&path) {
        Ok(handle) => {
            log::info!(target: "config_example", "hello from the example config");
            handle.flush();
            println!("initialized {}", path.to_string_lossy());
        }
        Err(e) => panic!("{e}"),
    }
}

/// Issue 12 item 8: an empty file, or one without `root:`, would log nothing: it is a problem.
#[test]
fn an_empty_or_rootless_config_is_a_problem() {
    for empty in ["", "\n  \n", "# only a comment\n", "~\n"] {
        let e = load_config_str(empty, "empty.yaml").unwrap_err();
        assert_eq!(e.problems.len(), 1, "{e}");
        assert_eq!(e.problems[0].place, Place::File);
        assert!(e.to_string().contains("the file is empty"), "{e}");
    }
    let all = problems("appenders:\n  stdout: { kind: console }\n");
    assert_has(&all, "config: field \"root\" is missing");
    let all = problems("{}\n");
    assert_has(&all, "config: field \"root\" is missing");
}
