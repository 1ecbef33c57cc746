//! THE list of kinds this crate adds. Adding a kind is one line here plus its folder (see the
//! README's "Adding a kind").

use super::{AppenderEntry, EncoderEntry, appender_kind};

/// Every appender kind, compiled in or not (a kind whose feature is off is still listed, so the
/// strict loader can say which feature to enable).
pub(crate) const APPENDERS: &[AppenderEntry] = &[
    appender_kind!(crate::file::RotatingFileKind),
    appender_kind!("smtp", feature = "smtp", crate::smtp::SmtpKind),
    appender_kind!("syslog", feature = "syslog", crate::syslog::SyslogKind),
    appender_kind!("sentry", feature = "sentry", crate::sentry::SentryKind),
    appender_kind!(
        "windows_event_log",
        feature = "eventlog",
        crate::eventlog::WindowsEventLogKind
    ),
];

/// Every encoder kind.
pub(crate) const ENCODERS: &[EncoderEntry] = &[
    EncoderEntry::of::<crate::encode::python::PythonKind>(),
    EncoderEntry::of::<crate::encode::json::JsonLinesKind>(),
];
