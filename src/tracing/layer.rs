//! [`AppenderLayer`]: any log4rs `Append` (ours or log4rs's own) as a tracing-subscriber `Layer`.

use std::fmt;
use std::sync::Arc;

use log4rs::append::Append;
use tracing_core::span::{Attributes, Id, Record as SpanValues};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::record::{next_layer_id, record_new_span, record_span_values, with_event_record};

/// One appender as a tracing-subscriber [`Layer`]: every event it sees becomes a `log::Record`
/// (see the [module docs](crate::tracing) for the mapping) handed to the appender's `append`.
///
/// It filters nothing itself: give it a level or target filter with tracing-subscriber's
/// per-layer filters (`.with_filter(LevelFilter::INFO)`), so other layers (fmt, OpenTelemetry)
/// keep seeing everything they want.
///
/// ```
/// use tracing_subscriber::{filter::LevelFilter, prelude::*};
/// use log4rs_appenders::{file::RotatingFileAppender, tracing::AppenderLayer};
///
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("app.log");
/// let file = RotatingFileAppender::builder().max_bytes(10 << 20).backup_count(5).build(&path)?;
/// let layer = AppenderLayer::new(file);
/// let _flush = layer.flush_guard(); // flushes the appender when dropped (end of main)
/// let subscriber = tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO));
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(user_id = 42, "logged in");
///     tracing::debug!("not written: below the layer's filter");
/// });
/// # drop(_flush);
/// # let text = std::fs::read_to_string(&path).unwrap();
/// # assert!(text.contains("logged in"), "{text}");
/// # assert!(!text.contains("not written"), "{text}");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct AppenderLayer<A: Append> {
    appender: Arc<A>,
    id: usize,
}

impl<A: Append> AppenderLayer<A> {
    /// A layer that hands every event to `appender`.
    pub fn new(appender: A) -> Self {
        AppenderLayer {
            appender: Arc::new(appender),
            id: next_layer_id(),
        }
    }

    /// The appender.
    pub fn appender(&self) -> &A {
        &self.appender
    }

    /// A guard that flushes the appender when dropped. A global subscriber is never dropped, so
    /// without it a buffered file or a mail queue may lose its last records at exit: keep it
    /// alive in `main` (`let _flush = layer.flush_guard();`).
    pub fn flush_guard(&self) -> FlushGuard {
        FlushGuard {
            flush: Box::new({
                let appender = self.appender.clone();
                move || appender.flush()
            }),
        }
    }
}

impl<A: Append> fmt::Debug for AppenderLayer<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppenderLayer")
            .field("appender", &self.appender)
            .finish()
    }
}

impl<S, A> Layer<S> for AppenderLayer<A>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    A: Append,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        record_new_span(self.id, attrs, id, &ctx);
    }

    fn on_record(&self, id: &Id, values: &SpanValues<'_>, ctx: Context<'_, S>) {
        record_span_values(self.id, values, id, &ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        with_event_record(
            event,
            &ctx,
            |_| true,
            |record| {
                // Our appenders return an error once per streak of failures (and count what
                // the streak lost); log4rs's own return one per failed record, as log4rs
                // reports them.
                if let Err(e) = self.appender.append(record) {
                    crate::report::report_error(&e);
                }
            },
        );
    }
}

/// Flushes an appender (or every appender of a routing layer) when dropped. Made by
/// [`AppenderLayer::flush_guard`] and [`RoutingLayer::flush_guard`](super::RoutingLayer::flush_guard).
#[must_use = "the guard flushes when dropped: bind it, `let _flush = layer.flush_guard();`"]
pub struct FlushGuard {
    pub(crate) flush: Box<dyn Fn() + Send + Sync>,
}

impl FlushGuard {
    /// Flushes now (the guard flushes again when dropped).
    pub fn flush(&self) {
        (self.flush)();
    }
}

impl fmt::Debug for FlushGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FlushGuard")
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        (self.flush)();
    }
}
