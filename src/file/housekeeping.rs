//! The housekeeping worker of one rotating file: after each rotation (and at start) it
//! compresses the new backups (`compress: gzip`) and then applies retention (`backup_count` with
//! `when:`, `max_age`, `max_total_size`, see [`super::retention`]), on its own thread through the
//! crate's [`Worker`], so the logging call never waits for a folder listing, a deletion or gzip.
//!
//! Compression comes first so that `max_total_size` counts what stays on disk. Deletions happen
//! under the same locks as rotation (the in-process rotation lock and, with
//! `multiprocess: true`, the lock file), so a numbered backup never moves while it is deleted.
//! With `max_age` the worker also wakes every [`AGE_CHECK`] between rotations.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::backups::BackupSet;
use super::clock::Clock;
use super::lock::ProcessLock;
use super::retention::{Found, Retention};
use super::rollover::remove_if_exists;
use crate::report::{FailureStreak, report_error};
use crate::worker::{OnFull, Sink, Worker};

/// With `max_age`, how often retention runs between rotations.
pub(crate) const AGE_CHECK: Duration = Duration::from_secs(3600);

/// The locks rotation holds: housekeeping takes them in the same order (process, then
/// rotation), so neither waits for the other forever.
pub(crate) struct Locks {
    pub(crate) rotation: Arc<Mutex<()>>,
    pub(crate) process: Option<ProcessLock>,
}

impl Locks {
    /// Runs `f` holding both locks.
    pub(crate) fn hold<T>(&self, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        let _across_processes = match &self.process {
            Some(l) => Some(l.lock()?),
            None => None,
        };
        let _in_process = self.rotation.lock().unwrap_or_else(|p| p.into_inner());
        f()
    }
}

/// What the housekeeping of one appender does.
pub(crate) struct Plan {
    pub(crate) name: String,
    pub(crate) set: BackupSet,
    pub(crate) compress: bool,
    pub(crate) retention: Retention,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Plan {
    /// True when there is anything to do in the background.
    pub(crate) fn is_needed(&self) -> bool {
        self.compress || self.retention.is_active()
    }
}

/// Starts the worker and asks it for a first round (leftovers of an earlier run).
pub(crate) fn spawn(
    plan: Plan,
    rotation: Arc<Mutex<()>>,
    multiprocess: bool,
) -> io::Result<Worker<()>> {
    let process = if multiprocess {
        Some(ProcessLock::open(plan.set.base())?)
    } else {
        None
    };
    #[cfg(feature = "gzip")]
    let compressor = plan
        .compress
        .then(|| super::gzip::Compressor::new(&plan.name));
    let sink = Housekeeper {
        next_age_check: plan.retention.max_age.map(|_| Instant::now() + AGE_CHECK),
        plan,
        locks: Locks { rotation, process },
        #[cfg(feature = "gzip")]
        compressor,
        streak: FailureStreak::default(),
    };
    let worker = Worker::spawn(
        "log4rs-file-housekeeping",
        4,
        OnFull::Drop,
        Duration::from_secs(10),
        sink,
    )?;
    worker.send(());
    Ok(worker)
}

struct Housekeeper {
    plan: Plan,
    locks: Locks,
    #[cfg(feature = "gzip")]
    compressor: Option<super::gzip::Compressor>,
    streak: FailureStreak,
    next_age_check: Option<Instant>,
}

impl Sink for Housekeeper {
    type Item = ();

    fn handle(&mut self, _batch: &mut Vec<()>) {
        #[cfg(feature = "gzip")]
        if let Some(c) = &mut self.compressor {
            c.run(&self.plan.set, &self.locks);
        }
        self.apply_retention();
    }

    // A dropped poke is harmless: the poke already queued looks at every backup.
    fn dropped(&mut self, _count: u64) {}

    fn wake(&mut self) {
        self.apply_retention();
    }

    fn next_wake(&self) -> Option<Instant> {
        self.next_age_check
    }

    fn flush(&mut self, _deadline: Instant) {}
}

impl Housekeeper {
    fn apply_retention(&mut self) {
        if let Some(next) = &mut self.next_age_check {
            *next = Instant::now() + AGE_CHECK;
        }
        if !self.plan.retention.is_active() {
            return;
        }
        let set = &self.plan.set;
        let retention = self.plan.retention;
        let now = self.plan.clock.now();
        let result = self.locks.hold(|| {
            let backups = set.list()?;
            let found: Vec<Found> = backups
                .iter()
                .map(|b| {
                    let metas: Vec<_> = b
                        .paths()
                        .iter()
                        .filter_map(|p| std::fs::symlink_metadata(p).ok())
                        .collect();
                    Found {
                        size: metas.iter().map(|m| m.len()).sum(),
                        modified: metas
                            .iter()
                            .filter_map(|m| m.modified().ok())
                            .max()
                            .unwrap_or(now),
                    }
                })
                .collect();
            for i in retention.select(&found, now) {
                for path in backups[i].paths() {
                    remove_if_exists(&path)?;
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => {
                self.streak.recovered();
            }
            Err(e) => {
                if self.streak.failed() {
                    report_error(&anyhow::anyhow!(
                        "appender \"{}\": cannot delete old backups of {} (retried at the next \
                         rotation): {e}",
                        self.plan.name,
                        set.base().display()
                    ));
                }
            }
        }
    }
}
