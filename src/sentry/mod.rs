//! The `sentry` appender: error records become Sentry events, grouped by call site, with the
//! error's `source()` chain, panics with their stack frames, and the records before them as
//! breadcrumbs; sent from a background thread to Sentry or any server that speaks its protocol
//! (tested against [Bugsink](https://www.bugsink.com/), self-hosted). Unlike `sentry-log`, it
//! is one appender among others in a log4rs config, not a replacement of the global logger.
//!
//! ```yaml
//! appenders:
//!   sentry:
//!     kind: sentry
//!     dsn: $ENV{SENTRY_DSN}            # or dsn_env: SENTRY_DSN / dsn_file: ...; never printed
//!     environment: production
//!     release: microblog@1.4.2
//!     level: error                     # records at or above become Sentry events
//!     breadcrumbs: info                # records below `level` and at or above this: breadcrumbs
//!     tags: [user_id, request_id]      # record key-values sent as tags; the others as extra
//!     spool_dir: /var/spool/microblog/sentry   # optional: events survive an outage and a restart
//! root: { level: info, appenders: [file, sentry] }
//! ```
//!
//! The same in code: [`SentryAppender::builder`]`().dsn(..).environment(..).build()?`.
//!
//! # Fields
//!
//! | field | default | meaning |
//! |---|---|---|
//! | `dsn` / `dsn_env` / `dsn_file` | required (one of them) | the project's DSN, `https://<key>@<host>/<project id>`; a secret: never in `Debug`, errors or `log4rs-appenders check` |
//! | `environment`, `release` | none | the event's fields of these names |
//! | `server_name` | this host's name | the event's `server_name` |
//! | `level` | `error` | records at or above become events |
//! | `breadcrumbs` | `info` | records below `level` and at or above this become breadcrumbs (refused when above `level`) |
//! | `max_breadcrumbs` | 100 | the latest breadcrumbs an event carries (0: none) |
//! | `breadcrumbs_scope` | `thread` | `thread` or `appender`, see [`BreadcrumbScope`] |
//! | `tags` | none | key-values sent as tags (values cut at 200 bytes); the others go to `extra` |
//! | `in_app` | every crate but std and logging infrastructure | crates whose stack frames are the application's |
//! | `spool_dir` | none | events are written here (`0600` in a `0700` folder, never through a link, refused when group/other-writable) before they are sent, deleted after the server's 2xx, and sent again by the next run |
//! | `timeout` | 5 s | one HTTP request; also how long `flush` waits |
//! | `retry_backoff` | 1 s | first wait after a failed delivery, doubling up to 60 s |
//! | `root_certificate` | Mozilla's roots | a PEM file of the CA(s) to trust instead, for a private CA |
//! | `queue_size` | 1000 | events queued for the sending thread; without `spool_dir` also the in-memory backlog of an outage |
//! | `on_full` | `drop` | `drop` (count, report) or `block` |
//!
//! # Record -> event
//!
//! | event field | from the record |
//! |---|---|
//! | `message` | the formatted message (`record.args()`) |
//! | `logentry.message` | the template, where `log` knows it (a message without arguments) |
//! | `fingerprint` | the call site: `[target, file, line]`, so one `error!` is one issue whatever its words, and two never share one (no file/line: the server's grouping) |
//! | `level` | error, warning, info, debug (trace too); `fatal` for a panic |
//! | `logger` | the target |
//! | `exception` | the `error` key-value's (else `err`'s) `source()` chain, innermost first, the error itself last (Sentry's order); each `type` from its `Debug` (as `sentry-core` does), `value` its `Display`; through the `tracing` front end (`error = &e as &dyn Error`), the types the original errors had |
//! | `exception` (panic) | one exception, type `panic`, value the panic message, `mechanism: {type: panic, handled: false}`, `stacktrace` the backtrace as frames (function, file, line, column, `in_app`) |
//! | `tags` | the key-values named in `tags:` |
//! | `extra` | the other key-values, plus `file`, `line`, `module`, `funcName` (the crate's macros and the panic hook record it; through the `tracing` front end the innermost span's name, and `spans`, the span chain with its fields: `request{id=7}:save_profile`) |
//! | `threads` | the logging thread's name (`crashed` for a panic) |
//! | `breadcrumbs` | the latest records below `level` (type `log`, category the target, level, message, key-values as data) |
//! | `server_name`, `environment`, `release` | the settings |
//! | `platform`, `sdk` | `native`, `log4rs-appenders` |
//!
//! The issue's title is Sentry's: the outermost exception (`Type: value`) when the record has an
//! `error`, else the message.
//!
//! # Threads, queue, outage
//!
//! The application thread builds the event and queues it ([`SentryAppender`]): no network, no
//! disk. The sending thread (the crate's [`Worker`](crate::worker::Worker)) serializes it as an
//! envelope, writes it to the spool when `spool_dir` is set, and posts it to
//! `/api/<project>/envelope/` (ureq, rustls with ring, certificates verified). An unreachable
//! server or a 5xx: the event waits and is retried with backoff, in order; HTTP 429,
//! `Retry-After` and `X-Sentry-Rate-Limits` (for the `error`/`default` categories) pause
//! sending for as long as asked; another 4xx refuses the event for good (reported; spooled
//! copies are kept as `*.rejected`). A full queue, or an in-memory backlog beyond `queue_size`
//! during an outage without `spool_dir`, drops events: counted, reported to log4rs's error
//! handler once per streak, and sent to Sentry as a warning event of their own.
//!
//! When the appender is dropped (the program exits, or a reload replaces it), the sending
//! thread delivers what it can within `timeout`, then reports what is left, with counts: the
//! events lost (in memory, or dropped during an outage that had not ended), and the events the
//! spool keeps for the next run.
//!
//! Delivery with `spool_dir` is at least once: an event whose 2xx arrived but whose spool file
//! could not be deleted before a crash is sent again by the next run. `log4rs-appenders send-test`
//! reports DELIVERED once the server answered 200.
//!
//! One appender at a time owns a `spool_dir` (an advisory lock on `.lock` in it, as the smtp
//! appender's spool): it alone sends what earlier runs left there. During a reload to a config
//! with the same `spool_dir`, the new appender spools and sends its own events and takes the
//! old one's over when the old appender is dropped; a spool held by another appender for 30 s
//! (another process with the same `spool_dir`) is reported, naming the appender and the field.
//!
//! # Tested
//!
//! Against a real Bugsink (`tests/sentry.rs`, one server per test run, what it stored read back
//! through its own models): the issue title, the exception chain, a panic's frames with the test's
//! function names, tags, breadcrumbs, three differently-worded errors from one call site as one
//! issue with three events and a second call site as its own issue, and an outage (server stopped,
//! 50 errors, server started; then an exit during an outage and a new run) with every event stored
//! exactly once. Without `spool_dir`, an outage of 20 errors with `queue_size: 5` stores the newest
//! 5 and a warning event `15 error events were lost: ...`. Through the `tracing` front end (routed
//! by YAML, and as an `AppenderLayer`): `tracing::error!(user_id = 42, error = &err as &dyn Error,
//! ..)` in spans arrives with the exception chain and its types, `user_id` as a tag, and the span
//! chain as `extra.spans`. A real 429 from Bugsink's quota check (`X-Sentry-Rate-Limits: 60::key`):
//! one request, then nothing for the 60 s asked, nothing lost. HTTPS through Bugsink's own gunicorn
//! with a certificate from a private CA: delivered with `root_certificate`, refused and reported
//! (naming the fix) without it. A reload's new appender on the same `spool_dir` sends its own
//! events and takes the old one's spool over when that one goes, each event once. An exit during
//! an outage reports the events lost (in memory) and those the spool keeps, with counts. The
//! microblog demo run with `SENTRY_DSN` (`tests/demo.rs`) stores its request error (title,
//! exception chain, `funcName`, breadcrumbs) and its panic (frames with the demo's closure in
//! `main`) as two issues, and still mails and writes its logs as without it.

mod appender;
mod builder;
mod config;
mod event;
mod outbox;
mod spool;
mod transport;

pub use appender::SentryAppender;
pub use builder::{BreadcrumbScope, CheckedSentryAppender, SentryAppenderBuilder};
pub use config::SentryConfig;

use log4rs::append::Append;
use log4rs::config::Deserializers;

use crate::registry::{AppenderDeserializer, AppenderKind};

/// The `sentry` kind, listed in [`crate::registry`]: YAML -> [`SentryAppenderBuilder`] ->
/// [`SentryAppender`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SentryKind;

/// log4rs's deserializer of `kind: sentry` (what [`crate::deserializers`] registers).
pub type SentryAppenderDeserializer = AppenderDeserializer<SentryKind>;

impl AppenderKind for SentryKind {
    const KIND: &'static str = "sentry";
    const FEATURE: Option<&'static str> = Some("sentry");
    type Config = SentryConfig;
    type Checked = CheckedSentryAppender;

    fn check(config: SentryConfig, _: &Deserializers) -> anyhow::Result<CheckedSentryAppender> {
        config.into_builder()?.check()
    }

    fn start(checked: CheckedSentryAppender) -> anyhow::Result<Box<dyn Append>> {
        Ok(Box::new(SentryAppender::start(checked)?))
    }
}
