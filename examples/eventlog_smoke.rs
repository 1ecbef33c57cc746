//! Writes records to the Windows Event Log through the `windows_event_log` appender, and
//! registers or deregisters an event source: the program scripts/windows-eventlog-test.sh runs
//! under wine (it works the same on a real Windows machine).
//!
//! ```text
//! eventlog_smoke log SOURCE              one record per level, plus one over the size limit
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
        eprintln!("usage: eventlog_smoke log|register|deregister SOURCE");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "log" => log_records(source),
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

fn log_records(source: &str) -> anyhow::Result<()> {
    match SourceRegistration::new(source).is_registered() {
        Ok(registered) => println!("source {source} registered: {registered}"),
        Err(e) => println!("source {source} registered: unknown ({e:#})"),
    }
    let yaml = format!(
        r#"
appenders:
  eventlog:
    kind: windows_event_log
    source: {source}
    event_id: {{ error: 1000, warn: 2000, default: 3000 }}
    category: 7
    encoder: {{ kind: pattern, pattern: "{{l}} {{t}}: {{m}}{{n}}" }}
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
    let config = Config::builder().appenders(appenders).build(raw.root())?;
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
