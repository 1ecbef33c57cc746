//! Retention: which backups are deleted, beyond what rotation itself drops. Three rules, applied
//! in this order to the backups listed oldest first ([`super::backups::BackupSet::list`]):
//!
//! 1. `backup_count` with `when:` (Python's `getFilesToDelete`): all but the newest
//!    `backup_count` dated backups (0 keeps them all). Without `when:` rotation itself keeps
//!    `app.log.1` .. `app.log.<backup_count>`, as Python's `doRollover` does.
//! 2. `max_age`: every backup last written more than `max_age` ago (its modification time, which
//!    a `.gz` keeps from the file it came from).
//! 3. `max_total_size`: the oldest backups, one after the other, until the remaining backups
//!    (both forms of each, as they are on disk) take at most `max_total_size` bytes. The log
//!    file itself does not count: only backups are deleted.
//!
//! Oldest first means: numbered backups from the highest number down; dated backups by the date
//! in their name, and within one interval of size-and-time rotation by their number
//! (`app.log.2026-12-01.1` before `.2`: the lowest number is the interval's first file).
//!
//! The decision ([`Retention::select`]) is a pure function of names, sizes and times; the
//! housekeeping worker lists, decides and deletes, never the logging thread.

use std::time::{Duration, SystemTime};

/// The retention settings of one appender.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Retention {
    /// Keep only this many newest backups (0: no limit by count).
    pub(crate) keep: u32,
    pub(crate) max_age: Option<Duration>,
    pub(crate) max_total_size: Option<u64>,
}

/// What retention knows about one backup (both forms together).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    /// Bytes on disk, plain and `.gz` forms together.
    pub(crate) size: u64,
    /// Its last modification (the later of its forms).
    pub(crate) modified: SystemTime,
}

impl Retention {
    /// True when there is anything to do beyond what rotation does.
    pub(crate) fn is_active(&self) -> bool {
        self.keep > 0 || self.max_age.is_some() || self.max_total_size.is_some()
    }

    /// The indexes (into `backups`, listed oldest first) of the backups to delete at `now`,
    /// in ascending order.
    pub(crate) fn select(&self, backups: &[Found], now: SystemTime) -> Vec<usize> {
        let mut delete = vec![false; backups.len()];
        let keep = self.keep as usize;
        if keep > 0 && backups.len() > keep {
            delete[..backups.len() - keep].fill(true);
        }
        if let Some(max_age) = self.max_age {
            for (d, b) in delete.iter_mut().zip(backups) {
                // A modification time in the future (clock set back) is not old.
                let age = now.duration_since(b.modified).unwrap_or(Duration::ZERO);
                *d |= age > max_age;
            }
        }
        if let Some(cap) = self.max_total_size {
            let mut total: u64 = backups
                .iter()
                .zip(&delete)
                .filter(|(_, d)| !**d)
                .map(|(b, _)| b.size)
                .sum();
            for (d, b) in delete.iter_mut().zip(backups) {
                if total <= cap {
                    break;
                }
                if !*d {
                    *d = true;
                    total -= b.size;
                }
            }
        }
        delete
            .iter()
            .enumerate()
            .filter(|(_, d)| **d)
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000;

    fn found(size: u64, age_secs: u64) -> Found {
        Found {
            size,
            modified: SystemTime::UNIX_EPOCH + Duration::from_secs(T0 - age_secs),
        }
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0)
    }

    #[test]
    fn nothing_is_deleted_without_a_rule() {
        let r = Retention::default();
        assert!(!r.is_active());
        assert!(r.select(&[found(10, 1_000_000)], now()).is_empty());
    }

    #[test]
    fn backups_older_than_max_age_are_deleted_and_newer_ones_kept() {
        let r = Retention {
            max_age: Some(Duration::from_secs(100)),
            ..Retention::default()
        };
        let b = [found(1, 300), found(1, 101), found(1, 100), found(1, 5)];
        assert_eq!(r.select(&b, now()), [0, 1]);
    }

    #[test]
    fn the_oldest_go_until_the_rest_fit_max_total_size() {
        let r = Retention {
            max_total_size: Some(25),
            ..Retention::default()
        };
        let b = [found(10, 40), found(10, 30), found(10, 20), found(10, 10)];
        assert_eq!(
            r.select(&b, now()),
            [0, 1],
            "20 bytes left, 30 would not fit"
        );
        let r = Retention {
            max_total_size: Some(40),
            ..Retention::default()
        };
        assert!(r.select(&b, now()).is_empty(), "exactly the cap fits");
        let r = Retention {
            max_total_size: Some(5),
            ..Retention::default()
        };
        assert_eq!(
            r.select(&b, now()),
            [0, 1, 2, 3],
            "a cap below one backup leaves none"
        );
    }

    #[test]
    fn rules_combine_count_then_age_then_size() {
        let r = Retention {
            keep: 4,
            max_age: Some(Duration::from_secs(250)),
            max_total_size: Some(15),
        };
        // 0 by count (5 backups, keep 4), 1 by age, then 2 and 3 by size (25, then 20 > 15).
        let b = [
            found(10, 500),
            found(10, 300),
            found(5, 200),
            found(10, 100),
            found(10, 50),
        ];
        assert_eq!(r.select(&b, now()), [0, 1, 2, 3]);
    }

    #[test]
    fn a_modification_time_in_the_future_is_not_old() {
        let r = Retention {
            max_age: Some(Duration::from_secs(1)),
            ..Retention::default()
        };
        let future = Found {
            size: 1,
            modified: now() + Duration::from_secs(3600),
        };
        assert!(r.select(&[future], now()).is_empty());
    }
}
