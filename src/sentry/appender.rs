//! The appender: on the application thread, an error record becomes an event (rendered, with
//! the breadcrumbs so far) and is queued; a lower record becomes a breadcrumb. Nothing here
//! touches the network or the disk.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use log::{Level, Record};
use log4rs::append::Append;
use sentry_types::protocol::v7::Breadcrumb;

use crate::report::{FailureStreak, report_error};
use crate::worker::Worker;

use super::builder::{BreadcrumbScope, CheckedSentryAppender, SentryAppenderBuilder};
use super::event::{EventSettings, breadcrumb_from_record, event_from_record};
use super::outbox::{Outbox, QueuedEvent};
use super::transport::Transport;

/// Sends error records to Sentry (or a server that speaks its protocol, such as Bugsink) as
/// events, from a background thread, with the records before them as breadcrumbs.
///
/// `append` renders and queues; it never touches the network. See [`SentryAppenderBuilder`]
/// for the options and [`crate::sentry`] for the YAML form (`kind: sentry`) and the mapping.
pub struct SentryAppender {
    name: String,
    level: Level,
    breadcrumb_level: Level,
    settings: EventSettings,
    breadcrumbs: Breadcrumbs,
    worker: Worker<Box<QueuedEvent>>,
    dropped: AtomicU64,
    queue_streak: FailureStreak,
    queue_size: usize,
    timeout: Duration,
    url: String,
}

impl fmt::Debug for SentryAppender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryAppender")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("level", &self.level)
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl SentryAppender {
    /// Starts building an appender.
    pub fn builder() -> SentryAppenderBuilder {
        SentryAppenderBuilder::default()
    }

    /// Starts a checked appender's sending thread, which first sends what the spool holds.
    pub fn start(checked: CheckedSentryAppender) -> anyhow::Result<SentryAppender> {
        let CheckedSentryAppender {
            name,
            transport,
            event,
            level,
            breadcrumbs,
            max_breadcrumbs,
            breadcrumbs_scope,
            spool,
            retry_backoff,
            queue_size,
            on_full,
        } = checked;
        let timeout = transport.timeout;
        let url = transport.url().to_owned();
        let outbox = Outbox::new(
            name.clone(),
            Transport::new(transport),
            spool,
            event.clone(),
            queue_size,
            retry_backoff,
        );
        let worker = Worker::spawn(
            &format!("log4rs-sentry-{name}"),
            queue_size,
            on_full,
            timeout,
            outbox,
        )
        .map_err(|e| anyhow::anyhow!("cannot start the sentry sending thread: {e}"))?
        .labelled(format!("appender \"{name}\""))
        .counting("event");
        Ok(SentryAppender {
            name,
            level,
            breadcrumb_level: breadcrumbs,
            settings: event,
            breadcrumbs: Breadcrumbs::new(breadcrumbs_scope, max_breadcrumbs),
            worker,
            dropped: AtomicU64::new(0),
            queue_streak: FailureStreak::default(),
            queue_size,
            timeout,
            url,
        })
    }

    /// Events dropped because the queue was full, since the appender started.
    pub fn dropped_events(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Append for SentryAppender {
    fn append(&self, record: &Record) -> anyhow::Result<()> {
        // Records logged by the sending thread itself (ureq and rustls log through `log`) must
        // not feed back into the events they are about.
        if self.worker.group().is_current() {
            return Ok(());
        }
        if record.level() > self.level {
            if record.level() <= self.breadcrumb_level {
                self.breadcrumbs.push(breadcrumb_from_record(record));
            }
            return Ok(());
        }
        // The breadcrumbs go along shared: the sending thread copies them into the event.
        let event = QueuedEvent {
            event: event_from_record(record, &self.settings, Vec::new()),
            breadcrumbs: self.breadcrumbs.snapshot(),
        };
        if self.worker.send(Box::new(event)) {
            self.queue_streak.recovered();
            return Ok(());
        }
        self.dropped.fetch_add(1, Ordering::Relaxed);
        if self.queue_streak.failed() {
            anyhow::bail!(
                "appender \"{}\": the event queue is full ({}); events are dropped, counted, \
                 and the count is reported (raise queue_size, or on_full: block)",
                self.name,
                crate::count::Count::new(self.queue_size as u64, "event")
            );
        }
        Ok(())
    }

    fn flush(&self) {
        if !self.worker.flush(self.timeout) {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": not every event reached {} within {} ms; they are kept and \
                 sent in the background",
                self.name,
                self.url,
                self.timeout.as_millis()
            ));
        }
    }
}

thread_local! {
    /// Per-thread breadcrumbs, one list per appender (by its id).
    static THREAD_BREADCRUMBS: RefCell<Vec<(u64, VecDeque<Arc<Breadcrumb>>)>> =
        const { RefCell::new(Vec::new()) };
}

/// The last `max` breadcrumbs, per thread or per appender ([`BreadcrumbScope`]).
struct Breadcrumbs {
    scope: BreadcrumbScope,
    max: usize,
    /// This appender's key in the per-thread lists.
    id: u64,
    shared: Mutex<VecDeque<Arc<Breadcrumb>>>,
}

impl Breadcrumbs {
    fn new(scope: BreadcrumbScope, max: usize) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Breadcrumbs {
            scope,
            max,
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            shared: Mutex::new(VecDeque::new()),
        }
    }

    fn push(&self, crumb: Breadcrumb) {
        if self.max == 0 {
            return;
        }
        let crumb = Arc::new(crumb);
        let push = |list: &mut VecDeque<Arc<Breadcrumb>>| {
            if list.len() >= self.max {
                list.pop_front();
            }
            list.push_back(crumb);
        };
        match self.scope {
            BreadcrumbScope::Appender => {
                push(&mut self.shared.lock().unwrap_or_else(|p| p.into_inner()));
            }
            BreadcrumbScope::Thread => {
                // `try_with`: nothing to keep while the thread is being torn down.
                let _ = THREAD_BREADCRUMBS.try_with(|lists| {
                    let Ok(mut lists) = lists.try_borrow_mut() else {
                        return;
                    };
                    match lists.iter_mut().find(|(id, _)| *id == self.id) {
                        Some((_, list)) => push(list),
                        None => {
                            let mut list = VecDeque::with_capacity(self.max.min(16));
                            push(&mut list);
                            lists.push((self.id, list));
                        }
                    }
                });
            }
        }
    }

    /// The breadcrumbs an event on this thread carries now, oldest first, shared (not copied:
    /// the sending thread copies them into the event). They stay: later events carry them too,
    /// as Sentry's scopes do.
    fn snapshot(&self) -> Vec<Arc<Breadcrumb>> {
        match self.scope {
            BreadcrumbScope::Appender => self
                .shared
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned()
                .collect(),
            BreadcrumbScope::Thread => THREAD_BREADCRUMBS
                .try_with(|lists| {
                    lists
                        .try_borrow()
                        .ok()
                        .and_then(|lists| {
                            lists
                                .iter()
                                .find(|(id, _)| *id == self.id)
                                .map(|(_, list)| list.iter().cloned().collect())
                        })
                        .unwrap_or_default()
                })
                .unwrap_or_default(),
        }
    }
}

impl Drop for Breadcrumbs {
    fn drop(&mut self) {
        // Only this thread's list can be reached; other threads' go with them.
        let _ = THREAD_BREADCRUMBS.try_with(|lists| {
            if let Ok(mut lists) = lists.try_borrow_mut() {
                lists.retain(|(id, _)| *id != self.id);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn crumb(message: &str) -> Breadcrumb {
        Breadcrumb {
            message: Some(message.into()),
            ..Default::default()
        }
    }

    fn messages(crumbs: Vec<Arc<Breadcrumb>>) -> Vec<String> {
        crumbs.iter().filter_map(|c| c.message.clone()).collect()
    }

    #[test]
    fn thread_breadcrumbs_stay_on_their_thread_and_keep_the_latest() {
        let crumbs = Arc::new(Breadcrumbs::new(BreadcrumbScope::Thread, 2));
        for m in ["a", "b", "c"] {
            crumbs.push(crumb(m));
        }
        let other = crumbs.clone();
        let seen_elsewhere = std::thread::spawn(move || {
            other.push(crumb("x"));
            messages(other.snapshot())
        })
        .join()
        .unwrap();
        assert_eq!(messages(crumbs.snapshot()), ["b", "c"]);
        assert_eq!(seen_elsewhere, ["x"]);
    }

    #[test]
    fn appender_breadcrumbs_are_shared_by_every_thread() {
        let crumbs = Arc::new(Breadcrumbs::new(BreadcrumbScope::Appender, 10));
        crumbs.push(crumb("a"));
        let other = crumbs.clone();
        std::thread::spawn(move || other.push(crumb("b")))
            .join()
            .unwrap();
        assert_eq!(messages(crumbs.snapshot()), ["a", "b"]);
    }

    #[test]
    fn max_breadcrumbs_zero_keeps_none() {
        let crumbs = Breadcrumbs::new(BreadcrumbScope::Thread, 0);
        crumbs.push(crumb("a"));
        assert!(crumbs.snapshot().is_empty());
    }
}
