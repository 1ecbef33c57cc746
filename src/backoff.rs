//! Exponential backoff for the workers that retry a server (smtp's outbox, the syslog stream
//! worker, sentry's outbox): one failure in a row waits `first`, each further one twice as long,
//! at most `max`; a success starts over.

// Each user takes the methods it needs (only sentry pauses for a rate limit, only syslog
// separates an attempt from its success): builds with fewer features leave some unused.
#![cfg_attr(
    not(all(feature = "smtp", feature = "syslog", feature = "sentry")),
    allow(dead_code)
)]

use std::time::{Duration, Instant};

/// When the next attempt may be made, after how many failures in a row.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    first: Duration,
    max: Duration,
    failures: u32,
    retry_at: Option<Instant>,
}

impl Backoff {
    /// No failure yet; the first failure waits `first` (at least 1 ms), the longest wait is `max`.
    pub(crate) fn new(first: Duration, max: Duration) -> Self {
        Backoff {
            first: first.max(Duration::from_millis(1)),
            max,
            failures: 0,
            retry_at: None,
        }
    }

    /// An attempt failed: the next one waits `first` × 2^(failures in a row − 1), at most `max`.
    /// Returns that wait.
    pub(crate) fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let wait = self
            .first
            .saturating_mul(1u32 << (self.failures - 1).min(16))
            .min(self.max);
        self.retry_at = Some(Instant::now() + wait);
        wait
    }

    /// An attempt succeeded: nothing waits, and the next failure waits `first` again.
    pub(crate) fn succeeded(&mut self) {
        self.failures = 0;
        self.retry_at = None;
    }

    /// The server asked for a pause until `at` (a rate limit), whatever the failures.
    pub(crate) fn pause_until(&mut self, at: Instant) {
        self.retry_at = Some(at);
    }

    /// An attempt is being made now: the wait is over, the failures in a row are kept until it
    /// proves to have worked (a connection that is accepted and then dropped still backs off).
    pub(crate) fn attempting(&mut self) {
        self.retry_at = None;
    }

    /// When the next attempt may be made; `None`: now.
    pub(crate) fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Whether the next attempt must still wait at `now`.
    pub(crate) fn waiting(&self, now: Instant) -> bool {
        self.retry_at.is_some_and(|at| at > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waits(b: &mut Backoff, n: usize) -> Vec<u128> {
        (0..n).map(|_| b.failed().as_millis()).collect()
    }

    #[test]
    fn doubles_from_first_up_to_max_and_starts_over_after_a_success() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(waits(&mut b, 6), [100, 200, 400, 800, 1000, 1000]);
        assert!(b.waiting(Instant::now()));
        b.succeeded();
        assert!(b.retry_at().is_none());
        assert_eq!(waits(&mut b, 2), [100, 200]);
    }

    #[test]
    fn an_attempt_clears_the_wait_but_not_the_streak() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        b.failed();
        b.attempting();
        assert!(!b.waiting(Instant::now()));
        assert_eq!(b.failed().as_millis(), 200);
    }

    #[test]
    fn never_overflows_and_never_waits_zero() {
        let mut b = Backoff::new(Duration::ZERO, Duration::from_secs(60));
        assert_eq!(b.failed(), Duration::from_millis(1));
        for _ in 0..100 {
            b.failed();
        }
        assert_eq!(b.failed(), Duration::from_secs(60));
        let at = Instant::now() + Duration::from_secs(3600);
        b.pause_until(at);
        assert_eq!(b.retry_at(), Some(at));
    }
}
