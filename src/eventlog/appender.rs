//! The Windows Event Log appender itself: encode on the logging thread, `ReportEventW`.

use std::fmt;

use log::Record;
use log4rs::append::Append;
use log4rs::config::Deserializers;
use log4rs::encode::Encode;
use log4rs::encode::writer::simple::SimpleWriter;

#[cfg(windows)]
use crate::lost::{Cause, LostRecords};
use crate::report::{FailureStreak, report_error};

use super::builder::{CheckedWindowsEventLogAppender, WindowsEventLogAppenderBuilder};
use super::config::{EventId, LongMessages, OnOtherPlatforms, WindowsEventLogConfig};
use super::message::{self, EventType};
#[cfg(windows)]
use super::registration::SourceRegistration;
#[cfg(windows)]
use super::windows;

/// Writes records to the Windows Event Log (a no-op elsewhere when built with
/// [`OnOtherPlatforms::Ignore`]). Build it with [`WindowsEventLogAppender::builder`].
pub struct WindowsEventLogAppender {
    name: String,
    source: String,
    event_id: EventId,
    category: u16,
    long_messages: LongMessages,
    encoder: Box<dyn Encode>,
    target: Target,
    #[cfg_attr(not(windows), allow(dead_code))]
    streak: FailureStreak,
}

/// One event as the appender reports it (see [`WindowsEventLogAppender::events`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    event_type: EventType,
    event_id: u16,
    category: u16,
    /// NUL-terminated UTF-16, at most [`MAX_MESSAGE_CHARS`] units before the NUL.
    message: Vec<u16>,
}

impl Event {
    /// The event type (from the record's level).
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// The event id.
    pub fn event_id(&self) -> u16 {
        self.event_id
    }

    /// The event category.
    pub fn category(&self) -> u16 {
        self.category
    }

    /// The event's text (its one insertion string).
    pub fn text(&self) -> String {
        let units = self.message.strip_suffix(&[0]).unwrap_or(&self.message);
        String::from_utf16_lossy(units)
    }

    /// The text's length in UTF-16 code units, the unit of the Event Log's limit.
    pub fn len_utf16(&self) -> usize {
        self.message.len().saturating_sub(1)
    }
}

enum Target {
    #[cfg(windows)]
    Source(windows::EventSource),
    /// `on_other_platforms: ignore` on a platform without the Event Log.
    #[cfg_attr(windows, allow(dead_code))]
    Ignored,
}

impl fmt::Debug for WindowsEventLogAppender {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("WindowsEventLogAppender")
            .field("name", &self.name)
            .field("source", &self.source)
            .field("event_id", &self.event_id)
            .field("category", &self.category)
            .field("long_messages", &self.long_messages)
            .field("encoder", &self.encoder)
            .field("ignored", &matches!(self.target, Target::Ignored))
            .finish()
    }
}

impl WindowsEventLogAppender {
    /// A builder; only [`source`](WindowsEventLogAppenderBuilder::source) is required.
    pub fn builder() -> WindowsEventLogAppenderBuilder {
        WindowsEventLogAppenderBuilder::default()
    }

    /// Builds the appender a parsed YAML config describes; `deserializers` build its `encoder`.
    ///
    /// ```
    /// use log4rs_appenders::eventlog::{WindowsEventLogAppender, WindowsEventLogConfig};
    /// let config: WindowsEventLogConfig =
    ///     serde_yaml::from_str("{ source: Microblog, on_other_platforms: ignore }")?;
    /// let appender =
    ///     WindowsEventLogAppender::from_config(config, &log4rs_appenders::deserializers())?;
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn from_config(
        config: WindowsEventLogConfig,
        deserializers: &Deserializers,
    ) -> anyhow::Result<WindowsEventLogAppender> {
        config.into_builder(deserializers)?.build()
    }

    /// Opens the event source of a checked appender (on other platforms: the error, or a no-op
    /// appender with [`OnOtherPlatforms::Ignore`]).
    pub fn start(
        checked: CheckedWindowsEventLogAppender,
    ) -> anyhow::Result<WindowsEventLogAppender> {
        let target = open_target(
            &checked.name,
            &checked.source,
            &checked.log,
            checked.on_other_platforms,
        )?;
        Ok(WindowsEventLogAppender {
            name: checked.name,
            source: checked.source,
            event_id: checked.event_id,
            category: checked.category,
            long_messages: checked.long_messages,
            encoder: checked.encoder,
            target,
            streak: FailureStreak::default(),
        })
    }

    /// True when this appender does nothing: it was built with
    /// [`OnOtherPlatforms::Ignore`] on a platform other than Windows.
    pub fn is_ignored(&self) -> bool {
        matches!(self.target, Target::Ignored)
    }

    /// The events this appender reports for `record` (more than one when its text is split):
    /// what `append` hands to `ReportEventW`. Works on every platform, so the mapping of levels,
    /// ids and text can be checked anywhere.
    ///
    /// ```
    /// use log4rs_appenders::eventlog::{EventType, OnOtherPlatforms, WindowsEventLogAppender};
    /// let appender = WindowsEventLogAppender::builder()
    ///     .source("Microblog")
    ///     .on_other_platforms(OnOtherPlatforms::Ignore)
    ///     .build()?;
    /// let record = log::Record::builder()
    ///     .level(log::Level::Warn)
    ///     .args(format_args!("disk 91% full"))
    ///     .build();
    /// let events = appender.events(&record)?;
    /// assert_eq!(events[0].event_type(), EventType::Warning);
    /// assert_eq!(events[0].text(), "disk 91% full");
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn events(&self, record: &Record) -> anyhow::Result<Vec<Event>> {
        let mut w = SimpleWriter(Vec::with_capacity(256));
        self.encoder
            .encode(&mut w, record)
            .map_err(|e| anyhow::anyhow!("{}: cannot encode a record: {e:#}", self.describe()))?;
        let text = match String::from_utf8(w.0) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let event_type = EventType::for_level(record.level());
        let event_id = self.event_id.for_record(record);
        Ok(message::event_strings(&text, self.long_messages)
            .into_iter()
            .map(|message| Event {
                event_type,
                event_id,
                category: self.category,
                message,
            })
            .collect())
    }

    fn describe(&self) -> String {
        if self.name.is_empty() {
            format!("windows_event_log appender (source {:?})", self.source)
        } else {
            format!("appender {:?}", self.name)
        }
    }
}

impl Append for WindowsEventLogAppender {
    fn append(&self, record: &Record) -> anyhow::Result<()> {
        match &self.target {
            Target::Ignored => {
                let _ = record;
                Ok(())
            }
            #[cfg(windows)]
            Target::Source(source) => self.report(source, record),
        }
    }

    /// Nothing to flush: every event is handed to the Event Log service by `append`.
    fn flush(&self) {}
}

#[cfg(windows)]
impl WindowsEventLogAppender {
    fn report(&self, source: &windows::EventSource, record: &Record) -> anyhow::Result<()> {
        let mut result = Ok(());
        for event in self.events(record)? {
            if let Err(e) = source.report(
                event.event_type,
                event.category,
                u32::from(event.event_id),
                &event.message,
            ) {
                result = Err(e);
            }
        }
        match result {
            Ok(()) => {
                if let Some(lost) = self.streak.recovered() {
                    self.report_recovery(source, lost);
                }
                Ok(())
            }
            Err(e) if self.streak.failed() => Err(anyhow::anyhow!(
                "{}: cannot write to the Windows Event Log (source {:?}): {e}; records are lost \
                 until it works again, and their number is reported then",
                self.describe(),
                self.source
            )),
            Err(_) => Ok(()),
        }
    }

    /// Says how many records a streak of failures lost: on stderr and as a warning event.
    fn report_recovery(&self, source: &windows::EventSource, lost: u64) {
        let lost = LostRecords::new(
            lost,
            "record",
            Cause::NotTaken {
                target: &"the Windows Event Log",
            },
        );
        let text = format!("{}: {lost}; it accepts records again", self.describe());
        report_error(&anyhow::anyhow!("{text}"));
        for part in message::event_strings(&text, LongMessages::Truncate) {
            let _ = source.report(EventType::Warning, self.category, 0, &part);
        }
    }
}

#[cfg(windows)]
fn open_target(name: &str, source: &str, log: &str, _: OnOtherPlatforms) -> anyhow::Result<Target> {
    let handle = windows::EventSource::open(source).map_err(|e| {
        anyhow::anyhow!("field \"source\": cannot open event source {source:?}: {e}")
    })?;
    let registration = SourceRegistration::new(source).log(log);
    if let Ok(false) = registration.is_registered() {
        say_once_how_to_register(name, source, log);
    }
    Ok(Target::Source(handle))
}

#[cfg(not(windows))]
fn open_target(_: &str, _: &str, _: &str, on_other: OnOtherPlatforms) -> anyhow::Result<Target> {
    match on_other {
        OnOtherPlatforms::Ignore => Ok(Target::Ignored),
        OnOtherPlatforms::Error => Err(anyhow::anyhow!("{}", only_on_windows_message())),
    }
}

/// The error a `windows_event_log` appender gives when built on another platform.
#[cfg_attr(windows, allow(dead_code))]
fn only_on_windows_message() -> String {
    format!(
        "the Windows Event Log appender is only available on Windows, and this is {}; \
         to share this config with other platforms, set `on_other_platforms: ignore` on this \
         appender so it does nothing there",
        std::env::consts::OS
    )
}

/// The hint given when a source is not registered: once per log and source in a process, so a
/// config refresh does not repeat it.
#[cfg_attr(not(windows), allow(dead_code))]
fn say_once_how_to_register(name: &str, source: &str, log: &str) {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static SAID: OnceLock<Mutex<HashSet<(String, String)>>> = OnceLock::new();
    let said = SAID.get_or_init(Default::default);
    let first = said
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert((log.to_owned(), source.to_owned()));
    if first {
        report_error(&anyhow::anyhow!(
            "{}",
            not_registered_message(name, source, log)
        ));
    }
}

fn not_registered_message(name: &str, source: &str, log: &str) -> String {
    let who = if name.is_empty() {
        String::new()
    } else {
        format!("appender {name:?}: ")
    };
    let quoted = |s: &str| {
        if s.contains(char::is_whitespace) {
            format!("\"{s}\"")
        } else {
            s.to_owned()
        }
    };
    let log_option = if log == "Application" {
        String::new()
    } else {
        format!(" --log {}", quoted(log))
    };
    format!(
        "{who}event source {source:?} is not registered in the {log} log, so Event Viewer shows \
         each record after a \"description for Event ID ... cannot be found\" note (records are \
         written all the same; if the source is registered in another log, set `log:` to it). \
         Register it once, as administrator: `log4rs-appenders eventlog register {}{log_option}`, \
         or from an installer \
         log4rs_appenders::eventlog::SourceRegistration::new({source:?}).log({log:?}).register(), \
         or in Windows PowerShell `New-EventLog -LogName {} -Source {}`",
        quoted(source),
        quoted(log),
        quoted(source),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registration_hint_names_appender_source_log_and_the_ways_to_register() {
        let m = not_registered_message("eventlog", "Microblog", "Application");
        for part in [
            "appender \"eventlog\": ",
            "\"Microblog\" is not registered in the Application log",
            "eventlog register Microblog",
            "New-EventLog -LogName Application -Source Microblog",
            "SourceRegistration::new(\"Microblog\")",
        ] {
            assert!(m.contains(part), "{part:?} missing from {m}");
        }
        let m = not_registered_message("", "Micro Blog", "Ops Log");
        assert!(
            m.starts_with("event source \"Micro Blog\" is not registered in the Ops Log log"),
            "{m}"
        );
        assert!(
            m.contains("eventlog register \"Micro Blog\" --log \"Ops Log\""),
            "{m}"
        );
        assert!(
            m.contains("New-EventLog -LogName \"Ops Log\" -Source \"Micro Blog\""),
            "{m}"
        );
    }
}
