//! Noticing that someone else moved or deleted the log file (logrotate, an operator): the path's
//! identity (device and inode) is compared with the open file's, at most once a second.

use std::fs::Metadata;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the path is checked in single-process mode (multi-process mode checks under the
/// lock on every write, since other processes rotate the file).
pub(crate) const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The identity of a file on disk: (device, inode) on Unix. Elsewhere files cannot be renamed or
/// deleted while open, so there is nothing to notice and every identity compares equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileId(u64, u64);

impl FileId {
    pub(crate) fn of(meta: &Metadata) -> FileId {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileId(meta.dev(), meta.ino())
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            FileId(0, 0)
        }
    }

    /// The identity of what `path` names now, or `None` if nothing is there.
    pub(crate) fn of_path(path: &Path) -> Option<FileId> {
        std::fs::metadata(path).ok().map(|m| FileId::of(&m))
    }
}

/// Rate-limits the path check.
#[derive(Debug)]
pub(crate) struct ReopenCheck {
    next: Instant,
}

impl ReopenCheck {
    pub(crate) fn new() -> Self {
        ReopenCheck {
            next: Instant::now() + CHECK_INTERVAL,
        }
    }

    /// True at most once per [`CHECK_INTERVAL`]: time to compare identities. `now` is read by
    /// the caller before it takes the appender's lock.
    pub(crate) fn due(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now + CHECK_INTERVAL;
        true
    }
}

/// True when `path` no longer names the file we have open `id` of.
pub(crate) fn moved_away(path: &Path, id: FileId) -> bool {
    FileId::of_path(path) != Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_is_checked_at_most_once_a_second() {
        let mut check = ReopenCheck::new();
        assert!(!check.due(Instant::now()));
        check.next = Instant::now();
        assert!(check.due(Instant::now()));
        assert!(
            !check.due(Instant::now()),
            "a second check right after the first is not due"
        );
    }
}
