//! The one place that decides whether the file rolls over before a record: [`Trigger`].

use super::rollover::should_roll;

/// What the appender knows about the open file when it asks the trigger.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileState {
    /// Bytes in the file plus bytes buffered for it.
    pub(crate) size: u64,
    /// Python never rotates anything but a regular file (bpo-45401): `/dev/null`, a FIFO...
    pub(crate) regular: bool,
    /// Unix second at which the current time period ends (`i64::MAX` without `when`).
    pub(crate) rollover_at: i64,
}

/// Decides rollover by size (Python's `RotatingFileHandler.shouldRollover`), by time
/// (`TimedRotatingFileHandler.shouldRollover`), or by both.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Trigger {
    max_bytes: u64,
    backup_count: u32,
    timed: bool,
}

impl Trigger {
    /// `timed`: rotation by time is on, so backups are dated and `backup_count: 0` keeps them
    /// all (as Python's timed handler) instead of switching rotation off.
    pub(crate) fn new(max_bytes: u64, backup_count: u32, timed: bool) -> Self {
        Trigger {
            max_bytes,
            backup_count,
            timed,
        }
    }

    /// True when a record of `record_len` bytes, logged at Unix second `now`, must go into a
    /// fresh file. The time check is one comparison: the boundary is computed at rollover.
    pub(crate) fn fires(&self, file: FileState, record_len: u64, now: i64) -> bool {
        if !file.regular {
            return false;
        }
        if self.timed {
            return now >= file.rollover_at
                || should_roll(file.size, record_len, self.max_bytes, 1);
        }
        should_roll(file.size, record_len, self.max_bytes, self.backup_count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64, rollover_at: i64) -> FileState {
        FileState {
            size,
            regular: true,
            rollover_at,
        }
    }

    #[test]
    fn time_fires_at_the_boundary_even_for_an_empty_file_as_python() {
        let t = Trigger::new(0, 3, true);
        assert!(!t.fires(file(0, 100), 10, 99));
        assert!(t.fires(file(0, 100), 10, 100));
    }

    #[test]
    fn size_and_time_fire_on_whichever_comes_first() {
        let t = Trigger::new(100, 0, true);
        assert!(t.fires(file(95, 100), 10, 50));
        assert!(
            !t.fires(file(0, 100), 500, 50),
            "never an empty file by size"
        );
        assert!(t.fires(file(5, 100), 1, 100));
    }

    #[test]
    fn never_a_file_that_is_not_regular() {
        let t = Trigger::new(100, 3, true);
        let fifo = FileState {
            size: 500,
            regular: false,
            rollover_at: 0,
        };
        assert!(!t.fires(fifo, 10, 50));
    }
}
