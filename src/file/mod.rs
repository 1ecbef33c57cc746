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
mod builder;
mod clock;
mod config;
mod dated;
mod group;
#[cfg(feature = "gzip")]
mod gzip;
mod lock;
mod reopen;
mod rollover;
mod schedule;
mod trigger;

pub use appender::RotatingFileAppender;
pub use builder::{
    Compression, DEFAULT_BACKUP_COUNT, DEFAULT_FLUSH_INTERVAL, DEFAULT_FORMAT, DEFAULT_MAX_BYTES,
    MAX_BACKUP_COUNT, MAX_BUFFER, RotatingFileAppenderBuilder,
};
pub use clock::{Clock, SystemClock};
pub use schedule::{AtTime, When};

use std::path::PathBuf;

use log4rs::append::Append;
use log4rs::config::Deserializers;

use crate::registry::{AppenderDeserializer, AppenderKind};

/// The `rotating_file` kind, listed in [`crate::registry`]: YAML -> a checked builder -> a
/// [`RotatingFileAppender`].
#[derive(Clone, Copy, Debug, Default)]
pub struct RotatingFileKind;

/// log4rs's deserializer of `kind: rotating_file` (what [`crate::deserializers`] registers).
pub type RotatingFileAppenderDeserializer = AppenderDeserializer<RotatingFileKind>;

impl AppenderKind for RotatingFileKind {
    const KIND: &'static str = "rotating_file";
    const FEATURE: Option<&'static str> = None;
    type Config = config::Config;
    type Checked = (RotatingFileAppenderBuilder, PathBuf);

    fn check(
        c: config::Config,
        deserializers: &Deserializers,
    ) -> anyhow::Result<(RotatingFileAppenderBuilder, PathBuf)> {
        let (builder, path) = c.into_builder(deserializers)?;
        let path = PathBuf::from(path);
        // A refused setting's message names its field already.
        builder.check(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((builder, path))
    }

    fn start(
        (builder, path): (RotatingFileAppenderBuilder, PathBuf),
    ) -> anyhow::Result<Box<dyn Append>> {
        builder
            .build(&path)
            .map_err(|e| anyhow::anyhow!("field \"path\": {e}"))
            .map(|a| Box::new(a) as Box<dyn Append>)
    }
}
