//! The appender (application thread: render and enqueue, nothing else) and the digest sink (the
//! mail worker thread: digest, rate limit, compose, hand over to the sending thread).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use lettre::message::Mailbox;
use log::{Level, Record};
use log4rs::append::Append;
use log4rs::encode::Encode;
use log4rs::encode::writer::simple::SimpleWriter;

use crate::encode::PythonEncoder;
use crate::report::{FailureStreak, report_error};
use crate::worker::{Sink, Worker};

use super::builder::SmtpAppenderBuilder;
use super::digest::{Digest, QueuedRecord};
use super::message::{Addressing, OutgoingMail, compose};
use super::transport::ServerSettings;

/// Mails log records (errors by default) through SMTP, from a background thread, as digests.
///
/// `append` renders the record and queues it; it never touches the network. See
/// [`SmtpAppenderBuilder`] for the options and the crate's README for the YAML form
/// (`kind: smtp`).
pub struct SmtpAppender {
    name: String,
    server: ServerSettings,
    to: Vec<Mailbox>,
    threshold: Level,
    keep_context: bool,
    subject: PythonEncoder,
    encoder: Box<dyn Encode>,
    worker: Worker<QueuedRecord>,
    dropped_errors: Arc<AtomicU64>,
    delivered_at_flush: Arc<AtomicBool>,
    queue_streak: FailureStreak,
    timeout: Duration,
    queue_size: usize,
}

impl fmt::Debug for SmtpAppender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpAppender")
            .field("name", &self.name)
            .field("server", &self.server)
            .field(
                "to",
                &self.to.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            )
            .field("level", &self.threshold)
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl SmtpAppender {
    /// Starts building an appender.
    pub fn builder() -> SmtpAppenderBuilder {
        SmtpAppenderBuilder::default()
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        name: String,
        server: ServerSettings,
        to: Vec<Mailbox>,
        threshold: Level,
        keep_context: bool,
        subject: PythonEncoder,
        encoder: Box<dyn Encode>,
        worker: Worker<QueuedRecord>,
        dropped_errors: Arc<AtomicU64>,
        delivered_at_flush: Arc<AtomicBool>,
        timeout: Duration,
        queue_size: usize,
    ) -> Self {
        SmtpAppender {
            name,
            server,
            to,
            threshold,
            keep_context,
            subject,
            encoder,
            worker,
            dropped_errors,
            delivered_at_flush,
            queue_streak: FailureStreak::default(),
            timeout,
            queue_size,
        }
    }

    /// Error records dropped because the queue was full, since the appender started.
    pub fn dropped_errors(&self) -> u64 {
        self.dropped_errors.load(Ordering::Relaxed)
    }
}

thread_local! {
    /// Set on this appender's own threads: records logged there (rustls logs through `log`)
    /// must not feed back into the mail they are about.
    static ON_MAIL_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the current thread as one of the mail threads (see [`ON_MAIL_THREAD`]).
pub(crate) fn mark_mail_thread() {
    ON_MAIL_THREAD.with(|f| f.set(true));
}

impl Append for SmtpAppender {
    fn append(&self, record: &Record) -> anyhow::Result<()> {
        if ON_MAIL_THREAD.with(|f| f.get()) {
            return Ok(());
        }
        let mailed = record.level() <= self.threshold;
        if !mailed && !self.keep_context {
            return Ok(());
        }
        let mut body = Vec::with_capacity(256);
        self.encoder
            .encode(&mut SimpleWriter(&mut body), record)
            .map_err(|e| {
                e.context(format!(
                    "appender \"{}\": cannot render the record",
                    self.name
                ))
            })?;
        let queued = QueuedRecord {
            level: record.level(),
            target: record.target().to_owned(),
            file: record.file().map(str::to_owned),
            line: record.line(),
            template: record.args().as_str(),
            body: String::from_utf8(body)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            subject: if mailed {
                self.subject.format_to_string(record)
            } else {
                String::new()
            },
            time: SystemTime::now(),
            context_only: !mailed,
        };
        if self.worker.send(queued) {
            self.queue_streak.recovered();
            return Ok(());
        }
        if mailed {
            self.dropped_errors.fetch_add(1, Ordering::Relaxed);
        }
        if self.queue_streak.failed() {
            anyhow::bail!(
                "appender \"{}\": the mail queue is full ({} records); records are dropped and \
                 the next mail counts them (raise queue_size, or on_full: block)",
                self.name,
                self.queue_size
            );
        }
        Ok(())
    }

    fn flush(&self) {
        // The sending thread's verdict counts: the digest thread may answer in time while the
        // mail itself is still on its way.
        let done =
            self.worker.flush(self.timeout) && self.delivered_at_flush.load(Ordering::Acquire);
        if !done {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": flush timed out after {} ms; delivery goes on in the background",
                self.name,
                self.timeout.as_millis()
            ));
        }
    }
}

/// The mail worker thread's side: feeds the digest, asks it for due mails, composes them and
/// passes them to the sending thread.
pub(crate) struct DigestSink {
    name: String,
    digest: Digest,
    addressing: Addressing,
    outbox: Worker<OutgoingMail>,
    dropped_errors: Arc<AtomicU64>,
    dropped_seen: u64,
    delivered_at_flush: Arc<AtomicBool>,
}

impl DigestSink {
    pub(crate) fn new(
        name: String,
        digest: Digest,
        addressing: Addressing,
        outbox: Worker<OutgoingMail>,
        dropped_errors: Arc<AtomicU64>,
        delivered_at_flush: Arc<AtomicBool>,
    ) -> Self {
        DigestSink {
            name,
            digest,
            addressing,
            outbox,
            dropped_errors,
            dropped_seen: 0,
            delivered_at_flush,
        }
    }

    fn collect_dropped(&mut self, now: Instant) {
        let total = self.dropped_errors.load(Ordering::Relaxed);
        self.digest.add_dropped(total - self.dropped_seen, now);
        self.dropped_seen = total;
    }

    fn send_due(&mut self, force: bool) {
        let now = Instant::now();
        self.collect_dropped(now);
        let Some(mail) = self.digest.take_due(now, force) else {
            return;
        };
        let records = mail.records;
        match compose(&self.addressing, mail) {
            Ok(m) => {
                if !self.outbox.send(m) {
                    report_error(&anyhow::anyhow!(
                        "appender \"{}\": the sending thread is gone; a mail of {records} record(s) is lost",
                        self.name
                    ));
                }
            }
            Err(e) => report_error(&e.context(format!(
                "appender \"{}\": a mail of {records} record(s) is lost",
                self.name
            ))),
        }
    }
}

impl Sink for DigestSink {
    type Item = QueuedRecord;

    fn handle(&mut self, batch: &mut Vec<QueuedRecord>) {
        mark_mail_thread();
        let now = Instant::now();
        for r in batch.drain(..) {
            self.digest.add(r, now);
        }
        self.send_due(false);
    }

    fn dropped(&mut self, _count: u64) {
        // Error records are counted by the appender itself (`dropped_errors`), so the mail can
        // say how many errors, not context records, were lost.
        self.collect_dropped(Instant::now());
    }

    fn wake(&mut self) {
        self.send_due(false);
    }

    fn next_wake(&self) -> Option<Instant> {
        self.digest.due()
    }

    fn flush(&mut self, deadline: Instant) {
        self.send_due(true);
        let delivered = self
            .outbox
            .flush(deadline.saturating_duration_since(Instant::now()));
        self.delivered_at_flush.store(delivered, Ordering::Release);
    }
}
