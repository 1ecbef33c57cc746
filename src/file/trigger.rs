//! The one place that decides whether the file rolls over before a record: [`Trigger`].

use super::rollover::should_roll;

/// What the appender knows about the open file when it asks the trigger.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileState {
    /// Bytes in the file plus bytes buffered for it.
    pub(crate) size: u64,
    /// Python never rotates anything but a regular file (bpo-45401): `/dev/null`, a FIFO...
    pub(crate) regular: bool,
}

/// Decides rollover: today by size (Python's `RotatingFileHandler.shouldRollover`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Trigger {
    max_bytes: u64,
    backup_count: u32,
}

impl Trigger {
    pub(crate) fn new(max_bytes: u64, backup_count: u32) -> Self {
        Trigger {
            max_bytes,
            backup_count,
        }
    }

    /// True when a record of `record_len` bytes must go into a fresh file.
    pub(crate) fn fires(&self, file: FileState, record_len: u64) -> bool {
        file.regular && should_roll(file.size, record_len, self.max_bytes, self.backup_count)
    }
}
