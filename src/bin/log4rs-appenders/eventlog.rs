//! `eventlog register|deregister|status SOURCE`: Windows Event Log source registration.

use std::io::{self, Write};

use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum Action {
    /// Register SOURCE in a log (default Application), so Event Viewer shows its records' text.
    /// Registering again overwrites the registration.
    Register {
        #[command(flatten)]
        source: Source,
        /// A message file (DLL) to register instead of .NET's EventLogMessages.dll.
        #[arg(long)]
        message_file: Option<String>,
    },
    /// Remove the registration of SOURCE.
    Deregister {
        #[command(flatten)]
        source: Source,
    },
    /// Say whether SOURCE is registered (needs no administrator rights).
    Status {
        #[command(flatten)]
        source: Source,
    },
}

#[derive(Args, Debug)]
pub struct Source {
    /// Event source name, as in the appender's `source:` field (e.g. Microblog).
    source: String,
    /// The log the source belongs to, as in the appender's `log:` field.
    #[arg(long, default_value = "Application")]
    log: String,
}

/// Runs `action`; the verdict goes to `out`, a failure to stderr (`Ok(false)`).
#[cfg(feature = "eventlog")]
pub fn run(action: Action, out: &mut dyn Write) -> io::Result<bool> {
    use log4rs_appenders::eventlog::SourceRegistration;

    let registration = |s: &Source| SourceRegistration::new(&s.source).log(&s.log);
    let result = match &action {
        Action::Register {
            source,
            message_file,
        } => {
            let mut r = registration(source);
            if let Some(file) = message_file {
                r = r.message_file(file);
            }
            r.register().map(|()| {
                format!(
                    "registered event source {:?} in the {} log",
                    source.source, source.log
                )
            })
        }
        Action::Deregister { source } => registration(source).deregister().map(|removed| {
            if removed {
                format!(
                    "removed event source {:?} from the {} log",
                    source.source, source.log
                )
            } else {
                format!(
                    "event source {:?} was not registered in the {} log; nothing to remove",
                    source.source, source.log
                )
            }
        }),
        Action::Status { source } => registration(source).is_registered().map(|yes| {
            format!(
                "event source {:?} is {}registered in the {} log",
                source.source,
                if yes { "" } else { "not " },
                source.log
            )
        }),
    };
    match result {
        Ok(message) => {
            writeln!(out, "{message}")?;
            Ok(true)
        }
        Err(e) => {
            eprintln!("{e:#}");
            Ok(false)
        }
    }
}

/// Without the `eventlog` feature: says how to get it (`Ok(false)`).
#[cfg(not(feature = "eventlog"))]
pub fn run(action: Action, _out: &mut dyn Write) -> io::Result<bool> {
    let source = match &action {
        Action::Register { source, .. }
        | Action::Deregister { source }
        | Action::Status { source } => source,
    };
    eprintln!(
        "cannot manage event source {:?}: this build of log4rs-appenders leaves out the Windows \
         Event Log (cargo feature `eventlog`); install it with that feature, on Windows",
        source.source
    );
    Ok(false)
}
