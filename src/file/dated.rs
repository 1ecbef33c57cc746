//! Dated backups of time-based rotation: the rename at rollover (`doRollover`) and which old
//! backups go (`getFilesToDelete`), as CPython 3.13 does them, plus the numbered backups of
//! size-and-time rotation (`app.log.2026-12-01.1`, `.2`, ...).

use std::io;
use std::path::{Path, PathBuf};

use super::backups::Backup;
use super::rollover::BackupNamer;
use super::schedule::Schedule;

/// The dated backups of one log file.
#[derive(Clone, Debug)]
pub(crate) struct DatedBackups {
    names: BackupNamer,
    schedule: Schedule,
    /// Size-and-time rotation: every backup of an interval carries a number.
    numbered: bool,
    /// `compress: gzip`: a backup may also be (or only be) `<name>.gz`.
    gzipped: bool,
    backup_count: u32,
}

impl DatedBackups {
    pub(crate) fn new(
        names: BackupNamer,
        schedule: Schedule,
        numbered: bool,
        gzipped: bool,
        backup_count: u32,
    ) -> Self {
        DatedBackups {
            names,
            schedule,
            numbered,
            gzipped,
            backup_count,
        }
    }

    /// The log file itself.
    pub(crate) fn base(&self) -> &Path {
        self.names.base()
    }

    /// Moves the log file to the backup of the interval `label`: `app.log.<label>`, or
    /// `app.log.<label>.<N>` (N one more than the highest there is, compressed or not) with
    /// size-and-time rotation. False when the name is taken (time only; in either form with
    /// gzip), in which case nothing moves: a backup is never overwritten (Python 3.13 does not
    /// overwrite either, but then stops rotating for good; the caller moves on to the next
    /// interval instead).
    pub(crate) fn rotate(&self, label: &str) -> io::Result<bool> {
        let target = if self.numbered {
            let next = self.highest_number(label)? + 1;
            self.names.with_suffix(&format!(".{label}.{next}"))
        } else {
            self.names.with_suffix(&format!(".{label}"))
        };
        let taken = |p: &Path| std::fs::symlink_metadata(p).is_ok();
        if taken(&target) || (self.gzipped && taken(&gz_name(&target))) {
            return Ok(false);
        }
        match std::fs::rename(self.names.base(), &target) {
            // Removed by someone else in between: nothing to keep, a fresh file follows.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
            other => other.map(|()| true),
        }
    }

    /// Python 3.13's `getFilesToDelete`: the files named `app.log.<suffix>` whose suffix is
    /// exactly one this schedule makes (plus `.N` with size-and-time rotation and `.gz` with
    /// gzip), oldest first, all but the `backup_count` newest. Other files with similar names
    /// are left alone. Both forms of a backup count as one. (The housekeeping worker applies
    /// the same rule through [`super::retention::Retention`]'s `keep`.)
    #[cfg(test)]
    pub(crate) fn files_to_delete(&self) -> io::Result<Vec<PathBuf>> {
        let backups = self.list()?;
        let keep = self.backup_count as usize;
        if keep == 0 || backups.len() < keep {
            return Ok(Vec::new());
        }
        let excess = backups.len() - keep;
        Ok(backups
            .iter()
            .take(excess)
            .flat_map(Backup::paths)
            .collect())
    }

    /// How many of the newest backups Python's `getFilesToDelete` keeps (0: all).
    pub(crate) fn backup_count(&self) -> u32 {
        self.backup_count
    }

    /// Every backup of this log file, oldest first (by date, then number).
    pub(crate) fn list(&self) -> io::Result<Vec<Backup>> {
        let mut found: Vec<((String, u64), Backup)> = Vec::new();
        for (key, gz, plain) in self.entries()? {
            match found.iter_mut().find(|(k, _)| *k == key) {
                Some((_, b)) if gz => b.has_gzipped = true,
                Some((_, b)) => b.has_plain = true,
                None => found.push((
                    key,
                    Backup {
                        plain,
                        has_plain: !gz,
                        has_gzipped: gz,
                    },
                )),
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found.into_iter().map(|(_, b)| b).collect())
    }

    /// Every file of this log's backups.
    fn entries(&self) -> io::Result<Vec<Entry>> {
        let (dir, prefix) = self.dir_and_prefix();
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(suffix) = name.strip_prefix(&prefix) else {
                continue;
            };
            if let Some((date, n)) = self
                .schedule
                .backup_key(suffix, self.numbered, self.gzipped)
            {
                let gz = self.gzipped && suffix.ends_with(".gz");
                let plain_name = if gz { &name[..name.len() - 3] } else { name };
                found.push(((date.to_owned(), n), gz, dir.join(plain_name)));
            }
        }
        Ok(found)
    }

    fn highest_number(&self, label: &str) -> io::Result<u64> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|((date, _), _, _)| date == label)
            .map(|((_, n), _, _)| n)
            .max()
            .unwrap_or(0))
    }

    /// The folder of the log file and `<file name>.`.
    fn dir_and_prefix(&self) -> (PathBuf, String) {
        let base = self.names.base();
        let dir = match base.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => Path::new(".").to_path_buf(),
        };
        let name = base
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (dir, format!("{name}."))
    }
}

/// A file of a dated backup: its sort key (date, number), whether it is the `.gz` form, and
/// the backup's plain name.
type Entry = ((String, u64), bool, PathBuf);

/// `<path>.gz`.
fn gz_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::When;

    fn backups(dir: &Path, when: &str, numbered: bool, count: u32) -> DatedBackups {
        let schedule = Schedule {
            when: when.parse::<When>().unwrap(),
            interval: 1,
            utc: true,
            at_time: None,
        };
        DatedBackups::new(
            BackupNamer::new(&dir.join("a.log")),
            schedule,
            numbered,
            false,
            count,
        )
    }

    fn touch(dir: &Path, names: &[&str]) {
        for n in names {
            std::fs::write(dir.join(n), n).unwrap();
        }
    }

    fn names(paths: Vec<PathBuf>) -> Vec<String> {
        let mut n: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    /// test_compute_files_to_delete (bpo-46063): handlers of `a.b.log` and `a.b.c.log` in one
    /// folder, `when: S`, ten backups 5 s apart, backup_count 7: each finds its own 3 oldest.
    #[test]
    fn compute_files_to_delete_finds_only_its_own_oldest_backups() {
        let dir = tempfile::tempdir().unwrap();
        let times: Vec<String> = (0..10)
            .map(|i| format!("2012-11-24_00-00-{:02}", i * 5))
            .collect();
        let mut files = Vec::new();
        for prefix in ["a.b", "a.b.c"] {
            for t in &times {
                files.push(format!("{prefix}.log.{t}"));
            }
        }
        // Names that look alike but are not ours (CPython 3.13's fullmatch leaves them).
        files.extend(
            [
                "a.b.log.2012-11-24_00-00-00.1",
                "a.b.log.2012-11-24_00-00-00x",
                "a.b.log.x2012-11-24_00-00-00",
                "a.b.log.2012-11-24_00-00",
            ]
            .map(String::from),
        );
        let refs: Vec<&str> = files.iter().map(String::as_str).collect();
        touch(dir.path(), &refs);
        for prefix in ["a.b", "a.b.c"] {
            let schedule = Schedule {
                when: When::Second,
                interval: 5,
                utc: false,
                at_time: None,
            };
            let b = DatedBackups::new(
                BackupNamer::new(&dir.path().join(format!("{prefix}.log"))),
                schedule,
                false,
                false,
                7,
            );
            let expected: Vec<String> = times[..3]
                .iter()
                .map(|t| format!("{prefix}.log.{t}"))
                .collect();
            assert_eq!(names(b.files_to_delete().unwrap()), expected);
        }
    }

    /// test_compute_files_to_delete_same_filename_different_extensions: `when: S` backups
    /// are told apart from `when: D` ones by their exact shape.
    #[test]
    fn files_to_delete_match_only_the_suffix_shape_of_when() {
        let dir = tempfile::tempdir().unwrap();
        touch(
            dir.path(),
            &[
                "a.log.2012-11-24_00-00-00",
                "a.log.2012-11-24_00-00-01",
                "a.log.2012-11-24",
                "a.log.2012-11-25",
            ],
        );
        let s = backups(dir.path(), "S", false, 1);
        assert_eq!(
            names(s.files_to_delete().unwrap()),
            ["a.log.2012-11-24_00-00-00"]
        );
        let d = backups(dir.path(), "midnight", false, 1);
        assert_eq!(names(d.files_to_delete().unwrap()), ["a.log.2012-11-24"]);
        let keep_all = backups(dir.path(), "D", false, 0);
        assert!(keep_all.files_to_delete().unwrap().is_empty());
    }

    #[test]
    fn size_and_time_backups_are_numbered_within_an_interval_and_deleted_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let b = backups(dir.path(), "D", true, 3);
        for n in 1..=11 {
            std::fs::write(dir.path().join("a.log"), format!("{n}")).unwrap();
            assert!(
                b.rotate(if n < 11 { "2026-12-01" } else { "2026-12-02" })
                    .unwrap()
            );
        }
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.log.2026-12-01.10")).unwrap(),
            "10"
        );
        // .10 sorts after .9 (by number, not by text).
        assert_eq!(
            names(b.files_to_delete().unwrap()).len(),
            8,
            "11 backups, keep 3"
        );
        for p in b.files_to_delete().unwrap() {
            std::fs::remove_file(p).unwrap();
        }
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "a.log.2026-12-01.10",
                "a.log.2026-12-01.9",
                "a.log.2026-12-02.1"
            ]
        );
    }

    #[test]
    fn a_taken_name_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["a.log", "a.log.2026-12-01"]);
        let b = backups(dir.path(), "D", false, 0);
        assert!(!b.rotate("2026-12-01").unwrap());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.log.2026-12-01")).unwrap(),
            "a.log.2026-12-01"
        );
        assert!(dir.path().join("a.log").exists());
    }
}
