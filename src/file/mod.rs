//! The size-rotating file appender, `kind: rotating_file`: Python's `RotatingFileHandler` with
//! numbered backups, optional gzip, multi-process safety and an opt-in write buffer.
//!
//! ```yaml
//! appenders:
//!   file:
//!     kind: rotating_file
//!     path: logs/microblog.log      # parent folders are created; $ENV{..} expands
//!     max_bytes: 10 KiB             # integer bytes or "10 KiB"/"10 mb"; 0 = never rotate
//!     backup_count: 10              # keep microblog.log.1 (newest) .. .10 (oldest)
//!     compress: gzip                # optional: backups become .1.gz ...; default none
//!     delay: false                  # true: open the file only when the first record comes
//!     multiprocess: false           # true: several processes share the file (advisory lock)
//!     buffer: 0                     # e.g. 64 KiB: buffer writes (see below)
//!     flush_interval: 1 second      # buffered mode: longest a record waits
//!     mode: "0640"                  # optional: mode of the log file it creates (default: umask)
//! ```
//!
//! `backup_count` is at most [`MAX_BACKUP_COUNT`] (10,000); rotation looks only at the backups
//! that exist. Every backup keeps the permission bits of the file it came from, compressed or
//! not; `mode` sets them exactly for the log files this appender creates.
//!
//! `kind: rotating_file` is this crate's; log4rs's own `kind: rolling_file`
//! (`RollingFileAppender` with `policy:`) stays available under its name. A `policy:` field
//! given to `rotating_file` is rejected with a pointer to `max_bytes` / `backup_count`.
//!
//! The rollover rule is CPython 3.13's: roll over before a record would bring the file to
//! `max_bytes` or more, never roll over an empty file, never rotate anything but a regular file.
//! Sizes count bytes (Python counts characters; they agree for ASCII). With `backup_count: 0`
//! the file is never rotated and grows without limit, as in Python.

mod appender;
mod config;
mod group;
#[cfg(feature = "gzip")]
mod gzip;
mod lock;
mod reopen;
mod rollover;

pub use appender::RotatingFileAppender;
pub use config::{
    Compression, DEFAULT_BACKUP_COUNT, DEFAULT_FLUSH_INTERVAL, DEFAULT_FORMAT, DEFAULT_MAX_BYTES,
    MAX_BACKUP_COUNT, RotatingFileAppenderBuilder,
};

use log4rs::append::Append;
use log4rs::config::{Deserialize, Deserializers};

/// Builds a [`RotatingFileAppender`] from `kind: rotating_file` YAML. Registered by
/// [`crate::deserializers`].
#[derive(Clone, Copy, Debug, Default)]
pub struct RotatingFileAppenderDeserializer;

impl Deserialize for RotatingFileAppenderDeserializer {
    type Trait = dyn Append;
    type Config = serde_value::Value;

    fn deserialize(
        &self,
        config: serde_value::Value,
        deserializers: &Deserializers,
    ) -> anyhow::Result<Box<dyn Append>> {
        let c: config::Config = crate::config::parse_config(config)?;
        if c.policy.is_some() {
            anyhow::bail!(
                "field \"policy\": kind rotating_file does not take a policy (that is log4rs's \
                 rolling_file); use max_bytes: and backup_count: instead, e.g. \
                 `max_bytes: 10 MiB` and `backup_count: 5`"
            );
        }
        if cfg!(not(feature = "gzip")) && c.compress == Compression::Gzip {
            anyhow::bail!(
                "field \"compress\": gzip needs the crate feature `gzip` of log4rs-appenders \
                 (enable it in Cargo.toml), or remove compress"
            );
        }
        if c.path.trim().is_empty() {
            anyhow::bail!("field \"path\": give the log file's path, e.g. logs/app.log");
        }
        let mut builder = RotatingFileAppender::builder()
            .name(c.appender_name)
            .max_bytes(c.max_bytes.0)
            .backup_count(c.backup_count)
            .compress(c.compress)
            .delay(c.delay)
            .multiprocess(c.multiprocess)
            .buffer(usize::try_from(c.buffer.0).unwrap_or(usize::MAX));
        if c.buffer.0 > (1 << 30) {
            anyhow::bail!(
                "field \"buffer\": {} bytes is too large; use at most 1 GiB (64 KiB is plenty)",
                c.buffer.0
            );
        }
        if c.multiprocess && c.buffer.0 > 0 {
            anyhow::bail!(
                "field \"buffer\": cannot be combined with multiprocess: true (each record is \
                 written under the lock); remove buffer or multiprocess"
            );
        }
        if let Some(interval) = c.flush_interval {
            if interval.0.is_zero() {
                anyhow::bail!("field \"flush_interval\": must be more than 0, e.g. \"1 second\"");
            }
            builder = builder.flush_interval(interval.0);
        }
        if let Some(mode) = c.mode {
            builder = builder.mode(mode.0);
        }
        if let Some(encoder) = c.encoder {
            let encoder =
                crate::encode::build_encoder(Some(encoder), deserializers, unreachable_default)?;
            builder = builder.encoder(encoder);
        }
        builder.check().map_err(|e| anyhow::anyhow!("{e}"))?;
        let path = config::expand_env(&c.path);
        builder
            .build(&path)
            .map_err(|e| anyhow::anyhow!("field \"path\": {e}"))
            .map(|a| Box::new(a) as Box<dyn Append>)
    }
}

// `build_encoder` wants a default; with an `encoder:` given it is never called.
fn unreachable_default() -> Box<dyn log4rs::encode::Encode> {
    Box::new(log4rs::encode::pattern::PatternEncoder::default())
}
