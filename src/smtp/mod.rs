//! The `smtp` appender: Python's `SMTPHandler`, made safe for production. Records at or above
//! `level` (error by default) are mailed from a background thread as digests: repeats collapse
//! into counts, at most `max_mails_per_hour` mails leave, an outage delays mail (retry with
//! backoff, spool to disk) instead of losing it, and the logging call never waits for the
//! network.
//!
//! ```yaml
//! appenders:
//!   mail:
//!     kind: smtp
//!     host: smtp.example.com
//!     security: starttls        # none | starttls | tls
//!     from: no-reply@example.com
//!     to: [admin@example.com]
//!     username: mailer
//!     password_env: SMTP_PASSWORD
//! ```
//!
//! Threads: the application thread renders the record and queues it ([`SmtpAppender`]); the
//! mail worker digests and composes; the sending thread talks SMTP (lettre), retries and spools.

mod appender;
mod builder;
mod config;
mod digest;
mod message;
mod outbox;
mod spool;
mod transport;

pub use appender::SmtpAppender;
pub use builder::{CheckedSmtpAppender, SmtpAppenderBuilder};
pub use config::Security;
pub use message::{
    DEFAULT_BODY_FORMAT, DEFAULT_SUBJECT, MAX_SUBJECT_CHARS, MAX_TO_HEADER_RECIPIENTS,
};

use log4rs::append::Append;
use log4rs::config::Deserializers;

use crate::registry::{AppenderDeserializer, AppenderKind};

/// The `smtp` kind, listed in [`crate::registry`]: YAML -> [`SmtpAppenderBuilder`] ->
/// [`SmtpAppender`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SmtpKind;

/// log4rs's deserializer of `kind: smtp` (what [`crate::deserializers`] registers).
pub type SmtpAppenderDeserializer = AppenderDeserializer<SmtpKind>;

impl AppenderKind for SmtpKind {
    const KIND: &'static str = "smtp";
    const FEATURE: Option<&'static str> = Some("smtp");
    type Config = config::SmtpConfig;
    type Checked = CheckedSmtpAppender;

    fn check(
        config: config::SmtpConfig,
        deserializers: &Deserializers,
    ) -> anyhow::Result<CheckedSmtpAppender> {
        config.into_builder(deserializers)?.check()
    }

    fn start(checked: CheckedSmtpAppender) -> anyhow::Result<Box<dyn Append>> {
        Ok(Box::new(SmtpAppender::start(checked)?))
    }
}
