//! The clock seam of time-based rotation: the appender reads the time only through [`Clock`],
//! so tests drive it without sleeping for a day.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the rotating file reads the current time for `when:` rotation.
///
/// The default, [`SystemClock`], is the system's wall clock. A test can give its own:
///
/// ```
/// use std::sync::atomic::{AtomicI64, Ordering};
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use log4rs_appenders::file::Clock;
///
/// #[derive(Debug, Default)]
/// struct FakeClock(AtomicI64);
///
/// impl Clock for FakeClock {
///     fn now(&self) -> SystemTime {
///         UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::Relaxed) as u64)
///     }
/// }
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock ([`SystemTime::now`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Whole seconds since the Unix epoch, rounded down (Python's `int(time.time())`).
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs_f64().ceil() as u64).unwrap_or(i64::MAX),
    }
}
