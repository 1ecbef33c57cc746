//! The `tracing` front end against real files and a real library (h2): the event -> record
//! mapping, log4rs's routing through both front ends, the MakeWriter, the whole subscriber from
//! YAML with the `log` bridge (in a child process: a process has one global subscriber).

mod smtp_peer;
mod support;

use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use log4rs_appenders::encode::PythonEncoder;
use log4rs_appenders::file::RotatingFileAppender;
use log4rs_appenders::tracing::{AppenderLayer, RotatingFileWriter, RoutingLayer};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn lines(path: &Path) -> Vec<String> {
    read(path).lines().map(str::to_owned).collect()
}

#[derive(Debug)]
struct Constraint;
impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UNIQUE constraint failed: user.username")
    }
}
impl Error for Constraint {}

#[derive(Debug)]
struct SaveError(Constraint);
impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot save the profile of \"susan\"")
    }
}
impl Error for SaveError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[tracing::instrument(fields(user = "susan"))]
fn update_user(id: u64) {
    let error = SaveError(Constraint);
    tracing::error!(
        user_id = 42,
        ratio = 0.25,
        ok = false,
        name = "susan",
        state = ?Some(3),
        error = &error as &dyn Error,
        "Exception on /edit_profile [POST]"
    );
}

#[test]
fn an_event_becomes_a_record_with_typed_fields_its_error_chain_and_its_spans() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let format = "%(levelname)s %(name)s %(funcName)s [%(spans)s] %(message)s \
                  id=%(user_id)05d ratio=%(ratio).2f ok=%(ok)s name=%(name)s state=%(state)s \
                  request=%(request.id)s";
    // `name` is the record's target (a built-in attribute), not the field: Python's rule.
    let file = RotatingFileAppender::builder()
        .encoder(Box::new(
            PythonEncoder::with_defaults(
                format,
                [
                    ("user_id", "-"),
                    ("ratio", "-"),
                    ("ok", "-"),
                    ("state", "-"),
                    ("request.id", "-"),
                ],
            )
            .unwrap(),
        ))
        .build(&path)
        .unwrap();
    let layer = AppenderLayer::new(file);
    let flush = layer.flush_guard();
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO));
    tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!("request", id = 7);
        let _entered = request.enter();
        update_user(2);
        tracing::debug!("below the layer's filter");
        tracing::info!(target: "app::web", answer = 42u64);
    });
    drop(flush);
    let text = read(&path);
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(
        got,
        [
            "ERROR tracing update_user [request{id=7}:update_user{id=2 user=\"susan\"}] \
             Exception on /edit_profile [POST] id=00042 ratio=0.25 ok=false name=tracing state=Some(3) \
             request=7",
            "Error: cannot save the profile of \"susan\"",
            "Caused by: UNIQUE constraint failed: user.username",
            "INFO app::web request [request{id=7}] answer=42 id=    - ratio=- ok=- name=app::web state=- \
             request=7",
        ],
        "{text}"
    );
}

#[test]
fn log4rs_own_appenders_work_in_the_layer_and_show_key_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log4rs-file.log");
    let file = log4rs::append::file::FileAppender::builder()
        .encoder(Box::new(log4rs::encode::pattern::PatternEncoder::new(
            "{l} {t} {m} user_id={K(user_id)} spans={K(spans)}{n}",
        )))
        .build(&path)
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(AppenderLayer::new(file));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("job", n = 1).in_scope(|| {
            tracing::warn!(target: "worker", user_id = 7, "retrying");
        });
    });
    assert_eq!(
        lines(&path),
        ["WARN worker retrying user_id=7 spans=job{n=1}"]
    );
}

/// One YAML config: root at warn to `root`; `app` at info to `app`; `app::db` at debug to `db`,
/// not additive; `app::web::admin` at trace, additive, to `admin` with a threshold filter at
/// info; `app::webx` is not under `app::web`.
const ROUTING_YAML: &str = r#"
appenders:
  root: { kind: file, path: "DIR/root.log", encoder: { pattern: "{t} {l} {m}{n}" } }
  app: { kind: file, path: "DIR/app.log", encoder: { pattern: "{t} {l} {m}{n}" } }
  db: { kind: file, path: "DIR/db.log", encoder: { pattern: "{t} {l} {m}{n}" } }
  admin:
    kind: file
    path: "DIR/admin.log"
    encoder: { pattern: "{t} {l} {m}{n}" }
    filters: [ { kind: threshold, level: info } ]
root: { level: warn, appenders: [root] }
loggers:
  app: { level: info, appenders: [app] }
  app::db: { level: debug, appenders: [db], additive: false }
  app::web::admin: { level: trace, appenders: [admin] }
"#;

/// (target, level, the appenders that must get it).
const ROUTING_CASES: &[(&str, log::Level, &[&str])] = &[
    ("other", log::Level::Warn, &["root"]),
    ("other", log::Level::Info, &[]),
    ("app", log::Level::Info, &["app", "root"]),
    ("app", log::Level::Debug, &[]),
    ("app::web", log::Level::Info, &["app", "root"]),
    ("app::webx", log::Level::Info, &["app", "root"]),
    ("app::db", log::Level::Debug, &["db"]),
    ("app::db", log::Level::Trace, &[]),
    ("app::db::pool", log::Level::Error, &["db"]),
    ("app::web::admin", log::Level::Debug, &["app", "root"]),
    (
        "app::web::admin",
        log::Level::Info,
        &["admin", "app", "root"],
    ),
    (
        "app::web::admin::audit",
        log::Level::Trace,
        &["app", "root"],
    ),
    ("apple", log::Level::Info, &[]),
];

/// Emits every case as a tracing event (targets and levels must be constants there).
fn emit_routing_cases_through_tracing() {
    macro_rules! event {
        ($target:literal, $level:ident) => {
            tracing::event!(target: $target, tracing::Level::$level, "{} {}", $target, stringify!($level))
        };
    }
    event!("other", WARN);
    event!("other", INFO);
    event!("app", INFO);
    event!("app", DEBUG);
    event!("app::web", INFO);
    event!("app::webx", INFO);
    event!("app::db", DEBUG);
    event!("app::db", TRACE);
    event!("app::db::pool", ERROR);
    event!("app::web::admin", DEBUG);
    event!("app::web::admin", INFO);
    event!("app::web::admin::audit", TRACE);
    event!("apple", INFO);
}

fn routing_config(dir: &Path) -> log4rs::Config {
    let yaml = ROUTING_YAML.replace("DIR", &dir.display().to_string());
    log4rs_appenders::config::load_config_str(&yaml, "routing.yaml")
        .unwrap()
        .config
}

/// What each appender's file holds, as `target LEVEL` lines, sorted.
fn routed(dir: &Path) -> Vec<(String, Vec<String>)> {
    ["root", "app", "db", "admin"]
        .iter()
        .map(|name| {
            let mut got: Vec<String> = lines(&dir.join(format!("{name}.log")))
                .iter()
                .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
                .collect();
            got.sort();
            (name.to_string(), got)
        })
        .collect()
}

#[test]
fn one_table_of_routing_cases_gives_the_same_result_through_log_and_tracing() {
    let expected: Vec<(String, Vec<String>)> = ["root", "app", "db", "admin"]
        .iter()
        .map(|name| {
            let mut want: Vec<String> = ROUTING_CASES
                .iter()
                .filter(|(_, _, to)| to.contains(name))
                .map(|(target, level, _)| format!("{target} {}", level.as_str()))
                .collect();
            want.sort();
            (name.to_string(), want)
        })
        .collect();

    // The `log` front end: log4rs's own logger, as `log4rs_appenders::init_file` installs it.
    let log_dir = tempfile::tempdir().unwrap();
    {
        use log::Log;
        let logger = log4rs::Logger::new(routing_config(log_dir.path()));
        for (target, level, _) in ROUTING_CASES {
            let metadata = log::Metadata::builder()
                .target(target)
                .level(*level)
                .build();
            if logger.enabled(&metadata) {
                logger.log(
                    &log::Record::builder()
                        .metadata(metadata)
                        .args(format_args!("{target} {level}"))
                        .build(),
                );
            }
        }
        logger.flush();
    }
    assert_eq!(routed(log_dir.path()), expected, "log front end");

    // The tracing front end: the same YAML as a RoutingLayer.
    let tracing_dir = tempfile::tempdir().unwrap();
    let layer = RoutingLayer::new(routing_config(tracing_dir.path()));
    let flush = layer.flush_guard();
    tracing::subscriber::with_default(
        tracing_subscriber::registry().with(layer),
        emit_routing_cases_through_tracing,
    );
    drop(flush);
    assert_eq!(routed(tracing_dir.path()), expected, "tracing front end");
}

/// h2's client and server handshake over an in-memory pipe: h2 emits its own tracing events
/// (frames sent and received, at debug; internals at trace) and spans (`Connection{peer=..}`).
fn h2_handshake() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let server = async {
            let mut connection = h2::server::handshake(server_io).await.unwrap();
            // Serves until the client goes away.
            while let Some(request) = connection.accept().await {
                let (_, mut respond) = request.unwrap();
                respond
                    .send_response(http::Response::new(()), true)
                    .unwrap();
            }
        };
        let client = async {
            let (mut send, connection) = h2::client::handshake(client_io).await.unwrap();
            let driver = tokio::spawn(async move {
                let _ = connection.await;
            });
            let request = http::Request::get("http://localhost/").body(()).unwrap();
            let (response, _) = send.send_request(request, true).unwrap();
            assert_eq!(response.await.unwrap().status(), 200);
            drop(send);
            let _ = driver.await;
        };
        tokio::join!(server, client);
    });
}

const H2_YAML: &str = r#"
appenders:
  app: { kind: file, path: "DIR/app.log", encoder: { pattern: "{l} {t} {m}{n}" } }
  h2:
    kind: rotating_file
    path: "DIR/h2.log"
    encoder: { kind: python, format: "%(levelname)s %(name)s [%(spans)s] %(message)s" }
root: { level: info, appenders: [app] }
loggers:
  h2: { level: debug, appenders: [h2], additive: false }
"#;

fn check_h2_routing(dir: &Path) {
    let h2 = lines(&dir.join("h2.log"));
    assert!(
        h2.iter()
            .any(|l| l.starts_with("DEBUG h2::") && l.contains("send")),
        "h2's own debug events in its file: {h2:#?}"
    );
    assert!(
        h2.iter().any(|l| l.contains("Connection{peer=Client}")),
        "h2's spans ride along: {h2:#?}"
    );
    assert!(
        h2.iter().all(|l| !l.starts_with("TRACE")),
        "h2's trace events are below its logger's level: {h2:#?}"
    );
    let app = lines(&dir.join("app.log"));
    assert_eq!(
        app,
        ["INFO app request done"],
        "not additive: no h2 line here"
    );
}

#[test]
fn a_real_library_h2_is_routed_by_yaml_to_its_own_file_at_its_own_level() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = H2_YAML.replace("DIR", &dir.path().display().to_string());
    let yaml_path = dir.path().join("log4rs.yaml");
    std::fs::write(&yaml_path, yaml).unwrap();
    let layer = log4rs_appenders::tracing::layer_from_file(&yaml_path).unwrap();
    let flush = layer.flush_guard();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        h2_handshake();
        tracing::info!(target: "app", "request done");
        tracing::debug!(target: "app", "below root's level");
    });
    drop(flush);
    check_h2_routing(dir.path());
}

#[test]
fn a_real_library_h2_is_routed_from_a_config_built_in_code() {
    use log4rs::config::{Appender, Config, Logger, Root};
    let dir = tempfile::tempdir().unwrap();
    let app = log4rs::append::file::FileAppender::builder()
        .encoder(Box::new(log4rs::encode::pattern::PatternEncoder::new(
            "{l} {t} {m}{n}",
        )))
        .build(dir.path().join("app.log"))
        .unwrap();
    let h2 = RotatingFileAppender::builder()
        .encoder(Box::new(
            PythonEncoder::new("%(levelname)s %(name)s [%(spans)s] %(message)s").unwrap(),
        ))
        .build(dir.path().join("h2.log"))
        .unwrap();
    let config = Config::builder()
        .appender(Appender::builder().build("app", Box::new(app)))
        .appender(Appender::builder().build("h2", Box::new(h2)))
        .logger(
            Logger::builder()
                .appender("h2")
                .additive(false)
                .build("h2", log::LevelFilter::Debug),
        )
        .build(
            Root::builder()
                .appender("app")
                .build(log::LevelFilter::Info),
        )
        .unwrap();
    let layer = RoutingLayer::new(config);
    let flush = layer.flush_guard();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        h2_handshake();
        tracing::info!(target: "app", "request done");
    });
    drop(flush);
    check_h2_routing(dir.path());
}

#[test]
fn the_rotating_file_as_a_make_writer_rotates_between_whole_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fmt.log");
    let file = RotatingFileAppender::builder()
        .max_bytes(300)
        .backup_count(20)
        .build(&path)
        .unwrap();
    let writer = RotatingFileWriter::new(file);
    let flush = writer.flush_guard();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .without_time();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(fmt), || {
        for n in 0..20 {
            tracing::info!(n, "event number {n:02} from the fmt layer");
        }
    });
    drop(flush);
    let mut all = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        let size = std::fs::metadata(&p).unwrap().len();
        assert!(size <= 300, "{} has {size} bytes", p.display());
        let text = read(&p);
        assert!(
            text.ends_with('\n'),
            "a file ends inside an event: {text:?}"
        );
        all.extend(lines(&p).iter().map(|l| l.trim_start().to_owned()));
        files += 1;
    }
    assert!(files > 3, "rotated into {files} files");
    all.sort();
    let want: Vec<String> = (0..20)
        .map(|n| format!("INFO tracing: event number {n:02} from the fmt layer n={n}"))
        .collect();
    assert_eq!(all, want);
}

/// Runs the test `name` of this binary in a child process with `env` set and returns its
/// output; the child may install the global subscriber.
fn run_child(name: &str, env: &[(&str, &Path)]) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", name, "--nocapture", "--test-threads=1"]);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child {name} failed:\n{text}");
    text
}

fn child_dir() -> Option<PathBuf> {
    std::env::var_os("LOG4RS_APPENDERS_TRACING_CHILD").map(PathBuf::from)
}

#[test]
fn init_file_is_the_whole_subscriber_and_log_records_arrive_once() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_child(
        "init_file_child",
        &[("LOG4RS_APPENDERS_TRACING_CHILD", dir.path())],
    );
    assert!(output.contains("child done"), "{output}");
    let all = lines(&dir.path().join("all.log"));
    let count = |needle: &str| all.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("a tracing event"), 1, "{all:#?}");
    assert_eq!(count("a log record"), 1, "{all:#?}");
    assert!(
        all.contains(&"INFO app handle [request{id=7}:handle] a tracing event".to_string()),
        "{all:#?}"
    );
    assert!(
        all.contains(&"WARNING app handle [request{id=7}:handle] a log record".to_string()),
        "a log record gets the span chain: {all:#?}"
    );
    assert!(
        all.contains(&"Caused by: UNIQUE constraint failed: user.username".to_string()),
        "a log record keeps its error key-value: {all:#?}"
    );
    assert_eq!(
        count("DEBUG globset handle [request{id=7}:handle] built glob set"),
        1,
        "a real `log` library at its logger's level, once: {all:#?}"
    );
    assert_eq!(count("below the level"), 0, "{all:#?}");
}

/// The child side of `init_file_is_the_whole_subscriber_and_log_records_arrive_once`.
#[test]
fn init_file_child() {
    let Some(dir) = child_dir() else { return };
    let config = dir.join("log4rs.yaml");
    std::fs::write(
        &config,
        "appenders:\n  f: { kind: rotating_file, path: nowhere, max_bytes: lots }\nroot: { level: loud, appenders: [f, g] }\n",
    )
    .unwrap();
    let refused = log4rs_appenders::tracing::init_file(&config)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("3 problems"), "{refused}");
    assert!(
        !tracing::dispatcher::has_been_set(),
        "a refused config installs nothing"
    );

    // Passes every check, fails to start (its folder would be inside a regular file): the
    // subscriber stays installed with logging off, for the corrected config below.
    let not_a_folder = dir.join("not-a-folder");
    std::fs::write(&not_a_folder, "").unwrap();
    let file_config = |path: &Path| {
        format!(
            "appenders:\n  all:\n    kind: rotating_file\n    path: {:?}\n    encoder: {{ kind: python, format: \"%(levelname)s %(name)s %(funcName)s [%(spans)s] %(message)s\" }}\nroot: {{ level: info, appenders: [all] }}\nloggers:\n  globset: {{ level: debug }}\n",
            path.display().to_string()
        )
    };
    std::fs::write(&config, file_config(&not_a_folder.join("all.log"))).unwrap();
    let refused = log4rs_appenders::tracing::init_file(&config)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("cannot start"), "{refused}");

    let log_path = dir.join("all.log");
    std::fs::write(&config, file_config(&log_path)).unwrap();
    let handle = log4rs_appenders::tracing::init_file(&config).unwrap();

    // A second init while one runs is refused before its appenders start: no file appears.
    let second = dir.join("second.log");
    std::fs::write(&config, file_config(&second)).unwrap();
    assert!(matches!(
        log4rs_appenders::tracing::init_file(&config),
        Err(log4rs_appenders::InitError::AlreadyInitialized)
    ));
    assert!(!second.exists(), "the refused init created {second:?}");
    let span = tracing::info_span!("request", id = 7);
    let handle_span = tracing::info_span!(parent: &span, "handle");
    handle_span.in_scope(|| {
        tracing::info!(target: "app", "a tracing event");
        let error = SaveError(Constraint);
        log::warn!(target: "app", error:err = error; "a log record");
        log::debug!(target: "app", "below the level");
        let mut set = globset::GlobSetBuilder::new();
        set.add(globset::Glob::new("*.rs").unwrap());
        set.build().unwrap();
    });
    drop(handle);
    println!("child done");
}

/// With `tracing`'s `log-always` feature, `tracing` writes a `log` copy of every event (after
/// dispatching it, or before with `parent:`) and of every span's fields; the bridge must leave
/// the copies out. Dev-dependencies unify features, so the program is a fixture crate of its own
/// (tests/fixtures/tracing_log_always), built with this crate's Cargo.lock in this crate's target
/// directory (only `tracing`, this crate and a few dependencies with other features are built
/// again: ~25 s the first time, nothing afterwards).
#[test]
fn log_always_events_are_logged_once() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tracing_log_always");
    // The same versions as the crate (the lockfile there is not tracked).
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"),
        fixture.join("Cargo.lock"),
    )
    .unwrap();
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("all.log");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let start = Instant::now();
    let output = std::process::Command::new(cargo)
        .args(["run", "--quiet", "--offline", "--manifest-path"])
        .arg(fixture.join("Cargo.toml"))
        .arg("--")
        .arg(&log_path)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the fixture failed:\n{text}");
    assert!(text.contains("fixture done"), "{text}");
    println!("fixture built and run in {:?}", start.elapsed());
    assert_eq!(
        lines(&log_path),
        [
            "INFO app [] contextual event",
            "INFO app [request{id=7}] explicit parent event",
            "WARNING app [request{id=7 id=8}] event in a span",
            "WARNING app [request{id=7 id=8}] a log record",
            "WARNING app [request{id=7 id=8}] a log record with a key-value",
        ],
        "each event once, by the layer; no `log` copies of events or span fields; `log` records \
         once"
    );
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn reload_config(log_path: &Path, level: &str) -> String {
    format!(
        "refresh_rate: 200ms\nappenders:\n  f:\n    kind: rotating_file\n    path: {:?}\n    encoder: {{ kind: python, format: \"%(levelname)s %(message)s\" }}\nroot: {{ level: {level}, appenders: [f] }}\n",
        log_path.display().to_string()
    )
}

#[test]
fn hot_reload_changes_the_levels_and_appenders_of_a_running_subscriber() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_child(
        "hot_reload_child",
        &[("LOG4RS_APPENDERS_TRACING_CHILD", dir.path())],
    );
    assert!(output.contains("child done"), "{output}");
}

/// The same callsites log before and after each reload: tracing caches whether a callsite is
/// on, so this shows the cache is rebuilt.
fn emit(n: u32) {
    tracing::info!("info {n}");
    tracing::debug!("debug {n}");
}

/// The child side of `hot_reload_changes_the_levels_and_appenders_of_a_running_subscriber`.
#[test]
fn hot_reload_child() {
    let Some(dir) = child_dir() else { return };
    let config = dir.join("log4rs.yaml");
    let (a, b) = (dir.join("a.log"), dir.join("b.log"));
    std::fs::write(&config, reload_config(&a, "info")).unwrap();
    let handle = log4rs_appenders::tracing::init_file(&config).unwrap();
    emit(1);
    handle.flush();
    assert_eq!(lines(&a), ["INFO info 1"]);

    // Raise the level and move to another file: a later mtime and another length.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(&config, reload_config(&b, "debug")).unwrap();
    let mut n = 2;
    wait_for("the reload to apply", || {
        emit(n);
        n += 1;
        handle.flush();
        lines(&b).iter().any(|l| l.starts_with("DEBUG"))
    });
    let b_lines = lines(&b);
    let first = b_lines.first().cloned().unwrap_or_default();
    let k: u32 = first.trim_start_matches("INFO info ").parse().unwrap();
    assert_eq!(
        b_lines[..2],
        [format!("INFO info {k}"), format!("DEBUG debug {k}")],
        "both levels from the first event after the reload: {b_lines:#?}"
    );
    assert!(
        lines(&a).iter().all(|l| l.starts_with("INFO")),
        "the old file got no debug line"
    );

    // A broken config is reported and the running one stays.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(&config, "root: { level: loud }\n").unwrap();
    std::thread::sleep(Duration::from_millis(800));
    tracing::debug!("still on after a broken reload");
    handle.flush();
    assert!(
        lines(&b).contains(&"DEBUG still on after a broken reload".to_string()),
        "{:#?}",
        lines(&b)
    );
    drop(handle);
    println!("child done");
}

#[test]
fn an_error_event_is_mailed_with_its_error_chain_and_spans_through_aiosmtpd() {
    if !support::python_module_available(
        "aiosmtpd",
        "bash scripts/install/smtp.sh (pip install aiosmtpd)",
    ) {
        return;
    }
    let server = smtp_peer::SmtpServer::start(&[]);
    let yaml = format!(
        r#"
appenders:
  mail:
    kind: smtp
    host: 127.0.0.1
    port: {}
    security: none
    from: app@example.com
    to: [ops@example.com]
    subject: "Microblog Failure: %(message)s"
    batch_window: 0 seconds
    level: error
    encoder: {{ kind: python, format: "%(levelname)s %(name)s %(funcName)s [%(spans)s] %(message)s" }}
root: {{ level: info, appenders: [mail] }}
"#,
        server.port
    );
    let config = log4rs_appenders::config::load_config_str(&yaml, "mail.yaml")
        .unwrap()
        .config;
    let layer = RoutingLayer::new(config);
    let flush = layer.flush_guard();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info_span!("request", id = 7).in_scope(|| {
            tracing::info!("not mailed: below the appender's level");
            update_user(2);
        });
    });
    drop(flush);
    let mails = server.wait_until(Duration::from_secs(15), |m| !m.is_empty());
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(
        mail.subject,
        "Microblog Failure: Exception on /edit_profile [POST]"
    );
    for needle in [
        "ERROR tracing update_user [request{id=7}:update_user{id=2 user=\"susan\"}] Exception on /edit_profile [POST]",
        "Error: cannot save the profile of \"susan\"",
        "Caused by: UNIQUE constraint failed: user.username",
    ] {
        assert!(
            mail.body.contains(needle),
            "{needle:?} not in:\n{}",
            mail.body
        );
    }
    assert!(!mail.body.contains("not mailed"), "{}", mail.body);
}

/// A real rsyslogd on a TCP port of its choosing, writing `structured-data|msg` per line.
#[cfg(unix)]
struct Rsyslog {
    dir: tempfile::TempDir,
    child: std::process::Child,
    port: u16,
}

#[cfg(unix)]
impl Rsyslog {
    fn start() -> Option<Rsyslog> {
        if !support::peer_available(
            "rsyslogd",
            "bash scripts/install/syslog.sh (apt-get install rsyslog)",
        ) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        let conf = format!(
            r#"global(workDirectory="{d}/work")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{d}/tcp.port")
template(name="T" type="string" string="%app-name%|%syslogseverity-text%|%structured-data%|%msg%\n")
*.* action(type="omfile" file="{d}/out.log" template="T")
"#
        );
        std::fs::write(dir.path().join("rsyslog.conf"), conf).unwrap();
        let child = std::process::Command::new(support::which("rsyslogd").unwrap())
            .arg("-n")
            .arg("-f")
            .arg(dir.path().join("rsyslog.conf"))
            .arg("-i")
            .arg(dir.path().join("rsyslog.pid"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut port = 0;
        wait_for("rsyslogd to listen", || {
            port = read(&dir.path().join("tcp.port"))
                .trim()
                .parse()
                .unwrap_or(0);
            port != 0 && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Some(Rsyslog { dir, child, port })
    }
}

#[cfg(unix)]
impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(unix)]
#[test]
fn an_event_reaches_rsyslog_with_its_fields_and_spans_as_structured_data() {
    let Some(rsyslog) = Rsyslog::start() else {
        return;
    };
    let yaml = format!(
        "appenders:\n  central:\n    kind: syslog\n    address: tcp://127.0.0.1:{}\n    app_name: microblog\nroot: {{ level: info, appenders: [central] }}\n",
        rsyslog.port
    );
    let config = log4rs_appenders::config::load_config_str(&yaml, "syslog.yaml")
        .unwrap()
        .config;
    let layer = RoutingLayer::new(config);
    let flush = layer.flush_guard();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let request = tracing::info_span!(
            "request",
            id = 7,
            path = "/edit",
            status = tracing::field::Empty
        );
        request.in_scope(|| {
            request.record("status", 507);
            tracing::info_span!("db", ok = false).in_scope(|| {
                tracing::warn!(user_id = 42, "disk almost full");
            });
        });
    });
    drop(flush);
    let out = rsyslog.dir.path().join("out.log");
    wait_for("rsyslog to write the record", || {
        read(&out).contains("disk almost full")
    });
    let text = read(&out);
    let line = text
        .lines()
        .find(|l| l.contains("disk almost full"))
        .unwrap();
    let fields: Vec<&str> = line.splitn(4, '|').collect();
    assert_eq!(fields[0], "microblog", "{line}");
    assert_eq!(fields[1], "warning", "{line}");
    // One SD-ELEMENT: the event's fields, each span field as a PARAM of its own (`span.field`,
    // root first, a value recorded later included), the chain as text, the innermost span.
    assert_eq!(
        fields[2],
        "[log4rs@32473 user_id=\"42\" request.id=\"7\" request.path=\"/edit\" \
         request.status=\"507\" db.ok=\"false\" \
         spans=\"request{id=7 path=\\\"/edit\\\" status=507}:db{ok=false}\" funcName=\"db\"]",
        "{line}"
    );
    assert_eq!(fields[3].trim(), "disk almost full", "{line}");
}

/// Every config example loads through both front ends: the strict loader (`log` front end) and
/// `layer_from_file` (tracing), and the layer takes an event. Relative paths land in a temp dir.
#[test]
fn every_config_example_loads_through_both_front_ends() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("config-examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 9, "{paths:?}");
    let output = run_child(
        "config_examples_child",
        &[("LOG4RS_APPENDERS_TRACING_CHILD", &examples)],
    );
    for path in &paths {
        assert!(
            output.contains(&format!("both front ends loaded {}", path.display())),
            "{}:\n{output}",
            path.display()
        );
    }
}

/// The child side of `every_config_example_loads_through_both_front_ends`: runs in a temp dir
/// (the examples write logs/...).
#[test]
fn config_examples_child() {
    let Some(examples) = child_dir() else { return };
    let scratch = tempfile::tempdir().unwrap();
    std::env::set_current_dir(scratch.path()).unwrap();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    for path in paths {
        log4rs_appenders::config::load_config_file(&path)
            .unwrap_or_else(|e| panic!("log front end, {}: {e}", path.display()));
        let layer = log4rs_appenders::tracing::layer_from_file(&path)
            .unwrap_or_else(|e| panic!("tracing front end, {}: {e}", path.display()));
        let flush = layer.flush_guard();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            tracing::info!(target: "config_example", "hello from the example config");
        });
        drop(flush);
        println!("both front ends loaded {}", path.display());
    }
}
