//! UDP and unix datagram sockets, sent on the logging thread without waiting; a full receive
//! queue spills records to a worker that waits for room (order kept, nothing dropped unless the
//! worker's own bounded queue overflows, which is counted and reported). Unix datagram sockets
//! exist only on unix (`#[cfg(unix)]`); UDP works everywhere.
//!
//! An outage (the daemon is down, or stopped reading) is one [`Outage`], shared by the logging
//! thread and the spill worker: reported once when it starts, whichever side sees it first, and
//! once when a datagram goes through again, with the count of records lost in between (also
//! sent as a syslog warning). Records lost when the appender is dropped mid-outage are reported
//! then, with their count.

use std::io;
use std::net::{ToSocketAddrs, UdpSocket};
#[cfg(unix)]
use std::os::fd::AsFd;
#[cfg(unix)]
use std::os::unix::net::UnixDatagram;

#[cfg(unix)]
use rustix::io::Errno;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::host_port::HostPort;
use crate::lost::{Cause, LostRecords};
use crate::report::{FailureStreak, report_error};
use crate::worker::{OnFull, Sink, Worker};

use super::super::facility::Severity;
use super::super::format::{Formatter, Scratch};
#[cfg(unix)]
use super::wait_writable;
use super::{Address, queue_was_full, truncate_utf8};

/// One datagram socket and how to (re)open it: the address it goes to, and the socket once open.
#[derive(Debug)]
pub(crate) struct DgramTarget {
    address: Address,
    udp: Option<UdpSocket>,
    /// An unresolvable or unreachable UDP host is tried again only after this.
    retry_at: Option<Instant>,
    #[cfg(unix)]
    unix: Option<UnixDatagram>,
}

/// Why a datagram was not sent.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The receiver's queue is full right now.
    WouldBlock,
    /// The unix socket is a stream socket (`EPROTOTYPE`): switch transports.
    #[cfg_attr(not(unix), allow(dead_code))]
    IsStream,
    /// Anything else, with context.
    Failed(io::Error),
}

impl DgramTarget {
    /// A target for a `udp://` or unix datagram address; nothing is opened until the first send.
    pub(crate) fn new(address: Address) -> Self {
        DgramTarget {
            address,
            udp: None,
            retry_at: None,
            #[cfg(unix)]
            unix: None,
        }
    }

    /// A new, unopened target to the same place.
    fn reopen(&self) -> Self {
        DgramTarget::new(self.address.clone())
    }

    /// Waits (at most `timeout`) until the socket may take a datagram again.
    #[cfg(unix)]
    fn wait_for_room(&self, timeout: Duration) {
        match self.fd() {
            Some(fd) => {
                wait_writable(fd, timeout);
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }

    /// Waits (at most `timeout`) until the socket may take a datagram again. Only a UDP socket
    /// whose send buffer is full gets here on Windows, which is rare: it is tried again in 1 ms.
    #[cfg(not(unix))]
    fn wait_for_room(&self, timeout: Duration) {
        std::thread::sleep(timeout.min(Duration::from_millis(1)));
    }

    #[cfg(unix)]
    fn fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        match (&self.udp, &self.unix) {
            (Some(s), _) => Some(s.as_fd()),
            (None, Some(s)) => Some(s.as_fd()),
            (None, None) => None,
        }
    }

    /// Sends one datagram without waiting. Opens (or reopens, after the daemon restarted) the
    /// socket as needed.
    pub(crate) fn send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        let DgramTarget {
            address,
            udp: socket,
            retry_at,
            #[cfg(unix)]
            unix,
        } = self;
        let result = match address {
            Address::Udp(host, port) => {
                if socket.is_none() {
                    // Name resolution is retried at most once a second, so an unresolvable host
                    // does not put a DNS query on every logging call.
                    if retry_at.is_some_and(|at| Instant::now() < at) {
                        return Err(SendError::Failed(io::Error::other(format!(
                            "cannot resolve or reach {}",
                            HostPort(host, *port)
                        ))));
                    }
                    match open_udp(host, *port) {
                        Ok(s) => *socket = Some(s),
                        Err(e) => {
                            *retry_at = Some(Instant::now() + Duration::from_secs(1));
                            return Err(SendError::Failed(e));
                        }
                    }
                }
                socket.as_ref().map(|s| s.send(msg).map(drop))
            }
            #[cfg(unix)]
            Address::Unix(path) | Address::UnixDgram(path) => {
                let attempt = |socket: &mut Option<UnixDatagram>| {
                    if socket.is_none() {
                        let s = UnixDatagram::unbound()?;
                        s.connect(&*path)?;
                        s.set_nonblocking(true)?;
                        *socket = Some(s);
                    }
                    socket
                        .as_ref()
                        .map(|s| s.send(msg).map(drop))
                        .unwrap_or(Ok(()))
                };
                match attempt(unix) {
                    // The daemon restarted (new socket at the same path) or was not up yet:
                    // reconnect once.
                    Err(e) if is_gone(&e) => {
                        *unix = None;
                        Some(attempt(unix))
                    }
                    other => Some(other),
                }
            }
            // The appender makes datagram targets of datagram addresses only.
            _ => Some(Err(io::Error::other("not a datagram address"))),
        };
        match result {
            None | Some(Ok(())) => Ok(()),
            Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => Err(SendError::WouldBlock),
            #[cfg(unix)]
            Some(Err(e)) if errno(&e) == Some(Errno::PROTOTYPE) => Err(SendError::IsStream),
            Some(Err(e)) => {
                #[cfg(unix)]
                if is_gone(&e) {
                    self.unix = None;
                }
                Err(SendError::Failed(io::Error::new(
                    e.kind(),
                    format!("sending to {}: {e}", self.address),
                )))
            }
        }
    }
}

#[cfg(unix)]
fn is_gone(e: &io::Error) -> bool {
    matches!(
        errno(e),
        Some(Errno::CONNREFUSED | Errno::NOENT | Errno::NOTCONN | Errno::CONNRESET)
    )
}

#[cfg(unix)]
fn errno(e: &io::Error) -> Option<Errno> {
    e.raw_os_error().map(Errno::from_raw_os_error)
}

fn open_udp(host: &str, port: u16) -> io::Result<UdpSocket> {
    let at = HostPort(host, port);
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| io::Error::new(e.kind(), format!("resolving {at}: {e}")))?
        .next()
        .ok_or_else(|| io::Error::other(format!("{at} resolves to no address")))?;
    let bind: std::net::SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(bind)?;
    socket.connect(addr)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// One outage of a datagram receiver, seen from the logging thread and the spill worker alike.
#[derive(Debug, Default)]
pub(crate) struct Outage {
    streak: FailureStreak,
    /// Records lost in the current outage.
    lost: AtomicU64,
}

impl Outage {
    /// `count` records were lost; true when this starts an outage (the caller reports it).
    fn lost(&self, count: u64) -> bool {
        self.lost.fetch_add(count, Ordering::AcqRel);
        self.streak.failed()
    }

    /// A datagram went through: if that ends an outage, how many records it cost.
    fn ended(&self) -> Option<u64> {
        self.streak
            .recovered()
            .map(|_| self.lost.swap(0, Ordering::AcqRel))
    }

    /// The appender stops: the records lost in an outage still going on, if any, counted once.
    fn take_lost(&self) -> u64 {
        self.lost.swap(0, Ordering::AcqRel)
    }
}

/// What the end of an outage says, to stderr and as a syslog warning.
fn outage_ended(name: &str, address: &Address, lost: u64) -> String {
    lost_notice(name, address, Some(lost), 0)
}

/// The notice of records lost: in an outage that just ended (`Some(count)`, then sending works
/// again), and because the spill worker's queue was full.
fn lost_notice(name: &str, address: &Address, outage: Option<u64>, queue_full: u64) -> String {
    let mut parts = Vec::new();
    if let Some(lost) = outage {
        parts.push(not_taken(lost, address).to_string());
    }
    if queue_full > 0 {
        parts.push(queue_was_full(queue_full).to_string());
    }
    if outage.is_some() {
        parts.push("sending works again".to_owned());
    }
    format!("appender \"{name}\": {}", parts.join("; "))
}

/// `N syslog records were lost while ADDRESS was not taking them`.
fn not_taken(count: u64, address: &Address) -> LostRecords<'_> {
    LostRecords::new(count, "syslog record", Cause::NotTaken { target: address })
}

/// The datagram transport the appender owns (behind its mutex).
#[derive(Debug)]
pub(crate) struct DatagramTransport {
    target: DgramTarget,
    max_message_size: usize,
    /// Records handed to the spill worker and not yet sent by it. While above zero, new records
    /// go to the worker too, so they stay in order.
    in_flight: Arc<AtomicI64>,
    spill: Option<Arc<Worker<Vec<u8>>>>,
    spill_config: SpillConfig,
    outage: Arc<Outage>,
}

#[derive(Debug, Clone)]
pub(crate) struct SpillConfig {
    pub(crate) name: String,
    pub(crate) capacity: usize,
    pub(crate) on_full: OnFull,
    pub(crate) formatter: Arc<Formatter>,
    /// How long the spill worker waits for room for one datagram before counting it lost.
    pub(crate) wait: Duration,
}

/// What [`DatagramTransport::send`] did.
pub(crate) enum Sent {
    /// Sent, queued to the spill worker, or counted as lost in an outage already reported.
    Done,
    /// The unix socket turned out to be a stream socket.
    IsStream,
}

impl DatagramTransport {
    pub(crate) fn new(
        target: DgramTarget,
        max_message_size: usize,
        spill_config: SpillConfig,
    ) -> Self {
        DatagramTransport {
            target,
            max_message_size,
            in_flight: Arc::new(AtomicI64::new(0)),
            spill: None,
            spill_config,
            outage: Arc::default(),
        }
    }

    /// Sends `msg` (cut to `max_message_size` at a UTF-8 boundary). An error means an outage
    /// starts (report it); later failures of the same outage are only counted.
    pub(crate) fn send(&mut self, msg: &[u8]) -> io::Result<Sent> {
        let msg = truncate_utf8(msg, self.max_message_size);
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return self.spill(msg).map(|()| Sent::Done);
        }
        match self.target.send(msg) {
            Ok(()) => {
                if let Some(lost) = self.outage.ended() {
                    self.outage_ended(lost);
                }
                Ok(Sent::Done)
            }
            Err(SendError::WouldBlock) => self.spill(msg).map(|()| Sent::Done),
            Err(SendError::IsStream) => Ok(Sent::IsStream),
            Err(SendError::Failed(e)) => {
                if self.outage.lost(1) {
                    Err(e)
                } else {
                    Ok(Sent::Done)
                }
            }
        }
    }

    /// Reports the end of an outage, and sends the same as a syslog warning.
    fn outage_ended(&mut self, lost: u64) {
        let c = &self.spill_config;
        let text = outage_ended(&c.name, &self.target.address, lost);
        report_error(&anyhow::anyhow!("{text}"));
        // Rare: a scratch of its own (the appender's holds the record being sent).
        let mut scratch = Scratch::default();
        c.formatter
            .format_notice(Severity::Warning, &text, SystemTime::now(), &mut scratch);
        let notice = truncate_utf8(&scratch.buf, self.max_message_size);
        if let Err(SendError::WouldBlock) = self.target.send(notice) {
            let _ = self.spill(notice);
        }
    }

    fn spill(&mut self, msg: &[u8]) -> io::Result<()> {
        if self.spill.is_none() {
            let target = self.target.reopen();
            let c = &self.spill_config;
            let sink = SpillSink {
                target,
                in_flight: self.in_flight.clone(),
                name: c.name.clone(),
                formatter: c.formatter.clone(),
                scratch: Scratch::default(),
                outage: self.outage.clone(),
                queue_full: 0,
                wait: c.wait,
                stalled: false,
            };
            let thread = format!("syslog-{}", c.name);
            self.spill = Some(Arc::new(
                Worker::spawn(&thread, c.capacity, c.on_full, Duration::from_secs(5), sink)?
                    .labelled(format!("appender \"{}\"", c.name)),
            ));
        }
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let queued = self.spill.as_ref().is_some_and(|w| w.send(msg.to_vec()));
        if !queued {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// The spill worker, if one was started: flushing it waits until it has sent what it holds.
    pub(crate) fn worker(&self) -> Option<Arc<Worker<Vec<u8>>>> {
        self.spill.clone()
    }
}

impl Drop for DatagramTransport {
    /// Stops the spill worker first (it sends what it holds and reports an outage still going
    /// on), then reports records lost in an outage only the logging thread saw.
    fn drop(&mut self) {
        self.spill.take();
        let lost = self.outage.take_lost();
        if lost > 0 {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": shutting down: {}",
                self.spill_config.name,
                not_taken(lost, &self.target.address)
            ));
        }
    }
}

/// The worker that sends spilled datagrams, waiting for room in the receiver's queue.
struct SpillSink {
    target: DgramTarget,
    in_flight: Arc<AtomicI64>,
    name: String,
    formatter: Arc<Formatter>,
    scratch: Scratch,
    outage: Arc<Outage>,
    /// Records the queue to this worker dropped (`on_full: drop`), not yet reported: not an
    /// outage (the receiver may be taking records, only slower than they come).
    queue_full: u64,
    wait: Duration,
    /// A datagram already waited `wait` in vain: until one goes through, the rest are tried
    /// once each, so a receiver that stopped reading does not hold every record for `wait`.
    stalled: bool,
}

impl SpillSink {
    fn send_waiting(&mut self, msg: &[u8]) -> Result<(), String> {
        let sent = self.try_send_waiting(msg);
        self.stalled = sent.is_err();
        sent
    }

    fn try_send_waiting(&mut self, msg: &[u8]) -> Result<(), String> {
        let deadline = Instant::now()
            + if self.stalled {
                Duration::ZERO
            } else {
                self.wait
            };
        loop {
            match self.target.send(msg) {
                Ok(()) => return Ok(()),
                Err(SendError::WouldBlock) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(format!("its queue stayed full for {:?}", self.wait));
                    }
                    self.target
                        .wait_for_room(left.min(Duration::from_millis(100)));
                }
                Err(SendError::IsStream) => {
                    return Err("the socket turned into a stream socket".to_owned());
                }
                Err(SendError::Failed(e)) => return Err(e.to_string()),
            }
        }
    }

    /// One record did not go out.
    fn lost(&mut self, why: &str) {
        if self.outage.lost(1) {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": {} is not taking records: {why} (reported once until sending \
                 works again; records are counted meanwhile)",
                self.name,
                self.target.address
            ));
        }
    }

    /// A datagram went through: if that ends an outage, or records were dropped, say so with
    /// the counts, to stderr and as a syslog warning.
    fn went_through(&mut self) {
        let ended = self.outage.ended();
        if ended.is_some() || self.queue_full > 0 {
            let text = lost_notice(&self.name, &self.target.address, ended, self.queue_full);
            self.queue_full = 0;
            report_error(&anyhow::anyhow!("{text}"));
            self.send_notice(&text);
        }
    }

    fn send_notice(&mut self, text: &str) -> bool {
        self.formatter.format_notice(
            Severity::Warning,
            text,
            SystemTime::now(),
            &mut self.scratch,
        );
        let notice = std::mem::take(&mut self.scratch.buf);
        let sent = self.send_waiting(&notice).is_ok();
        self.scratch.buf = notice;
        sent
    }

    /// During an outage no record may come to prove the receiver is back: try the notice itself
    /// (which also carries the count of records the full queue dropped, if any).
    fn probe(&mut self) {
        let failing = self.outage.streak.is_failing();
        if !failing && self.queue_full == 0 {
            return;
        }
        let lost = failing.then(|| self.outage.lost.load(Ordering::Acquire));
        let text = lost_notice(&self.name, &self.target.address, lost, self.queue_full);
        if !self.send_notice(&text) {
            return;
        }
        if !failing || self.outage.ended().is_some() {
            report_error(&anyhow::anyhow!("{text}"));
        } else if self.queue_full > 0 {
            // The logging thread saw the end of the outage first and reported it.
            let text = lost_notice(&self.name, &self.target.address, None, self.queue_full);
            report_error(&anyhow::anyhow!("{text}"));
        }
        self.queue_full = 0;
    }
}

impl Sink for SpillSink {
    type Item = Vec<u8>;

    fn handle(&mut self, batch: &mut Vec<Vec<u8>>) {
        for msg in batch.drain(..) {
            match self.send_waiting(&msg) {
                Ok(()) => self.went_through(),
                Err(why) => self.lost(&why),
            }
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
    }

    fn dropped(&mut self, count: u64) {
        self.queue_full += count;
    }

    fn flush(&mut self, _deadline: Instant) {
        self.probe();
    }

    fn close(&mut self, _deadline: Instant) {
        self.probe();
        let mut parts = Vec::new();
        let lost = self.outage.take_lost();
        if lost > 0 {
            parts.push(not_taken(lost, &self.target.address).to_string());
        }
        if self.queue_full > 0 {
            parts.push(queue_was_full(self.queue_full).to_string());
        }
        if !parts.is_empty() {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": shutting down: {}",
                self.name,
                parts.join("; ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_host_that_could_not_be_reached_is_named_in_brackets() {
        let Ok(Address::Udp(host, port)) = Address::parse("udp://[::1]:5514") else {
            panic!("not a UDP address");
        };
        let mut target = DgramTarget::new(Address::Udp(host, port));
        // As after a failed resolution: the next attempt waits.
        target.retry_at = Some(Instant::now() + Duration::from_secs(60));
        match target.send(b"x") {
            Err(SendError::Failed(e)) => {
                assert_eq!(e.to_string(), "cannot resolve or reach [::1]:5514");
            }
            other => panic!("{other:?}"),
        }
    }
}
