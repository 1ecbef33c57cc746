//! `eventlog register|deregister SOURCE`: Windows Event Log source registration.

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum Action {
    /// Register SOURCE in the Application log, so Event Viewer shows its records' text.
    Register {
        /// Event source name, as in the appender's `source:` field (e.g. Microblog).
        source: String,
    },
    /// Remove the registration of SOURCE.
    Deregister {
        /// Event source name.
        source: String,
    },
}

pub fn run(action: Action) -> bool {
    let (verb, source) = match &action {
        Action::Register { source } => ("register", source),
        Action::Deregister { source } => ("deregister", source),
    };
    eprintln!(
        "cannot {verb} event source {source:?}: the Windows Event Log exists only on Windows, and \
         this build of log4rs-appenders has no Windows Event Log support here (run this command \
         on the Windows machine, from an elevated prompt)"
    );
    false
}
