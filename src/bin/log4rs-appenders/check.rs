//! `check CONFIG`: every problem at once, or what the config does. It only checks: no appender
//! is started (no file created, no mail sent from a spool).

use std::path::Path;

use log4rs_appenders::config::check_config_file;

use crate::summary;

pub fn run(path: &Path) -> bool {
    let checked = match check_config_file(path) {
        Ok(checked) => checked,
        Err(e) => {
            eprintln!("{e}");
            eprintln!(
                "{}: {} problem(s); nothing would be logged with this config until they are fixed",
                path.display(),
                e.problems.len()
            );
            return false;
        }
    };
    let config = checked.routing();
    println!("{}: OK", path.display());
    if let Some(rate) = checked.refresh_rate() {
        println!(
            "refresh_rate: {} (changes are applied while running, if they load without problems)",
            humantime::format_duration(rate)
        );
    }
    let infos = summary::appenders(path);
    println!("appenders:");
    if infos.is_empty() {
        println!("  (none: records go nowhere)");
    }
    let width = infos.iter().map(|a| a.name.len()).max().unwrap_or(0);
    for a in &infos {
        let filters = checked
            .appender_filters()
            .find(|(name, _)| *name == a.name)
            .map(|(_, filters)| filters)
            .unwrap_or(0);
        println!(
            "  {:width$}  {}{}{}",
            a.name,
            a.kind,
            a.destination
                .as_ref()
                .map(|d| format!(" -> {d}"))
                .unwrap_or_default(),
            if filters > 0 {
                format!(" ({filters} filter(s))")
            } else {
                String::new()
            }
        );
    }
    println!("loggers (level -> appenders a record reaches):");
    let mut names = vec!["root".to_owned()];
    let mut loggers: Vec<&str> = config.loggers().iter().map(|l| l.name()).collect();
    loggers.sort_unstable();
    names.extend(loggers.iter().map(|s| s.to_string()));
    let width = names.iter().map(String::len).max().unwrap_or(4);
    for name in &names {
        let (level, own, additive) = if name == "root" {
            (config.root().level(), config.root().appenders(), true)
        } else {
            let l = config
                .loggers()
                .iter()
                .find(|l| l.name() == name)
                .expect("listed from the config");
            (l.level(), l.appenders(), l.additive())
        };
        let route = if name == "root" {
            own.to_vec()
        } else {
            summary::route(config, name).appenders
        };
        let inherited = route.len() > own.len();
        println!(
            "  {name:width$}  {:5} -> {}{}",
            level.as_str().to_ascii_lowercase(),
            if route.is_empty() {
                "(nothing)".to_owned()
            } else {
                route.join(", ")
            },
            match (additive, inherited) {
                (false, _) => "  (additive: false)",
                (true, true) => "  (with its parents')",
                _ => "",
            }
        );
    }
    true
}
