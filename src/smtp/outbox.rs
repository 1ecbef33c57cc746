//! The sending side: a [`Sink`] on its own worker thread that delivers composed mails in order,
//! retries with exponential backoff, spools mails that waited longer than `spool_after`, and
//! resends spooled mails (also those left by an earlier run).
//!
//! Recipients: a mail goes to every recipient the server accepts. One refused for good (5xx)
//! is reported by address, once per streak of the same refusals, and the mail still goes to
//! the others; one refused for now (4xx) gets the mail later, alone (the others are not sent
//! it twice). Only a mail whose every recipient is refused is refused. A login the server
//! refuses for good (535) is reported once and not retried: mails are then kept (and spooled
//! when `spool_dir` is set) for a run with corrected credentials.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::address::Envelope;

use crate::backoff::Backoff;
use crate::count::Count;
use crate::report::{FailureStreak, report_error};
use crate::worker::Sink;

use super::message::{OutgoingMail, records_in};
use super::spool::Spool;
use super::transport::{Delivery, SendError, Transport, list_refused};
use crate::lost::{Cause, LostRecords};
use crate::spool::{
    Takeover, left_at_shutdown, remove_delivered, report_shutdown, set_aside_rejected,
};

/// The longest wait between two delivery attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// An idle connection is closed (QUIT) after this long, rather than left for the server to drop.
const IDLE_CLOSE: Duration = Duration::from_secs(5);

/// Delivers mails, in order, never giving up on a transient failure.
#[derive(Debug)]
pub(crate) struct Outbox {
    name: String,
    transport: Transport,
    pending: VecDeque<OutgoingMail>,
    backoff: Backoff,
    spool: Option<Spool>,
    /// Holds the spool once this appender owns it (picks up and sends what is spooled there).
    takeover: Takeover,
    spool_after: Duration,
    send_streak: FailureStreak,
    spool_streak: FailureStreak,
    /// The refused recipients reported last, so a refusal is reported once per streak.
    refused_reported: Vec<Address>,
    /// The server refused the login for good: no more attempts by this appender.
    login_refused: bool,
}

impl Outbox {
    /// An outbox that starts with whatever an earlier run left in the spool (once it holds the
    /// spool: see [`Takeover`]).
    pub(crate) fn new(
        name: String,
        transport: Transport,
        retry_backoff: Duration,
        spool: Option<Spool>,
        spool_after: Duration,
    ) -> Self {
        let mut outbox = Outbox {
            takeover: Takeover::new(&name, "mails"),
            name,
            transport,
            pending: VecDeque::new(),
            backoff: Backoff::new(retry_backoff, MAX_BACKOFF),
            spool,
            spool_after,
            send_streak: FailureStreak::default(),
            spool_streak: FailureStreak::default(),
            refused_reported: Vec::new(),
            login_refused: false,
        };
        outbox.take_spool();
        outbox
    }

    /// Takes the spool over if it is free (and it is time to try again), and then queues what
    /// is spooled there (before the mails of this run, which are newer), except files this
    /// outbox wrote itself meanwhile. While another appender holds it, its files are left to
    /// that one.
    fn take_spool(&mut self) {
        let Some(spool) = &self.spool else { return };
        if !self.takeover.try_take(spool.dir(), Instant::now()).taken() {
            return;
        }
        let (mails, errors) = spool.load();
        for e in errors {
            report_error(&e.context(format!(
                "appender \"{}\": skipping a spooled mail",
                self.name
            )));
        }
        let known: Vec<_> = self
            .pending
            .iter()
            .filter_map(|m| m.spooled.clone())
            .collect();
        for mail in mails.into_iter().rev() {
            if !mail.spooled.as_ref().is_some_and(|p| known.contains(p)) {
                self.pending.push_front(mail);
            }
        }
    }

    /// Sends from the front of the queue until it is empty, a send fails, or `deadline`.
    fn attempt(&mut self, deadline: Option<Instant>) {
        if self.login_refused {
            self.spool_overdue(true);
            return;
        }
        while let Some(mail) = self.pending.front() {
            let now = Instant::now();
            if self.backoff.waiting(now) || deadline.is_some_and(|d| now >= d) {
                break;
            }
            match self.transport.send(&mail.envelope, &mail.bytes) {
                Ok(delivery) if delivery.deferred.is_empty() => {
                    if let Some(path) = &mail.spooled
                        && let Err(e) = remove_delivered(path)
                    {
                        report_error(&e.context(format!("appender \"{}\"", self.name)));
                    }
                    self.pending.pop_front();
                    self.report_refused(&delivery);
                    self.backoff.succeeded();
                    self.send_streak.recovered();
                }
                Ok(delivery) => {
                    self.report_refused(&delivery);
                    let deferred = delivery.deferred;
                    let e = anyhow::anyhow!(
                        "the server deferred {} ({}); the mail is retried for them alone",
                        Count::new(deferred.len() as u64, "recipient"),
                        deferred
                            .iter()
                            .map(|a| a.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    self.narrow_front(deferred);
                    self.back_off(e);
                    break;
                }
                Err(SendError::LoginRefused(e)) => {
                    report_error(&e.context(format!(
                        "appender \"{}\": not retried; {} {} kept{} until the credentials \
                         are fixed",
                        self.name,
                        Count::new(self.pending.len() as u64, "mail"),
                        Count::new(self.pending.len() as u64, "mail").are(),
                        match &self.spool {
                            Some(s) => format!(" in {}", s.dir().display()),
                            None => " in memory (set spool_dir to keep them across a restart)"
                                .to_owned(),
                        }
                    )));
                    self.login_refused = true;
                    self.spool_overdue(true);
                    return;
                }
                Err(SendError::Permanent(e)) => {
                    let kept = match &mail.spooled {
                        Some(path) => {
                            let rejected = set_aside_rejected(path);
                            format!(" (kept as {})", rejected.display())
                        }
                        None => String::new(),
                    };
                    report_error(&e.context(format!(
                        "appender \"{}\": the server refused a mail for good; it is not retried{kept}",
                        self.name
                    )));
                    self.pending.pop_front();
                }
                Err(SendError::Transient(e)) => {
                    self.back_off(e);
                    break;
                }
            }
        }
        self.spool_overdue(false);
    }

    /// Schedules the next attempt with exponential backoff and reports `e` once per streak.
    fn back_off(&mut self, e: anyhow::Error) {
        let backoff = self.backoff.failed();
        if self.send_streak.failed() {
            report_error(&e.context(format!(
                "appender \"{}\": cannot deliver mail, retrying with backoff \
                 (next in {} ms, {} waiting){}",
                self.name,
                backoff.as_millis(),
                Count::new(self.pending.len() as u64, "mail"),
                match &self.spool {
                    Some(s) => format!(
                        "; mails waiting over {} s go to {}",
                        self.spool_after.as_secs_f32(),
                        s.dir().display()
                    ),
                    None => String::new(),
                }
            )));
        }
    }

    /// Reports recipients the server refused for good, once per streak of the same refusals.
    fn report_refused(&mut self, delivery: &Delivery) {
        let addresses: Vec<Address> = delivery.refused.iter().map(|(a, _)| a.clone()).collect();
        if addresses == self.refused_reported {
            return;
        }
        if !addresses.is_empty() {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": the server refused {} {}; the mail went to the {}{}",
                self.name,
                Count::new(addresses.len() as u64, "recipient").noun(),
                list_refused(&delivery.refused),
                Count::new(delivery.accepted as u64, "accepted recipient"),
                if delivery.deferred.is_empty() {
                    String::new()
                } else {
                    format!(" and is retried for {} deferred", delivery.deferred.len())
                }
            ));
        }
        self.refused_reported = addresses;
    }

    /// Leaves only `recipients` in the front mail's envelope (and its spool file), so a retry
    /// reaches those who have not had it yet and nobody twice.
    fn narrow_front(&mut self, recipients: Vec<Address>) {
        let Some(mail) = self.pending.front_mut() else {
            return;
        };
        match Envelope::new(mail.envelope.from().cloned(), recipients) {
            Ok(envelope) => mail.envelope = envelope,
            Err(_) => return, // no recipients: cannot happen for a deferral
        }
        let (Some(spool), Some(old)) = (&self.spool, mail.spooled.take()) else {
            return;
        };
        match spool.store(mail) {
            Ok(new) => {
                mail.spooled = Some(new);
                if let Err(e) = remove_delivered(&old) {
                    report_error(&e.context(format!("appender \"{}\"", self.name)));
                }
            }
            Err(e) => {
                // The old file still names every recipient: a restart may resend to some.
                mail.spooled = Some(old);
                report_error(&e.context(format!("appender \"{}\"", self.name)));
            }
        }
    }

    /// Writes mails that waited at least `spool_after` (all of them with `all`) to the spool.
    fn spool_overdue(&mut self, all: bool) {
        let Some(spool) = &self.spool else { return };
        let now = Instant::now();
        for mail in self.pending.iter_mut().filter(|m| m.spooled.is_none()) {
            if !all && now.saturating_duration_since(mail.created) < self.spool_after {
                continue;
            }
            match spool.store(mail) {
                Ok(path) => {
                    mail.spooled = Some(path);
                    self.spool_streak.recovered();
                }
                Err(e) => {
                    if self.spool_streak.failed() {
                        report_error(&e.context(format!("appender \"{}\"", self.name)));
                    }
                }
            }
        }
    }

    /// Sends until every mail is out, the login is refused, or `deadline` (waiting out the
    /// backoff in between).
    fn deliver_until(&mut self, deadline: Instant) {
        self.take_spool();
        while !self.login_refused {
            self.attempt(Some(deadline));
            let now = Instant::now();
            if self.pending.is_empty() || now >= deadline {
                break;
            }
            let wait_until = self.backoff.retry_at().unwrap_or(now).min(deadline);
            std::thread::sleep(
                wait_until
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(1)),
            );
        }
    }

    /// What [`Sink::close`] reports: the records in mails only memory holds (lost), and the
    /// mails the spool keeps.
    fn left_undelivered(&self) -> Vec<String> {
        let (spooled, in_memory): (Vec<_>, Vec<_>) =
            self.pending.iter().partition(|m| m.spooled.is_some());
        // A mail this crate composed always says how many records it holds (at least one).
        let records: u64 = in_memory
            .iter()
            .map(|m| records_in(&m.bytes).unwrap_or(1))
            .sum();
        let server = self.transport.describe();
        let lost = (!in_memory.is_empty())
            .then(|| LostRecords::new(records, "record", Cause::NotTaken { target: &server }));
        let kept = match &self.spool {
            Some(spool) if !spooled.is_empty() => {
                Some((Count::new(spooled.len() as u64, "mail"), spool.dir()))
            }
            _ => None,
        };
        left_at_shutdown(lost, kept)
    }

    fn earliest_spool_due(&self) -> Option<Instant> {
        self.spool.as_ref()?;
        self.pending
            .iter()
            .filter(|m| m.spooled.is_none())
            .map(|m| m.created + self.spool_after)
            .min()
    }
}

impl Sink for Outbox {
    type Item = OutgoingMail;

    fn handle(&mut self, batch: &mut Vec<OutgoingMail>) {
        self.pending.extend(batch.drain(..));
        self.take_spool();
        self.attempt(None);
    }

    fn dropped(&mut self, count: u64) {
        // The digest queues mails with OnFull::Block, so this does not happen; say so if it does.
        report_error(&anyhow::anyhow!(
            "appender \"{}\": {} dropped",
            self.name,
            Count::new(count, "mail")
        ));
    }

    fn wake(&mut self) {
        self.take_spool();
        if self.pending.is_empty() {
            if self
                .transport
                .idle_since()
                .is_some_and(|t| t.elapsed() >= IDLE_CLOSE)
            {
                self.transport.close();
            }
            return;
        }
        self.attempt(None);
    }

    fn next_wake(&self) -> Option<Instant> {
        let lock_retry = self.takeover.next_try();
        if self.pending.is_empty() || self.login_refused {
            let idle = self.transport.idle_since().map(|t| t + IDLE_CLOSE);
            return idle.into_iter().chain(lock_retry).min();
        }
        let retry = self.backoff.retry_at().unwrap_or_else(Instant::now);
        let due = match self.earliest_spool_due() {
            Some(s) => s.min(retry),
            None => retry,
        };
        Some(lock_retry.map_or(due, |l| l.min(due)))
    }

    fn flush(&mut self, deadline: Instant) {
        self.deliver_until(deadline);
        if !self.pending.is_empty() {
            // Out of time: make sure what is still waiting survives the process.
            self.spool_overdue(true);
            let spooled = self.pending.iter().filter(|m| m.spooled.is_some()).count();
            report_error(&anyhow::anyhow!(
                "appender \"{}\": {} with {} undelivered ({} in the spool){}",
                self.name,
                if self.login_refused {
                    "stopped by the refused login"
                } else {
                    "out of time; delivery goes on in the background"
                },
                Count::new(self.pending.len() as u64, "mail"),
                spooled,
                if self.spool.is_none() {
                    " (set spool_dir to keep them across a restart)"
                } else {
                    ""
                }
            ));
        }
    }

    /// Delivers what it can until `deadline`, spools what is left (with `spool_dir`), then
    /// reports, with their counts, the records lost with the mails only memory held and the
    /// mails the spool keeps for the next run.
    fn close(&mut self, deadline: Instant) {
        self.deliver_until(deadline);
        self.spool_overdue(true);
        report_shutdown(&self.name, self.left_undelivered());
    }

    fn backlog(&self) -> u64 {
        self.pending.len() as u64
    }
}
