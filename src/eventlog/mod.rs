//! The Windows Event Log appender (YAML kind `windows_event_log`), Python's `NTEventLogHandler`
//! for log4rs.
//!
//! ```yaml
//! appenders:
//!   eventlog:
//!     kind: windows_event_log
//!     source: Microblog            # the event source name
//!     log: Application             # default Application
//!     event_id: 1                  # default 1; or { error: 1000, warn: 2000, default: 3000 }
//!                                  # or { from_key: event_id, default: 1 }
//!     category: 0
//!     encoder: { kind: python, format: "%(message)s [in %(pathname)s:%(lineno)d]" }
//!     on_other_platforms: ignore   # default error; ignore = do nothing on Linux/macOS
//! ```
//!
//! ```no_run
//! use log4rs_appenders::eventlog::{EventId, WindowsEventLogAppender};
//! let appender = WindowsEventLogAppender::builder()
//!     .name("eventlog")
//!     .source("Microblog")
//!     .event_id(EventId::Fixed(1000))
//!     .build()?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Each record is one event (or several, for a text over [`MAX_MESSAGE_CHARS`]; see
//! [`LongMessages`]) reported with `ReportEventW`: error records as errors, warn as warnings,
//! everything else as information. The call is made on the logging thread, as Python's handler
//! does: it is a local call to the Event Log service, not network I/O.
//!
//! The source should be registered once, by an installer with administrator rights
//! ([`register_source`]); until it is, records are still written, Event Viewer shows them
//! after a "description for Event ID ... cannot be found" note, and the appender says once,
//! through log4rs's error handler, how to register it.
//!
//! On other platforms the kind still parses and validates, so a config file can be checked
//! anywhere; building it fails with a message that it is only available on Windows, unless
//! `on_other_platforms: ignore` makes it a no-op.

use log4rs::append::Append;
use log4rs::config::Deserializers;

use crate::registry::{AppenderDeserializer, AppenderKind};

mod appender;
mod builder;
mod config;
mod message;
mod registration;
#[cfg(windows)]
mod windows;

pub use appender::{Event, WindowsEventLogAppender};
pub use builder::{CheckedWindowsEventLogAppender, WindowsEventLogAppenderBuilder};
pub use config::{EventId, LongMessages, MAX_EVENT_ID, OnOtherPlatforms, WindowsEventLogConfig};
pub use message::{EventType, MAX_MESSAGE_CHARS};
pub use registration::{
    DOTNET_MESSAGE_FILES, EVENT_LOG_REGISTRY_PATH, SourceRegistration, deregister_source,
    register_source,
};

/// The format used when no `encoder` is configured: the message alone, as Python's handler.
pub const DEFAULT_FORMAT: &str = "%(message)s";

/// The `windows_event_log` kind, listed in [`crate::registry`]: YAML ->
/// [`WindowsEventLogAppenderBuilder`] -> [`WindowsEventLogAppender`].
#[derive(Clone, Copy, Debug, Default)]
pub struct WindowsEventLogKind;

/// log4rs's deserializer of `kind: windows_event_log` (what [`crate::deserializers`] registers).
pub type WindowsEventLogDeserializer = AppenderDeserializer<WindowsEventLogKind>;

impl AppenderKind for WindowsEventLogKind {
    const KIND: &'static str = "windows_event_log";
    const FEATURE: Option<&'static str> = Some("eventlog");
    type Config = WindowsEventLogConfig;
    type Checked = CheckedWindowsEventLogAppender;

    fn check(
        config: WindowsEventLogConfig,
        deserializers: &Deserializers,
    ) -> anyhow::Result<CheckedWindowsEventLogAppender> {
        config.into_builder(deserializers)?.check()
    }

    fn start(checked: CheckedWindowsEventLogAppender) -> anyhow::Result<Box<dyn Append>> {
        Ok(Box::new(WindowsEventLogAppender::start(checked)?))
    }
}
