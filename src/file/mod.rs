//! The rotating file appender, `kind: rotating_file`: Python's `RotatingFileHandler` (by size,
//! numbered backups) and `TimedRotatingFileHandler` (by time, dated backups), alone or together,
//! with retention by age and total size, optional gzip, multi-process safety and an opt-in write
//! buffer.
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
//!     max_age: 30 days              # optional: delete backups last written longer ago
//!     max_total_size: 2 GiB         # optional: delete the oldest backups until the rest fit
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
//!
//! # Time-based rotation
//!
//! ```yaml
//! appenders:
//!   file:
//!     kind: rotating_file
//!     path: logs/app.log
//!     when: midnight          # S, M, H, D, midnight, W0..W6 (Monday..Sunday)
//!     interval: 1             # how many units of `when` make one interval
//!     utc: false              # local time by default, as Python
//!     at_time: "03:00"        # optional, for midnight and W0..W6 (Python's atTime)
//!     backup_count: 7         # keep the 7 newest dated backups (0: keep all)
//!     max_bytes: 100 MiB      # optional: also roll by size within an interval
//!     max_age: 30 days        # optional
//!     max_total_size: 2 GiB   # optional
//!     compress: gzip          # optional: app.log.2026-12-01.gz
//! ```
//!
//! With `when` alone this is CPython 3.13's `TimedRotatingFileHandler`, decision for decision:
//! - the first rollover is `computeRollover` of the existing file's modification time (of the
//!   start time without a file), so a process started after a missed rollover (stopped before
//!   midnight, started the next morning) rotates at its first record, naming the backup for the
//!   day the file was last written; each later rollover is computed from the time of the one
//!   before. `S`/`M`/`H`/`D` count `interval` units from that time; `midnight` and `W0`..`W6`
//!   roll at the next midnight (or `at_time`), `W` on that weekday, `interval - 1` days or weeks
//!   later;
//! - backups are named for the start of their interval with Python's suffixes:
//!   `%Y-%m-%d_%H-%M-%S` (S), `%Y-%m-%d_%H-%M` (M), `%Y-%m-%d_%H` (H), `%Y-%m-%d` (D, midnight,
//!   W), in local time unless `utc: true`;
//! - a backup is never overwritten: if the name is taken, the file is not rotated;
//! - `backup_count` deletes as `getFilesToDelete`: only files named exactly
//!   `app.log.<suffix>` of this `when` count (other files with similar names are left alone),
//!   all but the `backup_count` newest go; 0 keeps all;
//! - a record at or after the boundary rolls the file over even if it is empty; a file that is
//!   not regular (`/dev/null`, a FIFO) is never rotated, but the next interval begins.
//!
//! Where we differ from CPython 3.13, and why:
//! - Daylight saving time: Python does arithmetic on Unix seconds and patches ±3600 s; we work
//!   on the local wall clock and take the first instant it reaches the target. Without a DST
//!   change both give the same instants and names. Across one, Python 3.13 with `when: H` names
//!   the hour that starts before the spring change `_03` (its +3600 s patch), and after the
//!   autumn change finds its backup name taken and never rotates again; in a zone whose shift is
//!   30 minutes (Australia/Lord_Howe) its `midnight` rotates at 23:30 and then stalls. Ours
//!   rotates once per local hour / local midnight, names every backup for the local time its
//!   interval starts, and never stalls. `D` rolls at the same local time the next day (Python:
//!   after 86,400 s, an hour off on the wall clock across a change). The differential test
//!   (`tests/rotating_file_timed_vs_cpython.rs`) shows both, and requires identical files
//!   everywhere else. (A local time the clock skips, 02:30 on the spring change,
//!   is read with the offset before the jump, as Python's `datetime.timestamp()` reads it.)
//! - When a backup name is taken, Python 3.13 returns without computing the next rollover, so it
//!   tries (and fails) again at every record; we move on to the next interval.
//! - The time is read through one seam, [`Clock`] ([`SystemClock`] by default), so tests drive
//!   it.
//! - Retention runs on a background thread (Python deletes in the logging call).
//!
//! With `when` and `max_bytes`, the file also rolls over before a record would reach
//! `max_bytes`, and every backup of an interval is numbered: `app.log.2026-12-01.1` (the first),
//! `.2`, ... (logback's size-and-time policy; Python has no equivalent). `backup_count` then
//! counts these numbered files, oldest (earliest date, then lowest number) first.
//!
//! The clock check costs one comparison per record: the end of the current interval is computed
//! at each rollover, never per record.
//!
//! # Retention and compression
//!
//! After every rotation and at start, a background thread (never the logging call) compresses
//! new backups (`compress: gzip`, `app.log.3.gz`, `app.log.2026-12-01.gz`) and then deletes, in
//! this order: the dated backups beyond `backup_count` (with `when`), every backup last written
//! more than `max_age` ago (by its modification time, which a `.gz` keeps from its source),
//! and then the oldest backups until the rest take at most `max_total_size` bytes on disk
//! (compressed size; the log file itself does not count, and a cap below one backup leaves
//! none). Oldest means the highest number for numbered backups, the earliest date and then the
//! lowest number for dated ones. With `max_age` it also looks once an hour between rotations.
//! Deletion takes the same locks as rotation, including the lock file with
//! `multiprocess: true`. A failure is reported once per streak and retried at the next
//! rotation. `max_age` and `max_total_size` need backups: they are refused with
//! `backup_count: 0` or `max_bytes: 0` and no `when`.

mod appender;
mod backups;
mod builder;
mod clock;
mod config;
mod dated;
mod group;
#[cfg(feature = "gzip")]
mod gzip;
mod housekeeping;
mod lock;
mod reopen;
mod retention;
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
