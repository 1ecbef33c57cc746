//! The syslog appender (`kind: syslog`): RFC 5424 or RFC 3164 messages to the local syslog
//! socket, or over UDP, TCP or TLS to a central rsyslog / syslog-ng.
//!
//! ```yaml
//! appenders:
//!   syslog:
//!     kind: syslog
//!     address: tcp://logs.example.com:601   # default unix:/dev/log (Windows: udp://127.0.0.1:514)
//!     format: rfc5424                       # default: rfc5424 over the network, rfc3164 on unix
//!     facility: local0
//!     app_name: microblog
//! ```
//!
//! What a message holds and how it travels:
//! - Format: RFC 5424 over UDP, TCP and TLS by default; on unix sockets RFC 3164 in the form
//!   `syslog(3)` writes there (no hostname), which journald and rsyslog's default socket parser
//!   read.
//! - Severity from the level: error 3, warn 4, info 6, debug and trace 7; PRI = facility * 8 +
//!   severity.
//! - The timestamp is taken when the appender receives the record, on the logging thread (the
//!   `log` crate's records carry no time of their own), never when it is sent: a record that
//!   waits out an outage in the TCP buffer keeps its time. RFC 5424: microseconds and the local
//!   UTC offset; RFC 3164: local `Mmm dd hh:mm:ss`.
//! - Newlines and other control characters in the message (and in structured-data values) are
//!   escaped as `#ooo` (`\n` -> `#012`, as rsyslog stores them), never split: one record is one
//!   syslog message, and nothing in a record can forge a second one.
//! - RFC 5424: the record's key-values become SD-PARAMs under the SD-ID `log4rs@32473` (the
//!   documentation enterprise number; set `sd_id` to your own); `"`, `\` and `]` in values are
//!   escaped, key characters that SD names forbid become `_`, names are cut to 32. A MSG with
//!   non-ASCII text starts with a UTF-8 BOM. Empty fields are the NILVALUE `-`.
//! - Datagrams (UDP, unix) are sent on the logging thread without waiting and cut at
//!   `max_message_size` (default 2048 over UDP) at a UTF-8 boundary. Streams (TCP, TLS, unix
//!   stream) are written by a worker thread; see [`transport`](self#transports).
//!
//! # Windows
//! UDP, TCP and TLS work the same on Windows. There are no unix sockets there: a `unix:`,
//! `unix-dgram:` or `unix-stream:` address is refused when the appender is built, and the
//! default address is `udp://127.0.0.1:514`, as Python's `SysLogHandler` (`('localhost', 514)`
//! over UDP). The default HOSTNAME is the machine's DNS host name.
//!
//! # Transports
//! TCP, TLS and unix stream sockets belong to a worker thread: `append` only queues. Records
//! queued together go out in one write. When the server goes away the worker reconnects with
//! backoff (0.1 s doubling to 10 s) and keeps up to `buffer_size` records; beyond that they are
//! counted, and the count is reported to stderr and as a syslog record once the server is back.

mod config;
mod facility;
mod format;
mod rfc3164;
mod rfc5424;
pub(crate) mod transport;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use log::Record;
use log4rs::append::Append;

use crate::report::{FailureStreak, report_error};
use crate::worker::OnFull;

pub use config::{
    DEFAULT_BUFFER_SIZE, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_UDP_MAX_MESSAGE_SIZE,
    SyslogAppenderBuilder,
};
pub use facility::{Facility, Severity};
pub use format::SyslogFormat;
pub use rfc5424::DEFAULT_SD_ID;
pub use transport::stream::Framing;

use format::{Formatter, Scratch};
use transport::Address;
use transport::datagram::{DatagramTransport, DgramTarget, Sent, SpillConfig};
use transport::stream::{Connector, StreamConfig, StreamTransport};

/// Sends records to syslog. Build it with [`SyslogAppender::builder`] or from YAML
/// (`kind: syslog`, see [`SyslogAppenderDeserializer`]).
pub struct SyslogAppender {
    name: String,
    address: Address,
    formatter: Arc<Formatter>,
    inner: Mutex<Inner>,
    streak: FailureStreak,
    settings: Settings,
}

struct Inner {
    scratch: Scratch,
    transport: Transport,
}

enum Transport {
    Datagram(DatagramTransport),
    Stream(StreamTransport),
}

/// Everything [`SyslogAppenderBuilder::build`] settled.
pub(crate) struct Settings {
    pub(crate) name: String,
    pub(crate) address: Address,
    pub(crate) formatter: Arc<Formatter>,
    pub(crate) framing: Option<Framing>,
    pub(crate) max_message_size: usize,
    pub(crate) buffer_size: usize,
    pub(crate) on_full: OnFull,
    pub(crate) connect_timeout: Duration,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

/// How long `flush` (log4rs calls it at shutdown) waits for queued records to be delivered.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// Capacity of a worker's queue between the logging threads and the worker.
const QUEUE_CAPACITY: usize = 4096;

impl std::fmt::Debug for SyslogAppender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyslogAppender")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("format", &self.formatter.format)
            .field("facility", &self.formatter.facility)
            .finish_non_exhaustive()
    }
}

impl SyslogAppender {
    /// A builder with the defaults: address `unix:/dev/log` (on Windows `udp://127.0.0.1:514`,
    /// as Python's `SysLogHandler`), facility `user`, RFC 5424 over the network and RFC 3164 on
    /// a unix socket.
    pub fn builder() -> SyslogAppenderBuilder {
        SyslogAppenderBuilder::default()
    }

    fn start(settings: Settings) -> anyhow::Result<SyslogAppender> {
        let transport = match &settings.address {
            Address::Udp(host, port) => Transport::Datagram(DatagramTransport::new(
                DgramTarget::udp(host.clone(), *port),
                settings.max_message_size,
                spill_config(&settings),
            )),
            #[cfg(unix)]
            Address::Unix(path) | Address::UnixDgram(path) => {
                Transport::Datagram(DatagramTransport::new(
                    DgramTarget::unix(path.clone()),
                    settings.max_message_size,
                    spill_config(&settings),
                ))
            }
            // `Address::parse` refuses these without unix sockets; never reached.
            #[cfg(not(unix))]
            Address::Unix(_) | Address::UnixDgram(_) => {
                anyhow::bail!("field \"address\": {}", transport::NO_UNIX_SOCKETS)
            }
            Address::Tcp(..) | Address::Tls(..) | Address::UnixStream(_) => {
                Transport::Stream(stream_transport(&settings)?)
            }
        };
        Ok(SyslogAppender {
            name: settings.name.clone(),
            address: settings.address.clone(),
            formatter: settings.formatter.clone(),
            inner: Mutex::new(Inner {
                scratch: Scratch::default(),
                transport,
            }),
            streak: FailureStreak::default(),
            settings,
        })
    }

    fn failed(&self, error: impl std::fmt::Display) -> anyhow::Result<()> {
        if self.streak.failed() {
            Err(anyhow::anyhow!(
                "appender \"{}\": {error} (reported once until sending works again; records \
                 are counted meanwhile)",
                self.name
            ))
        } else {
            Ok(())
        }
    }
}

fn spill_config(s: &Settings) -> SpillConfig {
    SpillConfig {
        name: s.name.clone(),
        capacity: QUEUE_CAPACITY,
        on_full: s.on_full,
        formatter: s.formatter.clone(),
        wait: s.connect_timeout,
    }
}

fn stream_transport(s: &Settings) -> std::io::Result<StreamTransport> {
    let (connector, default_framing) = match &s.address {
        Address::Tcp(host, port) => (
            Connector::Tcp {
                host: host.clone(),
                port: *port,
            },
            Framing::OctetCounting,
        ),
        Address::Tls(host, port) => {
            let config = s
                .tls
                .clone()
                .ok_or_else(|| std::io::Error::other("no TLS settings"))?;
            (
                Connector::Tls {
                    host: host.clone(),
                    port: *port,
                    config,
                },
                Framing::OctetCounting,
            )
        }
        #[cfg(unix)]
        Address::Unix(path) | Address::UnixStream(path) | Address::UnixDgram(path) => {
            (Connector::Unix { path: path.clone() }, Framing::Newline)
        }
        #[cfg(not(unix))]
        Address::Unix(_) | Address::UnixStream(_) | Address::UnixDgram(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                transport::NO_UNIX_SOCKETS,
            ));
        }
        Address::Udp(..) => return Err(std::io::Error::other("UDP is not a stream")),
    };
    StreamTransport::spawn(StreamConfig {
        name: s.name.clone(),
        connector,
        framing: s.framing.unwrap_or(default_framing),
        max_message_size: s.max_message_size,
        queue_capacity: QUEUE_CAPACITY,
        buffer_capacity: s.buffer_size,
        on_full: s.on_full,
        connect_timeout: s.connect_timeout,
        shutdown_timeout: FLUSH_TIMEOUT,
        formatter: s.formatter.clone(),
    })
}

impl Append for SyslogAppender {
    fn append(&self, record: &Record) -> anyhow::Result<()> {
        let time = SystemTime::now();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Inner { scratch, transport } = &mut *inner;
        if let Err(e) = self.formatter.format(record, time, scratch) {
            return self.failed(format_args!("encoding a record: {e:#}"));
        }
        match transport {
            Transport::Stream(stream) => {
                stream.send(&scratch.buf);
                Ok(())
            }
            Transport::Datagram(datagram) => match datagram.send(&scratch.buf) {
                Ok(Sent::Done) => {
                    if let Some(failures) = self.streak.recovered() {
                        let text = format!(
                            "appender \"{}\": sending works again; {failures} records could \
                             not be sent before",
                            self.name
                        );
                        report_error(&anyhow::anyhow!("{text}"));
                        let record = std::mem::take(&mut scratch.buf);
                        self.formatter
                            .format_notice(Severity::Warning, &text, time, scratch);
                        let _ = datagram.send(&scratch.buf);
                        scratch.buf = record;
                    }
                    Ok(())
                }
                Ok(Sent::IsStream) => {
                    // `unix:` pointed at a stream socket (syslog-ng's unix-stream, for one):
                    // from now on a worker owns a stream connection to it.
                    match stream_transport(&self.settings) {
                        Ok(stream) => {
                            stream.send(&scratch.buf);
                            *transport = Transport::Stream(stream);
                            Ok(())
                        }
                        Err(e) => self.failed(format_args!("starting the stream worker: {e}")),
                    }
                }
                Err(e) => self.failed(e),
            },
        }
    }

    fn flush(&self) {
        // Waits without holding the appender: the worker may log into this very appender while
        // it works (rustls logs its handshakes at debug level), and that `append` needs `inner`.
        let worker = {
            let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            match &inner.transport {
                Transport::Stream(s) => Some(s.worker()),
                Transport::Datagram(d) => d.worker(),
            }
        };
        let done = worker.is_none_or(|w| w.flush(FLUSH_TIMEOUT));
        if !done {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": flush gave up after {FLUSH_TIMEOUT:?}; records still queued \
                 are sent when {} can be reached",
                self.name,
                describe(&self.address)
            ));
        }
    }
}

fn describe(address: &Address) -> String {
    match address {
        Address::Unix(p) => format!("unix:{}", p.display()),
        Address::UnixDgram(p) => format!("unix-dgram:{}", p.display()),
        Address::UnixStream(p) => format!("unix-stream:{}", p.display()),
        Address::Udp(h, p) => format!("udp://{h}:{p}"),
        Address::Tcp(h, p) => format!("tcp://{h}:{p}"),
        Address::Tls(h, p) => format!("tls://{h}:{p}"),
    }
}

/// Builds [`SyslogAppender`]s from YAML (`kind: syslog`); registered by
/// [`crate::deserializers`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SyslogAppenderDeserializer;

impl log4rs::config::Deserialize for SyslogAppenderDeserializer {
    type Trait = dyn Append;
    type Config = serde_value::Value;

    fn deserialize(
        &self,
        config: serde_value::Value,
        deserializers: &log4rs::config::Deserializers,
    ) -> anyhow::Result<Box<dyn Append>> {
        let config = crate::config::parse_config::<config::SyslogConfig>(config)?;
        Ok(Box::new(config.into_builder(deserializers)?.build()?))
    }
}
