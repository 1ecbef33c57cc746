//! Where messages go: the `address` field, and the transports behind it.
//!
//! - Datagrams (UDP, unix datagram sockets such as `/dev/log`) are sent on the logging thread
//!   with a non-blocking socket: no network wait. If the receiver's queue is full (a unix
//!   socket holds only a few datagrams), the record spills to a worker thread that waits for
//!   room, and later records follow it there until it has caught up, so order is kept.
//! - Streams (TCP, TLS, unix stream sockets) belong to a worker thread (see
//!   [`crate::worker::Worker`]); the logging call only queues the framed message.
//!
//! On Windows there are no unix sockets: `unix:` addresses are refused when the appender is
//! built, and the default address is `udp://127.0.0.1:514` (Python's `SysLogHandler` default,
//! `('localhost', 514)` over UDP). The unix-only pieces below are behind `#[cfg(unix)]`.

pub(crate) mod datagram;
pub(crate) mod stream;
pub(crate) mod tls;

#[cfg(not(unix))]
use std::io;
use std::path::PathBuf;

use crate::host_port::HostPort;
use crate::lost::{Cause, LostRecords};
#[cfg(unix)]
use std::time::Duration;

/// A parsed `address`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Address {
    /// `unix:/dev/log`: a datagram socket, or a stream socket if the socket says so.
    Unix(PathBuf),
    /// `unix-dgram:/path`
    UnixDgram(PathBuf),
    /// `unix-stream:/path`
    UnixStream(PathBuf),
    /// `udp://host:port` (port 514 by default)
    Udp(String, u16),
    /// `tcp://host:port` (port 601 by default)
    Tcp(String, u16),
    /// `tls://host:port` (port 6514 by default)
    Tls(String, u16),
}

/// The address used when the config gives none: the local syslog socket.
#[cfg(unix)]
pub(crate) const DEFAULT_ADDRESS: &str = "unix:/dev/log";
/// The address used when the config gives none. Without unix sockets, UDP to this machine, as
/// Python's `SysLogHandler` does (`('localhost', 514)`); `127.0.0.1` rather than `localhost`, so
/// a receiver on IPv4 loopback gets the records even where `localhost` resolves to `::1` first.
#[cfg(not(unix))]
pub(crate) const DEFAULT_ADDRESS: &str = "udp://127.0.0.1:514";

/// Why a `unix:` address cannot be used on this platform.
#[cfg(not(unix))]
pub(crate) const NO_UNIX_SOCKETS: &str = "unix sockets are not available on Windows (there is \
     no local syslog socket); use udp://HOST:514, tcp://HOST:601 or tls://HOST:6514";

impl Address {
    pub(crate) fn parse(s: &str) -> anyhow::Result<Address> {
        let address = Address::parse_any(s)?;
        #[cfg(not(unix))]
        if matches!(
            address,
            Address::Unix(_) | Address::UnixDgram(_) | Address::UnixStream(_)
        ) {
            anyhow::bail!("field \"address\": {s:?}: {NO_UNIX_SOCKETS}");
        }
        Ok(address)
    }

    /// Parses every kind of address, whether this platform has it or not.
    fn parse_any(s: &str) -> anyhow::Result<Address> {
        let hint = "expected unix:/dev/log, unix-dgram:/path, unix-stream:/path, \
                    udp://host:514, tcp://host:601 or tls://host:6514";
        let bad = |why: &str| anyhow::anyhow!("field \"address\": {s:?} {why}; {hint}");
        if let Some(path) = s.strip_prefix("unix-dgram:") {
            return Ok(Address::UnixDgram(
                unix_path(path).ok_or_else(|| bad("has no path"))?,
            ));
        }
        if let Some(path) = s.strip_prefix("unix-stream:") {
            return Ok(Address::UnixStream(
                unix_path(path).ok_or_else(|| bad("has no path"))?,
            ));
        }
        if let Some(path) = s.strip_prefix("unix:") {
            return Ok(Address::Unix(
                unix_path(path).ok_or_else(|| bad("has no path"))?,
            ));
        }
        let (scheme, rest) = s.split_once("://").ok_or_else(|| bad("has no scheme"))?;
        let default_port = match scheme {
            "udp" => 514,
            "tcp" => 601,
            "tls" => 6514,
            _ => return Err(bad(&format!("has an unknown scheme `{scheme}`"))),
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("has an unclosed '['"))?;
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None if after.is_empty() => (host, None),
                None => return Err(bad("has text after the IPv6 address")),
            }
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        let port = match port {
            None => default_port,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad(&format!("has an invalid port `{p}`")))?,
        };
        let host = host.to_owned();
        Ok(match scheme {
            "udp" => Address::Udp(host, port),
            "tcp" => Address::Tcp(host, port),
            _ => Address::Tls(host, port),
        })
    }
}

impl std::fmt::Display for Address {
    /// The address as written in a config (`udp://host:514`, `unix:/dev/log`): the one rendering
    /// every error and notice uses (the transports hold the `Address` itself).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
            Address::UnixDgram(p) => write!(f, "unix-dgram:{}", p.display()),
            Address::UnixStream(p) => write!(f, "unix-stream:{}", p.display()),
            Address::Udp(h, p) => write!(f, "udp://{}", HostPort(h, *p)),
            Address::Tcp(h, p) => write!(f, "tcp://{}", HostPort(h, *p)),
            Address::Tls(h, p) => write!(f, "tls://{}", HostPort(h, *p)),
        }
    }
}

fn unix_path(path: &str) -> Option<PathBuf> {
    let path = path.strip_prefix("//").unwrap_or(path);
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// Waits until `fd` can be written to, at most `timeout`. True when it can.
#[cfg(unix)]
pub(crate) fn wait_writable(fd: std::os::fd::BorrowedFd<'_>, timeout: Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let mut fds = [PollFd::new(&fd, PollFlags::OUT)];
    let timeout = Timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: timeout.subsec_nanos().into(),
    };
    matches!(poll(&mut fds, Some(&timeout)), Ok(n) if n > 0)
        && fds[0].revents().contains(PollFlags::OUT)
}

/// True when the peer of a connected stream socket has closed it (or reset it). Syslog servers
/// never send on plain TCP or unix streams, so a readable socket means end of stream. Checked
/// before each write so records are not written into a connection that is already gone (the
/// kernel would accept the first write and the records would vanish).
#[cfg(unix)]
pub(crate) fn peer_closed(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    use rustix::net::{RecvFlags, recv};
    let mut byte = [0u8; 1];
    match recv(fd, &mut byte, RecvFlags::PEEK | RecvFlags::DONTWAIT) {
        Ok((_, 0)) => true,
        Ok(_) => false,
        Err(e) => e != rustix::io::Errno::WOULDBLOCK,
    }
}

/// [`peer_closed`] for a TCP stream where `recv` has no `MSG_DONTWAIT` (Windows): the socket is
/// made non-blocking for one peek, as `tls::peer_closed` does.
#[cfg(not(unix))]
pub(crate) fn tcp_peer_closed(s: &std::net::TcpStream) -> bool {
    if s.set_nonblocking(true).is_err() {
        return true;
    }
    let closed = match s.peek(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    closed || s.set_nonblocking(false).is_err()
}

/// `N syslog records were lost because the syslog queue was full (on_full: drop)`: what the
/// stream worker and the datagram spill worker say of records their queue dropped.
pub(crate) fn queue_was_full(count: u64) -> LostRecords<'static> {
    LostRecords::new(count, "syslog record", Cause::QueueFull { queue: "syslog" })
}

/// Cuts `msg` to at most `max` bytes, never inside a UTF-8 character.
pub(crate) fn truncate_utf8(msg: &[u8], max: usize) -> &[u8] {
    if msg.len() <= max {
        return msg;
    }
    let mut end = max;
    // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
    while end > 0 && (msg[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    &msg[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_with_default_ports() {
        assert_eq!(
            Address::parse_any("unix:/dev/log").unwrap(),
            Address::Unix("/dev/log".into())
        );
        assert_eq!(
            Address::parse_any("unix-stream:/run/s").unwrap(),
            Address::UnixStream("/run/s".into())
        );
        assert_eq!(
            Address::parse("udp://h").unwrap(),
            Address::Udp("h".into(), 514)
        );
        assert_eq!(
            Address::parse("tcp://h:10514").unwrap(),
            Address::Tcp("h".into(), 10514)
        );
        assert_eq!(
            Address::parse("tls://[::1]").unwrap(),
            Address::Tls("::1".into(), 6514)
        );
        for bad in [
            "h:514",
            "http://h",
            "udp://h:x",
            "udp://:5",
            "unix:",
            "tcp://h:0",
        ] {
            let e = Address::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("field \"address\""), "{e}");
        }
    }

    #[test]
    fn an_address_is_shown_as_written_in_a_config_with_its_port() {
        for (written, shown) in [
            ("unix:/dev/log", "unix:/dev/log"),
            ("unix-dgram:/run/s", "unix-dgram:/run/s"),
            ("unix-stream:///run/s", "unix-stream:/run/s"),
            ("udp://h", "udp://h:514"),
            ("tcp://h:10514/", "tcp://h:10514"),
            ("tls://logs.example.com", "tls://logs.example.com:6514"),
            ("tls://[::1]", "tls://[::1]:6514"),
            ("udp://[fe80::1]:5514", "udp://[fe80::1]:5514"),
        ] {
            let address = Address::parse_any(written).unwrap();
            assert_eq!(address.to_string(), shown);
            assert_eq!(Address::parse_any(shown).unwrap(), address, "read back");
        }
    }

    #[cfg(unix)]
    #[test]
    fn unix_addresses_are_accepted_on_unix_and_the_default_is_the_local_socket() {
        assert_eq!(
            Address::parse("unix-dgram:/run/s").unwrap(),
            Address::UnixDgram("/run/s".into())
        );
        assert_eq!(
            Address::parse(DEFAULT_ADDRESS).unwrap(),
            Address::Unix("/dev/log".into())
        );
    }

    #[cfg(not(unix))]
    #[test]
    fn unix_addresses_are_refused_without_unix_sockets_and_the_default_is_udp_loopback() {
        for a in ["unix:/dev/log", "unix-dgram:/run/s", "unix-stream:/run/s"] {
            let e = Address::parse(a).unwrap_err().to_string();
            assert!(e.starts_with("field \"address\""), "{e}");
            assert!(e.contains("not available on Windows"), "{e}");
            assert!(e.contains("udp://HOST:514"), "{e}");
        }
        assert_eq!(
            Address::parse(DEFAULT_ADDRESS).unwrap(),
            Address::Udp("127.0.0.1".into(), 514)
        );
    }

    #[test]
    fn truncation_never_splits_a_character() {
        let s = "aé€😀".as_bytes(); // 1 + 2 + 3 + 4 bytes
        assert_eq!(truncate_utf8(s, 10), s);
        assert_eq!(truncate_utf8(s, 9), "aé€".as_bytes());
        assert_eq!(truncate_utf8(s, 5), "aé".as_bytes());
        assert_eq!(truncate_utf8(s, 2), b"a");
        assert_eq!(truncate_utf8(s, 0), b"");
    }
}
