//! The programmatic API: [`SentryAppenderBuilder`], with the same options and the same
//! validation as the YAML config.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use log::Level;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sentry_types::{Dsn, Scheme};
use serde::Deserialize;

use crate::fields::Secret;
use crate::root_certificate::RootCertificate;
use crate::worker::OnFull;

use super::appender::SentryAppender;
use super::event::EventSettings;
use super::spool::EventSpool;
use super::transport::TransportSettings;

/// Where the breadcrumbs of an event come from.
///
/// Sentry's SDKs keep breadcrumbs in a scope: the Rust SDK gives each thread its own hub, the
/// Python SDK each request its own isolation scope. A log record has neither a hub nor a
/// request, so the closest match is the thread: with [`BreadcrumbScope::Thread`] (the default)
/// an error on a request thread carries what that thread logged before it, not what other
/// requests logged meanwhile. [`BreadcrumbScope::Appender`] keeps one list for the whole
/// process, for programs where one job hops between threads (a thread pool, async tasks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreadcrumbScope {
    /// Each thread keeps its own last `max_breadcrumbs` records (the default).
    #[default]
    Thread,
    /// One list of the last `max_breadcrumbs` records of every thread.
    Appender,
}

/// Builds a [`SentryAppender`]. Every option has the YAML field of the same name (see the
/// module docs, [`crate::sentry`], for the table of fields and defaults).
///
/// ```no_run
/// use log4rs_appenders::fields::Secret;
/// use log4rs_appenders::sentry::SentryAppender;
///
/// let appender = SentryAppender::builder()
///     .name("sentry")
///     .dsn(Secret::new(std::env::var("SENTRY_DSN").unwrap_or_default()))
///     .environment("production")
///     .release("microblog@1.4.2")
///     .tags(["user_id", "request_id"])
///     .build()
///     .expect("valid Sentry settings");
/// ```
pub struct SentryAppenderBuilder {
    name: String,
    dsn: Option<Secret>,
    environment: Option<String>,
    release: Option<String>,
    server_name: Option<String>,
    level: Level,
    breadcrumbs: Level,
    max_breadcrumbs: usize,
    breadcrumbs_scope: BreadcrumbScope,
    tags: Vec<String>,
    in_app: Vec<String>,
    spool_dir: Option<PathBuf>,
    timeout: Duration,
    retry_backoff: Duration,
    root_certificate: Option<RootCertificate>,
    queue_size: usize,
    on_full: OnFull,
}

impl Default for SentryAppenderBuilder {
    fn default() -> Self {
        SentryAppenderBuilder {
            name: String::from("sentry"),
            dsn: None,
            environment: None,
            release: None,
            server_name: None,
            level: Level::Error,
            breadcrumbs: Level::Info,
            max_breadcrumbs: 100,
            breadcrumbs_scope: BreadcrumbScope::Thread,
            tags: Vec::new(),
            in_app: Vec::new(),
            spool_dir: None,
            timeout: Duration::from_secs(5),
            retry_backoff: Duration::from_secs(1),
            root_certificate: None,
            queue_size: 1000,
            on_full: OnFull::Drop,
        }
    }
}

impl fmt::Debug for SentryAppenderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryAppenderBuilder")
            .field("name", &self.name)
            .field("dsn", &self.dsn)
            .field("environment", &self.environment)
            .field("release", &self.release)
            .field("level", &self.level)
            .field("breadcrumbs", &self.breadcrumbs)
            .field("spool_dir", &self.spool_dir)
            .finish_non_exhaustive()
    }
}

impl SentryAppenderBuilder {
    /// The appender's name in error messages (the YAML loader sets it to the appender's key).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The project's DSN, `https://<key>@<host>/<project id>` (`dsn:`, `dsn_env:` or
    /// `dsn_file:`). Required. Its key is a secret: never printed.
    pub fn dsn(mut self, dsn: Secret) -> Self {
        self.dsn = Some(dsn);
        self
    }

    /// The event's `environment` (`environment:`), e.g. `production`.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// The event's `release` (`release:`), e.g. `microblog@1.4.2`.
    pub fn release(mut self, release: impl Into<String>) -> Self {
        self.release = Some(release.into());
        self
    }

    /// The event's `server_name` (`server_name:`); default this host's name.
    pub fn server_name(mut self, server_name: impl Into<String>) -> Self {
        self.server_name = Some(server_name.into());
        self
    }

    /// Records at this level or more severe become events (`level:`); default `error`.
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Records below `level` and at this level or more severe become breadcrumbs of the next
    /// event (`breadcrumbs:`); default `info`. The logger must route them to this appender.
    pub fn breadcrumbs(mut self, level: Level) -> Self {
        self.breadcrumbs = level;
        self
    }

    /// How many breadcrumbs an event carries at most, the latest (`max_breadcrumbs:`); default
    /// 100, as Sentry's SDKs. 0 turns breadcrumbs off.
    pub fn max_breadcrumbs(mut self, max: usize) -> Self {
        self.max_breadcrumbs = max;
        self
    }

    /// Per thread (default) or per appender (`breadcrumbs_scope: thread | appender`); see
    /// [`BreadcrumbScope`].
    pub fn breadcrumbs_scope(mut self, scope: BreadcrumbScope) -> Self {
        self.breadcrumbs_scope = scope;
        self
    }

    /// Record key-values sent as the event's tags (`tags:`, a list of keys); the other
    /// key-values go to `extra`.
    pub fn tags<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.tags.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Crate names whose stack frames are the application's own (`in_app:`, a list), shown
    /// expanded by Sentry. Default: every frame outside the standard library and well-known
    /// infrastructure crates (log, log4rs, this crate, ...).
    pub fn in_app<S: Into<String>>(mut self, crates: impl IntoIterator<Item = S>) -> Self {
        self.in_app.extend(crates.into_iter().map(Into::into));
        self
    }

    /// Events are written to this directory before they are sent, deleted once the server
    /// answered 200, and sent again by the next run if it never did (`spool_dir:`). Default:
    /// none (undelivered events wait in memory, at most `queue_size`).
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// Network timeout of one request, and how long `flush` waits (`timeout:`); default 5 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The first wait after a failed delivery; it doubles per failure up to 60 s
    /// (`retry_backoff:`); default 1 s.
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }

    /// Trusts only the CA certificates in this PEM file, for a server with a private CA
    /// (`root_certificate:`). Default: Mozilla's roots (webpki-roots).
    pub fn root_certificate(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.root_certificate = Some(RootCertificate::Path(pem_file.into()));
        self
    }

    /// Like [`root_certificate`](Self::root_certificate), with the PEM text itself.
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificate = Some(RootCertificate::Pem(pem.into()));
        self
    }

    /// Capacity of the queue between the application and the sending thread, and of the
    /// in-memory backlog without `spool_dir` (`queue_size:`); default 1000 events.
    pub fn queue_size(mut self, size: usize) -> Self {
        self.queue_size = size;
        self
    }

    /// What `append` does when the queue is full (`on_full: drop | block`); default drop: the
    /// event is counted, and the count reported (to log4rs's error handler, and to Sentry as
    /// an event of its own).
    pub fn on_full(mut self, on_full: OnFull) -> Self {
        self.on_full = on_full;
        self
    }

    /// Validates everything and starts the appender's sending thread (which picks up events
    /// left in the spool). Never connects before there is an event to send.
    pub fn build(self) -> anyhow::Result<SentryAppender> {
        SentryAppender::start(self.check()?)
    }

    /// Every check [`build`](Self::build) makes, and nothing else: no thread, no connection,
    /// no spool folder. Errors name the field, and never show the DSN.
    pub fn check(self) -> anyhow::Result<CheckedSentryAppender> {
        let Some(dsn) = &self.dsn else {
            anyhow::bail!(
                "field \"dsn\": give the project's DSN (dsn, dsn_env or dsn_file), e.g. dsn_env: SENTRY_DSN"
            );
        };
        // ParseDsnError's messages never quote the input, so the key stays out of the error.
        let dsn: Dsn = dsn.expose().trim().parse().map_err(|e| {
            anyhow::anyhow!(
                "field \"dsn\": not a valid Sentry DSN ({e}); expected https://<key>@<host>/<project id>"
            )
        })?;
        if self.level > self.breadcrumbs {
            anyhow::bail!(
                "field \"level\": {} is below breadcrumbs: {}, so no record could become a \
                 breadcrumb; lower breadcrumbs (e.g. breadcrumbs: info) or raise level",
                self.level.as_str().to_ascii_lowercase(),
                self.breadcrumbs.as_str().to_ascii_lowercase()
            );
        }
        if self.queue_size == 0 {
            anyhow::bail!("field \"queue_size\": must be at least 1");
        }
        if self.timeout.is_zero() {
            anyhow::bail!("field \"timeout\": must be more than 0 seconds");
        }
        if let Some(i) = self.tags.iter().position(|t| t.trim().is_empty()) {
            anyhow::bail!("field \"tags[{i}]\": a tag needs a key-value name");
        }
        if let Some(i) = self.in_app.iter().position(|t| t.trim().is_empty()) {
            anyhow::bail!("field \"in_app[{i}]\": give a crate name, e.g. microblog");
        }
        let root_certificates = match &self.root_certificate {
            None => None,
            Some(_) if dsn.scheme() == Scheme::Http => anyhow::bail!(
                "field \"root_certificate\": has no effect with an http:// DSN; use https://"
            ),
            Some(root) => Some(read_certificates(root)?),
        };
        // Checks the folder (never a link, never shared); creates nothing.
        let spool = self.spool_dir.clone().map(EventSpool::open).transpose()?;
        let server_name = self.server_name.clone().or_else(this_host);
        Ok(CheckedSentryAppender {
            transport: TransportSettings::new(&dsn, root_certificates, self.timeout),
            event: EventSettings {
                tags: self.tags,
                in_app: self.in_app,
                server_name,
                environment: self.environment,
                release: self.release,
            },
            name: self.name,
            level: self.level,
            breadcrumbs: self.breadcrumbs,
            max_breadcrumbs: self.max_breadcrumbs,
            breadcrumbs_scope: self.breadcrumbs_scope,
            spool,
            retry_backoff: self.retry_backoff,
            queue_size: self.queue_size,
            on_full: self.on_full,
        })
    }
}

fn read_certificates(root: &RootCertificate) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let (pem, origin) = root.read()?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            anyhow::anyhow!("field \"root_certificate\": {origin} is not a PEM certificate: {e}")
        })?;
    if certs.is_empty() {
        anyhow::bail!("field \"root_certificate\": {origin} holds no PEM certificate");
    }
    Ok(certs)
}

/// This host's name, for `server_name`.
fn this_host() -> Option<String> {
    ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

/// A sentry appender whose settings passed every check of [`SentryAppenderBuilder::check`],
/// not started yet: [`SentryAppender::start`] starts it.
pub struct CheckedSentryAppender {
    pub(super) name: String,
    pub(super) transport: TransportSettings,
    pub(super) event: EventSettings,
    pub(super) level: Level,
    pub(super) breadcrumbs: Level,
    pub(super) max_breadcrumbs: usize,
    pub(super) breadcrumbs_scope: BreadcrumbScope,
    pub(super) spool: Option<EventSpool>,
    pub(super) retry_backoff: Duration,
    pub(super) queue_size: usize,
    pub(super) on_full: OnFull,
}

impl fmt::Debug for CheckedSentryAppender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckedSentryAppender")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}
