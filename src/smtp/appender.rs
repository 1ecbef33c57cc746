//! The appender (application thread: render and enqueue, nothing else) and the digest sink (the
//! mail worker thread: digest, rate limit, compose, hand over to the sending thread).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use log::{Level, Record};
use log4rs::append::Append;
use log4rs::encode::Encode;
use log4rs::encode::writer::simple::SimpleWriter;

use crate::count::Count;
use crate::encode::PythonEncoder;
use crate::report::{FailureStreak, report_error};
use crate::worker::{OnFull, Sink, Worker, WorkerGroup};

use super::builder::{CheckedSmtpAppender, SmtpAppenderBuilder};
use super::digest::{Digest, QueuedRecord};
use super::message::{Addressing, OutgoingMail, compose};
use super::outbox::Outbox;
use super::transport::Transport;

/// Composed mails that may wait for the sending thread before the digest thread waits.
const OUTBOX_QUEUE: usize = 64;

/// Mails log records (errors by default) through SMTP, from a background thread, as digests.
///
/// `append` renders the record and queues it; it never touches the network. See
/// [`SmtpAppenderBuilder`] for the options and the [module docs](crate::smtp) for the YAML form
/// (`kind: smtp`) and each field's meaning.
pub struct SmtpAppender {
    name: String,
    threshold: Level,
    keep_context: bool,
    subject: PythonEncoder,
    encoder: Box<dyn Encode>,
    worker: Worker<QueuedRecord>,
    dropped_errors: Arc<AtomicU64>,
    queue_streak: FailureStreak,
    timeout: Duration,
    queue_size: usize,
}

impl fmt::Debug for SmtpAppender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpAppender")
            .field("name", &self.name)
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

    /// Starts a checked appender: its sending thread (which picks up mail left in the spool)
    /// and its mail worker. Never connects before a mail is due.
    pub fn start(checked: CheckedSmtpAppender) -> anyhow::Result<SmtpAppender> {
        let CheckedSmtpAppender {
            name,
            server,
            addressing,
            digest,
            level,
            subject,
            encoder,
            spool,
            spool_after,
            retry_backoff,
            queue_size,
            on_full,
        } = checked;
        let timeout = server.timeout;
        let group = WorkerGroup::new();
        let outbox = Outbox::new(
            name.clone(),
            Transport::new(server),
            retry_backoff,
            spool,
            spool_after,
        );
        let outbox = Worker::spawn_in(
            group,
            &format!("log4rs-smtp-send-{name}"),
            OUTBOX_QUEUE,
            OnFull::Block,
            timeout,
            outbox,
        )
        .map_err(|e| anyhow::anyhow!("cannot start the mail sending thread: {e}"))?
        .labelled(format!("appender \"{name}\""))
        .counting("mail");
        let keep_context = digest.context_records > 0;
        let dropped_errors = Arc::new(AtomicU64::new(0));
        let sink = DigestSink {
            name: name.clone(),
            digest: Digest::new(digest),
            addressing,
            outbox,
            dropped_errors: dropped_errors.clone(),
            errors_seen: 0,
            dropped_seen: 0,
            context_seen: 0,
            delivered: true,
        };
        let worker = Worker::spawn_in(
            group,
            &format!("log4rs-smtp-{name}"),
            queue_size,
            on_full,
            timeout,
            sink,
        )
        .map_err(|e| anyhow::anyhow!("cannot start the mail worker thread: {e}"))?
        .labelled(format!("appender \"{name}\""));
        Ok(SmtpAppender {
            name,
            threshold: level,
            keep_context,
            subject,
            encoder,
            worker,
            dropped_errors,
            queue_streak: FailureStreak::default(),
            timeout,
            queue_size,
        })
    }

    /// Error records dropped because the queue was full, since the appender started.
    pub fn dropped_errors(&self) -> u64 {
        self.dropped_errors.load(Ordering::Relaxed)
    }
}

impl Append for SmtpAppender {
    fn append(&self, record: &Record) -> anyhow::Result<()> {
        // Records logged by the mail threads themselves (rustls logs through `log`) must not
        // feed back into the mail they are about.
        if self.worker.group().is_current() {
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
                "appender \"{}\": the mail queue is full ({}); records are dropped and the \
                 next mail counts them (raise queue_size, or on_full: block)",
                self.name,
                Count::new(self.queue_size as u64, "record")
            );
        }
        Ok(())
    }

    fn flush(&self) {
        // The sending thread's verdict counts (`DigestSink::flushed`): the digest thread may
        // answer in time while the mail itself is still on its way.
        if !self.worker.flush(self.timeout) {
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
    /// Error records the appender could not queue (it counts them: only it knows the level).
    dropped_errors: Arc<AtomicU64>,
    /// Of `dropped_errors`, how many the digest has.
    errors_seen: u64,
    /// Every record the queue dropped (errors and context records), as the worker counted them.
    dropped_seen: u64,
    /// Of those, how many the digest has as context records.
    context_seen: u64,
    /// Whether the last flush got every mail to the server.
    delivered: bool,
}

impl DigestSink {
    /// Hands the queue's losses to the digest: the error records among them, and the context
    /// records (the rest).
    fn collect_dropped(&mut self, now: Instant) {
        let errors = self.dropped_errors.load(Ordering::Relaxed);
        self.digest.add_dropped(errors - self.errors_seen, now);
        self.errors_seen = errors;
        // The queue counts a drop just before the appender counts it as an error: an error
        // dropped at this very moment may be taken for a context record (the total is exact).
        let context = self.dropped_seen.saturating_sub(errors);
        self.digest
            .add_dropped_context(context.saturating_sub(self.context_seen));
        self.context_seen = self.context_seen.max(context);
    }

    fn send_due(&mut self, force: bool) {
        let now = Instant::now();
        self.collect_dropped(now);
        let Some(mail) = self.digest.take_due(now, force) else {
            return;
        };
        let records = Count::new(mail.records, "record");
        match compose(&self.addressing, mail) {
            Ok(m) => {
                if !self.outbox.send(m) {
                    report_error(&anyhow::anyhow!(
                        "appender \"{}\": the sending thread is gone; a mail of {records} is lost",
                        self.name
                    ));
                }
            }
            Err(e) => report_error(&e.context(format!(
                "appender \"{}\": a mail of {records} is lost",
                self.name
            ))),
        }
    }
}

impl Sink for DigestSink {
    type Item = QueuedRecord;

    fn handle(&mut self, batch: &mut Vec<QueuedRecord>) {
        let now = Instant::now();
        for r in batch.drain(..) {
            self.digest.add(r, now);
        }
        self.send_due(false);
    }

    fn dropped(&mut self, count: u64) {
        self.dropped_seen += count;
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
        self.delivered = self
            .outbox
            .flush(deadline.saturating_duration_since(Instant::now()));
    }

    fn flushed(&self) -> bool {
        self.delivered
    }

    /// Hands the pending digest, as a mail, to the sending thread, which delivers it when this
    /// sink is dropped (its [`Worker`]'s drop closes it, within the same shutdown timeout, and
    /// reports what it could not deliver). Not a flush: that would wait out the timeout here
    /// first, and the sending thread's close a second time.
    fn close(&mut self, _deadline: Instant) {
        self.send_due(true);
    }
}
