//! `send-test CONFIG`: one record through the appenders a real record on `--logger` would
//! reach, then a flush, then a verdict per appender.
//!
//! Each appender is called directly (filters, `append`, `flush`), so a failure is pinned on the
//! appender that had it: `append`'s own error, or what its background worker reports (through
//! `set_error_handler`; our appenders name themselves in those reports) while it flushes.

use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use log4rs::filter::Response;
use log4rs_appenders::config::load_config_file;

use crate::summary::{self, AppenderInfo};

/// Sends the record and writes the verdicts to `out`; `Ok(false)` when nothing was sent or an
/// appender failed. A write error on `out` (a reader that went away) is returned.
pub fn run(
    path: &Path,
    level: log::Level,
    logger: &str,
    message: Option<String>,
    out: &mut dyn Write,
) -> io::Result<bool> {
    let loaded = match load_config_file(path) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            eprintln!(
                "{}: the config has problems, so nothing was sent (run `log4rs-appenders check` after fixing them)",
                path.display()
            );
            return Ok(false);
        }
    };
    let config = loaded.config;
    let infos = summary::appenders(path);
    let route = summary::Routes::new(&config).route(logger);
    writeln!(
        out,
        "logger {logger:?} -> configured logger {:?} (level {}), appenders: {}",
        route.logger,
        route.level.as_str().to_ascii_lowercase(),
        if route.appenders.is_empty() {
            "(none)".to_owned()
        } else {
            route.appenders.join(", ")
        }
    )?;
    out.flush()?;
    if level > route.level {
        eprintln!(
            "not sent: logger {:?} is at level {}, so a {} record on {logger:?} goes nowhere; \
             try --level {} or another --logger",
            route.logger,
            route.level.as_str().to_ascii_lowercase(),
            level.as_str().to_ascii_lowercase(),
            route.level.as_str().to_ascii_lowercase(),
        );
        return Ok(false);
    }
    if route.appenders.is_empty() {
        eprintln!("not sent: no appender is attached to logger {logger:?} or its parents");
        return Ok(false);
    }

    let reported = Arc::new(Mutex::new(Vec::<String>::new()));
    log4rs_appenders::set_error_handler({
        let reported = reported.clone();
        move |e| {
            if let Ok(mut r) = reported.lock() {
                r.push(format!("{e:#}"));
            }
        }
    });

    let text = message.unwrap_or_else(|| {
        format!(
            "log4rs-appenders send-test: a test {} record on {logger:?}, sent {} from {} (pid {}). \
             If you read this, the appender delivered it.",
            level.as_str(),
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S %z"),
            hostname(),
            std::process::id()
        )
    });
    let args = format_args!("{text}");
    let record = log::Record::builder()
        .level(level)
        .target(logger)
        .module_path_static(Some("log4rs_appenders::send_test"))
        .file_static(Some(file!()))
        .line(Some(line!()))
        .args(args)
        .build();

    let (mut delivered, mut failed, mut skipped) = (0, 0, 0);
    for name in &route.appenders {
        let Some(appender) = config.appenders().iter().find(|a| a.name() == name) else {
            continue;
        };
        let info = infos.iter().find(|i| &i.name == name);
        let kind = info.map(|i| i.kind.as_str()).unwrap_or("?");
        let filtered = appender
            .filters()
            .iter()
            .find_map(|f| match f.filter(&record) {
                Response::Accept => Some(false),
                Response::Reject => Some(true),
                Response::Neutral => None,
            });
        if kind == "windows_event_log" && !cfg!(windows) {
            // Built here only with `on_other_platforms: ignore`, which drops every record.
            writeln!(
                out,
                "  {name} ({kind}): SKIPPED: the Windows Event Log exists only on Windows; here this \
                 appender drops records (on_other_platforms: ignore). Run send-test on the Windows machine"
            )?;
            skipped += 1;
            continue;
        }
        if filtered == Some(true) {
            writeln!(
                out,
                "  {name} ({kind}): SKIPPED: its filter rejects a {level} record (not a failure; try another --level)"
            )?;
            continue;
        }
        if let Ok(mut r) = reported.lock() {
            r.clear();
        }
        let appended = appender.appender().append(&record);
        appender.appender().flush();
        let mut problems: Vec<String> = Vec::new();
        if let Err(e) = appended {
            problems.push(format!("{e:#}"));
        }
        if let Ok(r) = reported.lock() {
            // Our appenders name themselves (`appender "mail": ...`); a report that names no
            // appender came from this one's flush, the only thing running.
            let others = route
                .appenders
                .iter()
                .filter(|other| *other != name)
                .map(|other| format!("appender \"{other}\""))
                .collect::<Vec<_>>();
            problems.extend(
                r.iter()
                    .filter(|msg| !others.iter().any(|o| msg.contains(o.as_str())))
                    .cloned(),
            );
        }
        if problems.is_empty() {
            writeln!(out, "  {name} ({kind}): DELIVERED: {}", meaning(kind, info))?;
            delivered += 1;
        } else {
            failed += 1;
            writeln!(out, "  {name} ({kind}): FAILED: {}", problems.join("; "))?;
        }
        // Each verdict as it comes: a slow mail server should not hide the ones before it.
        out.flush()?;
    }
    writeln!(
        out,
        "{delivered} delivered, {failed} failed, {skipped} skipped"
    )?;
    if failed > 0 {
        // Dropping the appenders would flush the failed ones again and wait out their timeouts
        // once more; the verdict is in, so leave without it (a queued test record is dropped).
        std::mem::forget(config);
    }
    Ok(failed == 0)
}

/// What "delivered" honestly means for each kind.
fn meaning(kind: &str, info: Option<&AppenderInfo>) -> String {
    let dest = info.and_then(|i| i.destination.clone()).unwrap_or_default();
    match kind {
        "console" => format!("written to {dest}"),
        "file" | "rolling_file" | "rotating_file" => {
            // A relative path is relative to where the program runs: say where that was.
            let place = match std::env::current_dir() {
                Ok(cwd) if Path::new(&dest).is_relative() => {
                    format!("{dest} (in {})", cwd.display())
                }
                _ => dest,
            };
            format!("written to {place} and flushed to the operating system")
        }
        "smtp" => format!(
            "the mail server at {dest} accepted the mail (what happens after that, spam filters \
             included, is up to the mail system: check the inbox)"
        ),
        "syslog"
            if dest.starts_with("udp") || dest.starts_with("unix") || dest.starts_with('/') =>
        {
            format!(
                "handed to {dest} without error; datagrams are not acknowledged, so check the \
             syslog server's log"
            )
        }
        "syslog" => format!(
            "written to the connection to {dest}; syslog has no acknowledgement, so check the \
             server's log"
        ),
        "windows_event_log" => format!("ReportEventW accepted it ({dest}); see Event Viewer"),
        "sentry" => format!(
            "the Sentry server ({dest}) answered 200 for the event: it is in the project's \
             issues (a record below the appender's level only becomes a breadcrumb: use --level error)"
        ),
        _ => "append and flush reported no error".to_owned(),
    }
}

fn hostname() -> String {
    hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".to_owned())
}
