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

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::config::Secret;

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
    /// Worth retrying: the server is down, slow, refused the connection or the login, or
    /// answered with a 4xx.
    Transient(anyhow::Error),
    /// The server rejected this mail itself with a 5xx (sender, recipient or content):
    /// retrying the same mail cannot succeed.
    Permanent(anyhow::Error),
}

/// Which step of the dialogue failed: a reused connection that fails on the very first command
/// was most likely closed by the server while idle, so the mail is retried at once on a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Mail,
    Later,
}

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
        format!("{}:{} ({mode})", self.settings.host, self.settings.port)
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

    /// Delivers one mail. Returns once the server accepted it (250 after the data) or failed.
    pub(crate) fn send(&mut self, envelope: &Envelope, bytes: &[u8]) -> Result<(), SendError> {
        let reused = self.connection.is_some();
        match self.try_send(envelope, bytes) {
            Err((Stage::Mail, SendError::Transient(_))) if reused => {
                // Most likely closed by the server while idle: once more on a fresh connection.
                self.try_send(envelope, bytes).map_err(|(_, e)| e)
            }
            other => other.map_err(|(_, e)| e),
        }
    }

    fn try_send(&mut self, envelope: &Envelope, bytes: &[u8]) -> Result<(), (Stage, SendError)> {
        if self.connection.is_none() {
            let c = self
                .connect()
                .map_err(|e| (Stage::Mail, SendError::Transient(e)))?;
            self.connection = Some(c);
        }
        let Some(conn) = self.connection.as_mut() else {
            return Err((
                Stage::Mail,
                SendError::Transient(anyhow::anyhow!("not connected")),
            ));
        };
        let result = if self.settings.single_write_data {
            deliver_in_one_write(conn, envelope, bytes, self.settings.timeout)
        } else {
            conn.send(envelope, bytes)
                .map(|_| ())
                .map_err(|e| (Stage::Later, e))
        };
        self.last_used = Instant::now();
        match result {
            Ok(()) => Ok(()),
            Err((stage, e)) => {
                if let Some(mut c) = self.connection.take() {
                    c.abort();
                }
                let permanent = e.is_permanent();
                let e = anyhow::anyhow!("sending to {}: {e}", self.describe());
                Err((
                    stage,
                    if permanent {
                        SendError::Permanent(e)
                    } else {
                        SendError::Transient(e)
                    },
                ))
            }
        }
    }

    fn connect(&self) -> anyhow::Result<SmtpConnection> {
        let s = &self.settings;
        let hello = ClientId::default();
        let implicit_tls = match s.security {
            Security::Tls => s.tls.as_ref(),
            _ => None,
        };
        let describe = || self.describe();
        let mut conn = SmtpConnection::connect(
            (s.host.as_str(), s.port),
            Some(s.timeout),
            &hello,
            implicit_tls,
            None,
        )
        .map_err(|e| anyhow::anyhow!("connecting to {}: {e}", describe()))?;
        if s.security == Security::Starttls {
            let Some(tls) = s.tls.as_ref() else {
                anyhow::bail!(
                    "connecting to {}: no TLS parameters for STARTTLS",
                    describe()
                );
            };
            conn.starttls(tls, &hello)
                .map_err(|e| anyhow::anyhow!("STARTTLS with {}: {e}", describe()))?;
        }
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            let credentials = Credentials::new(user.clone(), password.expose().to_owned());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .map_err(|e| {
                    // lettre's error holds the server's answer, never the credentials.
                    anyhow::anyhow!("logging in to {} as {user:?}: {e}", describe())
                })?;
        }
        Ok(conn)
    }
}

/// MAIL, RCPT, DATA as lettre sends them, then the dot-stuffed body and its terminator in one
/// write (see the module docs).
fn deliver_in_one_write(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
    bytes: &[u8],
    timeout: Duration,
) -> Result<(), (Stage, lettre::transport::smtp::Error)> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        // lettre's builder only produces UTF-8; if not, lettre's own path handles it.
        return conn
            .send(envelope, bytes)
            .map(|_| ())
            .map_err(|e| (Stage::Later, e));
    };
    let mut options = Vec::new();
    if !bytes.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), options))
        .map_err(|e| (Stage::Mail, e))?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![]))
            .map_err(|e| (Stage::Later, e))?;
    }
    conn.command(Data).map_err(|e| (Stage::Later, e))?;
    // Giving up on the reply to the final dot is what duplicates mail: the server may accept
    // it after we left, and the retry sends it again. So wait as long as RFC 5321 (4.5.3.2.6)
    // says a client should, on the sending thread, never the application's.
    let _ = conn.set_timeout(Some(timeout.max(FINAL_REPLY_TIMEOUT)));
    let sent = conn.command(DataWithTerminator(text));
    let _ = conn.set_timeout(Some(timeout));
    sent.map_err(|e| (Stage::Later, e))?;
    Ok(())
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
}
