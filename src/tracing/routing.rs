//! [`RoutingLayer`]: a whole log4rs config (appenders, loggers, levels, additivity) as one
//! tracing-subscriber `Layer`, and [`LogBridge`], which sends `log` records to the same
//! appenders.
//!
//! Routing is log4rs's own: the layer keeps a `log4rs::Logger` built from the config and hands it
//! each event as a `log::Record`, so the longest `::` prefix of the target, additivity, logger
//! levels and appender filters are decided by the same code as for `log` records.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use log::Log;
use tracing_core::span::{Attributes, Id, Record as SpanValues};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, Registry};

use super::layer::FlushGuard;
use super::record::{
    EventFields, KeyValues, log_level, next_layer_id, record_new_span, record_span_values,
    render_spans, with_event_record,
};

/// The running config, shared by the layer, the `log` bridge and the handle.
pub(crate) struct Router {
    logger: log4rs::Logger,
    handle: log4rs::Handle,
    /// Set when the last layer goes: ends the reload watcher.
    pub(crate) stopped: Arc<AtomicBool>,
    /// The `tracing` callsites the layer registered, to recognize their `log` copies.
    callsites: TracingCallsites,
}

/// Every `tracing` callsite (event or span) registered with the layer, by line, so [`LogBridge`]
/// can tell the `log` copy that `tracing` writes of an event or span with its `log-always`
/// feature (same target, level, file, line and module path, no key-values) from a record of a
/// `log` macro.
#[derive(Default)]
struct TracingCallsites {
    by_line: RwLock<HashMap<u32, Vec<&'static Metadata<'static>>>>,
}

impl TracingCallsites {
    fn insert(&self, metadata: &'static Metadata<'static>) {
        let Some(line) = metadata.line() else { return };
        let mut by_line = self.by_line.write().unwrap_or_else(PoisonError::into_inner);
        let at_line = by_line.entry(line).or_default();
        if !at_line.iter().any(|m| std::ptr::eq(*m, metadata)) {
            at_line.push(metadata);
        }
    }

    /// Whether `record` is what `tracing` (feature `log-always`) writes to `log` for one of the
    /// registered callsites: an event or span the layer handles itself.
    fn is_log_copy(&self, record: &log::Record<'_>) -> bool {
        let Some(line) = record.line() else {
            return false;
        };
        // tracing's copies carry no key-values; a record with some is a `log` macro's own.
        if log::kv::Source::count(record.key_values()) != 0 {
            return false;
        }
        let by_line = self.by_line.read().unwrap_or_else(PoisonError::into_inner);
        by_line.get(&line).is_some_and(|at_line| {
            at_line.iter().any(|m| {
                m.target() == record.target()
                    && log_level(m.level()) == record.level()
                    && m.file() == record.file()
                    && m.module_path() == record.module_path()
            })
        })
    }
}

impl Router {
    fn new(config: log4rs::Config) -> Router {
        let logger = log4rs::Logger::new(config);
        let handle = logger.handle();
        Router {
            logger,
            handle,
            stopped: Arc::new(AtomicBool::new(false)),
            callsites: TracingCallsites::default(),
        }
    }

    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.logger.enabled(metadata)
    }

    fn enabled_tracing(&self, metadata: &Metadata<'_>) -> bool {
        self.enabled(
            &log::Metadata::builder()
                .level(log_level(metadata.level()))
                .target(metadata.target())
                .build(),
        )
    }

    pub(crate) fn handle(&self) -> &log4rs::Handle {
        &self.handle
    }

    pub(crate) fn max_level(&self) -> log::LevelFilter {
        self.handle.max_log_level()
    }

    /// Replaces the config; events already being appended finish with the old appenders, which
    /// flush when the last of them is done.
    pub(crate) fn set_config(&self, config: log4rs::Config) {
        // `Handle::set_config` also sets `log`'s max level, which our bridge relies on.
        self.handle.set_config(config);
        // tracing caches which callsites are on and the max level: recompute both.
        tracing_core::callsite::rebuild_interest_cache();
    }

    pub(crate) fn flush(&self) {
        self.logger.flush();
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.logger.flush();
    }
}

/// A log4rs config as one tracing-subscriber [`Layer`]: each event goes to the appenders the
/// config's loggers route its target to, at their levels, with additivity, exactly as a `log`
/// record with the same target and level would (the layer runs log4rs's own `Logger`).
///
/// Build it from YAML with [`layer_from_file`](super::layer_from_file) (strict, reloadable) or
/// from a `log4rs::Config` built in code with [`RoutingLayer::new`]. It filters only its own
/// output: events no logger enables are skipped by this layer and still reach other layers.
/// Its `max_level_hint` is the config's most verbose level, so alone it makes disabled levels
/// free.
///
/// ```
/// use log::LevelFilter;
/// use log4rs::config::{Appender, Config, Logger, Root};
/// use log4rs_appenders::{file::RotatingFileAppender, tracing::RoutingLayer};
/// use tracing_subscriber::prelude::*;
///
/// # let dir = tempfile::tempdir().unwrap();
/// # let (app_path, db_path) = (dir.path().join("app.log"), dir.path().join("db.log"));
/// let app = RotatingFileAppender::builder().build(&app_path)?;
/// let db = RotatingFileAppender::builder().build(&db_path)?;
/// let config = Config::builder()
///     .appender(Appender::builder().build("app", Box::new(app)))
///     .appender(Appender::builder().build("db", Box::new(db)))
///     .logger(Logger::builder().appender("db").additive(false).build("app::db", LevelFilter::Debug))
///     .build(Root::builder().appender("app").build(LevelFilter::Info))?;
/// let layer = RoutingLayer::new(config);
/// let flush = layer.flush_guard();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!(target: "app::web", "request");
///     tracing::debug!(target: "app::db", "SELECT 1");
/// });
/// drop(flush);
/// # assert!(std::fs::read_to_string(&app_path)?.contains("request"));
/// # assert!(std::fs::read_to_string(&db_path)?.contains("SELECT 1"));
/// # assert!(!std::fs::read_to_string(&app_path)?.contains("SELECT 1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RoutingLayer {
    pub(crate) router: Arc<Router>,
    id: usize,
}

impl RoutingLayer {
    /// A layer running `config` (build it in code, or load it strictly with
    /// [`crate::config::load_config_file`]).
    pub fn new(config: log4rs::Config) -> RoutingLayer {
        RoutingLayer {
            router: Arc::new(Router::new(config)),
            id: next_layer_id(),
        }
    }

    /// Replaces the running config (as `refresh_rate` does when the file changes). The old
    /// appenders are flushed and dropped once no event uses them.
    pub fn set_config(&self, config: log4rs::Config) {
        self.router.set_config(config);
    }

    /// Flushes every appender now.
    pub fn flush(&self) {
        self.router.flush();
    }

    /// A guard that flushes every appender when dropped: keep it alive in `main`, since a
    /// global subscriber is never dropped.
    pub fn flush_guard(&self) -> FlushGuard {
        let router = self.router.clone();
        FlushGuard {
            flush: Box::new(move || router.flush()),
        }
    }

    /// A `log::Log` that sends `log` records to this layer's appenders (see [`LogBridge`]).
    pub fn log_bridge(&self) -> LogBridge {
        LogBridge {
            router: self.router.clone(),
        }
    }
}

impl fmt::Debug for RoutingLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutingLayer")
            .field("max_level", &self.router.max_level())
            .finish()
    }
}

fn tracing_level_filter(level: log::LevelFilter) -> tracing_core::LevelFilter {
    match level {
        log::LevelFilter::Off => tracing_core::LevelFilter::OFF,
        log::LevelFilter::Error => tracing_core::LevelFilter::ERROR,
        log::LevelFilter::Warn => tracing_core::LevelFilter::WARN,
        log::LevelFilter::Info => tracing_core::LevelFilter::INFO,
        log::LevelFilter::Debug => tracing_core::LevelFilter::DEBUG,
        log::LevelFilter::Trace => tracing_core::LevelFilter::TRACE,
    }
}

impl<S> Layer<S> for RoutingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.router.callsites.insert(metadata);
        // As `Layer`'s default with `enabled` always true: the layer filters its own output.
        Interest::always()
    }

    fn max_level_hint(&self) -> Option<tracing_core::LevelFilter> {
        Some(tracing_level_filter(self.router.max_level()))
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        // A span shows in `%(spans)s` when a record at its level and target would be logged,
        // as an EnvFilter directive turns spans on and off.
        if self.router.enabled_tracing(attrs.metadata()) {
            record_new_span(self.id, attrs, id, &ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &SpanValues<'_>, ctx: Context<'_, S>) {
        record_span_values(self.id, values, id, &ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        with_event_record(
            event,
            &ctx,
            |metadata| self.router.enabled(metadata),
            |record| self.router.logger.log(record),
        );
    }
}

/// A `log::Log` that sends `log` records (from libraries that use `log`, or the application's
/// own `log::info!`) to the same appenders as a [`RoutingLayer`], with the same routing, once.
///
/// Unlike tracing-log's `LogTracer`, which turns a record into a tracing event, it hands the
/// record to the appenders as it is, so the record keeps its key-values (an `error` with its
/// `source()` chain, the crate's `funcName`), and adds the span chain of the current tracing
/// span (`spans`, `funcName`) when the current subscriber is a tracing-subscriber `Registry`.
/// [`init_file`](super::init_file) installs it. Records on the targets `tracing::span` and
/// `tracing::span::active` (what `tracing` with its `log` feature writes about spans when no
/// subscriber is set) are left out: span lifecycles are not records here.
///
/// With `tracing`'s `log-always` feature, `tracing` also writes every event (and every span's
/// fields) to `log`, after or (with `parent:`) before handing the event to the subscriber. The
/// bridge leaves out such a copy: a record without key-values whose target, level, file, line
/// and module path are those of a `tracing` callsite the layer registered. So each event is
/// logged once, by the layer, with its fields and spans. (A `log` macro written on the same line
/// as a `tracing` macro with the same target and level would be left out too.)
pub struct LogBridge {
    router: Arc<Router>,
}

impl fmt::Debug for LogBridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogBridge")
    }
}

impl Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.router.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.router.enabled(record.metadata())
            || record.target().starts_with("tracing::span")
            || self.router.callsites.is_log_copy(record)
        {
            return;
        }
        let mut fields = EventFields::default();
        tracing_core::dispatcher::get_default(|dispatch| {
            if let Some(registry) = dispatch.downcast_ref::<Registry>()
                && let Some(id) = registry.current_span().id()
            {
                fields.func_name = render_spans(registry.span(id), &mut fields);
            }
        });
        // The crate's own macros name the real function: keep theirs.
        if record
            .key_values()
            .get(log::kv::Key::from_str("funcName"))
            .is_some()
        {
            fields.func_name = None;
        }
        if fields.spans.is_empty() {
            self.router.logger.log(record);
            return;
        }
        let key_values = KeyValues {
            fields: &fields,
            extra: Some(record.key_values()),
        };
        self.router
            .logger
            .log(&record.to_builder().key_values(&key_values).build());
    }

    fn flush(&self) {
        self.router.flush();
    }
}
