//! `log4rs-appenders`: check a log4rs YAML config, send a test record through it, run a
//! debugging SMTP server, and (on Windows) register Event Log sources.
//!
//! Exit codes: 0 success; 1 the command ran and found a problem (config errors, a record not
//! delivered, a port in use, a failed registration); 2 the command line itself is wrong.

mod check;
mod eventlog;
mod send_test;
mod smtp_debug_server;
mod summary;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the command ran and found a problem: config errors, a record not delivered,
     an address already in use, a failed registration
  2  the command line is wrong (unknown subcommand or option, missing argument)";

/// Tools for log4rs configs that use log4rs-appenders' appenders.
#[derive(Parser, Debug)]
#[command(name = "log4rs-appenders", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a config: list every problem at once (exit 1), or print which loggers write to
    /// which appenders (exit 0).
    #[command(after_help = EXIT_CODES)]
    Check {
        /// The YAML config file (as given to init_file / log4rs::init_file).
        config: PathBuf,
    },
    /// Send one test record through the configured appenders and report, for each appender,
    /// whether it was delivered: a smoke test for a deployment.
    #[command(after_help = EXIT_CODES)]
    SendTest {
        /// The YAML config file.
        config: PathBuf,
        /// Level of the test record: error, warn, info, debug or trace.
        #[arg(long, default_value = "error", value_parser = parse_level)]
        level: log::Level,
        /// Logger (target) the record is sent on, e.g. `app` or `app::db`; it reaches the
        /// appenders of the closest configured logger, as a real record would.
        #[arg(long, default_value = "send_test")]
        logger: String,
        /// Text of the test record (a default names the host and time).
        #[arg(long)]
        message: Option<String>,
    },
    /// Run a debugging SMTP server that accepts every mail and prints it (envelope, headers,
    /// decoded body) instead of delivering it. No TLS, no AUTH: for smtp appenders with
    /// `security: none` on this machine.
    #[command(after_help = EXIT_CODES)]
    SmtpDebugServer {
        /// Address to listen on (port 0 picks a free port; the address is printed).
        #[arg(long, default_value = "127.0.0.1:8025")]
        listen: String,
        /// Exit after this many mails (default: serve until stopped with Ctrl-C).
        #[arg(long)]
        max_mails: Option<usize>,
    },
    /// Register, remove or look up a Windows Event Log source (Windows only; registering and
    /// removing need administrator rights).
    #[command(after_help = EXIT_CODES)]
    Eventlog {
        #[command(subcommand)]
        action: eventlog::Action,
    },
}

fn parse_level(s: &str) -> Result<log::Level, String> {
    log4rs_appenders::fields::parse_level(s).ok_or_else(|| {
        format!(
            "unknown level {s:?}; use one of {}",
            log4rs_appenders::fields::LEVEL_NAMES
        )
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Buffered (one write per line is slow for tens of thousands of loggers), but not locked: a
    // console appender that send-test runs writes to stdout too.
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let result = match cli.command {
        Command::Check { config } => check::run(&config, &mut out),
        Command::SendTest {
            config,
            level,
            logger,
            message,
        } => send_test::run(&config, level, &logger, message, &mut out),
        Command::SmtpDebugServer { listen, max_mails } => {
            smtp_debug_server::run(&listen, max_mails, &mut out)
        }
        Command::Eventlog { action } => eventlog::run(action, &mut out),
    }
    .and_then(|ok| out.flush().map(|()| ok));
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        // A reader that stopped early (`check cfg | head -2`, `smtp-debug-server | head`) is not
        // a failure: stop quietly, as ripgrep and the coreutils do (Rust ignores SIGPIPE, so
        // without this every print would panic).
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write to standard output: {e}");
            ExitCode::from(1)
        }
    }
}
