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
///
/// Only the backups that exist are visited (one listing of the folder), so the cost does not
/// depend on `backup_count`.
pub(crate) fn rotate(names: &BackupNamer, backup_count: u32) -> io::Result<()> {
    for backup in existing_backups(names)?.iter().rev() {
        let i = backup.index;
        if i >= backup_count {
            continue;
        }
        remove_if_exists(&names.plain(i + 1))?;
        remove_if_exists(&names.gzipped(i + 1))?;
        if backup.plain {
            std::fs::rename(names.plain(i), names.plain(i + 1))?;
        }
        if backup.gzipped {
            std::fs::rename(names.gzipped(i), names.gzipped(i + 1))?;
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

/// A numbered backup found on disk, in one or both forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ExistingBackup {
    pub(crate) index: u32,
    pub(crate) plain: bool,
    pub(crate) gzipped: bool,
}

/// The numbered backups in the log file's folder (`app.log.N`, `app.log.N.gz`; N written
/// without leading zeros, as we name them), by index, lowest first. Whatever is at those names
/// counts, links included: they are renamed and removed, never opened.
pub(crate) fn existing_backups(names: &BackupNamer) -> io::Result<Vec<ExistingBackup>> {
    let base = names.base();
    let (Some(file_name), dir) = (base.file_name(), base.parent()) else {
        return Ok(Vec::new());
    };
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut prefix = file_name.to_owned();
    prefix.push(".");
    let prefix = prefix.as_encoded_bytes();
    let mut found: Vec<ExistingBackup> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(rest) = name.as_encoded_bytes().strip_prefix(prefix) else {
            continue;
        };
        let (digits, gzipped) = match rest.strip_suffix(b".gz") {
            Some(d) => (d, true),
            None => (rest, false),
        };
        let Some(index) = backup_index(digits) else {
            continue;
        };
        match found.iter_mut().find(|b| b.index == index) {
            Some(b) if gzipped => b.gzipped = true,
            Some(b) => b.plain = true,
            None => found.push(ExistingBackup {
                index,
                plain: !gzipped,
                gzipped,
            }),
        }
    }
    found.sort_by_key(|b| b.index);
    Ok(found)
}

/// `N` of a backup name: decimal, at least 1, no sign and no leading zero.
fn backup_index(digits: &[u8]) -> Option<u32> {
    if digits.first().is_none_or(|d| *d == b'0') || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
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

    #[test]
    fn backups_are_found_by_listing_the_folder_and_other_names_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let names = BackupNamer::new(&dir.path().join("a.log"));
        for name in [
            "a.log",
            "a.log.1",
            "a.log.1.gz",
            "a.log.7.gz",
            "a.log.03",
            "a.log.0",
            "a.log.x",
            "a.log.2.gz-tmp.1.1",
            "b.log.2",
            "a.log.99999999999",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let found = existing_backups(&names).unwrap();
        let want =
            [(1, true, true), (7, false, true)].map(|(index, plain, gzipped)| ExistingBackup {
                index,
                plain,
                gzipped,
            });
        assert_eq!(found, want);
    }

    /// Before, `rotate` looked at every index from `backup_count - 1` down to 1: with
    /// `u32::MAX` that is billions of `stat` calls (hours). Now it visits the three backups.
    #[test]
    fn rotation_cost_depends_on_the_backups_that_exist_not_on_backup_count() {
        let dir = tempfile::tempdir().unwrap();
        let names = BackupNamer::new(&dir.path().join("a.log"));
        for (i, p) in [
            names.base().to_path_buf(),
            names.plain(1),
            names.gzipped(2),
            names.plain(3),
        ]
        .into_iter()
        .enumerate()
        {
            std::fs::write(p, i.to_string()).unwrap();
        }
        let (done, finished) = std::sync::mpsc::channel();
        let in_thread = names.clone();
        std::thread::spawn(move || {
            done.send(rotate(&in_thread, u32::MAX).map_err(|e| e.to_string()))
        });
        let result = finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("rotate with backup_count u32::MAX walked indexes that do not exist");
        result.unwrap();
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(names.plain(1)), "0");
        assert_eq!(read(names.plain(2)), "1");
        assert_eq!(read(names.gzipped(3)), "2");
        assert_eq!(read(names.plain(4)), "3");
        assert!(!names.base().exists());
    }

    #[test]
    fn rotation_keeps_pythons_gap_rule_and_leaves_backups_beyond_the_count() {
        let dir = tempfile::tempdir().unwrap();
        let names = BackupNamer::new(&dir.path().join("a.log"));
        for (p, c) in [
            (names.base().to_path_buf(), "new"),
            (names.plain(1), "one"),
            (names.plain(3), "three"),
            (names.plain(9), "nine"),
        ] {
            std::fs::write(p, c).unwrap();
        }
        rotate(&names, 3).unwrap();
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(names.plain(1)), "new");
        assert_eq!(read(names.plain(2)), "one");
        // Python: i = 2 does not exist, so .3 stays; .3 is never shifted to .4 (count 3).
        assert_eq!(read(names.plain(3)), "three");
        assert_eq!(read(names.plain(9)), "nine");
        assert!(!names.plain(4).exists());
    }
}
