//! The YAML shape of `kind: rotating_file` and the builder (the programmatic API).

use std::path::{Path, PathBuf};
use std::time::Duration;

use log4rs::encode::{Encode, EncoderConfig};
use serde::Deserialize;

use super::RotatingFileAppender;
use crate::config::{ByteSize, HumanDuration};

/// The format of the default encoder: Python's
/// `"%(asctime)s %(levelname)s: %(message)s [in %(pathname)s:%(lineno)d]"`.
pub const DEFAULT_FORMAT: &str =
    "%(asctime)s %(levelname)s: %(message)s [in %(pathname)s:%(lineno)d]";

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

/// `kind: rotating_file` in YAML.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    pub(crate) path: String,
    #[serde(default = "default_max_bytes")]
    pub(crate) max_bytes: ByteSize,
    #[serde(default = "default_backup_count")]
    pub(crate) backup_count: u32,
    #[serde(default)]
    pub(crate) compress: Compression,
    #[serde(default)]
    pub(crate) delay: bool,
    #[serde(default)]
    pub(crate) multiprocess: bool,
    #[serde(default)]
    pub(crate) buffer: ByteSize,
    #[serde(default)]
    pub(crate) flush_interval: Option<HumanDuration>,
    #[serde(default)]
    pub(crate) mode: Option<FileMode>,
    #[serde(default)]
    pub(crate) encoder: Option<EncoderConfig>,
    /// log4rs's own `rolling_file` field; accepted only to reject it with a pointer to ours.
    #[serde(default)]
    pub(crate) policy: Option<serde_value::Value>,
    #[serde(rename = "__appender_name", default)]
    pub(crate) appender_name: String,
}

fn default_max_bytes() -> ByteSize {
    ByteSize(DEFAULT_MAX_BYTES)
}

fn default_backup_count() -> u32 {
    DEFAULT_BACKUP_COUNT
}

/// `mode:` in YAML: permission bits as an octal string, `"0640"` (YAML reads an unquoted `0640`
/// as that string too; a number such as `640` is refused as ambiguous).
pub(crate) struct FileMode(pub(crate) u32);

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let quote = "write it as an octal string such as \"0640\" (owner read-write, group \
                     read)";
        match serde_value::Value::deserialize(d)? {
            serde_value::Value::String(s) => {
                let digits = s.strip_prefix("0o").unwrap_or(&s);
                let valid = (3..=4).contains(&digits.len())
                    && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
                match u32::from_str_radix(digits, 8) {
                    Ok(mode) if valid => Ok(FileMode(mode)),
                    _ => Err(D::Error::custom(format!(
                        "{s:?} is not an octal file mode; {quote}"
                    ))),
                }
            }
            // `640` or `0o640` arrive as numbers: 640 would be a decimal mistake.
            _ => Err(D::Error::custom(format!("expected a string; {quote}"))),
        }
    }
}

/// The largest `backup_count` accepted: 10,000 backups (of 10 MiB each by default, 100 GiB).
/// Rotation visits only the backups that exist, so the limit guards against a typo, not a cost.
pub const MAX_BACKUP_COUNT: u32 = 10_000;

/// `max_bytes` when not given: 10 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 10 << 20;
/// `backup_count` when not given: 5.
pub const DEFAULT_BACKUP_COUNT: u32 = 5;
/// `flush_interval` when not given (buffered mode only): 1 second.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Expands `$ENV{NAME}` in a path, as log4rs's own file appenders do. An unset variable is left
/// as written, so the resulting error names it.
pub(crate) fn expand_env(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(start) = rest.find("$ENV{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 5..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match std::env::var(name) {
                    Ok(value) => out.push_str(&value),
                    Err(_) => out.push_str(&rest[start..start + 5 + end + 1]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Builds a [`RotatingFileAppender`].
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
    pub(crate) max_bytes: u64,
    pub(crate) backup_count: u32,
    pub(crate) compress: Compression,
    pub(crate) delay: bool,
    pub(crate) multiprocess: bool,
    pub(crate) buffer: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) mode: Option<u32>,
    pub(crate) encoder: Option<Box<dyn Encode>>,
}

impl Default for RotatingFileAppenderBuilder {
    fn default() -> Self {
        RotatingFileAppenderBuilder {
            name: String::new(),
            max_bytes: DEFAULT_MAX_BYTES,
            backup_count: DEFAULT_BACKUP_COUNT,
            compress: Compression::None,
            delay: false,
            multiprocess: false,
            buffer: 0,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            mode: None,
            encoder: None,
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
    /// `maxBytes`). 0 never rolls over. Default 10 MiB.
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// How many backups to keep: `app.log.1` (newest) .. `app.log.N` (oldest). With 0 the file
    /// is never rotated and grows without limit, as in Python. Default 5.
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
    /// `append` returns). Buffered records reach the file within the
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

    /// The encoder (default: [`crate::encode::PythonEncoder`] with [`DEFAULT_FORMAT`]).
    pub fn encoder(mut self, encoder: Box<dyn Encode>) -> Self {
        self.encoder = Some(encoder);
        self
    }

    /// Refuses what cannot work, naming the field, before anything is created: YAML and code
    /// get the same words.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.backup_count > MAX_BACKUP_COUNT {
            return Err(format!(
                "field \"backup_count\": {} is more than {MAX_BACKUP_COUNT}, the most backups \
                 this appender keeps; use a larger max_bytes for more history",
                self.backup_count
            ));
        }
        if let Some(mode) = self.mode.filter(|m| *m > 0o7777) {
            return Err(format!(
                "field \"mode\": {mode:#o} is not a file mode (at most 0o7777); use e.g. 0o640"
            ));
        }
        Ok(())
    }

    /// Builds the appender writing to `path` (parent folders are created).
    pub fn build(self, path: impl AsRef<Path>) -> std::io::Result<RotatingFileAppender> {
        RotatingFileAppender::from_builder(self, PathBuf::from(path.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_vars_in_paths_expand_and_unset_ones_stay_visible() {
        // PATH is set in every test environment.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(expand_env("a/$ENV{PATH}/b"), format!("a/{path}/b"));
        assert_eq!(
            expand_env("$ENV{LOG4RS_APPENDERS_SURELY_UNSET}/x"),
            "$ENV{LOG4RS_APPENDERS_SURELY_UNSET}/x"
        );
        assert_eq!(expand_env("plain/$ENV{"), "plain/$ENV{");
    }
}
