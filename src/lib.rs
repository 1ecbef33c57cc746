//! Production appenders for [log4rs]: what Python's `logging.handlers` gives a Flask app.
//!
//! | YAML `kind:` | type | Python's |
//! |---|---|---|
//! | `rotating_file` | [`file::RotatingFileAppender`] | `RotatingFileHandler` |
//! | `smtp` (feature `smtp`) | `smtp::SmtpAppender` | `SMTPHandler` |
//! | `syslog` (feature `syslog`) | `syslog::SyslogAppender` | `SysLogHandler` |
//! | `windows_event_log` (feature `eventlog`) | `eventlog::WindowsEventLogAppender` | `NTEventLogHandler` |
//! | `sentry` (feature `sentry`) | `sentry::SentryAppender` | `sentry_sdk`'s `LoggingIntegration` |
//! | encoder `python` | [`encode::PythonEncoder`] | `logging.Formatter` |
//! | encoder `json_lines` ([fields](encode::json): flat, ecs, gcp, otel) | [`encode::JsonLinesEncoder`] | python-json-logger, Elastic's `ecs-logging` |
//!
//! `tracing` users get the same appenders and YAML through the `tracing` module (feature
//! `tracing`): a tracing-subscriber layer, `init_file` for the whole subscriber, a `MakeWriter`.
//!
//! # Quick start: YAML
//!
//! ```yaml
//! # log4rs.yaml
//! appenders:
//!   file:
//!     kind: rotating_file
//!     path: logs/microblog.log
//!     max_bytes: 10 KiB
//!     backup_count: 10
//!     encoder: { kind: python, format: "%(asctime)s %(levelname)s: %(message)s [in %(pathname)s:%(lineno)d]" }
//!   mail:
//!     kind: smtp
//!     host: smtp.example.com
//!     from: no-reply@example.com
//!     to: [admin@example.com]
//!     subject: "Microblog Failure: %(levelname)s in %(module)s"
//!     level: error
//! root: { level: info, appenders: [file, mail] }
//! ```
//!
//! ```no_run
//! use log4rs_appenders::prelude::*; // log's macros, plus %(funcName)s
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Refuses to start on a broken config, listing every problem; flushes on drop.
//!     let _log = log4rs_appenders::init_file("log4rs.yaml")?;
//!     info!("Microblog startup");
//!     Ok(())
//! }
//! ```
//!
//! # The same, built in code
//!
//! ```no_run
//! # #[cfg(feature = "smtp")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use log::LevelFilter;
//! use log4rs::config::{Appender, Config, Root};
//! use log4rs_appenders::{encode::PythonEncoder, file::RotatingFileAppender, smtp::SmtpAppender};
//!
//! let format = "%(asctime)s %(levelname)s: %(message)s [in %(pathname)s:%(lineno)d]";
//! let file = RotatingFileAppender::builder()
//!     .max_bytes(10 * 1024)
//!     .backup_count(10)
//!     .encoder(Box::new(PythonEncoder::new(format)?))
//!     .build("logs/microblog.log")?;
//! let mail = SmtpAppender::builder()
//!     .host("smtp.example.com")
//!     .from("no-reply@example.com")
//!     .to("admin@example.com")
//!     .subject("Microblog Failure: %(levelname)s in %(module)s")
//!     .build()?;
//! let config = Config::builder()
//!     .appender(Appender::builder().build("file", Box::new(file)))
//!     .appender(Appender::builder().build("mail", Box::new(mail)))
//!     .build(Root::builder().appenders(["file", "mail"]).build(LevelFilter::Info))?;
//! let _log = log4rs_appenders::init_config(config)?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "smtp"))]
//! # fn main() {}
//! ```
//!
//! Loading is strict ([`config::load_config_file`]): every problem at once, each naming the
//! appender or logger and the field, with a "did you mean" for misspellings. [`deserializers`]
//! gives log4rs's own loaders every kind this crate adds.
//!
//! [log4rs]: https://docs.rs/log4rs

#[cfg(any(feature = "smtp", feature = "syslog", feature = "sentry"))]
mod backoff;
pub mod config;
mod count;
/// The singular/plural rule of the crate's texts, for its own binary; not part of the API.
#[doc(hidden)]
pub use count::Count;
#[cfg(feature = "debug-smtp")]
pub mod debug_smtp;
pub mod encode;
#[cfg(feature = "eventlog")]
pub mod eventlog;
pub mod fields;
pub mod file;
#[cfg(any(feature = "smtp", feature = "syslog"))]
mod host_port;
mod init;
mod lost;
pub mod macros;
mod panic;
pub mod registry;
pub mod report;
#[cfg(any(feature = "smtp", feature = "sentry"))]
mod root_certificate;
#[cfg(feature = "sentry")]
pub mod sentry;
#[cfg(feature = "smtp")]
pub mod smtp;
#[cfg(any(feature = "smtp", feature = "sentry"))]
mod spool;
#[cfg(feature = "syslog")]
pub mod syslog;
#[cfg(feature = "tracing")]
pub mod tracing;
pub mod worker;

pub use init::{InitError, LogHandle, init_config, init_file};
pub use macros::prelude;
pub use panic::log_panics;
pub use report::set_error_handler;

/// log4rs's default deserializers plus every kind this crate adds (made from the one list in
/// [`registry`]): pass it to log4rs's own loading functions if you use them instead of
/// [`init_file`].
pub fn deserializers() -> log4rs::config::Deserializers {
    registry::deserializers()
}
