//! The sending thread's side: a [`Sink`] that turns events into envelopes, spools them (with
//! `spool_dir`), delivers them in order, waits out outages (exponential backoff) and rate limits,
//! and counts and reports what it had to drop.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sentry_types::protocol::v7::Event;

use crate::backoff::Backoff;
use crate::report::{FailureStreak, report_error};
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
    /// An outbox that starts with whatever an earlier run left in the spool.
    pub(crate) fn new(
        name: String,
        transport: Transport,
        spool: Option<EventSpool>,
        settings: EventSettings,
        max_in_memory: usize,
        retry_backoff: Duration,
    ) -> Self {
        let mut pending = VecDeque::new();
        if let Some(spool) = &spool {
            match spool.files() {
                Ok(files) => pending.extend(files.into_iter().map(|path| Pending {
                    bytes: None,
                    spooled: Some(path),
                })),
                Err(e) => report_error(&e.context(format!(
                    "appender \"{name}\": cannot pick up the events an earlier run spooled"
                ))),
            }
        }
        Outbox {
            name,
            transport,
            spool,
            settings,
            pending,
            max_in_memory: max_in_memory.max(1),
            backoff: Backoff::new(retry_backoff, MAX_BACKOFF),
            send_streak: FailureStreak::default(),
            spool_streak: FailureStreak::default(),
            reject_streak: FailureStreak::default(),
            backlog_dropped: 0,
            delivered_all: true,
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
                    "appender \"{}\": {} events wait for the server, the most kept in memory \
                     (queue_size); the oldest are dropped, counted, and reported when delivery \
                     works again (set spool_dir to keep them all on disk)",
                    self.name,
                    self.max_in_memory
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
                        && let Err(e) = EventSpool::remove(&path)
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
                            "appender \"{}\": events reach {} again ({failed} attempt(s) had \
                             failed; nothing was lost)",
                            self.name,
                            self.transport.url()
                        ));
                    }
                    if self.backlog_dropped > 0 {
                        let n = std::mem::take(&mut self.backlog_dropped);
                        self.report_dropped(format!(
                            "{n} error event(s) were dropped during the outage: more than \
                             queue_size ({}) waited for the server (set spool_dir to keep them)",
                            self.max_in_memory
                        ));
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
                            EventSpool::reject(&path);
                            format!(", kept as {}", path.with_extension("rejected").display())
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

impl Sink for Outbox {
    type Item = Box<Event<'static>>;

    fn handle(&mut self, batch: &mut Vec<Box<Event<'static>>>) {
        for event in batch.drain(..) {
            self.enqueue(*event);
        }
        self.deliver(None);
    }

    fn dropped(&mut self, count: u64) {
        self.report_dropped(format!(
            "{count} record(s) were dropped because the queue of {} events was full (raise \
             queue_size, or on_full: block)",
            self.max_in_memory
        ));
    }

    fn wake(&mut self) {
        self.deliver(None);
    }

    fn next_wake(&self) -> Option<Instant> {
        if self.pending.is_empty() {
            None
        } else {
            Some(self.backoff.retry_at().unwrap_or_else(Instant::now))
        }
    }

    fn flush(&mut self, deadline: Instant) {
        self.deliver(Some(deadline));
        self.delivered_all = self.pending.is_empty();
    }

    fn flushed(&self) -> bool {
        self.delivered_all
    }
}
