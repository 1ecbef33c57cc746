//! The programmatic API: [`SmtpAppenderBuilder`], with the same options and the same
//! validation as the YAML config.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use log::Level;
use log4rs::encode::Encode;

use crate::encode::PythonEncoder;
use crate::fields::Secret;
use crate::root_certificate::RootCertificate;
use crate::worker::OnFull;

use super::appender::SmtpAppender;
use super::config::Security;
use super::digest::DigestSettings;
use super::message::{Addressing, DEFAULT_SUBJECT, default_body_encoder};
use super::spool::Spool;
use super::transport::ServerSettings;

/// Distinct errors listed per mail; more kinds are counted, not listed.
const MAX_ENTRIES_PER_MAIL: usize = 100;

/// Builds an [`SmtpAppender`]. Every option has the YAML field of the same name.
///
/// ```no_run
/// use log4rs_appenders::smtp::{SmtpAppender, Security};
/// use log4rs_appenders::fields::Secret;
///
/// let appender = SmtpAppender::builder()
///     .name("mail")
///     .host("smtp.example.com")
///     .security(Security::Starttls)
///     .from("no-reply@example.com")
///     .to("admin@example.com")
///     .subject("Microblog Failure: %(levelname)s in %(name)s")
///     .credentials("mailer", Secret::new(std::env::var("SMTP_PASSWORD").unwrap_or_default()))
///     .batch_window(std::time::Duration::from_secs(10))
///     .build()
///     .expect("valid mail settings");
/// ```
pub struct SmtpAppenderBuilder {
    name: String,
    host: String,
    port: Option<u16>,
    security: Security,
    from: String,
    to: Vec<String>,
    subject: String,
    pub(super) username: Option<String>,
    pub(super) password: Option<Secret>,
    level: Level,
    timeout: Duration,
    encoder: Option<Box<dyn Encode>>,
    batch_window: Duration,
    max_mails_per_hour: u32,
    context_records: usize,
    spool_dir: Option<PathBuf>,
    spool_after: Duration,
    retry_backoff: Duration,
    root_certificate: Option<RootCertificate>,
    danger_accept_invalid_certs: bool,
    queue_size: usize,
    on_full: OnFull,
    single_write_data: bool,
}

impl Default for SmtpAppenderBuilder {
    fn default() -> Self {
        SmtpAppenderBuilder {
            name: String::from("smtp"),
            host: String::new(),
            port: None,
            security: Security::default(),
            from: String::new(),
            to: Vec::new(),
            subject: DEFAULT_SUBJECT.to_owned(),
            username: None,
            password: None,
            level: Level::Error,
            timeout: Duration::from_secs(10),
            encoder: None,
            batch_window: Duration::from_secs(10),
            max_mails_per_hour: 30,
            context_records: 0,
            spool_dir: None,
            spool_after: Duration::from_secs(60),
            retry_backoff: Duration::from_secs(1),
            root_certificate: None,
            danger_accept_invalid_certs: false,
            queue_size: 10_000,
            on_full: OnFull::Drop,
            single_write_data: true,
        }
    }
}

impl fmt::Debug for SmtpAppenderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpAppenderBuilder")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("username", &self.username)
            .field("password", &self.password)
            .finish_non_exhaustive()
    }
}

impl SmtpAppenderBuilder {
    /// The appender's name in error messages (the YAML loader sets it to the appender's key).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The mail server's host name or IP address (`host:`). Required.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The server's port (`port:`); default 25, 587 or 465 by [`Security`].
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// How the connection is secured (`security: none | starttls | tls`); default STARTTLS.
    pub fn security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }

    /// The sender, `addr@example.com` or `Name <addr@example.com>` (`from:`). Required.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = from.into();
        self
    }

    /// Adds a recipient (`to:`, a list). At least one is required. Up to
    /// [`MAX_TO_HEADER_RECIPIENTS`](super::MAX_TO_HEADER_RECIPIENTS) recipients are listed in
    /// the `To:` header (folded at 78 characters, RFC 5322); with more, the header says
    /// `undisclosed-recipients:;` and the recipients are in the envelope only, as for `Bcc`.
    pub fn to(mut self, to: impl Into<String>) -> Self {
        self.to.push(to.into());
        self
    }

    /// The subject, with python-style placeholders rendered from the first record of the mail
    /// (`subject:`); default `%(levelname)s in %(name)s: %(message)s`. Fixed text without a
    /// placeholder is fine; the placeholders are the record attributes (no key-values, which
    /// would need a declared default). When a mail holds more than one record, ` (+N more)` is
    /// appended.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// Logs in with AUTH PLAIN or LOGIN (`username:` plus `password:`, `password_env:` or
    /// `password_file:`).
    pub fn credentials(mut self, username: impl Into<String>, password: Secret) -> Self {
        self.username = Some(username.into());
        self.password = Some(password);
        self
    }

    /// Records at this level or more severe are mailed (`level:`); default `error`.
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Network timeout of each SMTP step, and how long `flush` waits (`timeout:`); default 10 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Renders each record in the mail body (`encoder:`); default a [`PythonEncoder`] with
    /// [`DEFAULT_BODY_FORMAT`](super::DEFAULT_BODY_FORMAT).
    pub fn encoder(mut self, encoder: Box<dyn Encode>) -> Self {
        self.encoder = Some(encoder);
        self
    }

    /// Records within this window after the first go out in one mail (`batch_window:`);
    /// default 10 s. Zero sends each batch the worker picks up at once.
    pub fn batch_window(mut self, window: Duration) -> Self {
        self.batch_window = window;
        self
    }

    /// At most this many mails per hour (`max_mails_per_hour:`); default 30. What arrives in
    /// between waits for the next mail, counted.
    pub fn max_mails_per_hour(mut self, max: u32) -> Self {
        self.max_mails_per_hour = max;
        self
    }

    /// Includes up to this many records below `level` that preceded an error
    /// (`context_records:`); default 0. The logger must route those records to this appender.
    pub fn context_records(mut self, count: usize) -> Self {
        self.context_records = count;
        self
    }

    /// Mails undelivered for `spool_after` are written to this directory and resent later, also
    /// by the next run of the application (`spool_dir:`). Default: none (kept in memory only).
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// How long a mail may wait for delivery before it is spooled (`spool_after:`); default 60 s.
    pub fn spool_after(mut self, after: Duration) -> Self {
        self.spool_after = after;
        self
    }

    /// The first wait after a failed delivery; it doubles per failure up to 60 s
    /// (`retry_backoff:`); default 1 s.
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }

    /// Trusts the CA certificate in this PEM file too, for a private CA or a self-signed server
    /// (`root_certificate:`).
    pub fn root_certificate(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.root_certificate = Some(RootCertificate::Path(pem_file.into()));
        self
    }

    /// Like [`root_certificate`](Self::root_certificate), with the PEM text itself.
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificate = Some(RootCertificate::Pem(pem.into()));
        self
    }

    /// DANGEROUS: accepts any server certificate, so anyone on the path can read the mail and
    /// the password (`danger_accept_invalid_certs: true`). Prefer `root_certificate`.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.danger_accept_invalid_certs = accept;
        self
    }

    /// Capacity of the queue between the application and the mail worker (`queue_size:`);
    /// default 10000 records.
    pub fn queue_size(mut self, size: usize) -> Self {
        self.queue_size = size;
        self
    }

    /// What `append` does when the queue is full (`on_full: drop | block`); default drop, and
    /// the next mail counts the dropped errors.
    pub fn on_full(mut self, on_full: OnFull) -> Self {
        self.on_full = on_full;
        self
    }

    /// For the benchmark only: `false` sends the message data through lettre's own
    /// `SmtpConnection::send` (body and terminator in two writes, ~40 ms per mail on loopback).
    #[doc(hidden)]
    pub fn single_write_data(mut self, single: bool) -> Self {
        self.single_write_data = single;
        self
    }

    /// Validates everything and starts the appender's two threads. Never connects: the first
    /// connection happens when the first mail is due (or at once if the spool holds mail).
    pub fn build(self) -> anyhow::Result<SmtpAppender> {
        SmtpAppender::start(self.check()?)
    }

    /// Every check [`build`](Self::build) makes, and nothing else: no thread, no connection,
    /// no spool. The YAML loader checks every appender of a config this way before it starts
    /// any. Errors name the field.
    pub fn check(self) -> anyhow::Result<CheckedSmtpAppender> {
        let host = self.host.trim().to_owned();
        if host.is_empty() {
            anyhow::bail!(
                "field \"host\": give the mail server's name, e.g. host: smtp.example.com"
            );
        }
        let from: Mailbox = self.from.parse().map_err(|e| {
            anyhow::anyhow!(
                "field \"from\": {:?} is not a valid mail address ({e}); use e.g. no-reply@example.com",
                self.from
            )
        })?;
        if self.to.is_empty() {
            anyhow::bail!(
                "field \"to\": give at least one recipient, e.g. to: [admin@example.com]"
            );
        }
        let mut to = Vec::with_capacity(self.to.len());
        for (i, t) in self.to.iter().enumerate() {
            to.push(t.parse::<Mailbox>().map_err(|e| {
                anyhow::anyhow!(
                    "field \"to[{i}]\": {t:?} is not a valid mail address ({e}); use e.g. admin@example.com"
                )
            })?);
        }
        match (&self.username, &self.password) {
            (Some(_), None) => anyhow::bail!(
                "field \"password\": username is set but no password; set password, password_env or password_file"
            ),
            (None, Some(_)) => anyhow::bail!(
                "field \"username\": a password is set but no username; set username too"
            ),
            _ => {}
        }
        if self.max_mails_per_hour == 0 {
            anyhow::bail!("field \"max_mails_per_hour\": must be at least 1");
        }
        if self.queue_size == 0 {
            anyhow::bail!("field \"queue_size\": must be at least 1");
        }
        // The subject is the line alone: the record's error chain belongs in the body.
        let subject = PythonEncoder::subject_line(&self.subject)
            .map_err(|e| anyhow::anyhow!("field \"subject\": {e}"))?;
        let tls = self.tls_parameters(&host)?;
        let encoder: Box<dyn Encode> = match self.encoder {
            Some(e) => e,
            None => Box::new(default_body_encoder()?),
        };
        // Checks the folder (never a link, never shared); creates nothing.
        let spool = self.spool_dir.clone().map(Spool::open).transpose()?;
        Ok(CheckedSmtpAppender {
            server: ServerSettings {
                host,
                port: self.port.unwrap_or(self.security.default_port()),
                security: self.security,
                tls,
                username: self.username,
                password: self.password,
                timeout: self.timeout,
                single_write_data: self.single_write_data,
            },
            addressing: Addressing::new(from, &to)?,
            digest: DigestSettings {
                batch_window: self.batch_window,
                max_mails_per_hour: self.max_mails_per_hour,
                context_records: self.context_records,
                max_entries: MAX_ENTRIES_PER_MAIL,
                appender_name: self.name.clone(),
            },
            name: self.name,
            level: self.level,
            subject,
            encoder,
            spool,
            spool_after: self.spool_after,
            retry_backoff: self.retry_backoff,
            queue_size: self.queue_size,
            on_full: self.on_full,
        })
    }

    fn tls_parameters(&self, host: &str) -> anyhow::Result<Option<TlsParameters>> {
        if self.security == Security::None {
            if self.root_certificate.is_some() {
                anyhow::bail!(
                    "field \"root_certificate\": has no effect with security: none; use starttls or tls"
                );
            }
            return Ok(None);
        }
        let mut b = TlsParameters::builder(host.to_owned())
            .dangerous_accept_invalid_certs(self.danger_accept_invalid_certs);
        if let Some(root) = &self.root_certificate {
            let (pem, origin) = root.read()?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                anyhow::anyhow!(
                    "field \"root_certificate\": {origin} is not a PEM certificate: {e}"
                )
            })?;
            b = b.add_root_certificate(cert);
        }
        let tls = b
            .build_rustls()
            .map_err(|e| anyhow::anyhow!("field \"root_certificate\": cannot set up TLS: {e}"))?;
        Ok(Some(tls))
    }
}

/// An smtp appender whose settings passed every check of [`SmtpAppenderBuilder::check`], not
/// started yet: [`SmtpAppender::start`] starts it.
pub struct CheckedSmtpAppender {
    pub(super) name: String,
    pub(super) server: ServerSettings,
    pub(super) addressing: Addressing,
    pub(super) digest: DigestSettings,
    pub(super) level: Level,
    pub(super) subject: PythonEncoder,
    pub(super) encoder: Box<dyn Encode>,
    pub(super) spool: Option<Spool>,
    pub(super) spool_after: Duration,
    pub(super) retry_backoff: Duration,
    pub(super) queue_size: usize,
    pub(super) on_full: OnFull,
}

impl fmt::Debug for CheckedSmtpAppender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckedSmtpAppender")
            .field("name", &self.name)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}
