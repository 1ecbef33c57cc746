//! The programmatic API of the syslog appender: [`SyslogAppenderBuilder`], with every check in
//! [`SyslogAppenderBuilder::check`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use log4rs::encode::Encode;

use crate::worker::OnFull;

use super::SyslogAppender;
use super::facility::Facility;
use super::format::{
    Formatter, MessageEncoder, SyslogFormat, sanitize_header_field, validate_header_field,
};
use super::transport::Address;
use super::transport::stream::Framing;
use super::{rfc3164, rfc5424};

/// Builds a [`SyslogAppender`]; the programmatic twin of the YAML config. Nothing connects when
/// it is built: a daemon that is down (or not installed) at start-up is not an error.
///
/// ```
/// use log4rs_appenders::syslog::{Facility, SyslogAppender, SyslogFormat};
/// let appender = SyslogAppender::builder()
///     .name("syslog")
///     .address("udp://127.0.0.1:514")
///     .format(SyslogFormat::Rfc5424)
///     .facility(Facility::Local0)
///     .app_name("microblog")
///     .build()
///     .unwrap();
/// # drop(appender);
/// ```
#[derive(Debug)]
pub struct SyslogAppenderBuilder {
    pub(crate) name: String,
    pub(crate) address: String,
    pub(crate) format: Option<SyslogFormat>,
    pub(crate) facility: Facility,
    pub(crate) app_name: Option<String>,
    pub(crate) hostname: Option<String>,
    pub(crate) framing: Option<Framing>,
    pub(crate) structured_data: bool,
    pub(crate) sd_id: Option<String>,
    pub(crate) max_message_size: Option<usize>,
    pub(crate) buffer_size: usize,
    pub(crate) on_full: OnFull,
    pub(crate) root_certificate: Option<PathBuf>,
    pub(crate) client_certificate: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
    pub(crate) danger_accept_invalid_certs: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) encoder: Option<Box<dyn Encode>>,
}

/// Default `max_message_size` over UDP: fits in one unfragmented datagram on most paths, and
/// is what RFC 5426 says every receiver should accept.
pub const DEFAULT_UDP_MAX_MESSAGE_SIZE: usize = 2048;
/// Default `max_message_size` elsewhere: rsyslog's default `maxMessageSize` (8 KiB).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 8192;
/// Default `shutdown_timeout`: how long dropping a TCP/TLS/unix-stream appender may take.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// Default `buffer_size`: records kept while a stream server is unreachable.
pub const DEFAULT_BUFFER_SIZE: usize = 10_000;

impl Default for SyslogAppenderBuilder {
    fn default() -> Self {
        SyslogAppenderBuilder {
            name: "syslog".to_owned(),
            address: super::transport::DEFAULT_ADDRESS.to_owned(),
            format: None,
            facility: Facility::default(),
            app_name: None,
            hostname: None,
            framing: None,
            structured_data: true,
            sd_id: None,
            max_message_size: None,
            buffer_size: DEFAULT_BUFFER_SIZE,
            on_full: OnFull::Drop,
            root_certificate: None,
            client_certificate: None,
            client_key: None,
            danger_accept_invalid_certs: false,
            connect_timeout: Duration::from_secs(5),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            encoder: None,
        }
    }
}

impl SyslogAppenderBuilder {
    /// The appender's name, used in error reports (`appender "syslog": ...`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Where to send: `unix:/dev/log` (default; datagram, or stream if the socket is one),
    /// `unix-dgram:/path`, `unix-stream:/path`, `udp://host:514`, `tcp://host:601`,
    /// `tls://host:6514`. On Windows only the last three exist, and the default is
    /// `udp://127.0.0.1:514` (Python's `SysLogHandler` default).
    /// `tls://host:6514`.
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = address.into();
        self
    }

    /// RFC 5424 or RFC 3164. Default: RFC 5424 over the network; on a unix socket, RFC 3164 in
    /// the form `syslog(3)` writes there (no hostname), the one journald and rsyslog's default
    /// socket parser read.
    pub fn format(mut self, format: SyslogFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// The facility (default `user`).
    pub fn facility(mut self, facility: Facility) -> Self {
        self.facility = facility;
        self
    }

    /// APP-NAME (3164: TAG); default: the executable's file name.
    pub fn app_name(mut self, app_name: impl Into<String>) -> Self {
        self.app_name = Some(app_name.into());
        self
    }

    /// HOSTNAME; default: this host's name.
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
    }

    /// Stream framing; default octet-counting for TCP/TLS, newline for unix stream sockets.
    pub fn framing(mut self, framing: Framing) -> Self {
        self.framing = Some(framing);
        self
    }

    /// RFC 5424: send the record's key-values as SD-PARAMs (default true).
    pub fn structured_data(mut self, on: bool) -> Self {
        self.structured_data = on;
        self
    }

    /// The SD-ID for key-values (default `log4rs@32473`).
    pub fn sd_id(mut self, sd_id: impl Into<String>) -> Self {
        self.sd_id = Some(sd_id.into());
        self
    }

    /// Longest message in bytes, header included; longer ones are cut at a UTF-8 boundary.
    /// Default 2048 over UDP, 8192 otherwise.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = Some(bytes);
        self
    }

    /// Records kept while a stream server is unreachable (default 10,000); beyond that they are
    /// counted and the count is reported.
    pub fn buffer_size(mut self, records: usize) -> Self {
        self.buffer_size = records;
        self
    }

    /// What a logging call does when the worker's queue is full (default: drop and count).
    pub fn on_full(mut self, on_full: OnFull) -> Self {
        self.on_full = on_full;
        self
    }

    /// TLS: trust only the CA certificate(s) in this PEM file instead of the system's roots.
    pub fn root_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.root_certificate = Some(path.into());
        self
    }

    /// TLS: present this client certificate (PEM chain) with [`client_key`](Self::client_key),
    /// for servers that require one.
    pub fn client_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_certificate = Some(path.into());
        self
    }

    /// TLS: the PEM private key of [`client_certificate`](Self::client_certificate).
    pub fn client_key(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_key = Some(path.into());
        self
    }

    /// TLS: accept any server certificate. Dangerous: anyone on the path can read and change
    /// the records. Prefer [`root_certificate`](Self::root_certificate).
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.danger_accept_invalid_certs = accept;
        self
    }

    /// How long a connection attempt or a stalled write may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// TCP, TLS and unix stream sockets: how long dropping the appender (or the
    /// [`LogHandle`](crate::LogHandle)) may take to send what is queued and end the connection
    /// so that the server confirms it read everything (TLS: close_notify). Whatever could not
    /// be sent, or not confirmed, is reported with its count. Default 5 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The encoder for the MSG part (default: the record's message, as `%(message)s`).
    pub fn encoder(mut self, encoder: Box<dyn Encode>) -> Self {
        self.encoder = Some(encoder);
        self
    }

    /// Validates everything and builds the appender. Does not connect.
    pub fn build(self) -> anyhow::Result<SyslogAppender> {
        SyslogAppender::start(self.check()?)
    }

    /// Every check [`build`](Self::build) makes, and nothing else: no socket, no thread. The
    /// YAML loader checks every appender of a config this way before it starts any.
    pub fn check(self) -> anyhow::Result<CheckedSyslogAppender> {
        let address = Address::parse(&self.address)?;
        let local = matches!(
            address,
            Address::Unix(_) | Address::UnixDgram(_) | Address::UnixStream(_)
        );
        let format = self.format.unwrap_or(if local {
            SyslogFormat::Rfc3164
        } else {
            SyslogFormat::Rfc5424
        });
        let (app_max, host_max) = match format {
            SyslogFormat::Rfc5424 => (rfc5424::MAX_APP_NAME, rfc5424::MAX_HOSTNAME),
            SyslogFormat::Rfc3164 => (rfc3164::MAX_TAG, rfc5424::MAX_HOSTNAME),
        };
        let app_name = match &self.app_name {
            Some(a) => {
                validate_header_field("app_name", a, app_max)?;
                a.clone()
            }
            None => sanitize_header_field(&default_app_name(), app_max),
        };
        let hostname = match &self.hostname {
            Some(h) => {
                validate_header_field("hostname", h, host_max)?;
                h.clone()
            }
            None => sanitize_header_field(&local_hostname(), host_max),
        };
        if let Some(id) = &self.sd_id {
            rfc5424::validate_sd_id(id)?;
        }
        // RFC 3164 has no structured data.
        let sd_id = (self.structured_data && format == SyslogFormat::Rfc5424).then(|| {
            self.sd_id
                .clone()
                .unwrap_or_else(|| rfc5424::DEFAULT_SD_ID.to_owned())
        });
        if let (Some(f), Address::Udp(..) | Address::UnixDgram(_)) = (self.framing, &address) {
            anyhow::bail!(
                "field \"framing\": {f:?} applies to tcp://, tls:// and unix-stream: addresses; \
                 datagrams need no framing (remove the field)"
            );
        }
        if !matches!(address, Address::Tls(..)) {
            let tls_fields = [
                ("root_certificate", self.root_certificate.is_some()),
                ("client_certificate", self.client_certificate.is_some()),
                ("client_key", self.client_key.is_some()),
                (
                    "danger_accept_invalid_certs",
                    self.danger_accept_invalid_certs,
                ),
            ];
            if let Some((field, _)) = tls_fields.iter().find(|(_, set)| *set) {
                anyhow::bail!(
                    "field \"{field}\": only used with a tls:// address (the address is {:?})",
                    self.address
                );
            }
        }
        let max_message_size = self.max_message_size.unwrap_or(match address {
            Address::Udp(..) => DEFAULT_UDP_MAX_MESSAGE_SIZE,
            _ => DEFAULT_MAX_MESSAGE_SIZE,
        });
        if max_message_size < 480 {
            anyhow::bail!(
                "field \"max_message_size\": {} is too small; syslog receivers must accept \
                 480 bytes (RFC 5426), use at least that",
                crate::count::Count::new(max_message_size as u64, "byte")
            );
        }
        let pid = std::process::id().to_string();
        let tail = match format {
            SyslogFormat::Rfc5424 => format!(" {hostname} {app_name} {pid} - "),
            // On the local socket syslog(3) writes no hostname (the daemon adds its own), and
            // readers of that socket take the first word after the time as the TAG.
            SyslogFormat::Rfc3164 if local && self.hostname.is_none() => {
                format!(" {app_name}[{pid}]: ")
            }
            SyslogFormat::Rfc3164 => format!(" {hostname} {app_name}[{pid}]: "),
        };
        let formatter = Arc::new(Formatter {
            format,
            facility: self.facility,
            tail: tail.into_bytes(),
            sd_id,
            encoder: match self.encoder {
                Some(e) => MessageEncoder::Custom(e),
                None => MessageEncoder::Message,
            },
        });
        let tls = match &address {
            Address::Tls(..) => Some(super::transport::tls::client_config(
                &super::transport::tls::TlsOptions {
                    root_certificate: self.root_certificate.as_deref(),
                    client_certificate: self.client_certificate.as_deref(),
                    client_key: self.client_key.as_deref(),
                    danger_accept_invalid_certs: self.danger_accept_invalid_certs,
                },
            )?),
            _ => None,
        };
        Ok(CheckedSyslogAppender {
            name: self.name,
            address,
            formatter,
            framing: self.framing,
            max_message_size,
            buffer_size: self.buffer_size.max(1),
            on_full: self.on_full,
            connect_timeout: self.connect_timeout,
            shutdown_timeout: self.shutdown_timeout,
            tls,
        })
    }
}

/// A syslog appender whose settings passed every check of [`SyslogAppenderBuilder::check`], not
/// started yet: [`SyslogAppender::start`] starts it.
pub struct CheckedSyslogAppender {
    pub(crate) name: String,
    pub(crate) address: Address,
    pub(crate) formatter: Arc<Formatter>,
    pub(crate) framing: Option<Framing>,
    pub(crate) max_message_size: usize,
    pub(crate) buffer_size: usize,
    pub(crate) on_full: OnFull,
    pub(crate) connect_timeout: Duration,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for CheckedSyslogAppender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedSyslogAppender")
            .field("name", &self.name)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

fn default_app_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// This host's name: `gethostname(2)` on unix, the DNS host name (`GetComputerNameExW`) on
/// Windows (what `hostname` prints, not the upper-case NetBIOS name in `COMPUTERNAME`). Empty
/// when it cannot be read: the HOSTNAME is then the NILVALUE `-` (or set `hostname`).
fn local_hostname() -> String {
    hostname::get()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
