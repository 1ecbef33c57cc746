//! The programmatic API of the Windows Event Log appender: [`WindowsEventLogAppenderBuilder`],
//! with every check in [`WindowsEventLogAppenderBuilder::check`].

use log4rs::encode::Encode;

use crate::encode::PythonEncoder;

use super::config::{EventId, LongMessages, OnOtherPlatforms};
use super::{DEFAULT_FORMAT, WindowsEventLogAppender, registration};

/// Builds a [`WindowsEventLogAppender`] (the programmatic twin of the YAML config).
#[derive(Debug)]
pub struct WindowsEventLogAppenderBuilder {
    name: String,
    source: String,
    log: String,
    event_id: EventId,
    category: u16,
    long_messages: LongMessages,
    encoder: Option<Box<dyn Encode>>,
    on_other_platforms: OnOtherPlatforms,
}

impl Default for WindowsEventLogAppenderBuilder {
    fn default() -> Self {
        WindowsEventLogAppenderBuilder {
            name: String::new(),
            source: String::new(),
            log: "Application".to_owned(),
            event_id: EventId::default(),
            category: 0,
            long_messages: LongMessages::default(),
            encoder: None,
            on_other_platforms: OnOtherPlatforms::default(),
        }
    }
}

impl WindowsEventLogAppenderBuilder {
    /// The appender's name, used in error messages.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The event source name (required), shown in Event Viewer's Source column.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// The log the source is registered in (default `Application`); used to check the
    /// registration and in the hint on how to register.
    pub fn log(mut self, log: impl Into<String>) -> Self {
        self.log = log.into();
        self
    }

    /// The event id rule (default: 1 for every record).
    pub fn event_id(mut self, event_id: EventId) -> Self {
        self.event_id = event_id;
        self
    }

    /// The event category (default 0, shown as "None").
    pub fn category(mut self, category: u16) -> Self {
        self.category = category;
        self
    }

    /// What happens to texts over [`MAX_MESSAGE_CHARS`](super::MAX_MESSAGE_CHARS) (default: split).
    pub fn long_messages(mut self, long_messages: LongMessages) -> Self {
        self.long_messages = long_messages;
        self
    }

    /// The encoder rendering each record (default: [`PythonEncoder`] with
    /// [`DEFAULT_FORMAT`]). A trailing line break is removed.
    pub fn encoder(mut self, encoder: Box<dyn Encode>) -> Self {
        self.encoder = Some(encoder);
        self
    }

    /// What [`build`](Self::build) does on platforms other than Windows (default: error).
    pub fn on_other_platforms(mut self, on_other_platforms: OnOtherPlatforms) -> Self {
        self.on_other_platforms = on_other_platforms;
        self
    }

    /// Validates the settings and opens the event source.
    ///
    /// Errors name the field: a missing or malformed `source` or `log`; on Windows, an event
    /// source that cannot be opened; elsewhere, that the appender is only available on Windows
    /// (unless [`OnOtherPlatforms::Ignore`]).
    pub fn build(self) -> anyhow::Result<WindowsEventLogAppender> {
        WindowsEventLogAppender::start(self.check()?)
    }

    /// Every check [`build`](Self::build) makes before it opens the event source, and nothing
    /// else. The YAML loader checks every appender of a config this way before it starts any.
    pub fn check(self) -> anyhow::Result<CheckedWindowsEventLogAppender> {
        if self.source.is_empty() {
            anyhow::bail!(
                "field \"source\": is required: the event source name shown in Event Viewer, \
                 such as `source: Microblog`"
            );
        }
        registration::check_key_name("source", &self.source)?;
        registration::check_key_name("log", &self.log)?;
        let encoder = match self.encoder {
            Some(e) => e,
            None => Box::new(
                PythonEncoder::new(DEFAULT_FORMAT)
                    .map_err(|e| anyhow::anyhow!("field \"encoder\": {e}"))?,
            ),
        };
        Ok(CheckedWindowsEventLogAppender {
            name: self.name,
            source: self.source,
            log: self.log,
            event_id: self.event_id,
            category: self.category,
            long_messages: self.long_messages,
            encoder,
            on_other_platforms: self.on_other_platforms,
        })
    }
}

/// A Windows Event Log appender whose settings passed every check of
/// [`WindowsEventLogAppenderBuilder::check`]; [`WindowsEventLogAppender::start`] opens its
/// event source.
#[derive(Debug)]
pub struct CheckedWindowsEventLogAppender {
    pub(super) name: String,
    pub(super) source: String,
    pub(super) log: String,
    pub(super) event_id: EventId,
    pub(super) category: u16,
    pub(super) long_messages: LongMessages,
    pub(super) encoder: Box<dyn Encode>,
    pub(super) on_other_platforms: OnOtherPlatforms,
}
