//! The `tracing` front end (feature `tracing`): the same appenders and the same log4rs YAML for
//! services that log through `tracing`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The whole subscriber from a log4rs YAML file: appenders, per-target levels, additivity,
//! // `refresh_rate`. `log` records of libraries reach the same appenders, once.
//! let _log = log4rs_appenders::tracing::init_file("log4rs.yaml")?; // flushes everything on drop
//! let err = std::io::Error::other("disk full");
//! tracing::error!(user_id = 42, error = &err as &dyn std::error::Error, "cannot save the profile");
//! # Ok(())
//! # }
//! ```
//!
//! Or compose: one appender as a layer next to fmt, OpenTelemetry or console-subscriber.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tracing_subscriber::{filter::LevelFilter, prelude::*};
//! use log4rs_appenders::{file::RotatingFileAppender, tracing::AppenderLayer};
//!
//! let file = RotatingFileAppender::builder().max_bytes(10 << 20).backup_count(5).build("logs/app.log")?;
//! let layer = AppenderLayer::new(file);
//! let _flush = layer.flush_guard();
//! tracing_subscriber::registry()
//!     .with(layer.with_filter(LevelFilter::INFO))
//!     .with(tracing_subscriber::fmt::layer())
//!     .init();
//! # Ok(())
//! # }
//! ```
//!
//! | entry point | what it is |
//! |---|---|
//! | [`init_file`] / [`init_config`] | the whole subscriber: a tracing-subscriber `Registry` with a [`RoutingLayer`], plus the [`LogBridge`] as the `log` logger; returns a [`LogHandle`] that flushes on drop |
//! | [`layer_from_file`] | the [`RoutingLayer`] of a YAML file (strict, reloads with `refresh_rate`), for a registry you build |
//! | [`RoutingLayer`] | a `log4rs::Config` (appenders + loggers) as one layer; routing is log4rs's own |
//! | [`AppenderLayer`] | any one `Append` (ours, or log4rs's `console`, `file`, `rolling_file`) as a layer |
//! | [`RotatingFileAppender`](crate::file::RotatingFileAppender) as a [`MakeWriter`](tracing_subscriber::fmt::MakeWriter) | keep tracing-subscriber's fmt layer, get size rotation, gzip, multi-process safety and the loss accounting |
//!
//! # Event -> record, exactly
//!
//! Every appender and encoder works on a `log::Record`; an event becomes one as follows.
//!
//! | `log::Record` | from the event |
//! |---|---|
//! | level | the event's level (TRACE..ERROR map one to one) |
//! | target (`%(name)s`, the logger that routes it) | the event's target (by default its module path; `target: "x"` overrides it) |
//! | file, line, module path (`%(pathname)s`, `%(lineno)d`, `%(module)s`) | the event's metadata |
//! | message (`%(message)s`) | the `message` field (the format string and its arguments); an event without one gets its fields as `name=value ...`, as the fmt layer shows it |
//! | key-values (`%(user_id)d` once declared in the Python encoder's `defaults:`, log4rs's `{K(user_id)}`) | every other field, typed: `i64`, `u64`, `i128`, `u128`, `f64`, `bool`, `&str` as themselves; `?debug` and `%display` fields as their text |
//! | key-value `error` / `err` holding a `dyn Error` (`error = &e as &dyn Error`) | the error with its whole `source()` chain (copied as text, at most 64 levels), so the Python encoder's `Error:` / `Caused by:` lines and the mail body show it; `error = %e` is only its text |
//! | key-values `span.field` (`%(request.id)s` once declared in `defaults:`, log4rs's `{K(request.id)}`) | each field of each span in the chain, root first, typed as event fields (an error or `?debug` as its text); a value recorded later with `span.record(..)` replaces the earlier one. So RFC 5424 syslog has one SD-PARAM per span field (`request.id="7"`) and JSON lines one key |
//! | key-value `spans` (`%(spans)s`) | the span chain, root first, with each span's fields: `request{id=7 user="ann"}:db`; absent outside spans |
//! | key-value `funcName` (`%(funcName)s`) | the innermost span's name: for an `#[instrument]` function that is the function's name; for a hand-made span, its name; `(unknown function)` outside spans |
//!
//! A span is in the chain when the layer saw it: for [`RoutingLayer`], when a record at the
//! span's level and target would be logged (as an `EnvFilter` directive turns spans on); for
//! [`AppenderLayer`], when its per-layer filter lets the span through. Values recorded later
//! with `span.record(..)` are appended to the text in `spans` (`request{id=7 id=8}`) and
//! replace the `request.id` key-value. Two spans of the same name in one chain give their
//! key-values twice, as two fields of one name would (RFC 5424 allows a repeated SD-PARAM).
//!
//! # `log` records
//!
//! [`init_file`] installs [`LogBridge`] as the `log` logger: a `log` record goes to the same
//! appenders with the same routing, keeps its own key-values, and gets the current span chain.
//! Nothing is logged twice: with `tracing`'s `log` feature on, `tracing` writes `log` records only
//! while no subscriber is set, and [`init_file`] sets one. With `log-always`, `tracing` writes
//! every event (and each span's fields) to `log` as well; the bridge recognizes these copies (no
//! key-values; the target, level, file, line and module path of a `tracing` callsite the layer
//! registered) and leaves them out, so each event is still logged once, with its fields and
//! spans (a test builds a program with `log-always` to check it). The one record this could
//! wrongly leave out is a `log` macro's on the very same line as a `tracing` macro with the
//! same target and level.
//!
//! In a registry you build, `log` records can come through tracing-log's `LogTracer` instead;
//! both layers read such an event's original target, file and line (tracing-log's
//! `NormalizeEvent`) and drop its `log.*` fields, so it is routed and shown as the record was.
//! `LogTracer` drops a record's key-values; [`RoutingLayer::log_bridge`] does not.
//!
//! # Routing
//!
//! [`RoutingLayer`] runs log4rs's own `Logger`: the logger whose name is the longest `::`-prefix
//! of the target decides the level, its appenders and (with `additive: true`, the default) its
//! parents' appenders get the record, and each appender's filters (`threshold`, our `level:`)
//! apply. `tests/tracing.rs` runs one table of cases through both front ends. Hot reload
//! (`refresh_rate`) swaps the config of the running layer and recomputes tracing's cached
//! callsite interest, so a raised level takes effect for callsites already seen.
//!
//! # Limits
//!
//! - The layer reads fields, builds the record and calls the appenders on the thread that emits
//!   the event, as log4rs does: the appenders' own rules (a queue for mail and stream syslog, a
//!   `write` per record or a buffer for files) decide what that costs.
//! - `funcName` is a span name, not the Rust function: an event outside any span shows
//!   `(unknown function)` (the crate's `log` macros record the real function; tracing's cannot).
//! - A global subscriber is never dropped: keep the [`LogHandle`] or the
//!   layer's [`FlushGuard`] alive in `main` so buffered records and queued mail go out at exit.

mod layer;
mod make_writer;
mod record;
mod routing;

use std::path::Path;
use std::sync::{Arc, Mutex};

use tracing_subscriber::layer::SubscriberExt;

pub use layer::{AppenderLayer, FlushGuard};
pub use make_writer::RotatingFileWriter;
pub use record::{ErrorChain, FUNC_NAME_KEY, SPANS_KEY};
pub use routing::{LogBridge, RoutingLayer};

use crate::config::{ConfigError, LoadedConfig, load_config_file};
use crate::init::{FrontEnd, spawn_reloader, start_config, start_file};
use crate::{InitError, LogHandle};

/// Loads `path` strictly and starts the whole subscriber with it: a tracing-subscriber
/// `Registry` with a [`RoutingLayer`] as the global default, and [`LogBridge`] as the `log`
/// logger. A config with problems is refused with every problem at once (nothing is installed);
/// with `refresh_rate:` a watcher re-reads the file when it changes and applies it only if it
/// has no problems. Dropping the returned handle flushes every appender and ends the watcher.
pub fn init_file(path: impl AsRef<Path>) -> Result<LogHandle, InitError> {
    start_file::<RoutingLayer>(path.as_ref())
}

/// Starts the whole subscriber (as [`init_file`]) with a config built in code.
pub fn init_config(config: log4rs::Config) -> Result<LogHandle, InitError> {
    start_config::<RoutingLayer>(config)
}

/// The tracing front end: a [`RoutingLayer`] in a `Registry` as the global subscriber, and its
/// [`LogBridge`] as the `log` logger.
impl FrontEnd for RoutingLayer {
    fn unused() -> &'static Mutex<Option<Self>> {
        static UNUSED: Mutex<Option<RoutingLayer>> = Mutex::new(None);
        &UNUSED
    }

    fn install() -> Result<Self, InitError> {
        if tracing_core::dispatcher::has_been_set() {
            return Err(InitError::AlreadyInitialized);
        }
        let layer = RoutingLayer::new(crate::init::logging_off());
        log::set_boxed_logger(Box::new(layer.log_bridge()))
            .map_err(|_| InitError::AlreadyInitialized)?;
        let subscriber = tracing_subscriber::registry().with(layer.clone());
        tracing_core::dispatcher::set_global_default(tracing_core::Dispatch::new(subscriber))
            .map_err(|_| InitError::AlreadyInitialized)?;
        Ok(layer)
    }

    fn set_config(&self, config: log4rs::Config) {
        RoutingLayer::set_config(self, config);
    }

    fn log4rs_handle(&self) -> log4rs::Handle {
        self.router.handle().clone()
    }
}

/// Loads `path` strictly (every problem at once) and returns its [`RoutingLayer`], for a
/// registry you build. With `refresh_rate:` in the file, a watcher applies each changed file
/// that has no problems until the layer (every clone of it) is dropped.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tracing_subscriber::prelude::*;
/// let layer = log4rs_appenders::tracing::layer_from_file("log4rs.yaml")?;
/// let _flush = layer.flush_guard();
/// tracing_subscriber::registry().with(layer).with(tracing_subscriber::fmt::layer()).init();
/// # Ok(())
/// # }
/// ```
pub fn layer_from_file(path: impl AsRef<Path>) -> Result<RoutingLayer, ConfigError> {
    let path = path.as_ref().to_path_buf();
    let LoadedConfig {
        config,
        refresh_rate,
    } = load_config_file(&path)?;
    let layer = RoutingLayer::new(config);
    if let Some(rate) = refresh_rate {
        let router = Arc::downgrade(&layer.router);
        let stop = layer.router.stopped.clone();
        spawn_reloader(
            path,
            rate,
            move |c| {
                if let Some(router) = router.upgrade() {
                    router.set_config(c);
                }
            },
            stop,
        );
    }
    Ok(layer)
}
