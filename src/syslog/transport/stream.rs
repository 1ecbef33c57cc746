//! TCP, TLS and unix stream sockets, owned by a worker thread: the logging call frames the
//! message and queues it. The worker writes whatever is queued in as few writes as it can
//! (records queued together go out in one write), reconnects with exponential backoff when the
//! server goes away, and keeps records in a bounded buffer meanwhile. Records that do not fit are
//! counted, and the count is reported (to stderr and as a syslog record of its own) once the
//! connection is back. Unix stream sockets exist only on unix (`#[cfg(unix)]`).

use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::fd::AsFd;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::backoff::Backoff;
use crate::count::Count;
use crate::host_port::HostPort;
use crate::lost::{Cause, LostRecords};
use crate::report::{FailureStreak, report_error};
use crate::worker::{OnFull, Sink, Worker};

use super::super::facility::Severity;
use super::super::format::{Formatter, Scratch, push_decimal};
#[cfg(unix)]
use super::peer_closed;
use super::{Address, queue_was_full, tls, truncate_utf8};

/// How messages are delimited on a stream (RFC 6587).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
pub enum Framing {
    /// `LEN SP MSG` (RFC 6587 section 3.4.1, the default for TCP and TLS): unambiguous whatever
    /// the message holds.
    #[serde(rename = "octet-counting", alias = "octet_counting")]
    OctetCounting,
    /// `MSG LF` (section 3.4.2, the default for unix stream sockets, which local daemons read
    /// line by line). Safe here because newlines inside messages are always escaped.
    #[serde(rename = "newline")]
    Newline,
}

/// How to open the connection: the address, and for `tls://` the TLS settings.
pub(crate) struct Connector {
    address: Address,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.address)
    }
}

impl Connector {
    /// A connector to a stream address (`tcp://`, `tls://` with its settings, or a unix socket
    /// on unix); any other address is refused.
    pub(crate) fn new(
        address: Address,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> io::Result<Connector> {
        match &address {
            Address::Tcp(..) => {}
            Address::Tls(..) if tls.is_none() => {
                return Err(io::Error::other("no TLS settings"));
            }
            Address::Tls(..) => {}
            #[cfg(unix)]
            Address::Unix(_) | Address::UnixStream(_) | Address::UnixDgram(_) => {}
            #[cfg(not(unix))]
            Address::Unix(_) | Address::UnixStream(_) | Address::UnixDgram(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    super::NO_UNIX_SOCKETS,
                ));
            }
            Address::Udp(..) => return Err(io::Error::other("UDP is not a stream")),
        }
        Ok(Connector { address, tls })
    }

    fn connect(&self, timeout: Duration) -> io::Result<Connection> {
        match (&self.address, &self.tls) {
            (Address::Tcp(host, port), _) => {
                Ok(Connection::Tcp(tcp_connect(host, *port, timeout)?))
            }
            (Address::Tls(host, port), Some(config)) => {
                let tcp = tcp_connect(host, *port, timeout)?;
                tls::connect(config.clone(), host, tcp).map(|s| Connection::Tls(Box::new(s)))
            }
            #[cfg(unix)]
            (Address::Unix(path) | Address::UnixStream(path) | Address::UnixDgram(path), _) => {
                let s = UnixStream::connect(path)?;
                s.set_write_timeout(Some(timeout))?;
                Ok(Connection::Unix(s))
            }
            // `new` refuses the rest.
            _ => Err(io::Error::other(format!(
                "{} is not a stream address",
                self.address
            ))),
        }
    }
}

fn tcp_connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::other(format!("{} resolves to no address", HostPort(host, port)));
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                s.set_write_timeout(Some(timeout))?;
                // Bounds the TLS handshake (plain TCP only peeks, without waiting).
                s.set_read_timeout(Some(timeout))?;
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

enum Connection {
    Tcp(TcpStream),
    Tls(Box<tls::TlsStream>),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Connection {
    fn peer_closed(&mut self) -> bool {
        match self {
            #[cfg(unix)]
            Connection::Tcp(s) => peer_closed(s.as_fd()),
            #[cfg(not(unix))]
            Connection::Tcp(s) => super::tcp_peer_closed(s),
            #[cfg(unix)]
            Connection::Unix(s) => peer_closed(s.as_fd()),
            Connection::Tls(s) => tls::peer_closed(s),
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Connection::Tcp(s) => s.write_all(data),
            #[cfg(unix)]
            Connection::Unix(s) => s.write_all(data),
            Connection::Tls(s) => s.write_all(data).and_then(|()| s.flush()),
        }
    }

    fn set_write_timeout(&self, timeout: Duration) -> io::Result<()> {
        let timeout = Some(timeout.max(Duration::from_millis(1)));
        match self {
            Connection::Tcp(s) => s.set_write_timeout(timeout),
            #[cfg(unix)]
            Connection::Unix(s) => s.set_write_timeout(timeout),
            Connection::Tls(s) => s.sock.set_write_timeout(timeout),
        }
    }

    /// Ends the connection so that the server can confirm it read everything: TLS sends
    /// close_notify (RFC 5425 section 4.4), then writing is shut down and the server's answers
    /// are read (and dropped: TLS session tickets, its own close_notify) until it closes its
    /// end, at most until `deadline`. Ok when it did: everything written was read. (Closing
    /// with unread bytes, such as session tickets, would make the kernel reset the connection,
    /// and a reset discards what the server has not read yet.)
    fn close(self, deadline: Instant) -> io::Result<()> {
        match self {
            Connection::Tcp(mut s) => {
                s.set_write_timeout(Some(remaining(deadline)))?;
                s.shutdown(std::net::Shutdown::Write)?;
                read_until_closed(&mut s, deadline, |s, t| s.set_read_timeout(t))
            }
            #[cfg(unix)]
            Connection::Unix(mut s) => {
                s.set_write_timeout(Some(remaining(deadline)))?;
                s.shutdown(std::net::Shutdown::Write)?;
                read_until_closed(&mut s, deadline, |s, t| s.set_read_timeout(t))
            }
            Connection::Tls(s) => tls::close(*s, deadline),
        }
    }
}

/// Time left until `deadline`, at least 1 ms (a zero socket timeout is an error).
pub(crate) fn remaining(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

/// The error of a server that did not close its end in time.
fn not_closed_in_time() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the server did not confirm the end of the connection in time",
    )
}

/// Reads (and drops) until the peer closes its end, at most until `deadline`.
fn read_until_closed<S: io::Read>(
    s: &mut S,
    deadline: Instant,
    set_read_timeout: impl Fn(&S, Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    until_closed(deadline, |timeout| {
        set_read_timeout(s, Some(timeout))?;
        Ok(s.read(&mut buf)? == 0)
    })
}

/// Calls `read_once` (with the time left, at least 1 ms) until it says the peer has closed its
/// end (`Ok(true)`), at most until `deadline`; a read that times out means the server did not
/// close in time. Plain and TLS connections alike end this way.
pub(crate) fn until_closed(
    deadline: Instant,
    mut read_once: impl FnMut(Duration) -> io::Result<bool>,
) -> io::Result<()> {
    loop {
        if Instant::now() >= deadline {
            return Err(not_closed_in_time());
        }
        match read_once(remaining(deadline)) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(not_closed_in_time());
            }
            Err(e) => return Err(e),
        }
    }
}

/// The queueing side, owned by the appender.
#[derive(Debug)]
pub(crate) struct StreamTransport {
    worker: Arc<Worker<Vec<u8>>>,
    framing: Framing,
    max_message_size: usize,
}

/// Settings for [`StreamTransport::spawn`].
pub(crate) struct StreamConfig {
    pub(crate) name: String,
    pub(crate) connector: Connector,
    pub(crate) framing: Framing,
    pub(crate) max_message_size: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) buffer_capacity: usize,
    pub(crate) on_full: OnFull,
    pub(crate) connect_timeout: Duration,
    /// How long dropping the appender may take to deliver what is queued and close.
    pub(crate) shutdown_timeout: Duration,
    pub(crate) formatter: Arc<Formatter>,
}

impl StreamTransport {
    /// Starts the worker. Nothing connects yet: the worker connects when the first record comes.
    pub(crate) fn spawn(c: StreamConfig) -> io::Result<Self> {
        let sink = StreamSink {
            connector: c.connector,
            conn: None,
            pending: VecDeque::new(),
            capacity: c.buffer_capacity.max(1),
            lost: Losses::default(),
            backoff: Backoff::new(MIN_BACKOFF, MAX_BACKOFF),
            streak: FailureStreak::default(),
            name: c.name.clone(),
            formatter: c.formatter,
            scratch: Scratch::default(),
            framing: c.framing,
            connect_timeout: c.connect_timeout,
            write_buf: Vec::new(),
            recent: VecDeque::new(),
            notice_pending: None,
            written_on_connection: 0,
            last_error: None,
            shutdown_timeout: c.shutdown_timeout,
            write_timeout_shortened: false,
        };
        let worker = Worker::spawn(
            &format!("syslog-{}", c.name),
            c.queue_capacity,
            c.on_full,
            c.shutdown_timeout,
            sink,
        )?
        .labelled(format!("appender \"{}\"", c.name));
        Ok(StreamTransport {
            worker: Arc::new(worker),
            framing: c.framing,
            max_message_size: c.max_message_size,
        })
    }

    /// Frames `msg` and queues it; false if it was dropped (full queue), which the worker counts.
    pub(crate) fn send(&self, msg: &[u8]) -> bool {
        let msg = truncate_utf8(msg, self.max_message_size);
        self.worker.send(frame(self.framing, msg))
    }

    /// The worker: flushing it waits until what was queued is written.
    pub(crate) fn worker(&self) -> Arc<Worker<Vec<u8>>> {
        self.worker.clone()
    }
}

fn frame(framing: Framing, msg: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(msg.len() + 8);
    match framing {
        Framing::OctetCounting => {
            push_decimal(&mut framed, msg.len() as u64);
            framed.push(b' ');
            framed.extend_from_slice(msg);
        }
        Framing::Newline => {
            framed.extend_from_slice(msg);
            framed.push(b'\n');
        }
    }
    framed
}

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Records are gathered into writes of about this size.
const WRITE_CHUNK: usize = 64 * 1024;

struct StreamSink {
    connector: Connector,
    conn: Option<Connection>,
    /// Framed records not yet written, oldest first.
    pending: VecDeque<Vec<u8>>,
    capacity: usize,
    /// Records lost and not yet reported.
    lost: Losses,
    backoff: Backoff,
    streak: FailureStreak,
    name: String,
    formatter: Arc<Formatter>,
    scratch: Scratch,
    framing: Framing,
    connect_timeout: Duration,
    write_buf: Vec<u8>,
    /// When recent writes went out and how many records each held (the last
    /// [`UNCONFIRMED_WINDOW`]).
    recent: VecDeque<(Instant, u64)>,
    /// The lost-records notice at the front of `pending`, not yet written: the counts it
    /// carries.
    notice_pending: Option<Losses>,
    /// Records written on the current connection (none of them confirmed read until the
    /// server confirms the end of the connection).
    written_on_connection: u64,
    /// What failed last (connecting or writing), for the shutdown report.
    last_error: Option<String>,
    shutdown_timeout: Duration,
    /// A flush shortened the connection's write timeout to its deadline.
    write_timeout_shortened: bool,
}

/// Records lost, by cause, not yet reported.
#[derive(Clone, Copy, Default)]
struct Losses {
    /// The buffer (`buffer_size`) was full while the server could not be reached.
    buffer_full: u64,
    /// The worker's queue was full (`on_full: drop`).
    queue_full: u64,
    /// Written shortly before a connection was found closed.
    possibly: u64,
}

impl Losses {
    fn any(&self) -> bool {
        self.buffer_full > 0 || self.queue_full > 0 || self.possibly > 0
    }

    fn add(&mut self, other: Losses) {
        self.buffer_full += other.buffer_full;
        self.queue_full += other.queue_full;
        self.possibly += other.possibly;
    }
}

/// Plain TCP syslog has no acknowledgements: records the server's kernel accepted but the daemon
/// never read (it was shutting down) vanish without an error. Records written this long before
/// the connection was found closed are reported as possibly lost.
const UNCONFIRMED_WINDOW: Duration = Duration::from_secs(1);

impl StreamSink {
    /// The connection turned out closed: whatever was written in the last moments may not have
    /// been read.
    fn connection_lost(&mut self) {
        self.conn = None;
        let since = Instant::now().checked_sub(UNCONFIRMED_WINDOW);
        self.lost.possibly += self
            .recent
            .drain(..)
            .filter(|(at, _)| since.is_none_or(|s| *at >= s))
            .map(|(_, n)| n)
            .sum::<u64>();
        self.back_off();
    }

    fn fail(&mut self, what: &str, e: &io::Error) {
        self.last_error = Some(format!("{what} it: {e}"));
        if self.streak.failed() {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": {what} {}: {e} (records are kept, up to {}, while it retries)",
                self.name,
                self.connector.address,
                self.capacity
            ));
        }
    }

    /// The next connection attempt waits `backoff` (doubling up to 10 s until a write succeeds),
    /// so a server that accepts and drops connections is not hammered.
    fn back_off(&mut self) {
        self.backoff.failed();
    }

    /// Writes pending records until none are left, the connection fails, or (without a
    /// deadline) a reconnect has to wait for its backoff.
    fn deliver(&mut self, deadline: Option<Instant>) {
        while !self.pending.is_empty() || self.lost.any() {
            if self.conn.is_none() {
                let now = Instant::now();
                if let Some(at) = self.backoff.retry_at().filter(|at| *at > now) {
                    match deadline {
                        Some(d) if at < d => std::thread::sleep(at - now),
                        _ => return,
                    }
                }
                let timeout = match deadline {
                    Some(d) => self.connect_timeout.min(remaining(d)),
                    None => self.connect_timeout,
                };
                match self.connector.connect(timeout) {
                    Ok(c) => {
                        self.conn = Some(c);
                        self.backoff.attempting();
                        self.written_on_connection = 0;
                        self.write_timeout_shortened = false;
                    }
                    Err(e) => {
                        self.fail("cannot connect to", &e);
                        self.conn = None;
                        self.back_off();
                        continue;
                    }
                }
            }
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            if conn.peer_closed() {
                // Reconnect before writing: records written now would be lost unseen.
                self.connection_lost();
                continue;
            }
            if self.lost.any() {
                self.queue_lost_notice();
            }
            self.write_buf.clear();
            let mut count = 0;
            for record in &self.pending {
                if count > 0 && self.write_buf.len() + record.len() > WRITE_CHUNK {
                    break;
                }
                self.write_buf.extend_from_slice(record);
                count += 1;
            }
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            // With a deadline (flush, shutdown) a stalled write gives up at the deadline.
            let timeout = match deadline {
                Some(d) => Some(self.connect_timeout.min(remaining(d))),
                None if self.write_timeout_shortened => Some(self.connect_timeout),
                None => None,
            };
            if let Some(t) = timeout {
                let _ = conn.set_write_timeout(t);
                self.write_timeout_shortened = deadline.is_some();
            }
            match conn.write_all(&self.write_buf) {
                Ok(()) => {
                    self.pending.drain(..count);
                    self.notice_pending = None;
                    self.written_on_connection += count as u64;
                    self.backoff.succeeded();
                    let now = Instant::now();
                    while self
                        .recent
                        .front()
                        .is_some_and(|(at, _)| now - *at > UNCONFIRMED_WINDOW)
                    {
                        self.recent.pop_front();
                    }
                    self.recent.push_back((now, count as u64));
                    if let Some(failures) = self.streak.recovered() {
                        report_error(&anyhow::anyhow!(
                            "appender \"{}\": connected to {} again after {failures} failed \
                             attempts",
                            self.name,
                            self.connector.address
                        ));
                    }
                }
                Err(e) => {
                    self.fail("writing to", &e);
                    self.connection_lost();
                }
            }
        }
    }

    /// The sentences for records lost because the buffer or the queue was full:
    /// `N syslog records were lost: the buffer of C records was full while ADDRESS could not be
    /// reached`, `N syslog records were lost because the syslog queue was full (on_full: drop)`.
    fn lost_sentences(&self, lost: Losses, parts: &mut Vec<String>) {
        if lost.buffer_full > 0 {
            let cause = Cause::BufferFull {
                capacity: self.capacity,
                unit: "record",
                target: &self.connector.address,
            };
            parts.push(LostRecords::new(lost.buffer_full, "syslog record", cause).to_string());
        }
        if lost.queue_full > 0 {
            parts.push(queue_was_full(lost.queue_full).to_string());
        }
    }

    /// Puts a record saying how many records were (or may have been) lost at the front of the
    /// pending ones, and reports the same to stderr.
    fn queue_lost_notice(&mut self) {
        let mut parts = Vec::new();
        self.lost_sentences(self.lost, &mut parts);
        if self.lost.possibly > 0 {
            parts.push(format!(
                "the server closed the connection; up to {} written to it in the last {}s \
                 before may not have been received (plain TCP syslog has no acknowledgements)",
                Count::new(self.lost.possibly, "record"),
                UNCONFIRMED_WINDOW.as_secs()
            ));
        }
        let text = format!("appender \"{}\": {}", self.name, parts.join("; "));
        report_error(&anyhow::anyhow!("{text}"));
        self.formatter.format_notice(
            Severity::Warning,
            &text,
            SystemTime::now(),
            &mut self.scratch,
        );
        self.pending
            .push_front(frame(self.framing, &self.scratch.buf));
        self.notice_pending = Some(self.lost);
        self.lost = Losses::default();
    }

    /// The shutdown: deliver within `deadline`, end the connection so that the server confirms
    /// it read everything, and report what was not sent or not confirmed, with counts.
    fn shut_down(&mut self, deadline: Instant) {
        self.deliver(Some(deadline));
        let mut unsent = self.pending.len() as u64;
        let mut lost = self.lost;
        if let Some(notice) = self.notice_pending.take() {
            unsent -= 1; // the notice itself is not a record
            lost.add(notice);
        }
        let mut unconfirmed = None;
        if let Some(conn) = self.conn.take()
            && let Err(e) = conn.close(deadline)
        {
            unconfirmed = Some((self.written_on_connection, e));
        }
        let mut parts = Vec::new();
        if unsent > 0 {
            let why = match &self.last_error {
                Some(e) => format!(" ({e})"),
                None => String::new(),
            };
            let unsent = Count::new(unsent, "record");
            parts.push(format!(
                "{unsent} {} not sent to {}{why}",
                unsent.were(),
                self.connector.address
            ));
        }
        self.lost_sentences(lost, &mut parts);
        if lost.possibly > 0 {
            parts.push(format!(
                "up to {} written before an earlier connection closed may not have been \
                 received",
                Count::new(lost.possibly, "record")
            ));
        }
        if let Some((n, e)) = unconfirmed
            && n > 0
        {
            parts.push(format!(
                "up to {} written to {} may not have been received: {e}",
                Count::new(n, "record"),
                self.connector.address
            ));
        }
        if !parts.is_empty() {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": shutting down (within {:?}): {}",
                self.name,
                self.shutdown_timeout,
                parts.join("; ")
            ));
        }
        self.pending.clear();
        self.lost = Losses::default();
    }
}

impl Sink for StreamSink {
    type Item = Vec<u8>;

    fn handle(&mut self, batch: &mut Vec<Vec<u8>>) {
        for record in batch.drain(..) {
            if self.pending.len() >= self.capacity {
                self.lost.buffer_full += 1;
            } else {
                self.pending.push_back(record);
            }
        }
        self.deliver(None);
    }

    fn dropped(&mut self, count: u64) {
        self.lost.queue_full += count;
    }

    fn wake(&mut self) {
        self.deliver(None);
    }

    fn next_wake(&self) -> Option<Instant> {
        if self.pending.is_empty() && !self.lost.any() {
            None
        } else {
            Some(self.backoff.retry_at().unwrap_or_else(Instant::now))
        }
    }

    fn flush(&mut self, deadline: Instant) {
        self.deliver(Some(deadline));
    }

    fn close(&mut self, deadline: Instant) {
        self.shut_down(deadline);
    }

    fn backlog(&self) -> u64 {
        self.pending.len() as u64 + self.lost.buffer_full + self.lost.queue_full
    }
}
