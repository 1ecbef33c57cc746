//! HTTP delivery of envelopes to `/api/<project>/envelope/` (ureq, rustls with the ring
//! provider, certificates verified), and the server's rate limits (HTTP 429, `Retry-After`,
//! `X-Sentry-Rate-Limits`).
//!
//! Sentry's own rate limiter (`sentry::transports::RateLimiter`) lives in the `sentry` crate
//! behind its HTTP-client features, which would bring that crate's client and TLS set-up; the
//! rules it implements are short and written out here ([`RateLimits`]).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use sentry_types::Dsn;

use crate::fields::Secret;

/// What the sending thread needs to reach the server, checked and resolved; nothing connected.
pub(crate) struct TransportSettings {
    /// `https://host[:port]/api/<project>/envelope/`: holds no key.
    url: String,
    /// The `X-Sentry-Auth` header: holds the key.
    auth: Secret,
    /// `None`: Mozilla's roots.
    root_certificates: Option<Vec<CertificateDer<'static>>>,
    pub(crate) timeout: Duration,
}

impl TransportSettings {
    pub(crate) fn new(
        dsn: &Dsn,
        root_certificates: Option<Vec<CertificateDer<'static>>>,
        timeout: Duration,
    ) -> Self {
        let client = concat!("log4rs-appenders/", env!("CARGO_PKG_VERSION"));
        TransportSettings {
            url: dsn.envelope_api_url().to_string(),
            auth: Secret::new(dsn.to_auth(Some(client)).to_string()),
            root_certificates,
            timeout,
        }
    }

    /// Where events go, for messages (no key in it).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

impl fmt::Debug for TransportSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportSettings")
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// What became of one envelope.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The server answered 2xx: stored (or deliberately discarded by the server's filters).
    Delivered,
    /// Not now: the server is rate limiting events until then (429, or a limit in its answer).
    RateLimited(Instant),
    /// Not now: the server could not be reached or failed (5xx); try again later.
    Retry(anyhow::Error),
    /// Never: the server refused this envelope (4xx other than 429); sending it again cannot help.
    Rejected(anyhow::Error),
}

/// The HTTP client of one appender's sending thread.
pub(crate) struct Transport {
    agent: ureq::Agent,
    url: String,
    auth: Secret,
    timeout: Duration,
    limits: RateLimits,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// An HTTP client with rustls (ring, explicitly: never a process-wide default provider),
    /// certificates verified against Mozilla's roots or the configured ones.
    pub(crate) fn new(settings: TransportSettings) -> Self {
        use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
        let roots = match settings.root_certificates {
            Some(certs) => RootCerts::from(
                certs
                    .iter()
                    .map(|c| Certificate::from_der(c.as_ref()).to_owned()),
            ),
            None => RootCerts::WebPki,
        };
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .root_certs(roots)
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(settings.timeout))
            .user_agent(concat!("log4rs-appenders/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Transport {
            agent,
            url: settings.url,
            auth: settings.auth,
            timeout: settings.timeout,
            limits: RateLimits::default(),
        }
    }

    /// Where events go (no key in it).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// When events may be sent again, if the server asked for a pause.
    pub(crate) fn limited_until(&self, now: Instant) -> Option<Instant> {
        self.limits.events_until.filter(|until| *until > now)
    }

    /// Posts one envelope, waiting at most `timeout` (and at most until `deadline`).
    pub(crate) fn send(&mut self, envelope: &[u8], deadline: Option<Instant>) -> Outcome {
        let now = Instant::now();
        if let Some(until) = self.limited_until(now) {
            return Outcome::RateLimited(until);
        }
        let timeout = match deadline {
            Some(d) => self
                .timeout
                .min(d.saturating_duration_since(now))
                .max(Duration::from_millis(1)),
            None => self.timeout,
        };
        let answer = self
            .agent
            .post(&self.url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("X-Sentry-Auth", self.auth.expose())
            .header("Content-Type", "application/x-sentry-envelope")
            .send(envelope);
        let mut response = match answer {
            Ok(r) => r,
            Err(e) => {
                let hint = if is_certificate_error(&e) {
                    " (the server's certificate is not trusted: for a private CA, set \
                     root_certificate to its PEM file)"
                } else {
                    ""
                };
                return Outcome::Retry(anyhow::anyhow!("cannot reach {}: {e}{hint}", self.url));
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (retry_after, sentry_limits) = (header("retry-after"), header("x-sentry-rate-limits"));
        let now = Instant::now();
        self.limits.update(
            status,
            retry_after.as_deref(),
            sentry_limits.as_deref(),
            now,
        );
        match status {
            200..=299 => Outcome::Delivered,
            429 => {
                Outcome::RateLimited(self.limited_until(now).unwrap_or(now + DEFAULT_RETRY_AFTER))
            }
            400..=499 => {
                // The body says why (Sentry: `{"detail": ...}`); it never holds our key.
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(1024)
                    .read_to_string()
                    .unwrap_or_default();
                Outcome::Rejected(anyhow::anyhow!(
                    "{} refused the event with HTTP {status}: {}",
                    self.url,
                    body.trim()
                ))
            }
            _ => Outcome::Retry(anyhow::anyhow!(
                "{} answered HTTP {status}; the event is sent again later",
                self.url
            )),
        }
    }
}

/// Whether the connection failed because the server's certificate was refused.
fn is_certificate_error(e: &ureq::Error) -> bool {
    let rustls_error = match e {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(e) => e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    matches!(
        rustls_error,
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    )
}

/// How long to pause after a 429 without a usable `Retry-After` (Sentry's SDKs use 60 s).
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The server's rate limits on events (the `error` and `default` data categories, and limits
/// on every category). Limits on other categories (transactions, spans, ... which Bugsink
/// announces in every answer) do not stop events.
#[derive(Debug, Default)]
pub(crate) struct RateLimits {
    events_until: Option<Instant>,
}

impl RateLimits {
    /// Reads a server answer: `X-Sentry-Rate-Limits` when present (it is authoritative), else
    /// `Retry-After` on a 429 (seconds; an HTTP date, or nothing usable, counts as 60 s).
    pub(crate) fn update(
        &mut self,
        status: u16,
        retry_after: Option<&str>,
        sentry_limits: Option<&str>,
        now: Instant,
    ) {
        if let Some(header) = sentry_limits {
            // <limits> = <limit>(,<limit>)*; <limit> = <seconds>:<category>(;<category>)*:<scope>...
            for limit in header.split(',') {
                let mut parts = limit.trim().split(':');
                let Some(Ok(seconds)) = parts.next().map(|s| s.trim().parse::<f64>()) else {
                    continue;
                };
                let categories = parts.next().unwrap_or("");
                let applies = categories.trim().is_empty()
                    || categories
                        .split(';')
                        .any(|c| matches!(c.trim(), "error" | "default"));
                if applies && seconds.is_finite() && seconds > 0.0 {
                    self.pause_until(now + Duration::from_secs_f64(seconds.min(86_400.0)));
                }
            }
            return;
        }
        if status == 429 {
            let pause = retry_after
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
                .unwrap_or(DEFAULT_RETRY_AFTER);
            self.pause_until(now + pause);
        }
    }

    fn pause_until(&mut self, until: Instant) {
        if self.events_until.is_none_or(|u| u < until) {
            self.events_until = Some(until);
        }
    }

    /// When events may be sent again, if paused.
    #[cfg(test)]
    pub(crate) fn until(&self) -> Option<Instant> {
        self.events_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_with_retry_after_pauses_events_for_that_long() {
        let now = Instant::now();
        let mut limits = RateLimits::default();
        limits.update(429, Some("7"), None, now);
        assert_eq!(limits.until(), Some(now + Duration::from_secs(7)));
    }

    #[test]
    fn a_429_without_a_usable_retry_after_pauses_for_a_minute() {
        let now = Instant::now();
        let mut limits = RateLimits::default();
        limits.update(429, Some("Wed, 21 Oct 2015 07:28:00 GMT"), None, now);
        assert_eq!(limits.until(), Some(now + Duration::from_secs(60)));
    }

    #[test]
    fn limits_on_other_categories_do_not_stop_events() {
        // What Bugsink sends with every answer.
        let now = Instant::now();
        let mut limits = RateLimits::default();
        limits.update(200, None, Some("86400:transaction;span:organization"), now);
        assert_eq!(limits.until(), None);
        limits.update(
            429,
            Some("1"),
            Some("60:transaction:key, 2:error;default:project"),
            now,
        );
        assert_eq!(limits.until(), Some(now + Duration::from_secs(2)));
        // An empty category list limits everything.
        limits.update(429, None, Some("30::organization"), now);
        assert_eq!(limits.until(), Some(now + Duration::from_secs(30)));
    }

    #[test]
    fn settings_never_show_the_key() {
        let dsn: Dsn = "https://0123456789abcdef:5ec2e7@sentry.example.com/42"
            .parse()
            .unwrap();
        let s = TransportSettings::new(&dsn, None, Duration::from_secs(1));
        let shown = format!("{s:?} {}", s.url());
        assert!(
            !shown.contains("0123456789abcdef") && !shown.contains("5ec2e7"),
            "{shown}"
        );
        assert_eq!(s.url(), "https://sentry.example.com/api/42/envelope/");
    }
}
