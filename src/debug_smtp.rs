//! A debugging SMTP server: accepts every mail on a local port and hands it to you instead of
//! delivering it. It is the Rust counterpart of Python's
//! `python -m smtpd -n -c DebuggingServer localhost:8025` (the Flask tutorial's way to see error
//! mail without a mail server), used by the microblog demo and by
//! `log4rs-appenders smtp-debug-server`.
//!
//! The SMTP protocol (commands, replies, dot-unstuffing) is the `mailin` crate's state machine;
//! this module only moves lines between sockets and that machine, and decodes what arrives
//! (MIME, quoted-printable, base64, encoded subjects) with `mailparse`. No TLS, no AUTH: point a
//! `security: none` smtp appender at it, on the loopback interface only.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use mailin::{Action, Handler, Response, SessionBuilder, response};
use mailparse::MailHeaderMap;

/// Largest mail accepted; a larger one is refused with `552`.
const MAX_MAIL_BYTES: usize = 16 * 1024 * 1024;
/// Longest command or data line read at once (SMTP allows 1000; longer lines are split).
const MAX_LINE_BYTES: u64 = 64 * 1024;
/// Mails received but not yet taken with [`DebugSmtpServer::recv_timeout`] and friends; past
/// this, mail is refused with `452` rather than held without bound.
const MAX_PENDING_MAILS: usize = 10_000;
/// Connections served at once; more are told `421` and closed.
const MAX_CONNECTIONS: usize = 64;
/// How long dropping the server waits for connected clients to say QUIT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// A client silent this long is disconnected.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// One mail as received: the SMTP envelope and the message bytes (dot-unstuffed).
#[derive(Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The client's address.
    pub peer: IpAddr,
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub to: Vec<String>,
    /// The message as sent: headers, a blank line, the (possibly encoded) body.
    pub data: Vec<u8>,
}

impl ReceivedMail {
    /// The first header named `name` (any case), decoded (RFC 2047 encoded words become text,
    /// folded lines are joined).
    pub fn header(&self, name: &str) -> Option<String> {
        let (headers, _) = mailparse::parse_headers(&self.data).ok()?;
        headers.get_first_value(name)
    }

    /// The decoded `Subject:`, or an empty string if there is none.
    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// Every header as (name, decoded value), in order.
    pub fn headers(&self) -> Vec<(String, String)> {
        match mailparse::parse_headers(&self.data) {
            Ok((headers, _)) => headers
                .iter()
                .map(|h| (h.get_key(), h.get_value()))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The text of the mail: the transfer encoding undone and the charset decoded. For a
    /// multipart mail, the `text/plain` parts joined (or every text part if none is plain).
    /// If the mail cannot be parsed, the raw data as text. Lines end with `\n` (not the wire's
    /// `\r\n`).
    pub fn body(&self) -> String {
        self.body_crlf().replace("\r\n", "\n")
    }

    fn body_crlf(&self) -> String {
        let Ok(parsed) = mailparse::parse_mail(&self.data) else {
            return String::from_utf8_lossy(&self.data).into_owned();
        };
        if parsed.subparts.is_empty() {
            return parsed.get_body().unwrap_or_default();
        }
        let mut leaves = Vec::new();
        collect_leaves(&parsed, &mut leaves);
        let plain: Vec<String> = leaves
            .iter()
            .filter(|p| p.ctype.mimetype == "text/plain")
            .filter_map(|p| p.get_body().ok())
            .collect();
        if !plain.is_empty() {
            return plain.join("\n");
        }
        leaves
            .iter()
            .filter(|p| p.ctype.mimetype.starts_with("text/"))
            .filter_map(|p| p.get_body().ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn collect_leaves<'a>(
    mail: &'a mailparse::ParsedMail<'a>,
    out: &mut Vec<&'a mailparse::ParsedMail<'a>>,
) {
    if mail.subparts.is_empty() {
        out.push(mail);
    } else {
        for part in &mail.subparts {
            collect_leaves(part, out);
        }
    }
}

/// Prints the mail as the debugging server shows it: envelope, headers (decoded), body (decoded).
impl fmt::Display for ReceivedMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "---------- MESSAGE FOLLOWS ----------")?;
        writeln!(f, "X-Peer: {}", self.peer)?;
        writeln!(f, "X-Envelope-From: {}", self.from)?;
        writeln!(f, "X-Envelope-To: {}", self.to.join(", "))?;
        for (name, value) in self.headers() {
            if name.eq_ignore_ascii_case("Content-Transfer-Encoding") {
                continue; // the body below is decoded
            }
            writeln!(f, "{name}: {value}")?;
        }
        writeln!(f)?;
        let body = self.body();
        f.write_str(&body)?;
        if !body.ends_with('\n') {
            writeln!(f)?;
        }
        write!(f, "------------ END MESSAGE ------------")
    }
}

impl fmt::Debug for ReceivedMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedMail")
            .field("peer", &self.peer)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("subject", &self.subject())
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// A running debugging SMTP server. Mails arrive in a queue you read with
/// [`recv_timeout`](Self::recv_timeout) or [`mails`](Self::mails). Dropping it stops the server.
///
/// ```
/// use std::time::Duration;
/// use log4rs_appenders::debug_smtp::DebugSmtpServer;
///
/// let server = DebugSmtpServer::start("127.0.0.1:0").unwrap(); // port 0: any free port
/// println!("point the smtp appender at {}", server.local_addr());
/// assert!(server.recv_timeout(Duration::from_millis(10)).is_none()); // nothing sent yet
/// ```
pub struct DebugSmtpServer {
    local_addr: SocketAddr,
    mails: Receiver<ReceivedMail>,
    stop: Arc<AtomicBool>,
    active: Arc<AtomicUsize>,
    accept_thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for DebugSmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugSmtpServer")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl DebugSmtpServer {
    /// Listens on `addr` (e.g. `127.0.0.1:8025`, or port 0 for any free port) and serves SMTP
    /// on a background thread. Fails if the address cannot be bound (for example, in use).
    pub fn start(addr: impl ToSocketAddrs) -> io::Result<DebugSmtpServer> {
        let listener = TcpListener::bind(addr)?;
        let local_addr = listener.local_addr()?;
        let (sender, mails) = mpsc::sync_channel(MAX_PENDING_MAILS);
        let stop = Arc::new(AtomicBool::new(false));
        let active = Arc::new(AtomicUsize::new(0));
        let accept_thread = std::thread::Builder::new()
            .name("debug-smtp-accept".into())
            .spawn({
                let (stop, active) = (stop.clone(), active.clone());
                move || accept_loop(listener, sender, stop, active)
            })?;
        Ok(DebugSmtpServer {
            local_addr,
            mails,
            stop,
            active,
            accept_thread: Some(accept_thread),
        })
    }

    /// The address the server listens on (with the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits up to `timeout` for the next mail.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<ReceivedMail> {
        self.mails.recv_timeout(timeout).ok()
    }

    /// The next mail if one has arrived, without waiting.
    pub fn try_recv(&self) -> Option<ReceivedMail> {
        self.mails.try_recv().ok()
    }

    /// Every mail as it arrives, blocking between mails, without end: for a program that serves
    /// until it is stopped (the command-line tool). Elsewhere use [`recv_timeout`](Self::recv_timeout).
    pub fn mails(&self) -> impl Iterator<Item = ReceivedMail> + '_ {
        self.mails.iter()
    }
}

impl Drop for DebugSmtpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the blocking accept() with a connection of our own.
        let mut wake = self.local_addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
        // Let clients that are finishing (the reply to QUIT) finish, within a bound.
        let deadline = std::time::Instant::now() + SHUTDOWN_GRACE;
        while self.active.load(Ordering::Relaxed) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    sender: SyncSender<ReceivedMail>,
    stop: Arc<AtomicBool>,
    active: Arc<AtomicUsize>,
) {
    // Nothing enabled on the session: no STARTTLS, no AUTH.
    let builder = SessionBuilder::new("log4rs-appenders-debug-smtp");
    for stream in listener.incoming() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let Ok(mut stream) = stream else {
            continue;
        };
        if active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            let _ = response::NO_SERVICE.write_to(&mut stream);
            continue;
        }
        active.fetch_add(1, Ordering::Relaxed);
        let (builder, sender, active_for_thread) =
            (builder.clone(), sender.clone(), active.clone());
        let spawned = std::thread::Builder::new()
            .name("debug-smtp-conn".into())
            .spawn(move || {
                let _ = serve_connection(stream, &builder, sender);
                active_for_thread.fetch_sub(1, Ordering::Relaxed);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

fn serve_connection(
    stream: TcpStream,
    builder: &SessionBuilder,
    sender: SyncSender<ReceivedMail>,
) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_write_timeout(Some(IDLE_TIMEOUT))?;
    let peer = stream.peer_addr()?.ip();
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut session = builder.build(
        peer,
        Collector {
            peer,
            sender,
            current: None,
            too_large: false,
        },
    );
    session.greeting().write_to(&mut writer)?;
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(());
        }
        let reply = session.process(&line);
        match reply.action {
            Action::Reply => write_reply(&mut writer, &reply)?,
            Action::Close | Action::UpgradeTls => {
                write_reply(&mut writer, &reply)?;
                return Ok(());
            }
            Action::NoReply => {}
        }
    }
}

fn write_reply(writer: &mut TcpStream, reply: &Response) -> io::Result<()> {
    reply.write_to(writer)?;
    writer.flush()
}

/// The `mailin` handler: accepts every sender and recipient, collects the data.
struct Collector {
    peer: IpAddr,
    sender: SyncSender<ReceivedMail>,
    current: Option<ReceivedMail>,
    /// The current mail passed [`MAX_MAIL_BYTES`]: the rest is read and dropped, then refused.
    too_large: bool,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(ReceivedMail {
            peer: self.peer,
            from: from.to_owned(),
            to: to.to_vec(),
            data: Vec::new(),
        });
        self.too_large = false;
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        let Some(mail) = self.current.as_mut() else {
            return Ok(());
        };
        if mail.data.len() + buf.len() > MAX_MAIL_BYTES {
            self.too_large = true;
            mail.data = Vec::new();
        }
        if !self.too_large {
            mail.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let Some(mail) = self.current.take() else {
            return response::TRANSACTION_FAILED;
        };
        if std::mem::take(&mut self.too_large) {
            return response::NO_STORAGE;
        }
        match self.sender.try_send(mail) {
            Ok(()) => response::OK,
            Err(TrySendError::Full(_)) => response::OUT_OF_SPACE,
            // The server was dropped: nobody will read it.
            Err(TrySendError::Disconnected(_)) => response::NO_SERVICE,
        }
    }
}
