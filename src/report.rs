//! How appenders report their own failures: through log4rs's error path (stderr, prefixed
//! `log4rs:` like log4rs's default handler), once per streak of failures, naming the appender.
//!
//! `append` can return its error to log4rs directly; background workers have no caller to return
//! to, so they use [`report_error`], which goes to the same place (or to the handler set with
//! [`set_error_handler`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

type Handler = Box<dyn Fn(&anyhow::Error) + Send + Sync>;

fn handler() -> &'static Mutex<Option<Handler>> {
    static HANDLER: OnceLock<Mutex<Option<Handler>>> = OnceLock::new();
    HANDLER.get_or_init(|| Mutex::new(None))
}

/// Replaces where background failures are reported (default: stderr, `log4rs: <error>`, as
/// log4rs's own default error handler prints).
///
/// ```
/// log4rs_appenders::set_error_handler(|e| eprintln!("logging trouble: {e}"));
/// ```
pub fn set_error_handler(f: impl Fn(&anyhow::Error) + Send + Sync + 'static) {
    let mut h = handler().lock().unwrap_or_else(|p| p.into_inner());
    *h = Some(Box::new(f));
}

/// Reports an error from a background worker, where no `append` call can return it.
pub fn report_error(error: &anyhow::Error) {
    let h = handler().lock().unwrap_or_else(|p| p.into_inner());
    match h.as_ref() {
        Some(f) => f(error),
        None => eprintln!("log4rs: {error:#}"),
    }
}

/// Tracks a streak of failures so each streak is reported once, and counts what it cost.
///
/// ```
/// use log4rs_appenders::report::FailureStreak;
/// let streak = FailureStreak::default();
/// assert!(streak.failed());      // first failure of a streak: report it
/// assert!(!streak.failed());     // same streak: stay quiet
/// assert_eq!(streak.recovered(), Some(2)); // two failures were in the streak
/// assert_eq!(streak.recovered(), None);
/// ```
#[derive(Debug, Default)]
pub struct FailureStreak {
    failing: AtomicBool,
    failures: AtomicU64,
    since_unix_ms: AtomicU64,
}

impl FailureStreak {
    /// Records a failure; true when it starts a new streak (the caller should report it).
    pub fn failed(&self) -> bool {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let starts = !self.failing.swap(true, Ordering::AcqRel);
        if starts {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            self.since_unix_ms.store(now, Ordering::Relaxed);
        }
        starts
    }

    /// Records a success; if it ends a streak, returns how many failures the streak had.
    pub fn recovered(&self) -> Option<u64> {
        if !self.failing.load(Ordering::Acquire) {
            return None;
        }
        if self.failing.swap(false, Ordering::AcqRel) {
            Some(self.failures.swap(0, Ordering::AcqRel))
        } else {
            None
        }
    }

    /// How many failures the current streak has had so far (0 when not failing).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Acquire)
    }

    /// When the current (or last) streak started, in milliseconds since the Unix epoch.
    pub fn since_unix_ms(&self) -> u64 {
        self.since_unix_ms.load(Ordering::Relaxed)
    }

    /// True while failing.
    pub fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Acquire)
    }
}
