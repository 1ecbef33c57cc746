//! The backups of one log file as the background housekeeping sees them (compression and
//! retention): numbered (`app.log.1` newest .. `app.log.N`) or dated (`app.log.2026-12-01`,
//! `app.log.2026-12-01.3` with size-and-time rotation), each in one or both forms (plain, `.gz`),
//! listed oldest first.

use std::io;
use std::path::{Path, PathBuf};

use super::dated::DatedBackups;
use super::rollover::{BackupNamer, existing_backups};

/// One backup found on disk: its plain name and which of its forms exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Backup {
    /// `app.log.3` or `app.log.2026-12-01` (whether or not that form exists).
    pub(crate) plain: PathBuf,
    pub(crate) has_plain: bool,
    pub(crate) has_gzipped: bool,
}

impl Backup {
    /// `<plain>.gz`.
    pub(crate) fn gzipped(&self) -> PathBuf {
        let mut name = self.plain.clone().into_os_string();
        name.push(".gz");
        PathBuf::from(name)
    }

    /// The forms of this backup that exist.
    pub(crate) fn paths(&self) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        if self.has_plain {
            paths.push(self.plain.clone());
        }
        if self.has_gzipped {
            paths.push(self.gzipped());
        }
        paths
    }
}

/// The two ways backups are named.
#[derive(Clone, Debug)]
pub(crate) enum BackupSet {
    /// Rotation by size only: `app.log.1` .. `app.log.<backup_count>` (backups beyond the count,
    /// which Python's gap rule can leave, are not ours to touch).
    Numbered {
        names: BackupNamer,
        backup_count: u32,
    },
    /// Rotation by time (and size): names as [`DatedBackups`] makes them.
    Dated(DatedBackups),
}

impl BackupSet {
    /// The log file itself.
    pub(crate) fn base(&self) -> &Path {
        match self {
            BackupSet::Numbered { names, .. } => names.base(),
            BackupSet::Dated(dated) => dated.base(),
        }
    }

    /// Every backup, oldest first: by falling index (numbered), by date then number (dated).
    pub(crate) fn list(&self) -> io::Result<Vec<Backup>> {
        match self {
            BackupSet::Numbered {
                names,
                backup_count,
            } => Ok(existing_backups(names)?
                .into_iter()
                .rev()
                .filter(|b| b.index <= *backup_count)
                .map(|b| Backup {
                    plain: names.plain(b.index),
                    has_plain: b.plain,
                    has_gzipped: b.gzipped,
                })
                .collect()),
            BackupSet::Dated(dated) => dated.list(),
        }
    }
}
