//! UDP and unix datagram sockets, sent on the logging thread without waiting; a full receive
//! queue spills records to a worker that waits for room (order kept, nothing dropped unless the
//! worker's own bounded queue overflows, which is counted and reported). Unix datagram sockets
//! exist only on unix (`#[cfg(unix)]`); UDP works everywhere.

use std::io;
use std::net::{ToSocketAddrs, UdpSocket};
#[cfg(unix)]
use std::os::fd::AsFd;
#[cfg(unix)]
use std::os::unix::net::UnixDatagram;

#[cfg(unix)]
use rustix::io::Errno;
#[cfg(unix)]
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::report::report_error;
use crate::worker::{OnFull, Sink, Worker};

use super::super::facility::Severity;
use super::super::format::{Formatter, Scratch};
use super::truncate_utf8;
#[cfg(unix)]
use super::wait_writable;

/// One datagram socket and how to (re)open it.
#[derive(Debug)]
pub(crate) enum DgramTarget {
    Udp {
        host: String,
        port: u16,
        socket: Option<UdpSocket>,
        retry_at: Option<Instant>,
    },
    #[cfg(unix)]
    Unix {
        path: PathBuf,
        socket: Option<UnixDatagram>,
    },
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
    pub(crate) fn udp(host: String, port: u16) -> Self {
        DgramTarget::Udp {
            host,
            port,
            socket: None,
            retry_at: None,
        }
    }

    #[cfg(unix)]
    pub(crate) fn unix(path: PathBuf) -> Self {
        DgramTarget::Unix { path, socket: None }
    }

    fn describe(&self) -> String {
        match self {
            DgramTarget::Udp { host, port, .. } => format!("udp://{host}:{port}"),
            #[cfg(unix)]
            DgramTarget::Unix { path, .. } => format!("unix:{}", path.display()),
        }
    }

    /// A new, unopened target to the same place.
    fn reopen(&self) -> Self {
        match self {
            DgramTarget::Udp { host, port, .. } => DgramTarget::udp(host.clone(), *port),
            #[cfg(unix)]
            DgramTarget::Unix { path, .. } => DgramTarget::unix(path.clone()),
        }
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
        match self {
            DgramTarget::Udp { socket, .. } => socket.as_ref().map(|s| s.as_fd()),
            DgramTarget::Unix { socket, .. } => socket.as_ref().map(|s| s.as_fd()),
        }
    }

    /// Sends one datagram without waiting. Opens (or reopens, after the daemon restarted) the
    /// socket as needed.
    pub(crate) fn send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        let result = match self {
            DgramTarget::Udp {
                host,
                port,
                socket,
                retry_at,
            } => {
                if socket.is_none() {
                    // Name resolution is retried at most once a second, so an unresolvable host
                    // does not put a DNS query on every logging call.
                    if retry_at.is_some_and(|at| Instant::now() < at) {
                        return Err(SendError::Failed(io::Error::other(format!(
                            "cannot resolve or reach {host}:{port}"
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
            DgramTarget::Unix { path, socket } => {
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
                match attempt(socket) {
                    // The daemon restarted (new socket at the same path) or was not up yet:
                    // reconnect once.
                    Err(e) if is_gone(&e) => {
                        *socket = None;
                        Some(attempt(socket))
                    }
                    other => Some(other),
                }
            }
        };
        match result {
            None | Some(Ok(())) => Ok(()),
            Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => Err(SendError::WouldBlock),
            #[cfg(unix)]
            Some(Err(e)) if errno(&e) == Some(Errno::PROTOTYPE) => Err(SendError::IsStream),
            Some(Err(e)) => {
                #[cfg(unix)]
                if let DgramTarget::Unix { socket, .. } = self
                    && is_gone(&e)
                {
                    *socket = None;
                }
                Err(SendError::Failed(io::Error::new(
                    e.kind(),
                    format!("sending to {}: {e}", self.describe()),
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
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| io::Error::new(e.kind(), format!("resolving {host}:{port}: {e}")))?
        .next()
        .ok_or_else(|| io::Error::other(format!("{host}:{port} resolves to no address")))?;
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
    /// Sent, or queued to the spill worker.
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
        }
    }

    /// Sends `msg` (cut to `max_message_size` at a UTF-8 boundary).
    pub(crate) fn send(&mut self, msg: &[u8]) -> io::Result<Sent> {
        let msg = truncate_utf8(msg, self.max_message_size);
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return self.spill(msg).map(|()| Sent::Done);
        }
        match self.target.send(msg) {
            Ok(()) => Ok(Sent::Done),
            Err(SendError::WouldBlock) => self.spill(msg).map(|()| Sent::Done),
            Err(SendError::IsStream) => Ok(Sent::IsStream),
            Err(SendError::Failed(e)) => Err(e),
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
                lost: 0,
                wait: c.wait,
                stalled: false,
            };
            let thread = format!("syslog-{}", c.name);
            self.spill = Some(Arc::new(Worker::spawn(
                &thread,
                c.capacity,
                c.on_full,
                Duration::from_secs(5),
                sink,
            )?));
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

/// The worker that sends spilled datagrams, waiting for room in the receiver's queue.
struct SpillSink {
    target: DgramTarget,
    in_flight: Arc<AtomicI64>,
    name: String,
    formatter: Arc<Formatter>,
    scratch: Scratch,
    lost: u64,
    wait: Duration,
    /// A datagram already waited `wait` in vain: until one goes through, the rest are tried
    /// once each, so a receiver that stopped reading does not hold every record for `wait`.
    stalled: bool,
}

impl SpillSink {
    fn send_waiting(&mut self, msg: &[u8]) -> bool {
        let sent = self.try_send_waiting(msg);
        self.stalled = !sent;
        sent
    }

    fn try_send_waiting(&mut self, msg: &[u8]) -> bool {
        let deadline = Instant::now()
            + if self.stalled {
                Duration::ZERO
            } else {
                self.wait
            };
        loop {
            match self.target.send(msg) {
                Ok(()) => return true,
                Err(SendError::WouldBlock) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.target
                        .wait_for_room(left.min(Duration::from_millis(100)));
                }
                Err(SendError::IsStream) | Err(SendError::Failed(_)) => return false,
            }
        }
    }

    fn report_lost(&mut self) {
        if self.lost == 0 {
            return;
        }
        let text = format!(
            "appender \"{}\": {} syslog records were lost (the receiver's queue stayed full \
             for {:?})",
            self.name, self.lost, self.wait
        );
        report_error(&anyhow::anyhow!("{text}"));
        self.formatter.format_notice(
            Severity::Warning,
            &text,
            SystemTime::now(),
            &mut self.scratch,
        );
        let notice = std::mem::take(&mut self.scratch.buf);
        if self.send_waiting(&notice) {
            self.lost = 0;
        }
        self.scratch.buf = notice;
    }
}

impl Sink for SpillSink {
    type Item = Vec<u8>;

    fn handle(&mut self, batch: &mut Vec<Vec<u8>>) {
        for msg in batch.drain(..) {
            if !self.send_waiting(&msg) {
                self.lost += 1;
            }
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
        self.report_lost();
    }

    fn dropped(&mut self, count: u64) {
        self.lost += count;
    }

    fn flush(&mut self, _deadline: Instant) {
        self.report_lost();
    }
}
