//! The `smtp` appender: Python's `SMTPHandler`, made safe for production. Records at or above
//! `level` (error by default) are mailed from a background thread as digests: repeats collapse
//! into counts, at most `max_mails_per_hour` mails leave, an outage delays mail (retry with
//! backoff, spool to disk) instead of losing it, and the logging call never waits for the
//! network.
//!
//! ```yaml
//! appenders:
//!   mail:
//!     kind: smtp
//!     host: smtp.example.com
//!     security: starttls        # none | starttls | tls
//!     from: no-reply@example.com
//!     to: [admin@example.com]
//!     username: mailer
//!     password_env: SMTP_PASSWORD
//! ```
//!
//! # Fields
//!
//! | field | default | meaning |
//! |---|---|---|
//! | `host` | required | mail server |
//! | `port` | 25 / 587 / 465 by `security` | 1-65535 |
//! | `security` | `starttls` | `none`, `starttls` (required, not opportunistic), `tls` (implicit TLS) |
//! | `from`, `to` | required | `addr@host` or `Name <addr@host>`; `to` is a list, at least one. Up to 50 recipients are listed in a `To:` header folded at 78 characters; with more, `To: undisclosed-recipients:;` and the recipients are in the envelope only (10,000 tested) |
//! | `subject` | `%(levelname)s in %(name)s: %(message)s` | rendered from the first record of the mail; ` (+N more)` is appended when the mail holds more; sanitized, cut at 160 characters |
//! | `username` + `password` / `password_env` / `password_file` | none | AUTH PLAIN or LOGIN; the password never appears in `Debug`, errors or logs |
//! | `level` | `error` | records at this level or above are mailed |
//! | `encoder` | python encoder, `%(asctime)s %(levelname)s [%(name)s] %(message)s (%(filename)s:%(lineno)d)` | renders each record in the body |
//! | `timeout` | 10 s | each SMTP step (connect, TLS, a command), and how long `flush()` waits |
//! | `batch_window` | 10 s | records within the window after the first go out in one mail |
//! | `max_mails_per_hour` | 30 | beyond it, records wait for the next mail (counted, never lost) |
//! | `context_records` | 0 | include up to N records below `level` that preceded each new error (route those records to this appender: its own `level`, not a log4rs threshold filter, decides what is mailed) |
//! | `spool_dir`, `spool_after` | none, 60 s | mails undelivered for `spool_after` are written to `spool_dir` and resent, also by the next run |
//! | `retry_backoff` | 1 s | first wait after a failed delivery; doubles up to 60 s |
//! | `root_certificate` | none | extra trusted CA (PEM), for a private CA or a self-signed server |
//! | `danger_accept_invalid_certs` | false | accept ANY certificate: mail and password readable by anyone on the path |
//! | `queue_size`, `on_full` | 10000, `drop` | the queue between the application and the mail worker; dropped errors are counted in the next mail |
//!
//! # How it works
//!
//! `append` renders the record (body and subject) and puts it in a bounded queue; that is all the
//! application thread does. A mail worker thread builds the digest: repeats of the same error (same
//! target and call site `file:line`; without a location, the same message with its numbers masked)
//! become one entry with a count, the first and the last text, and the context records that
//! preceded it. When the window closes (and the hourly limit allows) the digest becomes one mail,
//! with an `X-Log4rs-Records: N` header. What the mail cannot list is still counted in it: more
//! than 100 distinct errors ("Suppressed: ..."), errors dropped by a full queue ("Dropped: ..."),
//! and a delay by the hourly limit ("Held back: ..."). A third thread sends: one connection, reused
//! and closed after 5 s idle; on a failure it retries with exponential backoff and reports the
//! failure once per streak (log4rs's error path, naming the appender); mails that waited for
//! `spool_after` are written to `spool_dir` (temporary file, fsync, rename) and deleted only after
//! the server accepted them (250 after the data). At startup the spool is resent. `flush()` (log4rs
//! calls it on shutdown) sends the pending digest at once, ignoring the window, and waits at most
//! `timeout`; what is still undelivered then is spooled and delivery goes on in the background.
//! Dropping the appender (the application exits, a reload replaces it) sends the pending digest
//! and delivers for at most `timeout`; then it reports, as `shutting down: ...`, the records in
//! the mails only memory held (`3 records were lost while 127.0.0.1:25 (plain) was not taking them
//! (set spool_dir to keep them for the next run)`) and the mails `spool_dir` keeps (`1 mail is
//! kept in spool_dir /var/spool/app and sent by the next run`).
//!
//! # Delivery
//!
//! Delivery is exactly once with one caveat that SMTP itself has (RFC 1047): if the connection dies
//! after the server received the final `.` but before its `250` reached us, the mail is sent again.
//! To keep that window small, the reply to the final `.` gets the 10 minutes RFC 5321 recommends,
//! not `timeout` (on the sending thread, never the application's). A 5xx for the mail itself
//! (sender, recipient, content) is reported and not retried (its spool file is renamed
//! `*.rejected`); login, TLS and connection failures are retried. One appender at a time owns a
//! `spool_dir` (a lock on its `.lock` file): during a reload to the same `spool_dir`, the new
//! appender takes the spool over once the old one has drained and let go, so a spooled mail is sent
//! once; a second process on the same `spool_dir` leaves the spool to the first (reported after
//! 30 s).
//!
//! # Header safety
//!
//! Every control character (CR, LF, TAB, NUL, DEL, C1) and Unicode line separator from a log
//! message becomes a space before it reaches the subject; long subjects are cut at a character
//! boundary with `…`; non-ASCII subjects are RFC 2047 encoded by lettre.
//!
//! # TLS
//!
//! lettre 0.11 with rustls, the `ring` provider and webpki-roots: no system OpenSSL needed, no
//! cmake/aws-lc build (a clean debug build of the crate, dev-dependencies included, took about a
//! minute on 2 shared cores), and `ring` is also what the tests' certificate generator (rcgen)
//! uses. lettre picks an installed process-wide rustls provider first and falls back to ring, so an
//! application that also uses aws-lc-rs does not hit rustls's "cannot determine the CryptoProvider"
//! panic. Certificates are checked by default; `root_certificate` adds a trusted CA;
//! `danger_accept_invalid_certs` turns checks off.
//!
//! # The latency fix (lettre's two writes)
//!
//! lettre's `SmtpConnection::send` writes the message and the final `\r\n.\r\n` as two writes on a
//! socket without TCP_NODELAY, so the second small write waits for the server's delayed ACK: ~45 ms
//! per mail on loopback, ~20 mails/s per connection. lettre offers no way to set TCP_NODELAY (its
//! `NetworkStream` hides the socket), and a pooled transport does not help (each mail still does
//! the two writes). Its public `SmtpConnection::command` writes what it is given in one write, so
//! the appender drives the dialogue itself through lettre's public API
//! (`SmtpConnection::connect`/`starttls`/`auth`, then `MAIL`, `RCPT`, `DATA`, then the dot-stuffed
//! message *with* its terminator as one `command`). The bytes on the wire are the same; the wait is
//! gone.
//!
//! Threads: the application thread renders the record and queues it ([`SmtpAppender`]); the
//! mail worker digests and composes; the sending thread talks SMTP (lettre), retries and spools.

mod appender;
mod builder;
mod config;
mod digest;
mod message;
mod outbox;
mod spool;
mod transport;

pub use appender::SmtpAppender;
pub use builder::{CheckedSmtpAppender, SmtpAppenderBuilder};
pub use config::Security;
pub use message::{
    DEFAULT_BODY_FORMAT, DEFAULT_SUBJECT, MAX_SUBJECT_CHARS, MAX_TO_HEADER_RECIPIENTS,
};

use log4rs::append::Append;
use log4rs::config::Deserializers;

use crate::registry::{AppenderDeserializer, AppenderKind};

/// The `smtp` kind, listed in [`crate::registry`]: YAML -> [`SmtpAppenderBuilder`] ->
/// [`SmtpAppender`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SmtpKind;

/// log4rs's deserializer of `kind: smtp` (what [`crate::deserializers`] registers).
pub type SmtpAppenderDeserializer = AppenderDeserializer<SmtpKind>;

impl AppenderKind for SmtpKind {
    const KIND: &'static str = "smtp";
    const FEATURE: Option<&'static str> = Some("smtp");
    type Config = config::SmtpConfig;
    type Checked = CheckedSmtpAppender;

    fn check(
        config: config::SmtpConfig,
        deserializers: &Deserializers,
    ) -> anyhow::Result<CheckedSmtpAppender> {
        config.into_builder(deserializers)?.check()
    }

    fn start(checked: CheckedSmtpAppender) -> anyhow::Result<Box<dyn Append>> {
        Ok(Box::new(SmtpAppender::start(checked)?))
    }
}
