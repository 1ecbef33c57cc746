//! Production appenders for [log4rs]. (Crate docs are assembled with the README.)

pub mod config;
pub mod encode;
#[cfg(feature = "eventlog")]
pub mod eventlog;
pub mod file;
mod init;
pub mod macros;
pub mod report;
#[cfg(feature = "smtp")]
pub mod smtp;
#[cfg(feature = "syslog")]
pub mod syslog;
pub mod worker;

pub use init::{InitError, LogHandle, init_config, init_file};
pub use macros::prelude;
pub use report::set_error_handler;

/// log4rs's default deserializers plus every kind this crate adds: pass it to log4rs's own
/// loading functions if you use them instead of [`init_file`].
pub fn deserializers() -> log4rs::config::Deserializers {
    #[allow(unused_mut)]
    let mut d = log4rs::config::Deserializers::default();
    d.insert(
        encode::python::KIND,
        encode::python::PythonEncoderDeserializer,
    );
    d.insert("rotating_file", file::RotatingFileAppenderDeserializer);
    #[cfg(feature = "smtp")]
    d.insert("smtp", smtp::SmtpAppenderDeserializer);
    #[cfg(feature = "syslog")]
    d.insert("syslog", syslog::SyslogAppenderDeserializer);
    #[cfg(feature = "eventlog")]
    d.insert("windows_event_log", eventlog::WindowsEventLogDeserializer);
    d
}

/// Appender kinds this crate adds: (YAML kind, cargo feature that provides it, compiled in?).
const OUR_APPENDER_KINDS: &[(&str, &str, bool)] = &[
    ("rotating_file", "", true),
    ("smtp", "smtp", cfg!(feature = "smtp")),
    ("syslog", "syslog", cfg!(feature = "syslog")),
    ("windows_event_log", "eventlog", cfg!(feature = "eventlog")),
];

/// log4rs's own appender kinds (all enabled in our log4rs dependency).
const LOG4RS_APPENDER_KINDS: &[&str] = &["console", "file", "rolling_file"];

/// Encoder kinds: log4rs's and ours.
pub(crate) const ENCODER_KINDS: &[&str] = &["pattern", "json", "python"];

/// Filter kinds (log4rs's).
pub(crate) const FILTER_KINDS: &[&str] = &["threshold"];

/// Every appender kind that can be used in YAML with this build.
pub(crate) fn appender_kinds() -> Vec<&'static str> {
    let mut kinds = LOG4RS_APPENDER_KINDS.to_vec();
    for (kind, _, compiled) in OUR_APPENDER_KINDS {
        if *compiled && !kinds.contains(kind) {
            kinds.push(kind);
        }
    }
    kinds
}

/// True for kinds whose deserializer is ours (they receive the appender's name).
pub(crate) fn is_our_appender_kind(kind: &str) -> bool {
    OUR_APPENDER_KINDS
        .iter()
        .any(|(k, _, compiled)| *k == kind && *compiled)
}

/// If `kind` is ours but its feature was not compiled in, says which feature to enable.
pub(crate) fn kind_unavailable(kind: &str) -> Option<String> {
    OUR_APPENDER_KINDS
        .iter()
        .find(|(k, _, compiled)| *k == kind && !*compiled)
        .map(|(k, feature, _)| {
            format!("appender kind {k:?} needs log4rs-appenders' cargo feature `{feature}`, which this build does not enable")
        })
}
