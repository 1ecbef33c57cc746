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
pub use builder::SmtpAppenderBuilder;
pub use config::Security;
pub use message::{DEFAULT_BODY_FORMAT, DEFAULT_SUBJECT, MAX_SUBJECT_CHARS};

use log4rs::append::Append;
use log4rs::config::{Deserialize, Deserializers};

/// Builds an [`SmtpAppender`] from YAML (`kind: smtp`). Registered by
/// [`crate::deserializers`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SmtpAppenderDeserializer;

impl Deserialize for SmtpAppenderDeserializer {
    type Trait = dyn Append;
    type Config = serde_value::Value;

    fn deserialize(
        &self,
        config: serde_value::Value,
        deserializers: &Deserializers,
    ) -> anyhow::Result<Box<dyn Append>> {
        let config = crate::config::parse_config::<config::SmtpConfig>(config)?;
        Ok(Box::new(config.into_builder(deserializers)?.build()?))
    }
}
