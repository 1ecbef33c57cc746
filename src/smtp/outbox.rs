//! The sending side: a [`Sink`] on its own worker thread that delivers composed mails in order,
//! retries with exponential backoff, spools mails that waited longer than `spool_after`, and
//! resends spooled mails (also those left by an earlier run).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::report::{FailureStreak, report_error};
use crate::worker::Sink;

use super::message::OutgoingMail;
use super::spool::Spool;
use super::transport::{SendError, Transport};

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
    failures: u32,
    retry_at: Option<Instant>,
    retry_backoff: Duration,
    spool: Option<Spool>,
    spool_after: Duration,
    send_streak: FailureStreak,
    spool_streak: FailureStreak,
}

impl Outbox {
    /// An outbox that starts with whatever an earlier run left in the spool.
    pub(crate) fn new(
        name: String,
        transport: Transport,
        retry_backoff: Duration,
        spool: Option<Spool>,
        spool_after: Duration,
    ) -> Self {
        let mut pending = VecDeque::new();
        if let Some(spool) = &spool {
            let (mails, errors) = spool.load();
            for e in errors {
                report_error(&e.context(format!("appender \"{name}\": skipping a spooled mail")));
            }
            pending.extend(mails);
        }
        Outbox {
            name,
            transport,
            pending,
            failures: 0,
            retry_at: None,
            retry_backoff: retry_backoff.max(Duration::from_millis(1)),
            spool,
            spool_after,
            send_streak: FailureStreak::default(),
            spool_streak: FailureStreak::default(),
        }
    }

    /// Sends from the front of the queue until it is empty, a send fails, or `deadline`.
    fn attempt(&mut self, deadline: Option<Instant>) {
        while let Some(mail) = self.pending.front() {
            let now = Instant::now();
            if self.retry_at.is_some_and(|t| t > now) || deadline.is_some_and(|d| now >= d) {
                break;
            }
            match self.transport.send(&mail.envelope, &mail.bytes) {
                Ok(()) => {
                    if let Some(path) = &mail.spooled {
                        if let Err(e) = Spool::remove(path) {
                            report_error(&e.context(format!("appender \"{}\"", self.name)));
                        }
                    }
                    self.pending.pop_front();
                    self.failures = 0;
                    self.retry_at = None;
                    self.send_streak.recovered();
                }
                Err(SendError::Permanent(e)) => {
                    let kept = match &mail.spooled {
                        Some(path) => {
                            Spool::reject(path);
                            format!(" (kept as {})", path.with_extension("rejected").display())
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
                    self.failures = self.failures.saturating_add(1);
                    let backoff = self
                        .retry_backoff
                        .saturating_mul(1u32 << self.failures.saturating_sub(1).min(16))
                        .min(MAX_BACKOFF);
                    self.retry_at = Some(Instant::now() + backoff);
                    if self.send_streak.failed() {
                        report_error(&e.context(format!(
                            "appender \"{}\": cannot deliver mail, retrying with backoff \
                             (next in {} ms, {} mail(s) waiting){}",
                            self.name,
                            backoff.as_millis(),
                            self.pending.len(),
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
                    break;
                }
            }
        }
        self.spool_overdue(false);
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
        super::appender::mark_mail_thread();
        self.pending.extend(batch.drain(..));
        self.attempt(None);
    }

    fn dropped(&mut self, count: u64) {
        // The digest queues mails with OnFull::Block, so this does not happen; say so if it does.
        report_error(&anyhow::anyhow!(
            "appender \"{}\": {count} mail(s) dropped",
            self.name
        ));
    }

    fn wake(&mut self) {
        super::appender::mark_mail_thread();
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
        if self.pending.is_empty() {
            return self.transport.idle_since().map(|t| t + IDLE_CLOSE);
        }
        let retry = self.retry_at.unwrap_or_else(Instant::now);
        Some(match self.earliest_spool_due() {
            Some(s) => s.min(retry),
            None => retry,
        })
    }

    fn flush(&mut self, deadline: Instant) {
        super::appender::mark_mail_thread();
        loop {
            self.attempt(Some(deadline));
            let now = Instant::now();
            if self.pending.is_empty() || now >= deadline {
                break;
            }
            let wait_until = self.retry_at.unwrap_or(now).min(deadline);
            std::thread::sleep(
                wait_until
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(1)),
            );
        }
        if !self.pending.is_empty() {
            // Out of time: make sure what is still waiting survives the process.
            self.spool_overdue(true);
            let spooled = self.pending.iter().filter(|m| m.spooled.is_some()).count();
            report_error(&anyhow::anyhow!(
                "appender \"{}\": out of time with {} mail(s) undelivered ({} in the spool); \
                 delivery goes on in the background{}",
                self.name,
                self.pending.len(),
                spooled,
                if self.spool.is_none() {
                    " (set spool_dir to keep them across a restart)"
                } else {
                    ""
                }
            ));
        }
    }
}
