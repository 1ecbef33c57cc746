//! The background worker shared by the network appenders: a bounded queue, one named thread that
//! owns the connection, natural batching (block for the first item, drain the rest), an explicit
//! choice of what a full queue does, and a counter of what was dropped.
//!
//! Modelled on tracing-appender's worker; unlike it, failures are the sink's to report (through
//! [`crate::report`]) rather than swallowed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::count::Count;

/// What the logging call does when the worker's queue is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFull {
    /// Drop the record and count it; the count is reported later as a record of its own. The
    /// application never waits (the default for network appenders).
    #[default]
    Drop,
    /// Wait for room in the queue (back-pressure): nothing is lost, but a stalled peer can slow
    /// the application down. (Except on the worker's own thread, which drops and counts: a
    /// record its sink logs into the appender that feeds it, as rustls's debug records do,
    /// would otherwise wait for itself forever.)
    Block,
}

/// The work a [`Worker`] thread does with what is queued to it.
pub trait Sink: Send + 'static {
    /// What the queue carries.
    type Item: Send + 'static;

    /// Handles a batch of queued items, in order. `batch` is drained by the callee or cleared
    /// after the call.
    fn handle(&mut self, batch: &mut Vec<Self::Item>);

    /// Called when the queue was full and `count` items were dropped since the last call.
    fn dropped(&mut self, count: u64);

    /// Called when nothing arrived before [`Sink::next_wake`]: time for batch windows, retries.
    fn wake(&mut self) {}

    /// When the worker should call [`Sink::wake`] next, if at all.
    fn next_wake(&self) -> Option<Instant> {
        None
    }

    /// Deliver everything pending, giving up at `deadline`.
    fn flush(&mut self, deadline: Instant);

    /// Whether the last [`Sink::flush`] delivered everything (what [`Worker::flush`] returns
    /// when the flush finished in time). A sink that hands work on to another worker answers
    /// for that one too.
    fn flushed(&self) -> bool {
        true
    }

    /// The worker is stopping (its [`Worker`] was dropped): deliver what is pending, giving up
    /// at `deadline`, end the connection properly, and report (through [`crate::report`]), with
    /// its count, whatever could not be delivered, or not confirmed delivered. Nothing is
    /// handled after it. The default flushes.
    fn close(&mut self, deadline: Instant) {
        self.flush(deadline);
    }

    /// How many items the sink holds and has not delivered yet. If the worker does not finish
    /// [`Sink::close`] in time, [`Worker`]'s drop reports these (plus what is still queued) as
    /// possibly lost.
    fn backlog(&self) -> u64 {
        0
    }
}

thread_local! {
    /// The [`WorkerGroup`] of the worker running on this thread (0: not a worker thread).
    static WORKER_GROUP: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The worker threads of one appender. Records logged on them (a TLS or SMTP library logs
/// through `log` while the worker talks to the server) must not feed back into the appender
/// they are about: the appender asks [`WorkerGroup::is_current`] and leaves those out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerGroup(u64);

impl WorkerGroup {
    /// A group of its own.
    pub fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        WorkerGroup(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// True on a thread of one of this group's workers.
    pub fn is_current(self) -> bool {
        WORKER_GROUP.with(|g| g.get()) == self.0
    }
}

impl Default for WorkerGroup {
    fn default() -> Self {
        Self::new()
    }
}

enum Message<T> {
    Item(T),
    Flush(Instant, SyncSender<bool>),
    Close(Instant, SyncSender<()>),
}

/// A bounded queue served by one background thread running a [`Sink`].
pub struct Worker<T: Send + 'static> {
    sender: Option<SyncSender<Message<T>>>,
    on_full: OnFull,
    dropped: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
    thread_id: std::thread::ThreadId,
    group: WorkerGroup,
    shutdown_timeout: Duration,
    /// Items in the queue (sent and not yet taken by the thread), and the sink's
    /// [`Sink::backlog`] as of its last step: what is lost if the thread is abandoned.
    held: Arc<Held>,
    /// Who the worker works for, in reports (`appender "syslog"`).
    label: String,
    /// What an item is called in reports, in the singular (`record`, `mail`).
    item: &'static str,
}

#[derive(Debug, Default)]
struct Held {
    queued: AtomicU64,
    backlog: AtomicU64,
}

/// How long a dropped [`Worker`] waits for its thread beyond the shutdown timeout (the sink's
/// own steps are bounded by the deadline; this covers the last write or read in progress).
const CLOSE_GRACE: Duration = Duration::from_secs(1);

impl<T: Send + 'static> std::fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("on_full", &self.on_full)
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish()
    }
}

/// Largest batch handed to the sink at once.
const MAX_BATCH: usize = 1024;

impl<T: Send + 'static> Worker<T> {
    /// Starts a worker thread named `name` with a queue of `capacity` items, in a
    /// [`WorkerGroup`] of its own.
    pub fn spawn<S: Sink<Item = T>>(
        name: &str,
        capacity: usize,
        on_full: OnFull,
        shutdown_timeout: Duration,
        sink: S,
    ) -> std::io::Result<Self> {
        Self::spawn_in(
            WorkerGroup::new(),
            name,
            capacity,
            on_full,
            shutdown_timeout,
            sink,
        )
    }

    /// [`Worker::spawn`], in `group` (an appender with several workers puts them in one group).
    pub fn spawn_in<S: Sink<Item = T>>(
        group: WorkerGroup,
        name: &str,
        capacity: usize,
        on_full: OnFull,
        shutdown_timeout: Duration,
        sink: S,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::sync_channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let held = Arc::new(Held::default());
        let thread = std::thread::Builder::new().name(name.to_owned()).spawn({
            let dropped = dropped.clone();
            let held = held.clone();
            move || {
                WORKER_GROUP.with(|g| g.set(group.0));
                run(sink, receiver, dropped, held)
            }
        })?;
        Ok(Worker {
            sender: Some(sender),
            on_full,
            dropped,
            thread_id: thread.thread().id(),
            group,
            thread: Some(thread),
            shutdown_timeout,
            held,
            label: format!("worker \"{name}\""),
            item: "record",
        })
    }

    /// Names who the worker works for in its reports (`appender "syslog"`; default: `worker
    /// "<thread name>"`).
    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Names what the queue carries in its reports, in the singular (default: `record`).
    pub fn counting(mut self, item: &'static str) -> Self {
        self.item = item;
        self
    }

    /// The group this worker's thread belongs to.
    pub fn group(&self) -> WorkerGroup {
        self.group
    }

    /// Queues an item. With [`OnFull::Drop`] it never waits; returns false if the item was
    /// dropped (queue full, or the worker is gone). With [`OnFull::Block`] it waits for room,
    /// except on the worker's own thread.
    pub fn send(&self, item: T) -> bool {
        let Some(sender) = &self.sender else {
            return false;
        };
        let block = self.on_full == OnFull::Block && std::thread::current().id() != self.thread_id;
        // Counted before it is queued, so the thread never takes it before it is counted.
        self.held.queued.fetch_add(1, Ordering::Relaxed);
        let sent = if block {
            sender.send(Message::Item(item)).is_ok()
        } else {
            match sender.try_send(Message::Item(item)) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            }
        };
        if !sent {
            self.held.queued.fetch_sub(1, Ordering::Relaxed);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// How many items have been dropped and not yet handed to the sink's `dropped`.
    pub fn pending_dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until everything queued before this call has been handled and the sink flushed, or
    /// `timeout` passed. Returns true if the flush completed in time and the sink says it
    /// delivered everything ([`Sink::flushed`]).
    pub fn flush(&self, timeout: Duration) -> bool {
        let Some(sender) = &self.sender else {
            return false;
        };
        let deadline = Instant::now() + timeout;
        let (ack_tx, ack_rx) = mpsc::sync_channel(1);
        // The flush request itself waits for room, but never past the deadline.
        let mut message = Message::Flush(deadline, ack_tx);
        loop {
            match sender.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(m)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    message = m;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        ack_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or(false)
    }
}

impl<T: Send + 'static> Drop for Worker<T> {
    /// Stops the worker: it delivers what is queued and closes its sink ([`Sink::close`]) within
    /// the shutdown timeout, and the thread is joined. If it does not finish in time (a peer that
    /// hangs), it is left behind so the application can still exit, and what it held is reported
    /// with its count.
    fn drop(&mut self) {
        let Some(sender) = self.sender.take() else {
            return;
        };
        let deadline = Instant::now() + self.shutdown_timeout;
        let (ack_tx, ack_rx) = mpsc::sync_channel(1);
        let mut message = Message::Close(deadline, ack_tx);
        let queued = loop {
            match sender.try_send(message) {
                Ok(()) => break true,
                Err(TrySendError::Disconnected(_)) => break false,
                Err(TrySendError::Full(m)) => {
                    if Instant::now() >= deadline {
                        break false;
                    }
                    message = m;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        };
        drop(sender);
        let Some(thread) = self.thread.take() else {
            return;
        };
        if std::thread::current().id() == thread.thread().id() {
            return; // dropped by its own thread (a sink holding its worker): nothing to wait for
        }
        let closed = queued
            && ack_rx
                .recv_timeout((deadline + CLOSE_GRACE).saturating_duration_since(Instant::now()))
                .is_ok();
        if closed {
            let _ = thread.join();
            return;
        }
        let held = self.held.queued.load(Ordering::Relaxed)
            + self.held.backlog.load(Ordering::Relaxed)
            + self.dropped.load(Ordering::Relaxed);
        if held > 0 {
            crate::report::report_error(&anyhow::anyhow!(
                "{}: shutting down: the worker did not finish within {:?}; up to {} it still \
                 held may not have been delivered",
                self.label,
                self.shutdown_timeout,
                Count::new(held, self.item)
            ));
        }
    }
}

fn run<S: Sink>(
    mut sink: S,
    receiver: Receiver<Message<S::Item>>,
    dropped: Arc<AtomicU64>,
    held: Arc<Held>,
) {
    let mut batch = Vec::new();
    let close_at = loop {
        let first = match sink.next_wake() {
            Some(at) => match receiver.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break None,
            },
            None => match receiver.recv() {
                Ok(m) => Some(m),
                Err(_) => break None,
            },
        };
        let mut flush_request = None;
        let mut close_request = None;
        let mut next = first;
        while let Some(message) = next.take() {
            match message {
                // Counted as queued until the sink has handled it (a send that hangs in
                // `handle` must not make it vanish from the count).
                Message::Item(item) => batch.push(item),
                Message::Flush(deadline, ack) => {
                    flush_request = Some((deadline, ack));
                    break;
                }
                Message::Close(deadline, ack) => {
                    close_request = Some((deadline, ack));
                    break;
                }
            }
            if batch.len() >= MAX_BATCH {
                break;
            }
            next = receiver.try_recv().ok();
        }
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            sink.dropped(lost);
        }
        if !batch.is_empty() {
            let taken = batch.len() as u64;
            sink.handle(&mut batch);
            batch.clear();
            held.backlog.store(sink.backlog(), Ordering::Relaxed);
            held.queued.fetch_sub(taken, Ordering::Relaxed);
        }
        if let Some(close) = close_request {
            break Some(close);
        }
        if let Some((deadline, ack)) = flush_request {
            sink.flush(deadline);
            let _ = ack.try_send(sink.flushed());
        } else if sink.next_wake().is_some_and(|at| at <= Instant::now()) {
            sink.wake();
        }
        held.backlog.store(sink.backlog(), Ordering::Relaxed);
    };
    let lost = dropped.swap(0, Ordering::Relaxed);
    if lost > 0 {
        sink.dropped(lost);
    }
    match close_at {
        Some((deadline, ack)) => {
            sink.close(deadline);
            let _ = ack.try_send(());
        }
        // The owner gave up waiting to even queue the close (it reported what was held): close
        // without further waiting.
        None => sink.close(Instant::now()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Collect(Arc<Mutex<Vec<u32>>>, Arc<AtomicU64>, Duration);
    impl Sink for Collect {
        type Item = u32;
        fn handle(&mut self, batch: &mut Vec<u32>) {
            std::thread::sleep(self.2);
            self.0.lock().unwrap().append(batch);
        }
        fn dropped(&mut self, count: u64) {
            self.1.fetch_add(count, Ordering::Relaxed);
        }
        fn flush(&mut self, _deadline: Instant) {}
    }

    #[test]
    fn flush_waits_until_everything_queued_is_handled() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let dropped = Arc::new(AtomicU64::new(0));
        let sink = Collect(seen.clone(), dropped.clone(), Duration::ZERO);
        let w = Worker::spawn("t", 16, OnFull::Block, Duration::from_secs(5), sink).unwrap();
        for i in 0..1000 {
            assert!(w.send(i));
        }
        assert!(w.flush(Duration::from_secs(5)));
        assert_eq!(*seen.lock().unwrap(), (0..1000).collect::<Vec<_>>());
        assert_eq!(dropped.load(Ordering::Relaxed), 0);
    }

    /// A sink that, handling its first item, queues `extra` more to its own worker (as a sink
    /// whose library logs into the appender that feeds it does), then says so on `queued_extra`.
    struct Feedback {
        worker: Arc<Mutex<Option<Arc<Worker<u32>>>>>,
        extra: u32,
        dropped: Arc<AtomicU64>,
        queued_extra: SyncSender<()>,
    }
    impl Sink for Feedback {
        type Item = u32;
        fn handle(&mut self, batch: &mut Vec<u32>) {
            let worker = self.worker.lock().unwrap().clone();
            if let (Some(w), true) = (worker, batch.contains(&0)) {
                for i in 1..=self.extra {
                    w.send(i);
                }
                let _ = self.queued_extra.try_send(());
            }
        }
        fn dropped(&mut self, count: u64) {
            self.dropped.fetch_add(count, Ordering::Relaxed);
        }
        fn flush(&mut self, _deadline: Instant) {}
    }

    #[test]
    fn block_never_waits_on_the_workers_own_thread() {
        let slot = Arc::new(Mutex::new(None));
        let dropped = Arc::new(AtomicU64::new(0));
        let (queued_extra, extra_queued) = mpsc::sync_channel(1);
        let sink = Feedback {
            worker: slot.clone(),
            extra: 5,
            dropped: dropped.clone(),
            queued_extra,
        };
        let w =
            Arc::new(Worker::spawn("t", 2, OnFull::Block, Duration::from_secs(5), sink).unwrap());
        *slot.lock().unwrap() = Some(w.clone());
        assert!(w.send(0));
        // Waiting for room there would never end: the worker would wait for itself. Nothing else
        // is sent until the sink has queued its 5: the queue's 2 places are all free for them
        // (a flush request sent meanwhile would take one, and 4 would be dropped).
        assert!(
            extra_queued.recv_timeout(Duration::from_secs(5)).is_ok(),
            "the worker is stuck waiting for room in its own queue"
        );
        // The drops are handed to the sink before the flush that comes after them is answered.
        assert!(w.flush(Duration::from_secs(5)));
        assert_eq!(
            dropped.load(Ordering::Relaxed),
            3,
            "5 queued to a queue of 2"
        );
        slot.lock().unwrap().take();
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let dropped = Arc::new(AtomicU64::new(0));
        let sink = Collect(seen.clone(), dropped.clone(), Duration::from_millis(50));
        let w = Worker::spawn("t", 4, OnFull::Drop, Duration::from_secs(5), sink).unwrap();
        let sent = (0..100).filter(|i| w.send(*i)).count() as u64;
        assert!(sent < 100);
        assert!(w.flush(Duration::from_secs(10)));
        assert_eq!(seen.lock().unwrap().len() as u64, sent);
        assert_eq!(dropped.load(Ordering::Relaxed), 100 - sent);
    }

    /// Records what it handled and when it was closed.
    struct Closing(Arc<Mutex<Vec<String>>>);
    impl Sink for Closing {
        type Item = u32;
        fn handle(&mut self, batch: &mut Vec<u32>) {
            std::thread::sleep(Duration::from_millis(1));
            let mut log = self.0.lock().unwrap();
            log.extend(batch.drain(..).map(|i| i.to_string()));
        }
        fn dropped(&mut self, _count: u64) {}
        fn flush(&mut self, _deadline: Instant) {}
        fn close(&mut self, _deadline: Instant) {
            self.0.lock().unwrap().push("closed".into());
        }
    }

    #[test]
    fn dropping_a_worker_handles_everything_queued_then_closes_the_sink_before_it_returns() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let w = Worker::spawn(
            "t",
            64,
            OnFull::Block,
            Duration::from_secs(5),
            Closing(log.clone()),
        )
        .unwrap();
        for i in 0..50 {
            assert!(w.send(i));
        }
        drop(w);
        let mut expected: Vec<String> = (0..50).map(|i| i.to_string()).collect();
        expected.push("closed".into());
        assert_eq!(*log.lock().unwrap(), expected);
    }
}
