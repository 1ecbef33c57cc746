//! The syslog appender (`kind: syslog`): RFC 5424 or RFC 3164 messages to the local syslog
//! socket, or over UDP, TCP or TLS to a central rsyslog / syslog-ng.
//!
//! ```yaml
//! appenders:
//!   syslog:
//!     kind: syslog
//!     address: tcp://logs.example.com:601  # default unix:/dev/log (Windows: udp://127.0.0.1:514);
//!                                          # also unix-dgram:/path, unix-stream:/path,
//!                                          # udp://host:514, tls://host:6514
//!     format: rfc5424                      # or rfc3164; default rfc5424 over the network,
//!                                          # rfc3164 (syslog(3) local form) on unix sockets
//!     facility: local0                     # kern..local7 by name; default user
//!     app_name: microblog                  # default: the executable's name
//!     hostname: web1                       # default: this host's name
//!     framing: octet-counting              # tcp/tls default (RFC 6587); or newline
//!     structured_data: true                # rfc5424: key-values as [log4rs@32473 key="value"]
//!     sd_id: myorg@12345                   # your own enterprise number, if you have one
//!     max_message_size: 2048               # default 2048 over UDP, 8192 otherwise
//!     buffer_size: 10000                   # records kept while a TCP/TLS server is unreachable
//!     on_full: drop                        # or block (worker queue full)
//!     root_certificate: /etc/ssl/my-ca.pem # tls: trust only this CA (default: system roots)
//!     client_certificate: /etc/ssl/me.pem  # tls: for servers that require one (x509 authMode)
//!     client_key: /etc/ssl/me.key
//!     # danger_accept_invalid_certs: true  # tls: skip certificate checks (anyone can intercept)
//!     connect_timeout: 5 seconds           # connect, stalled write, full unix socket
//!     shutdown_timeout: 5 seconds          # tcp/tls/unix-stream: drain and close when dropped
//!     encoder: { kind: python, format: "%(message)s" }   # the MSG part; default the message
//! ```
//!
//! # What is sent
//!
//! - **Severity** from the level: error 3 (err), warn 4 (warning), info 6, debug and trace 7; PRI =
//!   facility × 8 + severity.
//! - **Time**: taken when the appender receives the record, on the logging thread (the `log`
//!   crate's records carry no timestamp), never at send time: a record that waits out an outage
//!   keeps its time. RFC 5424: `2026-11-23T03:30:05.123456+01:00` (microseconds, local offset); RFC
//!   3164: local `Nov 23 03:30:05`. The formatted second is cached.
//! - **Newlines are escaped, never split**: control characters in the message and in SD values
//!   become `#ooo` (`\n` → `#012`, as rsyslog itself stores them). One record is one syslog
//!   message, and no text in a record can forge a second one, whatever the framing.
//! - **Structured data** (RFC 5424): the record's key-values as SD-PARAMs under `log4rs@32473`
//!   (32473 is IANA's example enterprise number, RFC 5612; set `sd_id` to yours). `"`, `\` and `]`
//!   in values are backslash-escaped; key characters SD names forbid (`=`, space, `]`, `"`,
//!   non-ASCII) become `_`, names are cut to 32 characters. No key-values: NILVALUE `-`.
//! - **Format defaults to the address**: RFC 5424 over UDP/TCP/TLS; on unix sockets RFC 3164 in the
//!   form `syslog(3)` writes there, `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG` with no hostname, which is
//!   what journald and rsyslog's default socket parser read (RFC 5424 on `/dev/log` is mis-parsed
//!   by both unless rsyslog's imuxsock has `UseSpecialParser="off"`).
//! - Non-ASCII MSG text starts with a UTF-8 BOM (RFC 5424 §6.4); MSGID is `-`; header fields are
//!   checked at load (printable ASCII, APP-NAME ≤ 48, TAG ≤ 32, HOSTNAME ≤ 255).
//!
//! # How it travels
//!
//! - **UDP and unix datagrams** are sent on the logging thread from a non-blocking socket (no
//!   network wait, no allocation per record in the steady state). Longer than `max_message_size`:
//!   cut at a UTF-8 character boundary, never an error. A unix socket queues only a few datagrams
//!   (`net.unix.max_dgram_qlen`, often 10): when it is full, records spill to a worker that waits
//!   for room (up to `connect_timeout`), and later records follow until it has caught up, so bursts
//!   lose nothing and keep their order. A receiver that stops reading costs one such wait; after
//!   that records are counted as lost without waiting, and the count is sent as a syslog warning
//!   (and to stderr) once datagrams go through again. After a daemon restart the socket is
//!   reopened. `unix:` detects a stream socket (EPROTOTYPE) and switches to it.
//! - **TCP, TLS and unix streams** belong to a worker thread; `append` only frames and queues.
//!   Records queued together go out in one write (64 KiB chunks). When the server goes away the
//!   worker reconnects with backoff (0.1 s doubling to 10 s) and keeps up to `buffer_size` records;
//!   past that it counts them, and reports the count to stderr and as a syslog warning of its own
//!   when the server is back. Before each write it checks whether the server closed the connection,
//!   so records are not written into a dead socket. Plain TCP syslog has no acknowledgements:
//!   records the old daemon's kernel had accepted while it was shutting down can vanish unseen; the
//!   appender then reports "up to N records written in the last 1 s may not have been received"
//!   (RELP would be needed to know exactly).
//! - **TLS** (rustls, ring provider chosen explicitly): the server certificate is verified against
//!   the system's roots, or only against `root_certificate`; `client_certificate` + `client_key`
//!   for mutual TLS; `danger_accept_invalid_certs: true` turns verification off. Tested against
//!   rsyslog's gtls driver (`authMode="anon"` and `"x509/certvalid"`).
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
//!
//! Records logged while `flush()` waits are not held up: it does not hold the appender meanwhile,
//! so rustls's own debug records about the TLS handshake (which reach this appender under a
//! `debug` root logger; give `rustls` its own logger level to keep them out) go through. Call
//! `log::logger().flush()` (or drop the [`LogHandle`](crate::LogHandle)) before the process exits.
//!
//! # Platforms
//!
//! - **Linux and other unix systems**: every address kind; the default is the local socket
//!   `unix:/dev/log`. Tested against a real rsyslog (unix datagram and stream sockets, UDP, TCP,
//!   TLS) in `tests/syslog.rs`.
//! - **Windows**: `udp://`, `tcp://` and `tls://`, which is how Windows services ship records to a
//!   central rsyslog / syslog-ng. There are no unix sockets: a `unix:`, `unix-dgram:` or
//!   `unix-stream:` address is a load-time error, `field "address": "unix:/dev/log": unix sockets
//!   are not available on Windows (there is no local syslog socket); use udp://HOST:514,
//!   tcp://HOST:601 or tls://HOST:6514`. Without an `address` the appender sends to
//!   `udp://127.0.0.1:514`, as Python's `SysLogHandler` does by default (`('localhost', 514)` over
//!   UDP; `127.0.0.1` so that a receiver on IPv4 loopback gets the records where `localhost`
//!   resolves to `::1` first). HOSTNAME defaults to the machine's DNS host name
//!   (`GetComputerNameExW`). Everything else (formats, framing, reconnect, buffering, TLS
//!   verification) is the same code as on Linux; the rare case of a full UDP send buffer is retried
//!   every millisecond instead of waiting with `poll`. `scripts/windows-syslog-test.sh` (run by
//!   `scripts/test.sh`) cross-builds `examples/syslog_smoke.rs` for `x86_64-pc-windows-gnu`, runs
//!   it under wine against UDP, TCP and TLS receivers on the Linux side, and checks that each
//!   record arrives once as RFC 5424 with the right PRI, header, structured data and text, also
//!   after the TCP and TLS receivers closed the connection (the appender notices, reports possible
//!   loss, reconnects), and that `unix:` is refused as above; then it runs the syslog unit tests
//!   and the portable part of `tests/syslog.rs` built for Windows under wine. TLS there uses
//!   `root_certificate`; loading the Windows certificate store (no `root_certificate`) is
//!   exercised, verifying a server against it is not. Example config:
//!   `config-examples/syslog-windows.yaml`.

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
