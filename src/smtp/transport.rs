//! One SMTP connection, driven through lettre's public `SmtpConnection` API: connect (plain,
//! STARTTLS or implicit TLS), authenticate, send, and keep the connection for the next mail.
//!
//! Why not `lettre::SmtpTransport::send`: lettre writes the message body and the final
//! `\r\n.\r\n` as two separate writes without TCP_NODELAY, so the terminator waits for the
//! server's delayed ACK (~40 ms per mail on Linux loopback, a cap of ~22 mails/s). lettre's
//! `SmtpConnection::command` writes whatever it is given in one write; sending the dot-stuffed
//! body *with* its terminator as that one write removes the wait, using only public API. The
//! bytes on the wire are exactly those lettre would send.

use std::fmt;
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::fields::Secret;

use super::config::Security;

/// How long to wait for the server's answer to the end of the data (RFC 5321: 10 minutes).
const FINAL_REPLY_TIMEOUT: Duration = Duration::from_secs(600);

/// Where and how to connect.
#[derive(Clone)]
pub(crate) struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub tls: Option<TlsParameters>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub timeout: Duration,
    /// Body and terminator in one write (the latency fix). `false` uses lettre's own
    /// `SmtpConnection::send`, kept for the benchmark's comparison.
    pub single_write_data: bool,
}

impl fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why a mail was not delivered.
#[derive(Debug)]
pub(crate) enum SendError {
    /// Worth retrying: the server is down, slow, refused the connection, or answered with a
    /// 4xx.
    Transient(anyhow::Error),
    /// The server rejected this mail itself with a 5xx (sender, every recipient, or content):
    /// retrying the same mail cannot succeed.
    Permanent(anyhow::Error),
    /// The server refused the login for good (5xx to AUTH, e.g. 535 bad credentials): no mail
    /// can go out with these credentials, so retrying only hammers the server.
    LoginRefused(anyhow::Error),
}

/// What happened to each recipient of a mail the server took (DATA accepted by at least one).
#[derive(Debug, Default)]
pub(crate) struct Delivery {
    /// Recipients that took the mail (0 when every one was refused or deferred: nothing sent).
    pub accepted: usize,
    /// Refused for good (5xx to RCPT TO), with the server's answer: reported, not retried.
    pub refused: Vec<(Address, String)>,
    /// Refused for now (4xx to RCPT TO, e.g. 452 too many recipients): retried for them alone.
    pub deferred: Vec<Address>,
}

/// Which step of the dialogue failed: a reused connection that fails on the very first command
/// was most likely closed by the server while idle, so the mail is retried at once on a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Mail,
    Later,
}

/// One step of the dialogue that failed, for the message: `at` names the step (`MAIL FROM`).
struct StepFailure {
    stage: Stage,
    at: &'static str,
    error: lettre::transport::smtp::Error,
    /// How long the step's answer was waited for.
    waited: Duration,
}

/// A mail whose every recipient was refused (5xx to each RCPT TO).
struct AllRefused(Vec<(Address, String)>);

/// A lazily opened, reused SMTP connection.
pub(crate) struct Transport {
    settings: ServerSettings,
    connection: Option<SmtpConnection>,
    last_used: Instant,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("settings", &self.settings)
            .field("connected", &self.connection.is_some())
            .finish()
    }
}

impl Transport {
    pub(crate) fn new(settings: ServerSettings) -> Self {
        Transport {
            settings,
            connection: None,
            last_used: Instant::now(),
        }
    }

    /// `host:port (mode)`, for messages.
    pub(crate) fn describe(&self) -> String {
        let mode = match self.settings.security {
            Security::None => "plain",
            Security::Starttls => "starttls",
            Security::Tls => "tls",
        };
        let at = crate::host_port::HostPort(&self.settings.host, self.settings.port);
        format!("{at} ({mode})")
    }

    /// When the open connection was last used (None when closed).
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        self.connection.as_ref().map(|_| self.last_used)
    }

    /// Says goodbye (QUIT) and closes the connection, if open.
    pub(crate) fn close(&mut self) {
        if let Some(mut c) = self.connection.take() {
            let _ = c.quit();
        }
    }

    /// Delivers one mail to every recipient the server accepts (as Python's smtplib does).
    /// Returns once the server took the data (250 after the final dot), or failed; a mail
    /// whose every recipient is refused is a [`SendError::Permanent`].
    pub(crate) fn send(
        &mut self,
        envelope: &Envelope,
        bytes: &[u8],
    ) -> Result<Delivery, SendError> {
        let reused = self.connection.is_some();
        match self.try_send(envelope, bytes) {
            Err((Stage::Mail, SendError::Transient(_))) if reused => {
                // Most likely closed by the server while idle: once more on a fresh connection.
                self.try_send(envelope, bytes).map_err(|(_, e)| e)
            }
            other => other.map_err(|(_, e)| e),
        }
    }

    fn try_send(
        &mut self,
        envelope: &Envelope,
        bytes: &[u8],
    ) -> Result<Delivery, (Stage, SendError)> {
        if self.connection.is_none() {
            let c = self.connect().map_err(|e| (Stage::Mail, e))?;
            self.connection = Some(c);
        }
        let Some(conn) = self.connection.as_mut() else {
            return Err((
                Stage::Mail,
                SendError::Transient(anyhow::anyhow!("not connected")),
            ));
        };
        let timeout = self.settings.timeout;
        let result = if self.settings.single_write_data {
            deliver_in_one_write(conn, envelope, bytes, timeout)
        } else {
            conn.send(envelope, bytes)
                .map(|_| Delivery {
                    accepted: envelope.to().len(),
                    ..Delivery::default()
                })
                .map_err(|error| {
                    Err(StepFailure {
                        stage: Stage::Later,
                        at: "the mail dialogue",
                        error,
                        waited: timeout,
                    })
                })
        };
        self.last_used = Instant::now();
        match result {
            Ok(delivery) => Ok(delivery),
            // The connection is still good (RSET answered): keep it.
            Err(Ok(AllRefused(refused))) => Err((
                Stage::Later,
                SendError::Permanent(anyhow::anyhow!(
                    "sending to {}: the server refused every recipient: {}",
                    self.describe(),
                    list_refused(&refused)
                )),
            )),
            Err(Err(failure)) => {
                if let Some(mut c) = self.connection.take() {
                    c.abort();
                }
                let permanent = failure.error.is_permanent();
                let e = anyhow::anyhow!("sending to {}: {}", self.describe(), explain(&failure));
                Err((
                    failure.stage,
                    if permanent {
                        SendError::Permanent(e)
                    } else {
                        SendError::Transient(e)
                    },
                ))
            }
        }
    }

    fn connect(&self) -> Result<SmtpConnection, SendError> {
        let s = &self.settings;
        let hello = ClientId::default();
        let implicit_tls = match s.security {
            Security::Tls => s.tls.as_ref(),
            _ => None,
        };
        let failed = |at: &'static str, error| {
            let failure = StepFailure {
                stage: Stage::Mail,
                at,
                error,
                waited: s.timeout,
            };
            SendError::Transient(anyhow::anyhow!(
                "connecting to {}: {}",
                self.describe(),
                explain(&failure)
            ))
        };
        let mut conn = SmtpConnection::connect(
            (s.host.as_str(), s.port),
            Some(s.timeout),
            &hello,
            implicit_tls,
            None,
        )
        .map_err(|e| failed("the greeting and EHLO", e))?;
        if s.security == Security::Starttls {
            let Some(tls) = s.tls.as_ref() else {
                return Err(SendError::Transient(anyhow::anyhow!(
                    "connecting to {}: no TLS parameters for STARTTLS",
                    self.describe()
                )));
            };
            conn.starttls(tls, &hello)
                .map_err(|e| failed("STARTTLS", e))?;
        }
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            let credentials = Credentials::new(user.clone(), password.expose().to_owned());
            if let Err(error) = conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials) {
                conn.abort();
                // lettre's error holds the server's answer, never the credentials.
                if error.is_permanent() {
                    return Err(SendError::LoginRefused(anyhow::anyhow!(
                        "authentication failed: {} refused the login as {user:?} ({error}); \
                         check username and password",
                        self.describe()
                    )));
                }
                return Err(failed("AUTH", error));
            }
        }
        Ok(conn)
    }
}

/// The failure in words: a read that ran out of time is "the server did not answer within
/// 5s at MAIL FROM", not the operating system's "Resource temporarily unavailable".
fn explain(failure: &StepFailure) -> String {
    if timed_out(&failure.error) {
        format!(
            "the server did not answer within {} at {}",
            humantime::format_duration(failure.waited),
            failure.at
        )
    } else {
        format!("at {}: {}", failure.at, failure.error)
    }
}

/// True when the error is a socket read or write timeout (`EAGAIN` on unix with
/// `SO_RCVTIMEO`, `TimedOut` elsewhere).
fn timed_out(error: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            );
        }
        source = e.source();
    }
    false
}

/// `a@example.com (550 no such user), b@example.com (...)`.
pub(crate) fn list_refused(refused: &[(Address, String)]) -> String {
    refused
        .iter()
        .map(|(address, reply)| format!("{address} ({reply})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// MAIL, one RCPT per recipient, DATA as lettre sends them, then the dot-stuffed body and its
/// terminator in one write (see the module docs). A recipient refused with a 5xx is left out
/// and one refused with a 4xx is deferred, as smtplib does; only when no recipient is
/// accepted is the transaction reset (RSET) and the mail not sent.
fn deliver_in_one_write(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
    bytes: &[u8],
    timeout: Duration,
) -> Result<Delivery, Result<AllRefused, StepFailure>> {
    let step = |stage, at| {
        move |error| {
            Err(StepFailure {
                stage,
                at,
                error,
                waited: timeout,
            })
        }
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        // lettre's builder only produces UTF-8; if not, lettre's own path handles it.
        return conn
            .send(envelope, bytes)
            .map(|_| Delivery {
                accepted: envelope.to().len(),
                ..Delivery::default()
            })
            .map_err(step(Stage::Later, "the mail dialogue"));
    };
    let mut options = Vec::new();
    if !bytes.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), options))
        .map_err(step(Stage::Mail, "MAIL FROM"))?;
    let mut delivery = Delivery::default();
    for to in envelope.to() {
        match conn.command(Rcpt::new(to.clone(), vec![])) {
            Ok(_) => delivery.accepted += 1,
            Err(e) if e.is_permanent() => delivery.refused.push((to.clone(), e.to_string())),
            Err(e) if e.is_transient() => delivery.deferred.push(to.clone()),
            Err(e) => return Err(step(Stage::Later, "RCPT TO")(e)),
        }
    }
    if delivery.accepted == 0 {
        conn.command(Rset).map_err(step(Stage::Later, "RSET"))?;
        if delivery.deferred.is_empty() {
            return Err(Ok(AllRefused(delivery.refused)));
        }
        // Only deferrals (and refusals): nothing was sent; the outbox retries the deferred.
        return Ok(delivery);
    }
    conn.command(Data).map_err(step(Stage::Later, "DATA"))?;
    // Giving up on the reply to the final dot is what duplicates mail: the server may accept
    // it after we left, and the retry sends it again. So wait as long as RFC 5321 (4.5.3.2.6)
    // says a client should, on the sending thread, never the application's.
    let final_timeout = timeout.max(FINAL_REPLY_TIMEOUT);
    let _ = conn.set_timeout(Some(final_timeout));
    let sent = conn.command(DataWithTerminator(text));
    let _ = conn.set_timeout(Some(timeout));
    sent.map_err(|error| {
        Err(StepFailure {
            stage: Stage::Later,
            at: "the end of the data",
            error,
            waited: final_timeout,
        })
    })?;
    Ok(delivery)
}

/// The message, dot-stuffed (a line starting with `.` gets another `.`, RFC 5321 4.5.2), then
/// `\r\n.\r\n`: what lettre writes in two writes, as one.
struct DataWithTerminator<'a>(&'a str);

impl fmt::Display for DataWithTerminator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut at_line_start = true;
        let mut rest = self.0;
        while !rest.is_empty() {
            if at_line_start && rest.starts_with('.') {
                f.write_str(".")?;
            }
            match rest.find('\n') {
                Some(i) => {
                    f.write_str(&rest[..=i])?;
                    at_line_start = rest[..i].ends_with('\r');
                    rest = &rest[i + 1..];
                }
                None => {
                    f.write_str(rest)?;
                    rest = "";
                }
            }
        }
        f.write_str("\r\n.\r\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_dot_stuffed_like_lettre_and_ends_with_the_terminator() {
        let s = DataWithTerminator("a\r\n.b\r\n..c\r\nd.\r\n.").to_string();
        assert_eq!(s, "a\r\n..b\r\n...c\r\nd.\r\n..\r\n.\r\n");
        assert_eq!(DataWithTerminator(".x").to_string(), "..x\r\n.\r\n");
        // A bare LF does not start a new line for SMTP (lettre's codec agrees).
        assert_eq!(DataWithTerminator("a\n.b").to_string(), "a\n.b\r\n.\r\n");
    }

    #[test]
    fn an_ipv6_server_is_shown_in_brackets() {
        let transport = Transport::new(ServerSettings {
            host: "::1".to_owned(),
            port: 25,
            security: Security::None,
            tls: None,
            username: None,
            password: None,
            timeout: Duration::from_secs(1),
            single_write_data: true,
        });
        assert_eq!(transport.describe(), "[::1]:25 (plain)");
    }
}
