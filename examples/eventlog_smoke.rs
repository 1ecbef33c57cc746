//! Writes records to the Windows Event Log through the `windows_event_log` appender, and
//! registers or deregisters an event source: the program scripts/windows-eventlog-test.sh runs
//! under wine (it works the same on a real Windows machine).
//!
//! ```text
//! eventlog_smoke log SOURCE              one record per level, plus one over the size limit
//! eventlog_smoke tracing SOURCE          `tracing` events (fields, spans, an error chain) and a
//!                                        `log` record through the tracing front end
//!                                        (`tracing::init_config`; needs feature `tracing`)
//! eventlog_smoke register SOURCE [LOG [MESSAGE_FILE]]
//!                                        register SOURCE (default: Application log, .NET's
//!                                        EventLogMessages.dll); needs administrator rights
//! eventlog_smoke deregister SOURCE [LOG] remove it (admin)
//! ```
//! On other platforms `log` shows the clear error the appender gives there.

use std::process::ExitCode;

use log4rs::config::{Config, RawConfig};
use log4rs_appenders::eventlog::SourceRegistration;

/// Lines in the long record; ~48 characters each, so it is over the 31,839-character limit.
const LONG_RECORD_LINES: usize = 800;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(command), Some(source)) = (args.first(), args.get(1)) else {
        eprintln!("usage: eventlog_smoke log|tracing|register|deregister SOURCE");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "log" => log_records(source),
        "tracing" => tracing_events(source),
        "register" => registration(&args)
            .register()
            .map(|()| println!("registered {source}")),
        "deregister" => registration(&args).deregister().map(|removed| {
            println!(
                "{}",
                if removed {
                    "deregistered"
                } else {
                    "was not registered"
                }
            )
        }),
        other => Err(anyhow::anyhow!("unknown command {other:?}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eventlog_smoke: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The registration that `SOURCE [LOG [MESSAGE_FILE]]` describe.
fn registration(args: &[String]) -> SourceRegistration {
    let mut registration = SourceRegistration::new(&args[1]);
    if let Some(log) = args.get(2) {
        registration = registration.log(log);
    }
    if let Some(file) = args.get(3) {
        registration = registration.message_file(file);
    }
    registration
}

/// Prints whether `source` is registered (the script checks it).
fn say_registered(source: &str) {
    match SourceRegistration::new(source).is_registered() {
        Ok(registered) => println!("source {source} registered: {registered}"),
        Err(e) => println!("source {source} registered: unknown ({e:#})"),
    }
}

/// The config: one `windows_event_log` appender with `encoder`, root at debug.
fn eventlog_config(source: &str, encoder: &str) -> anyhow::Result<Config> {
    let yaml = format!(
        r#"
appenders:
  eventlog:
    kind: windows_event_log
    source: {source}
    event_id: {{ error: 1000, warn: 2000, default: 3000 }}
    category: 7
    encoder: {encoder}
root:
  level: debug
  appenders: [eventlog]
"#
    );
    let raw: RawConfig = serde_yaml::from_str(&yaml)?;
    let (appenders, mut errors) = raw.appenders_lossy(&log4rs_appenders::deserializers());
    if !errors.is_empty() {
        errors.handle(); // prints each error, naming the appender, as log4rs does
        anyhow::bail!("the config has errors");
    }
    Ok(Config::builder().appenders(appenders).build(raw.root())?)
}

fn log_records(source: &str) -> anyhow::Result<()> {
    say_registered(source);
    let config = eventlog_config(source, r#"{ kind: pattern, pattern: "{l} {t}: {m}{n}" }"#)?;
    let handle = log4rs::init_config(config)?;

    log::error!(target: "smoke", "disk full on C:\\data (errno 28)");
    log::warn!(target: "smoke", "queue at 91% of capacity");
    log::info!(target: "smoke", "user café logged in");
    log::debug!(target: "smoke", "cache warmed in 12 ms");
    let long: String = (0..LONG_RECORD_LINES)
        .map(|i| format!("long line {i:04}: the quick brown fox jumps over\n"))
        .collect();
    log::error!(target: "smoke", "{}", long.trim_end());
    log::logger().flush();
    drop(handle);
    println!("logged");
    Ok(())
}

/// The error of the tracing mode: a `source()` chain of two.
#[cfg(feature = "tracing")]
#[derive(Debug)]
struct SaveError(std::io::Error);

#[cfg(feature = "tracing")]
impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cannot save the profile of \"susan\"")
    }
}

#[cfg(feature = "tracing")]
impl std::error::Error for SaveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// An `#[instrument]` function: its span is `save_profile{attempt=1 user="susan"}`, its name the `funcName`.
#[cfg(feature = "tracing")]
#[tracing::instrument(target = "smoke", fields(user = "susan"))]
fn save_profile(attempt: u32) {
    let error = SaveError(std::io::Error::other("disk full on C:\\data"));
    tracing::error!(
        target: "smoke",
        user_id = 42,
        error = &error as &dyn std::error::Error,
        "cannot save the profile"
    );
    tracing::warn!(target: "smoke", queue_pct = 91u64, "queue almost full");
    log::warn!(target: "smoke", "a log record through the bridge");
}

/// `tracing` events through the tracing front end (`log4rs_appenders::tracing::init_config`) into
/// the Event Log: typed fields (`%(user_id)s`), an error's `source()` chain, the span chain
/// (`%(spans)s`), the innermost span as `%(funcName)s`, a field-only event and a `log` record
/// through the bridge. scripts/windows/check_wine_eventlog.py knows what each must become.
#[cfg(feature = "tracing")]
fn tracing_events(source: &str) -> anyhow::Result<()> {
    say_registered(source);
    let config = eventlog_config(
        source,
        r#"{ kind: python, format: "%(levelname)s %(name)s %(funcName)s [%(spans)s] %(message)s user_id=%(user_id)s", defaults: { user_id: "-" } }"#,
    )?;
    let handle = log4rs_appenders::tracing::init_config(config)?;
    tracing::info_span!(target: "smoke", "request", id = 7).in_scope(|| save_profile(1));
    tracing::info!(target: "smoke", user_id = 7, "user café logged in");
    tracing::debug!(target: "smoke", elapsed_ms = 12u64);
    tracing::trace!(target: "smoke", "below the level: not reported");
    drop(handle);
    println!("logged");
    Ok(())
}

#[cfg(not(feature = "tracing"))]
fn tracing_events(_source: &str) -> anyhow::Result<()> {
    anyhow::bail!("built without feature `tracing`: cargo build --features eventlog,tracing")
}
