//! The sending thread's side: a [`Sink`] that turns events into envelopes, spools them (with
//! `spool_dir`), delivers them in order, waits out outages (exponential backoff) and rate limits,
//! and counts and reports what it had to drop.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry_types::protocol::v7::{Breadcrumb, Event};

use crate::backoff::Backoff;
use crate::count::Count;
use crate::lost::{Cause, LostRecords};
use crate::report::{FailureStreak, report_error};
use crate::spool::{
    Takeover, left_at_shutdown, remove_delivered, report_shutdown, set_aside_rejected,
};
use crate::worker::Sink;

use super::event::{EventSettings, dropped_event, envelope_bytes};
use super::spool::EventSpool;
use super::transport::{Outcome, Transport};

/// The longest wait between two delivery attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One envelope waiting for the server: in memory, in the spool, or both.
#[derive(Debug)]
struct Pending {
    /// The bytes, unless they are only in the spool file.
    bytes: Option<Vec<u8>>,
    spooled: Option<PathBuf>,
}

/// Delivers envelopes in order, never giving up on a transient failure.
#[derive(Debug)]
pub(crate) struct Outbox {
    name: String,
    transport: Transport,
    spool: Option<EventSpool>,
    /// Holds the spool once this appender owns it (picks up and sends what is spooled there).
    takeover: Takeover,
    settings: EventSettings,
    pending: VecDeque<Pending>,
    /// Envelopes kept in memory at most (without a spool, or when spooling fails).
    max_in_memory: usize,
    backoff: Backoff,
    send_streak: FailureStreak,
    spool_streak: FailureStreak,
    reject_streak: FailureStreak,
    /// Envelopes dropped because the in-memory backlog was full, not reported yet.
    backlog_dropped: u64,
    delivered_all: bool,
}

impl Outbox {
    /// An outbox that starts with whatever an earlier run left in the spool, once it holds the
    /// spool (see [`Takeover`]).
    pub(crate) fn new(
        name: String,
        transport: Transport,
        spool: Option<EventSpool>,
        settings: EventSettings,
        max_in_memory: usize,
        retry_backoff: Duration,
    ) -> Self {
        let mut outbox = Outbox {
            takeover: Takeover::new(&name, "events"),
            name,
            transport,
            spool,
            settings,
            pending: VecDeque::new(),
            max_in_memory: max_in_memory.max(1),
            backoff: Backoff::new(retry_backoff, MAX_BACKOFF),
            send_streak: FailureStreak::default(),
            spool_streak: FailureStreak::default(),
            reject_streak: FailureStreak::default(),
            backlog_dropped: 0,
            delivered_all: true,
        };
        outbox.take_spool();
        outbox
    }

    /// Takes the spool over if it is free (and it is time to try again), then queues what is
    /// spooled there before this run's events (which are newer), except the files this outbox
    /// wrote itself meanwhile. While another appender holds it (a reload's old appender still
    /// draining, or another process), its files are left to that one; this outbox spools and
    /// sends only its own events.
    fn take_spool(&mut self) {
        let Some(spool) = &self.spool else { return };
        if !self.takeover.try_take(spool.dir(), Instant::now()).taken() {
            return;
        }
        let files = match spool.files() {
            Ok(files) => files,
            Err(e) => {
                report_error(&e.context(format!(
                    "appender \"{}\": cannot pick up the events an earlier run spooled",
                    self.name
                )));
                return;
            }
        };
        let known: Vec<PathBuf> = self
            .pending
            .iter()
            .filter_map(|p| p.spooled.clone())
            .collect();
        for path in files.into_iter().rev() {
            if !known.contains(&path) {
                self.pending.push_front(Pending {
                    bytes: None,
                    spooled: Some(path),
                });
            }
        }
    }

    /// Serializes an event and queues it for delivery, spooling it first when a spool is set.
    fn enqueue(&mut self, event: Event<'static>) {
        let bytes = match envelope_bytes(event) {
            Ok(b) => b,
            Err(e) => {
                report_error(&anyhow::anyhow!(
                    "appender \"{}\": cannot serialize an event, which is lost: {e}",
                    self.name
                ));
                return;
            }
        };
        if let Some(spool) = &self.spool {
            match spool.store(&bytes) {
                Ok(path) => {
                    self.spool_streak.recovered();
                    self.pending.push_back(Pending {
                        bytes: None,
                        spooled: Some(path),
                    });
                    return;
                }
                Err(e) => {
                    if self.spool_streak.failed() {
                        report_error(&e.context(format!(
                            "appender \"{}\": cannot spool events; they wait in memory until \
                             the spool works again",
                            self.name
                        )));
                    }
                }
            }
        }
        self.pending.push_back(Pending {
            bytes: Some(bytes),
            spooled: None,
        });
        let in_memory = self.pending.iter().filter(|p| p.spooled.is_none()).count();
        if in_memory > self.max_in_memory
            && let Some(i) = self.pending.iter().position(|p| p.spooled.is_none())
        {
            // The oldest goes: the newest errors say most about the state the outage left.
            self.pending.remove(i);
            self.backlog_dropped += 1;
            if self.backlog_dropped == 1 {
                report_error(&anyhow::anyhow!(
                    "appender \"{}\": the in-memory backlog of {} (queue_size) is full while \
                     the server cannot be reached; the oldest are dropped, counted, and reported \
                     when delivery works again (set spool_dir to keep them all on disk)",
                    self.name,
                    crate::count::Count::new(self.max_in_memory as u64, "event")
                ));
            }
        }
    }

    /// Reports (to log4rs's error handler and to Sentry) what was dropped.
    fn report_dropped(&mut self, what: String) {
        report_error(&anyhow::anyhow!("appender \"{}\": {what}", self.name));
        let event = dropped_event(&self.name, what, &self.settings);
        self.enqueue(event);
    }

    /// Sends pending envelopes in order until one cannot go now. Backoff waits are skipped when
    /// flushing (`deadline`); rate limits are always honoured.
    fn deliver(&mut self, deadline: Option<Instant>) {
        while let Some(front) = self.pending.front() {
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                break;
            }
            if deadline.is_none() && self.backoff.waiting(now) {
                break;
            }
            let loaded;
            let bytes = match (&front.bytes, &front.spooled) {
                (Some(b), _) => b.as_slice(),
                (None, Some(path)) => match EventSpool::read(path) {
                    Ok(b) => {
                        loaded = b;
                        loaded.as_slice()
                    }
                    Err(e) => {
                        report_error(&e.context(format!(
                            "appender \"{}\": skipping a spooled event (left in place)",
                            self.name
                        )));
                        self.pending.pop_front();
                        continue;
                    }
                },
                (None, None) => {
                    self.pending.pop_front();
                    continue;
                }
            };
            match self.transport.send(bytes, deadline) {
                Outcome::Delivered => {
                    let done = self.pending.pop_front();
                    if let Some(path) = done.and_then(|p| p.spooled)
                        && let Err(e) = remove_delivered(&path)
                    {
                        report_error(&e.context(format!(
                            "appender \"{}\": the event was delivered, but its spool file stays \
                             and will be sent again by the next run",
                            self.name
                        )));
                    }
                    self.backoff.succeeded();
                    self.reject_streak.recovered();
                    if let Some(failed) = self.send_streak.recovered() {
                        report_error(&anyhow::anyhow!(
                            "appender \"{}\": events reach {} again ({} had failed; nothing \
                             was lost)",
                            self.name,
                            self.transport.url(),
                            crate::count::Count::new(failed, "attempt")
                        ));
                    }
                    if self.backlog_dropped > 0 {
                        let n = std::mem::take(&mut self.backlog_dropped);
                        let text = backlog_lost(n, self.max_in_memory, self.transport.url());
                        self.report_dropped(text);
                    }
                }
                Outcome::RateLimited(until) => {
                    self.backoff.pause_until(until);
                    if self.send_streak.failed() {
                        report_error(&anyhow::anyhow!(
                            "appender \"{}\": the server asks to pause for {} s (rate limit); \
                             events wait and are sent after that",
                            self.name,
                            until.saturating_duration_since(now).as_secs()
                        ));
                    }
                    break;
                }
                Outcome::Retry(e) => {
                    self.backoff.failed();
                    if self.send_streak.failed() {
                        let kept = if self.spool.is_some() {
                            "in spool_dir"
                        } else {
                            "in memory (set spool_dir to keep them across a restart)"
                        };
                        report_error(&e.context(format!(
                            "appender \"{}\": events are kept {kept} and sent when the server \
                             answers again",
                            self.name
                        )));
                    }
                    break;
                }
                Outcome::Rejected(e) => {
                    let done = self.pending.pop_front();
                    let kept = match done.and_then(|p| p.spooled) {
                        Some(path) => {
                            let rejected = set_aside_rejected(&path);
                            format!(", kept as {}", rejected.display())
                        }
                        None => String::new(),
                    };
                    if self.reject_streak.failed() {
                        report_error(&e.context(format!(
                            "appender \"{}\": an event was refused and is not sent again{kept}",
                            self.name
                        )));
                    }
                }
            }
        }
    }
}

/// What the application thread queues: the event, and the breadcrumbs it carries, still
/// shared with the application's breadcrumb list (copying them is the sending thread's work).
#[derive(Debug)]
pub(crate) struct QueuedEvent {
    pub(crate) event: Event<'static>,
    pub(crate) breadcrumbs: Vec<Arc<Breadcrumb>>,
}

impl Sink for Outbox {
    type Item = Box<QueuedEvent>;

    fn handle(&mut self, batch: &mut Vec<Box<QueuedEvent>>) {
        self.take_spool();
        for queued in batch.drain(..) {
            let QueuedEvent {
                mut event,
                breadcrumbs,
            } = *queued;
            if !breadcrumbs.is_empty() {
                let copies: Vec<Breadcrumb> = breadcrumbs.iter().map(|b| (**b).clone()).collect();
                event.breadcrumbs = copies.into();
            }
            self.enqueue(event);
        }
        self.deliver(None);
    }

    fn dropped(&mut self, count: u64) {
        self.report_dropped(queue_lost(count, self.max_in_memory));
    }

    fn wake(&mut self) {
        self.take_spool();
        self.deliver(None);
    }

    fn next_wake(&self) -> Option<Instant> {
        let lock_retry = self.takeover.next_try();
        let send = (!self.pending.is_empty())
            .then(|| self.backoff.retry_at().unwrap_or_else(Instant::now));
        send.into_iter().chain(lock_retry).min()
    }

    fn flush(&mut self, deadline: Instant) {
        self.take_spool();
        self.deliver(Some(deadline));
        self.delivered_all = self.pending.is_empty();
    }

    fn flushed(&self) -> bool {
        self.delivered_all
    }

    /// Delivers what it can until `deadline`, then reports, with their counts, the events lost
    /// (in memory, or dropped from the backlog during an outage that has not ended) and the
    /// events the spool keeps for the next run.
    fn close(&mut self, deadline: Instant) {
        self.flush(deadline);
        report_shutdown(&self.name, self.closing_report());
    }

    fn backlog(&self) -> u64 {
        self.pending.len() as u64
    }
}

impl Outbox {
    /// What [`Sink::close`] reports: what is lost, and what the spool keeps.
    fn closing_report(&self) -> Vec<String> {
        let url = self.transport.url();
        let in_memory = self.pending.iter().filter(|p| p.spooled.is_none()).count() as u64;
        let spooled = self.pending.len() as u64 - in_memory;
        let mut out = Vec::new();
        if self.backlog_dropped > 0 {
            out.push(backlog_lost(self.backlog_dropped, self.max_in_memory, url));
        }
        let lost = (in_memory > 0)
            .then(|| LostRecords::new(in_memory, "error event", Cause::NotTaken { target: &url }));
        let kept = match &self.spool {
            Some(spool) if spooled > 0 => Some((Count::new(spooled, "event"), spool.dir())),
            _ => None,
        };
        out.extend(left_at_shutdown(lost, kept));
        out
    }
}

/// Events the in-memory backlog had no room for during an outage (no `spool_dir`):
/// `N error events were lost: the buffer of C events was full while URL could not be reached
/// (queue_size; set spool_dir to keep them)`.
fn backlog_lost(count: u64, capacity: usize, url: &str) -> String {
    let cause = Cause::BufferFull {
        capacity,
        unit: "event",
        target: &url,
    };
    let lost = LostRecords::new(count, "error event", cause);
    format!("{lost} (queue_size; set spool_dir to keep them)")
}

/// Records the worker's full queue dropped (`on_full: drop`):
/// `N records were lost because the event queue was full (on_full: drop); raise queue_size (C),
/// or on_full: block`.
fn queue_lost(count: u64, capacity: usize) -> String {
    let lost = LostRecords::new(count, "record", Cause::QueueFull { queue: "event" });
    format!("{lost}; raise queue_size ({capacity}), or on_full: block")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentry::transport::TransportSettings;
    use crate::spool::SpoolLock;

    fn outbox(spool: &std::path::Path) -> Outbox {
        let dsn = "http://0123456789abcdef@127.0.0.1:9/1".parse().unwrap();
        let transport = Transport::new(TransportSettings::new(&dsn, None, Duration::from_secs(1)));
        Outbox::new(
            "spool-test".into(),
            transport,
            Some(EventSpool::open(spool.to_path_buf()).unwrap()),
            EventSettings::default(),
            10,
            Duration::from_secs(1),
        )
    }

    #[test]
    fn a_spool_held_by_another_appender_is_left_to_it_then_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let spool_dir = dir.path().join("events");
        let spool = EventSpool::open(spool_dir.clone()).unwrap();
        let left = spool.store(b"left by an earlier run").unwrap();
        let held = SpoolLock::try_acquire(&spool_dir).unwrap().expect("free");

        let mut outbox = outbox(&spool_dir);
        assert!(
            outbox.pending.is_empty(),
            "another appender's spool is left to it"
        );
        assert!(!outbox.takeover.holds());
        let retry = outbox.takeover.next_try().expect("tries again");
        assert_eq!(outbox.next_wake(), Some(retry), "wakes to try again");
        // (The waits and the report of a long one: spool::Takeover's tests.)

        drop(held);
        outbox.takeover.try_now();
        outbox.take_spool();
        assert!(outbox.takeover.holds() && outbox.takeover.next_try().is_none());
        let spooled: Vec<_> = outbox
            .pending
            .iter()
            .filter_map(|p| p.spooled.clone())
            .collect();
        assert_eq!(spooled, [left]);
    }

    #[test]
    fn drops_are_told_in_the_crates_one_lost_records_sentence() {
        assert_eq!(
            backlog_lost(3, 100, "https://sentry.example.com/api/1/envelope/"),
            "3 error events were lost: the buffer of 100 events was full while \
             https://sentry.example.com/api/1/envelope/ could not be reached (queue_size; set \
             spool_dir to keep them)"
        );
        assert_eq!(
            queue_lost(1, 1000),
            "1 record was lost because the event queue was full (on_full: drop); raise \
             queue_size (1000), or on_full: block"
        );
    }
}
