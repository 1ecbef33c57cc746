//! The Windows Event Log appender (YAML kind `windows_event_log`), Python's `NTEventLogHandler`
//! for log4rs.
//!
//! ```yaml
//! appenders:
//!   eventlog:
//!     kind: windows_event_log
//!     source: Microblog            # required: the event source (Event Viewer's Source column)
//!     log: Application             # default Application
//!     event_id: 1                  # default 1; see "Event ids"
//!     category: 0                  # default 0 (Event Viewer shows "None")
//!     encoder: { kind: python, format: "%(message)s [in %(pathname)s:%(lineno)d]" }  # default %(message)s
//!     on_other_platforms: error    # default error; ignore = do nothing off Windows
//!     long_messages: split         # default split; or truncate
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
//! # Event types
//!
//! Error records are reported as *Error*, warn as *Warning*, info, debug and trace as *Information*
//! (the Event Log has no debug type), as Python does.
//!
//! # Event ids
//!
//! 0 to 65535:
//! - `event_id: 7`: every record gets 7.
//! - `event_id: { error: 1000, warn: 2000, default: 3000 }`: by level (`error`, `warn`/`warning`,
//!   `info`, `debug`, `trace`); unlisted levels get `default` (1 if absent).
//! - `event_id: { from_key: event_id, default: 1 }`: from the record's key-value
//!   (`log::error!(event_id = 4242; "payment failed")`); a missing, non-numeric or out-of-range
//!   value gives `default`.
//!
//! # Registering the source
//!
//! Event Viewer formats an event with the message file registered for its source. Until the source
//! is registered, records are still written, but Event Viewer shows each one after a "The
//! description for Event ID ... cannot be found" note (as with Python's handler), and the appender
//! says once, through log4rs's error handler, how to register it. Registration writes
//! `HKLM\SYSTEM\CurrentControlSet\Services\EventLog\<log>\<source>` and needs administrator rights,
//! so do it once from an installer or an elevated prompt:
//!
//! - `log4rs-appenders eventlog register Microblog` (and `deregister`), the crate's command-line
//!   tool;
//! - from Rust: `log4rs_appenders::eventlog::register_source("Microblog")?`, or
//!   `SourceRegistration::new("Microblog").log("Microblog Ops").message_file(path).register()?` for
//!   another log or your own message file; [`deregister_source`] removes it;
//! - in Windows PowerShell: `New-EventLog -LogName Application -Source Microblog` (the same
//!   registration).
//!
//! Which log receives a source's events is decided by where the source is registered (an
//! unregistered source writes to Application); the appender's `log` names that log for the
//! registration check and the hint. A source name must be unique across logs.
//!
//! The key gets `EventMessageFile` =
//! `%SystemRoot%\Microsoft.NET\Framework64\v4.0.30319\EventLogMessages.dll` (the 32-bit or .NET 2
//! copy if that one is missing) and `TypesSupported` = 7. That DLL ships with .NET Framework 4,
//! present on every Windows since 10 / Server 2016; its message for every event id 0-65535 is `%1`,
//! so Event Viewer shows each record's text exactly as written. It is the file .NET's `EventLog`
//! and PowerShell's `New-EventLog` register too. Without .NET Framework, registering fails saying
//! so; pass a message file of your own with [`SourceRegistration::message_file`].
//!
//! # Long messages
//!
//! One event string holds at most 31,839 UTF-16 code units ([`MAX_MESSAGE_CHARS`], the limit of `ReportEventW`; ASCII and
//! most text: one unit per character, emoji: two). A longer text is, by default, **split** into
//! several events of the same type and id, each ending in ` [part i/n]`; with `long_messages:
//! truncate` ([`LongMessages`]) one event keeps the start and ends in `[... N characters truncated]`. Cuts fall at a
//! character boundary (never inside a surrogate pair), not at a line boundary; each part, marker
//! included, stays within the limit. A trailing line break from the encoder is removed, and a NUL
//! character (which would end the string early) becomes U+FFFD.
//!
//! # On Linux and macOS
//!
//! The kind still parses and validates, so a config can be checked anywhere. Building it fails with
//! "the Windows Event Log appender is only available on Windows ..." unless the appender sets
//! `on_other_platforms: ignore`, which makes it do nothing there: one file can serve Windows and
//! Linux deployments (see `config-examples/eventlog-shared.yaml`). [`register_source`] and friends
//! return an error saying event sources exist only on Windows.
//!
//! # Cost
//!
//! `ReportEventW` is a local call to the Event Log service, made on the logging thread as Python
//! does (no queue, so no record is held in memory); a failure is returned to log4rs once per
//! streak, and when the Event Log works again the number of records lost is reported (on stderr and
//! as a warning event).
//!
//! # Why `windows-sys` and not `winlog`
//!
//! `winlog` 0.2.6 (2019, on `winapi`) writes only to the Application log, fixes event ids 1-5 by
//! level, and its build script needs mingw's `windmc`/`windres`, writes generated files into its
//! own folder in the cargo registry and prints every environment variable into the build log. The
//! appender calls `RegisterEventSourceW`, `ReportEventW` and the registry functions through
//! `windows-sys` (a Windows-only dependency, no build script); each `unsafe` call sits in one small
//! function in `src/eventlog/windows.rs`.
//!
//! # Tested
//!
//! On Linux (config, mapping, ids, message building, the shared config file) and for real on
//! Windows code paths under wine: `scripts/windows-eventlog-test.sh` cross-builds
//! `examples/eventlog_smoke.rs` for `x86_64-pc-windows-gnu`, runs it under wine and checks on
//! wine's stderr (`WINEDEBUG=+eventlog`) that each record reached `ReportEventW` with the right
//! type, id, category and text (split parts included), also for `tracing` events through the
//! tracing front end (`eventlog_smoke tracing`: typed fields, the span chain, the error chain, a
//! `log` record through the bridge, each once), checks the registry after register/deregister, and
//! runs the crate's eventlog tests built for Windows. Without wine the script says `SKIPPED:` (it
//! fails instead with `LOG4RS_APPENDERS_REQUIRE_PEERS=1`, as `scripts/test.sh` sets). Wine does not
//! store events, so how Event Viewer renders them through `EventLogMessages.dll` is not checked by
//! CI.

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
