//! The advisory lock that serialises write + rotate between processes sharing one log file
//! (`multiprocess: true`). It is taken on a separate file, `.<name>.lock` beside the log, because
//! the log file itself is renamed away by rotation.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// An exclusive `flock` (Unix) / `LockFileEx` (Windows) on `.<log name>.lock`, through std's
/// [`File::lock`] (stable since Rust 1.89).
#[derive(Debug)]
pub(crate) struct ProcessLock {
    file: File,
}

/// Holds the lock until dropped.
pub(crate) struct LockGuard<'a>(&'a File);

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl ProcessLock {
    /// The lock file's path for `log_path`.
    pub(crate) fn path_for(log_path: &Path) -> PathBuf {
        let name = log_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        log_path.with_file_name(format!(".{name}.lock"))
    }

    pub(crate) fn open(log_path: &Path) -> io::Result<Self> {
        let path = Self::path_for(log_path);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open lock file {}: {e}", path.display()),
                )
            })?;
        Ok(ProcessLock { file })
    }

    /// Waits for the exclusive lock.
    pub(crate) fn lock(&self) -> io::Result<LockGuard<'_>> {
        self.file.lock()?;
        Ok(LockGuard(&self.file))
    }
}
