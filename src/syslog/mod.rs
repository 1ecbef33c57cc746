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
//!
//! # Shutdown
//! Dropping the appender (dropping the [`LogHandle`](crate::LogHandle) drops every appender)
//! stops a stream worker within `shutdown_timeout` (default 5 s): it sends what is queued, then
//! ends the connection so that the server confirms it read everything: TLS sends close_notify
//! (RFC 5425 section 4.4), writing is shut down, and the worker reads until the server closes
//! its end (a TLS server's unread session tickets would otherwise make the kernel reset the
//! connection, and a reset discards what the server has not read yet). Then the thread is
//! joined. Whatever could not be sent, or was written but not confirmed, is reported once,
//! with its count (`shutting down (within 5s): 200 records were not sent to tcp://...`).
//! The process exiting without dropping the handle does none of this.

mod appender;
mod builder;
mod config;
mod facility;
mod format;
mod rfc3164;
mod rfc5424;
pub(crate) mod transport;

use log4rs::append::Append;

pub use appender::SyslogAppender;
pub use builder::{
    CheckedSyslogAppender, DEFAULT_BUFFER_SIZE, DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_UDP_MAX_MESSAGE_SIZE, SyslogAppenderBuilder,
};
pub use facility::{Facility, Severity};
pub use format::SyslogFormat;
pub use rfc5424::DEFAULT_SD_ID;
pub use transport::stream::Framing;

/// The `syslog` kind, listed in [`crate::registry`]: YAML -> [`SyslogAppenderBuilder`] ->
/// [`SyslogAppender`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SyslogKind;

/// log4rs's deserializer of `kind: syslog` (what [`crate::deserializers`] registers).
pub type SyslogAppenderDeserializer = crate::registry::AppenderDeserializer<SyslogKind>;

impl crate::registry::AppenderKind for SyslogKind {
    const KIND: &'static str = "syslog";
    const FEATURE: Option<&'static str> = Some("syslog");
    type Config = config::SyslogConfig;
    type Checked = CheckedSyslogAppender;

    fn check(
        config: config::SyslogConfig,
        deserializers: &log4rs::config::Deserializers,
    ) -> anyhow::Result<CheckedSyslogAppender> {
        config.into_builder(deserializers)?.check()
    }

    fn start(checked: CheckedSyslogAppender) -> anyhow::Result<Box<dyn Append>> {
        Ok(Box::new(SyslogAppender::start(checked)?))
    }
}
