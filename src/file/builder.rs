//! The programmatic API of `kind: rotating_file`: [`RotatingFileAppenderBuilder`]. Every check
//! lives in [`RotatingFileAppenderBuilder::build`], so YAML and code refuse the same things with
//! the same words (each message names the YAML field).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use log4rs::encode::Encode;
use serde::Deserialize;

use super::RotatingFileAppender;
use super::clock::{Clock, SystemClock};
use super::schedule::{AtTime, Schedule, When};

/// The format of the default encoder: Python's
/// `"%(asctime)s %(levelname)s: %(message)s [in %(pathname)s:%(lineno)d]"`.
pub const DEFAULT_FORMAT: &str =
    "%(asctime)s %(levelname)s: %(message)s [in %(pathname)s:%(lineno)d]";

/// `max_bytes` when not given and `when` is not given either: 10 MiB (with `when`, the default
/// is 0: rotation by time only).
pub const DEFAULT_MAX_BYTES: u64 = 10 << 20;
/// `backup_count` when not given: 5.
pub const DEFAULT_BACKUP_COUNT: u32 = 5;
/// `flush_interval` when not given (buffered mode only): 1 second.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// The largest `backup_count` accepted: 10,000 backups (of 10 MiB each by default, 100 GiB).
/// Rotation visits only the backups that exist, so the limit guards against a typo, not a cost.
pub const MAX_BACKUP_COUNT: u32 = 10_000;
/// The largest `buffer` accepted: 1 GiB (64 KiB is plenty).
pub const MAX_BUFFER: usize = 1 << 30;

/// What happens to rotated backups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// Backups stay plain text (`app.log.1`), as Python's handler leaves them.
    #[default]
    None,
    /// Backups become `app.log.1.gz` ... on a background thread (crate feature `gzip`).
    Gzip,
}

/// Builds a [`RotatingFileAppender`].
///
/// | setting | default | YAML field |
/// |---|---|---|
/// | [`max_bytes`](Self::max_bytes) | 10 MiB; 0 with `when` | `max_bytes` |
/// | [`backup_count`](Self::backup_count) | 5 | `backup_count` |
/// | [`when`](Self::when) | none: rotation by size only | `when` |
/// | [`interval`](Self::interval) | 1 | `interval` |
/// | [`utc`](Self::utc) | false: local time | `utc` |
/// | [`at_time`](Self::at_time) | none: midnight | `at_time` |
/// | [`max_age`](Self::max_age) | none: no limit by age | `max_age` |
/// | [`max_total_size`](Self::max_total_size) | none: no limit by size | `max_total_size` |
/// | [`compress`](Self::compress) | none | `compress` |
/// | [`delay`](Self::delay) | false | `delay` |
/// | [`multiprocess`](Self::multiprocess) | false | `multiprocess` |
/// | [`buffer`](Self::buffer) | 0 (write every record) | `buffer` |
/// | [`flush_interval`](Self::flush_interval) | 1 second | `flush_interval` |
/// | [`mode`](Self::mode) | none: `0o666` less the umask, as Python | `mode` (`"0640"`) |
/// | [`encoder`](Self::encoder) | Python's format, [`DEFAULT_FORMAT`] | `encoder` |
///
/// ```no_run
/// use log4rs_appenders::file::{Compression, RotatingFileAppender};
///
/// let appender = RotatingFileAppender::builder()
///     .name("file")
///     .max_bytes(10 * 1024)
///     .backup_count(10)
///     .compress(Compression::Gzip)
///     .build("logs/microblog.log")?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct RotatingFileAppenderBuilder {
    pub(crate) name: String,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) backup_count: u32,
    pub(crate) compress: Compression,
    pub(crate) delay: bool,
    pub(crate) multiprocess: bool,
    pub(crate) buffer: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) mode: Option<u32>,
    pub(crate) encoder: Option<Box<dyn Encode>>,
    pub(crate) when: Option<When>,
    pub(crate) interval: Option<u32>,
    pub(crate) utc: Option<bool>,
    pub(crate) at_time: Option<AtTime>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) max_total_size: Option<u64>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for RotatingFileAppenderBuilder {
    fn default() -> Self {
        RotatingFileAppenderBuilder {
            name: String::new(),
            max_bytes: None,
            backup_count: DEFAULT_BACKUP_COUNT,
            compress: Compression::None,
            delay: false,
            multiprocess: false,
            buffer: 0,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            mode: None,
            encoder: None,
            when: None,
            interval: None,
            utc: None,
            at_time: None,
            max_age: None,
            max_total_size: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl RotatingFileAppenderBuilder {
    /// The appender's name, used in error messages (`appender "file": ...`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Roll over before a record would bring the file to this many bytes (Python's
    /// `maxBytes`). 0 never rolls over by size. Default 10 MiB, or 0 with [`when`](Self::when);
    /// with both, the file rolls over by whichever comes first and the backups of one interval
    /// are numbered (`app.log.2026-12-01.1`, `.2`, ...).
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = Some(max_bytes);
        self
    }

    /// How many backups to keep: `app.log.1` (newest) .. `app.log.N` (oldest). With 0 the file
    /// is never rotated and grows without limit, as in Python. With [`when`](Self::when): the N
    /// newest dated backups are kept and older ones deleted (Python's `getFilesToDelete`); 0
    /// keeps them all. Default 5.
    pub fn backup_count(mut self, backup_count: u32) -> Self {
        self.backup_count = backup_count;
        self
    }

    /// Compress rotated backups (in the background). Default [`Compression::None`].
    pub fn compress(mut self, compress: Compression) -> Self {
        self.compress = compress;
        self
    }

    /// Open the file only when the first record comes (Python's `delay`). Default false: the
    /// file is opened (and its folders created) by `build`, which fails if that is impossible.
    pub fn delay(mut self, delay: bool) -> Self {
        self.delay = delay;
        self
    }

    /// Several processes share this file: every write and rotation happens under an advisory
    /// lock on `.<name>.lock` beside it, and the size is re-read from disk under the lock.
    /// Cannot be combined with [`buffer`](Self::buffer). Default false.
    pub fn multiprocess(mut self, multiprocess: bool) -> Self {
        self.multiprocess = multiprocess;
        self
    }

    /// Buffer up to this many bytes before writing (0, the default, writes every record before
    /// `append` returns; at most [`MAX_BUFFER`]). Buffered records reach the file within the
    /// [`flush_interval`](Self::flush_interval), at once for `error` records, and on `flush()`
    /// and drop.
    pub fn buffer(mut self, bytes: usize) -> Self {
        self.buffer = bytes;
        self
    }

    /// In buffered mode, the longest a record waits in the buffer. Default 1 second.
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// Permission bits of the log file when this appender creates it (at start or after a
    /// rotation), e.g. `0o640`, set exactly (the umask does not reduce them; logrotate's
    /// `create` mode). Default: none, the file gets `0o666` less the umask, as in Python. An
    /// existing file keeps its mode, and every backup keeps the mode of the file it came from,
    /// compressed or not. At most `0o7777`. Ignored on Windows.
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Rotate by time, as Python's `TimedRotatingFileHandler(when=...)`: every `interval`
    /// seconds, minutes, hours or days (counted from the start, or from the existing file's
    /// modification time), at midnight, or weekly. Backups are named for the start of their
    /// interval, e.g. `app.log.2026-12-01`. See the [module documentation](crate::file).
    pub fn when(mut self, when: When) -> Self {
        self.when = Some(when);
        self
    }

    /// How many units of [`when`](Self::when) make one interval (Python's `interval`). Default 1.
    pub fn interval(mut self, interval: u32) -> Self {
        self.interval = Some(interval);
        self
    }

    /// Time-based rotation in UTC instead of local time (Python's `utc`). Default false.
    pub fn utc(mut self, utc: bool) -> Self {
        self.utc = Some(utc);
        self
    }

    /// With `when` [`When::Midnight`] or [`When::Weekday`]: roll over at this time of day
    /// instead of midnight (Python's `atTime`).
    pub fn at_time(mut self, at_time: AtTime) -> Self {
        self.at_time = Some(at_time);
        self
    }

    /// Retention beyond Python: delete backups last written more than `max_age` ago (their
    /// modification time; a `.gz` keeps its source's). Checked after every rotation, at start,
    /// and every hour, by a background thread. Default: none.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Retention beyond Python: delete the oldest backups until the rest take at most this many
    /// bytes on disk (after compression; the log file itself does not count). Checked after
    /// every rotation and at start, by a background thread. Default: none.
    pub fn max_total_size(mut self, bytes: u64) -> Self {
        self.max_total_size = Some(bytes);
        self
    }

    /// The clock time-based rotation reads (default [`SystemClock`]); for tests.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The encoder (default: [`crate::encode::PythonEncoder`] with [`DEFAULT_FORMAT`]).
    pub fn encoder(mut self, encoder: Box<dyn Encode>) -> Self {
        self.encoder = Some(encoder);
        self
    }

    /// Builds the appender writing to `path` (parent folders are created). A setting that
    /// cannot work is refused with [`io::ErrorKind::InvalidInput`] and a message naming its
    /// YAML field, before anything is created.
    pub fn build(self, path: impl AsRef<Path>) -> io::Result<RotatingFileAppender> {
        self.check(path.as_ref())?;
        RotatingFileAppender::from_builder(self, PathBuf::from(path.as_ref()))
    }

    /// Every check of the settings: the YAML loader and the programmatic API both come here.
    pub(crate) fn check(&self, path: &Path) -> io::Result<()> {
        let refuse = |message: String| Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        if path.as_os_str().is_empty() || path.to_string_lossy().trim().is_empty() {
            return refuse("field \"path\": give the log file's path, e.g. logs/app.log".into());
        }
        if cfg!(not(feature = "gzip")) && self.compress == Compression::Gzip {
            return refuse(
                "field \"compress\": gzip needs the crate feature `gzip` of log4rs-appenders \
                 (enable it in Cargo.toml), or remove compress"
                    .into(),
            );
        }
        if self.backup_count > MAX_BACKUP_COUNT {
            return refuse(format!(
                "field \"backup_count\": {} is more than {MAX_BACKUP_COUNT}, the most backups \
                 this appender keeps; use a larger max_bytes for more history",
                self.backup_count
            ));
        }
        if let Some(mode) = self.mode.filter(|m| *m > 0o7777) {
            return refuse(format!(
                "field \"mode\": {mode:#o} is not a file mode (at most 0o7777); use e.g. 0o640"
            ));
        }
        if self.buffer > MAX_BUFFER {
            return refuse(format!(
                "field \"buffer\": {} bytes is too large; use at most 1 GiB (64 KiB is plenty)",
                self.buffer
            ));
        }
        if self.multiprocess && self.buffer > 0 {
            return refuse(
                "field \"buffer\": cannot be combined with multiprocess: true (each record is \
                 written under the lock); remove buffer or multiprocess"
                    .into(),
            );
        }
        if self.buffer > 0 && self.flush_interval.is_zero() {
            return refuse(
                "field \"flush_interval\": must be more than 0, e.g. \"1 second\"".into(),
            );
        }
        self.check_time_fields()?;
        self.check_retention()
    }

    fn check_time_fields(&self) -> io::Result<()> {
        let refuse = |message: String| Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        let Some(when) = self.when else {
            let stray = [
                ("interval", self.interval.is_some()),
                ("utc", self.utc.is_some()),
                ("at_time", self.at_time.is_some()),
            ];
            if let Some((field, _)) = stray.iter().find(|(_, given)| *given) {
                return refuse(format!(
                    "field \"{field}\": only with when: (rotation by time), e.g. \
                     `when: midnight`; the values of when are {}",
                    super::schedule::WHEN_VALUES
                ));
            }
            return Ok(());
        };
        if self.interval == Some(0) {
            return refuse(
                "field \"interval\": must be 1 or more (how many units of when: make one \
                 interval)"
                    .into(),
            );
        }
        if self.at_time.is_some() && !when.takes_at_time() {
            return refuse(format!(
                "field \"at_time\": only with when: midnight or W0..W6, not when: {when} \
                 (which rolls over every interval from the start); remove at_time or use \
                 when: midnight"
            ));
        }
        Ok(())
    }

    fn check_retention(&self) -> io::Result<()> {
        let refuse = |message: String| Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        if self.max_age.is_some_and(|a| a.is_zero()) {
            return refuse(
                "field \"max_age\": must be more than 0, e.g. \"30 days\"; remove it to keep \
                 backups of any age"
                    .into(),
            );
        }
        if self.max_total_size == Some(0) {
            return refuse(
                "field \"max_total_size\": must be more than 0, e.g. \"2 GiB\"; remove it to \
                 keep backups of any total size"
                    .into(),
            );
        }
        let never_rotates =
            self.when.is_none() && (self.backup_count == 0 || self.effective_max_bytes() == 0);
        let given = [
            ("max_age", self.max_age.is_some()),
            ("max_total_size", self.max_total_size.is_some()),
        ];
        if let Some((field, _)) = given.iter().find(|(_, g)| *g).filter(|_| never_rotates) {
            return refuse(format!(
                "field \"{field}\": there are no backups to delete, since without when: and with \
                 backup_count: 0 or max_bytes: 0 the file is never rotated; give backup_count \
                 and max_bytes, or when:, or remove {field}"
            ));
        }
        Ok(())
    }

    /// The rotation by time these settings ask for, if any.
    pub(crate) fn schedule(&self) -> Option<Schedule> {
        Some(Schedule {
            when: self.when?,
            interval: self.interval.unwrap_or(1),
            utc: self.utc.unwrap_or(false),
            at_time: self.at_time,
        })
    }

    /// `max_bytes` as given, or its default (none with `when`).
    pub(crate) fn effective_max_bytes(&self) -> u64 {
        match (self.max_bytes, self.when) {
            (Some(n), _) => n,
            (None, Some(_)) => 0,
            (None, None) => DEFAULT_MAX_BYTES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(b: RotatingFileAppenderBuilder) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/app.log");
        let e = b.build(&path).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(
            !dir.path().join("sub").exists(),
            "a refused build creates nothing"
        );
        e.to_string()
    }

    #[test]
    fn the_builder_refuses_what_yaml_refuses_with_the_same_words() {
        let b = RotatingFileAppender::builder;
        let e = refusal(b().buffer(MAX_BUFFER + 1));
        assert!(
            e.starts_with("field \"buffer\"") && e.contains("1 GiB"),
            "{e}"
        );
        let e = refusal(b().buffer(64).multiprocess(true));
        assert!(
            e.starts_with("field \"buffer\"") && e.contains("multiprocess"),
            "{e}"
        );
        let e = refusal(b().buffer(64).flush_interval(Duration::ZERO));
        assert!(e.starts_with("field \"flush_interval\""), "{e}");
    }

    #[test]
    fn an_empty_path_is_refused_naming_the_field() {
        let e = RotatingFileAppender::builder().build(" ").unwrap_err();
        assert!(e.to_string().starts_with("field \"path\""), "{e}");
    }
}
