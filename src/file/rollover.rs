//! Python's rollover rule and backup renaming (`RotatingFileHandler.shouldRollover` /
//! `doRollover`), extended so that a backup may exist in two forms while it waits for
//! compression: `app.log.3` (plain) and `app.log.3.gz`.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

/// True when a record of `record_len` bytes must go into a fresh file: the current file is not
/// empty (CPython 3.13, gh-116263: never roll over an empty file) and the record would bring it
/// to `max_bytes` or more. `max_bytes == 0` never rolls over; neither does `backup_count == 0`,
/// where Python reopens the same file in append mode, so the file simply keeps growing.
pub(crate) fn should_roll(size: u64, record_len: u64, max_bytes: u64, backup_count: u32) -> bool {
    max_bytes > 0 && backup_count > 0 && size > 0 && size.saturating_add(record_len) >= max_bytes
}

/// Names the numbered backups of one log file: `app.log.1` is the newest.
#[derive(Clone, Debug)]
pub(crate) struct BackupNamer {
    base: PathBuf,
}

impl BackupNamer {
    pub(crate) fn new(base: &Path) -> Self {
        BackupNamer {
            base: base.to_path_buf(),
        }
    }

    /// The log file itself.
    pub(crate) fn base(&self) -> &Path {
        &self.base
    }

    /// `app.log.<index>` (plain, as Python names it).
    pub(crate) fn plain(&self, index: u32) -> PathBuf {
        self.with_suffix(&format!(".{index}"))
    }

    /// `app.log.<index>.gz`.
    pub(crate) fn gzipped(&self, index: u32) -> PathBuf {
        self.with_suffix(&format!(".{index}.gz"))
    }

    /// `app.log<suffix>`.
    pub(crate) fn with_suffix(&self, suffix: &str) -> PathBuf {
        let mut name: OsString = self.base.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }
}

/// Shifts the backups up by one and moves the log file to `.1`, as Python's `doRollover` does:
/// for `i` from `backup_count - 1` down to 1, if backup `i` exists, backup `i + 1` is removed
/// and `i` renamed to `i + 1`; then `.1` is removed and the log file renamed to `.1`. A backup
/// present in both forms (plain and `.gz`) moves as one. The caller reopens the log file.
pub(crate) fn rotate(names: &BackupNamer, backup_count: u32) -> io::Result<()> {
    for i in (1..backup_count).rev() {
        let (plain, gz) = (names.plain(i), names.gzipped(i));
        let (has_plain, has_gz) = (plain.exists(), gz.exists());
        if !has_plain && !has_gz {
            continue;
        }
        remove_if_exists(&names.plain(i + 1))?;
        remove_if_exists(&names.gzipped(i + 1))?;
        if has_plain {
            std::fs::rename(&plain, names.plain(i + 1))?;
        }
        if has_gz {
            std::fs::rename(&gz, names.gzipped(i + 1))?;
        }
    }
    remove_if_exists(&names.plain(1))?;
    remove_if_exists(&names.gzipped(1))?;
    match std::fs::rename(names.base(), names.plain(1)) {
        // Removed by someone else in between: nothing to keep, a fresh file follows.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

pub(crate) fn remove_if_exists(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_over_when_size_plus_record_reaches_max_bytes() {
        assert!(!should_roll(90, 9, 100, 1));
        assert!(should_roll(90, 10, 100, 1));
        assert!(should_roll(90, 50, 100, 1));
    }

    #[test]
    fn never_rolls_over_an_empty_file_or_without_backups_or_limit() {
        assert!(!should_roll(0, 500, 100, 1));
        assert!(!should_roll(90, 50, 100, 0));
        assert!(!should_roll(90, 50, 0, 3));
    }

    #[test]
    fn rotation_shifts_backups_and_drops_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let names = BackupNamer::new(&dir.path().join("a.log"));
        for (p, c) in [
            (names.base().to_path_buf(), "new"),
            (names.plain(1), "one"),
            (names.gzipped(2), "two"),
        ] {
            std::fs::write(p, c).unwrap();
        }
        rotate(&names, 2).unwrap();
        assert!(!names.base().exists());
        assert_eq!(std::fs::read_to_string(names.plain(1)).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(names.plain(2)).unwrap(), "one");
        assert!(!names.gzipped(2).exists());
    }
}
