//! The event spool (`spool_dir:`): every event is written here before it is sent, one file per
//! envelope (`*.envelope`, exactly the bytes that go over the wire), and deleted once the server
//! answered 2xx; what an earlier run left is sent first. Envelopes the server refused for good
//! are renamed `*.rejected` for a human to look at.
//!
//! The folder rules (private, `0700`/`0600`, never a link, atomic writes) are the crate's
//! shared spool rules ([`crate::spool`]), the same as the smtp appender's. One appender at a
//! time owns a spool directory ([`crate::spool::SpoolLock`], as the smtp appender's spool): it
//! alone picks up and sends what earlier runs left there. Delivery is at least once: an event
//! whose 200 arrived but whose file could not be deleted before a crash is sent again.

use std::path::{Path, PathBuf};

use crate::spool::{check_dir, read_regular_file, spooled_files, unique_name, write_atomically};

const EXTENSION: &str = "envelope";

/// A checked spool directory (created, private, when the appender starts and takes its lock).
#[derive(Debug, Clone)]
pub(crate) struct EventSpool {
    dir: PathBuf,
}

impl EventSpool {
    /// A spool in `dir`, refused when `dir` exists but is not a private directory. Creates
    /// nothing.
    pub(crate) fn open(dir: PathBuf) -> anyhow::Result<Self> {
        check_dir(&dir)?;
        Ok(EventSpool { dir })
    }

    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one envelope durably; returns its file.
    pub(crate) fn store(&self, envelope: &[u8]) -> anyhow::Result<PathBuf> {
        write_atomically(&self.dir, &unique_name(EXTENSION), envelope)
    }

    /// The spooled envelopes, oldest first.
    pub(crate) fn files(&self) -> anyhow::Result<Vec<PathBuf>> {
        spooled_files(&self.dir, EXTENSION)
    }

    /// One spooled envelope (never through a link).
    pub(crate) fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
        read_regular_file(path)
            .map_err(|e| e.context(format!("cannot read spool file {}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_envelopes_come_back_oldest_first_and_go_when_removed() {
        let dir = tempfile::tempdir().unwrap();
        let spool = EventSpool::open(dir.path().join("events")).unwrap();
        assert!(spool.files().unwrap().is_empty());
        let a = spool.store(b"first").unwrap();
        let b = spool.store(b"second").unwrap();
        assert_eq!(spool.files().unwrap(), vec![a.clone(), b.clone()]);
        assert_eq!(EventSpool::read(&b).unwrap(), b"second");
        crate::spool::remove_delivered(&a).unwrap();
        let rejected = crate::spool::set_aside_rejected(&b);
        assert!(spool.files().unwrap().is_empty());
        assert_eq!(rejected, b.with_extension("rejected"));
        assert!(rejected.exists());
    }
}
