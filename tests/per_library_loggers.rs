//! One appender set attached to the app and to two real libraries that emit `log` records
//! (globset and regex's engine, regex_automata), each with its own level and additivity, from
//! YAML and from the builder API. One global logger per process, so this file holds one test.

use log::LevelFilter;
use log4rs::append::file::FileAppender;
use log4rs::config::{Appender, Config, Logger, Root};
use log4rs::encode::pattern::PatternEncoder;

const PATTERN: &str = "{l} {t}: {m}{n}";

/// Makes both libraries log: globset at debug when a set is built, regex_automata at debug and
/// trace when a regex is compiled and searched.
fn exercise_libraries() {
    let mut set = globset::GlobSetBuilder::new();
    set.add(globset::Glob::new("*.rs").unwrap());
    set.build().unwrap();
    let re = regex::Regex::new(r"(foo|bar)\d+[a-z]{2,}").unwrap();
    assert!(re.is_match("foo12ab"));
}

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn check(app_log: &std::path::Path, problems: &std::path::Path) {
    let app = lines(app_log);
    let root = lines(problems);
    let has = |lines: &[String], prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
    assert!(
        has(&app, "INFO microblog: user alice signed in"),
        "app logger at info: {app:#?}"
    );
    assert!(
        !has(&app, "DEBUG microblog"),
        "app debug is below the app logger's level"
    );
    assert!(
        has(&app, "DEBUG globset: built glob set"),
        "globset's own debug record"
    );
    assert!(
        has(&app, "DEBUG regex_automata::"),
        "regex_automata's debug records"
    );
    assert!(
        !has(&app, "TRACE regex_automata::"),
        "regex_automata's trace is below its level"
    );
    // Additivity: globset (additive) also reaches root's appender; the others do not.
    assert!(
        has(&root, "DEBUG globset: built glob set"),
        "additive logger reaches root: {root:#?}"
    );
    assert!(
        !root
            .iter()
            .any(|l| l.contains("regex_automata") || l.contains("microblog: user"))
    );
    assert!(
        has(&root, "ERROR other: unhandled"),
        "root takes other targets at warn and above"
    );
    assert!(!has(&root, "INFO other"), "root's level is warn");
}

fn log_from_the_app() {
    log::info!(target: "microblog", "user alice signed in");
    log::debug!(target: "microblog", "session details");
    log::info!(target: "other", "below root's level");
    log::error!(target: "other", "unhandled");
    exercise_libraries();
    log::logger().flush();
}

#[test]
fn each_library_gets_its_own_level_and_additivity_from_yaml_and_from_the_builder() {
    let dir = tempfile::tempdir().unwrap();

    // YAML: the config example itself, with its paths pointed into the temp dir.
    let yaml = std::fs::read_to_string("config-examples/per-library.yaml")
        .unwrap()
        .replace("logs/", &format!("{}/yaml-", dir.path().display()))
        .replace("{d(%Y-%m-%d %H:%M:%S)} ", "");
    let loaded = log4rs_appenders::config::load_config_str(&yaml, "per-library.yaml").unwrap();
    let handle = log4rs_appenders::init_config(loaded.config).unwrap();
    log_from_the_app();
    check(
        &dir.path().join("yaml-app.log"),
        &dir.path().join("yaml-problems.log"),
    );

    // Builder: the same shape in code.
    let file = |name: &str| {
        FileAppender::builder()
            .encoder(Box::new(PatternEncoder::new(PATTERN)))
            .build(dir.path().join(name))
            .unwrap()
    };
    let config = Config::builder()
        .appender(Appender::builder().build("app_log", Box::new(file("built-app.log"))))
        .appender(Appender::builder().build("problems", Box::new(file("built-problems.log"))))
        .logger(
            Logger::builder()
                .appender("app_log")
                .additive(false)
                .build("microblog", LevelFilter::Info),
        )
        .logger(
            Logger::builder()
                .appender("app_log")
                .build("globset", LevelFilter::Debug),
        )
        .logger(
            Logger::builder()
                .appender("app_log")
                .additive(false)
                .build("regex_automata", LevelFilter::Debug),
        )
        .build(
            Root::builder()
                .appender("problems")
                .build(LevelFilter::Warn),
        )
        .unwrap();
    handle.set_config(config);
    log_from_the_app();
    check(
        &dir.path().join("built-app.log"),
        &dir.path().join("built-problems.log"),
    );
}
