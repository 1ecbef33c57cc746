//! The syslog appender itself: format on the logging thread, then send a datagram in place or
//! queue to the stream worker.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use log::Record;
use log4rs::append::Append;

use crate::lost::{Cause, LostRecords};
use crate::report::{FailureStreak, report_error};

use super::builder::{CheckedSyslogAppender, SyslogAppenderBuilder};
use super::facility::Severity;
use super::format::Scratch;
use super::transport::Address;
use super::transport::datagram::{DatagramTransport, DgramTarget, Sent, SpillConfig};
use super::transport::stream::{Connector, Framing, StreamConfig, StreamTransport};

/// Sends records to syslog. Build it with [`SyslogAppender::builder`] or from YAML
/// (`kind: syslog`, see [`SyslogKind`](super::SyslogKind)).
pub struct SyslogAppender {
    settings: CheckedSyslogAppender,
    inner: Mutex<Inner>,
    streak: FailureStreak,
}

struct Inner {
    scratch: Scratch,
    transport: Transport,
}

enum Transport {
    Datagram(DatagramTransport),
    Stream(StreamTransport),
}

/// How long `flush` (log4rs calls it at shutdown) waits for queued records to be delivered.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// Capacity of a worker's queue between the logging threads and the worker.
const QUEUE_CAPACITY: usize = 4096;

impl std::fmt::Debug for SyslogAppender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyslogAppender")
            .field("name", &self.settings.name)
            .field("address", &self.settings.address)
            .field("format", &self.settings.formatter.format)
            .field("facility", &self.settings.formatter.facility)
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

    /// Starts a checked appender: a datagram socket, or the worker thread of a stream (which
    /// connects in the background).
    pub fn start(settings: CheckedSyslogAppender) -> anyhow::Result<SyslogAppender> {
        let transport = match &settings.address {
            #[cfg(unix)]
            Address::Udp(..) | Address::Unix(_) | Address::UnixDgram(_) => {
                Transport::Datagram(DatagramTransport::new(
                    DgramTarget::new(settings.address.clone()),
                    settings.max_message_size,
                    spill_config(&settings),
                ))
            }
            #[cfg(not(unix))]
            Address::Udp(..) => Transport::Datagram(DatagramTransport::new(
                DgramTarget::new(settings.address.clone()),
                settings.max_message_size,
                spill_config(&settings),
            )),
            // `Address::parse` refuses these without unix sockets; never reached.
            #[cfg(not(unix))]
            Address::Unix(_) | Address::UnixDgram(_) => {
                anyhow::bail!("field \"address\": {}", super::transport::NO_UNIX_SOCKETS)
            }
            Address::Tcp(..) | Address::Tls(..) | Address::UnixStream(_) => {
                Transport::Stream(stream_transport(&settings)?)
            }
        };
        Ok(SyslogAppender {
            settings,
            inner: Mutex::new(Inner {
                scratch: Scratch::default(),
                transport,
            }),
            streak: FailureStreak::default(),
        })
    }

    fn failed(&self, error: impl std::fmt::Display) -> anyhow::Result<()> {
        if self.streak.failed() {
            Err(self.reported_once(error))
        } else {
            Ok(())
        }
    }

    /// A record got through after a streak of failures (`encoding a record`, `starting the
    /// stream worker`): says how many records the streak lost, to log4rs's error path and to
    /// the server as a warning.
    fn report_recovery(
        &self,
        lost: u64,
        time: SystemTime,
        scratch: &mut Scratch,
        transport: &mut Transport,
    ) {
        let since = UNIX_EPOCH + Duration::from_millis(self.streak.since_unix_ms());
        let text = format!(
            "appender \"{}\": {}; sending works again",
            self.settings.name,
            LostRecords::new(lost, "record", Cause::Unsaid).between(since, time)
        );
        report_error(&anyhow::anyhow!("{text}"));
        self.settings
            .formatter
            .format_notice(Severity::Warning, &text, time, scratch);
        match transport {
            Transport::Stream(stream) => {
                stream.send(&scratch.buf);
            }
            // A notice that cannot be sent now is lost with its count still reported above.
            Transport::Datagram(datagram) => {
                let _ = datagram.send(&scratch.buf);
            }
        }
    }

    /// The error that starts a streak of failures, reported once until sending works again.
    fn reported_once(&self, error: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!(
            "appender \"{}\": {error} (reported once until sending works again; records are \
             counted meanwhile)",
            self.settings.name
        )
    }
}

fn spill_config(s: &CheckedSyslogAppender) -> SpillConfig {
    SpillConfig {
        name: s.name.clone(),
        capacity: QUEUE_CAPACITY,
        on_full: s.on_full,
        formatter: s.formatter.clone(),
        wait: s.connect_timeout,
    }
}

fn stream_transport(s: &CheckedSyslogAppender) -> std::io::Result<StreamTransport> {
    let default_framing = match &s.address {
        Address::Tcp(..) | Address::Tls(..) => Framing::OctetCounting,
        _ => Framing::Newline,
    };
    let connector = Connector::new(s.address.clone(), s.tls.clone())?;
    StreamTransport::spawn(StreamConfig {
        name: s.name.clone(),
        connector,
        framing: s.framing.unwrap_or(default_framing),
        max_message_size: s.max_message_size,
        queue_capacity: QUEUE_CAPACITY,
        buffer_capacity: s.buffer_size,
        on_full: s.on_full,
        connect_timeout: s.connect_timeout,
        shutdown_timeout: s.shutdown_timeout,
        formatter: s.formatter.clone(),
    })
}

impl Append for SyslogAppender {
    fn append(&self, record: &Record) -> anyhow::Result<()> {
        let time = SystemTime::now();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Inner { scratch, transport } = &mut *inner;
        if let Err(e) = self.settings.formatter.format(record, time, scratch) {
            return self.failed(format_args!("encoding a record: {e:#}"));
        }
        match transport {
            Transport::Stream(stream) => {
                stream.send(&scratch.buf);
            }
            Transport::Datagram(datagram) => match datagram.send(&scratch.buf) {
                // Sent, spilled to the worker, or counted in an outage already reported.
                Ok(Sent::Done) => {}
                Ok(Sent::IsStream) => {
                    // `unix:` pointed at a stream socket (syslog-ng's unix-stream, for one):
                    // from now on a worker owns a stream connection to it.
                    match stream_transport(&self.settings) {
                        Ok(stream) => {
                            stream.send(&scratch.buf);
                            *transport = Transport::Stream(stream);
                        }
                        Err(e) => {
                            return self.failed(format_args!("starting the stream worker: {e}"));
                        }
                    }
                }
                // An outage starts: reported once; it reports its end, with the count.
                Err(e) => return Err(self.reported_once(e)),
            },
        }
        if let Some(lost) = self.streak.recovered() {
            self.report_recovery(lost, time, scratch, transport);
        }
        Ok(())
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
                 are sent when {} can be reached (at shutdown, what is not sent within \
                 shutdown_timeout is reported with its count)",
                self.settings.name,
                self.settings.address
            ));
        }
    }
}
