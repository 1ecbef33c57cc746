//! `check CONFIG`: every problem at once, or what the config does. It only checks: no appender
//! is started (no file created, no mail sent from a spool).

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use log::LevelFilter;
use log4rs::config::Logger;
use log4rs_appenders::Count;
use log4rs_appenders::config::check_config_file;

use crate::summary;

/// Checks `path` and writes the summary to `out`; `Ok(false)` when the config has problems
/// (listed on stderr). A write error (a closed pipe: `check cfg | head -2`) is returned, not a
/// panic, so the caller can stop quietly.
pub fn run(path: &Path, out: &mut dyn Write) -> io::Result<bool> {
    let checked = match check_config_file(path) {
        Ok(checked) => checked,
        Err(e) => {
            eprintln!("{e}");
            let problems = Count::new(e.problems.len() as u64, "problem");
            eprintln!(
                "{}: {problems}; nothing would be logged with this config until the {} {} fixed",
                path.display(),
                problems.noun(),
                problems.are()
            );
            return Ok(false);
        }
    };
    let config = checked.routing();
    writeln!(out, "{}: OK", path.display())?;
    if let Some(rate) = checked.refresh_rate() {
        writeln!(
            out,
            "refresh_rate: {} (changes are applied while running, if they load without problems)",
            humantime::format_duration(rate)
        )?;
    }
    let infos = summary::appenders(path);
    writeln!(out, "appenders:")?;
    if infos.is_empty() {
        writeln!(out, "  (none: records go nowhere)")?;
    }
    let width = infos.iter().map(|a| a.name.len()).max().unwrap_or(0);
    // Maps, not scans: a config may have tens of thousands of loggers (or appenders), and each
    // line below would otherwise search all of them.
    let filters_of: HashMap<&str, usize> = checked.appender_filters().collect();
    for a in &infos {
        let filters = filters_of.get(a.name.as_str()).copied().unwrap_or(0);
        writeln!(
            out,
            "  {:width$}  {}{}{}",
            a.name,
            a.kind,
            a.destination
                .as_ref()
                .map(|d| format!(" -> {d}"))
                .unwrap_or_default(),
            if filters > 0 {
                format!(" ({})", Count::new(filters as u64, "filter"))
            } else {
                String::new()
            }
        )?;
    }
    writeln!(out, "loggers (level -> appenders a record reaches):")?;
    let routes = summary::Routes::new(config);
    let mut loggers: Vec<&Logger> = config.loggers().iter().collect();
    loggers.sort_unstable_by_key(|l| l.name());
    let width = loggers
        .iter()
        .map(|l| l.name().len())
        .max()
        .unwrap_or(0)
        .max("root".len());
    let root = config.root();
    let line = LoggerLine {
        name: "root",
        level: root.level(),
        route: root.appenders(),
        own: root.appenders().len(),
        additive: true,
    };
    line.write(out, width)?;
    for l in loggers {
        let route = routes.route(l.name()).appenders;
        let line = LoggerLine {
            name: l.name(),
            level: l.level(),
            route: &route,
            own: l.appenders().len(),
            additive: l.additive(),
        };
        line.write(out, width)?;
    }
    Ok(true)
}

/// One logger's line: `  app::db  debug -> file, mail  (with its parents')`.
struct LoggerLine<'a> {
    name: &'a str,
    level: LevelFilter,
    /// Every appender a record reaches, its own first.
    route: &'a [String],
    /// How many of them are the logger's own.
    own: usize,
    additive: bool,
}

impl LoggerLine<'_> {
    fn write(&self, out: &mut dyn Write, width: usize) -> io::Result<()> {
        let inherited = self.route.len() > self.own;
        writeln!(
            out,
            "  {:width$}  {:5} -> {}{}",
            self.name,
            self.level.as_str().to_ascii_lowercase(),
            if self.route.is_empty() {
                "(nothing)".to_owned()
            } else {
                self.route.join(", ")
            },
            match (self.additive, inherited) {
                (false, _) => "  (additive: false)",
                (true, true) => "  (with its parents')",
                _ => "",
            }
        )
    }
}
