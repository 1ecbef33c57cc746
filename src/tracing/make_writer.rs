//! The rotating file as a tracing-subscriber [`MakeWriter`], for users who keep the fmt layer.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::sync::Arc;

use tracing_core::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

use super::layer::FlushGuard;
use crate::file::RotatingFileAppender;

/// A [`RotatingFileAppender`] as a tracing-subscriber [`MakeWriter`]: keep the fmt layer and its
/// format, get size (or time) rotation, gzip, multi-process safety and the loss accounting.
///
/// Each event the fmt layer writes is one record: it is written in one piece, and rotation
/// happens between records, never inside one. In buffered mode an ERROR event goes to disk at
/// once, as with the appender. Write failures are reported once per streak (log4rs's error path,
/// see [`crate::report`]) and the lost records counted; the fmt layer itself ignores writer
/// errors.
///
/// ```
/// use log4rs_appenders::{file::RotatingFileAppender, tracing::RotatingFileWriter};
/// use tracing_subscriber::prelude::*;
///
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("app.log");
/// let file = RotatingFileAppender::builder().max_bytes(10 << 20).backup_count(5).build(&path)?;
/// let writer = RotatingFileWriter::new(file);
/// let _flush = writer.flush_guard();
/// let fmt = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false);
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(fmt), || {
///     tracing::info!(user_id = 42, "logged in");
/// });
/// # drop(_flush);
/// # assert!(std::fs::read_to_string(&path)?.contains("logged in user_id=42"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct RotatingFileWriter {
    appender: Arc<RotatingFileAppender>,
}

impl RotatingFileWriter {
    /// Wraps `appender` (its encoder is not used: the fmt layer formats).
    pub fn new(appender: RotatingFileAppender) -> RotatingFileWriter {
        RotatingFileWriter {
            appender: Arc::new(appender),
        }
    }

    /// A guard that flushes the file (buffered mode) when dropped: keep it alive in `main`.
    pub fn flush_guard(&self) -> FlushGuard {
        let appender = self.appender.clone();
        FlushGuard {
            flush: Box::new(move || log4rs::append::Append::flush(&*appender)),
        }
    }
}

impl fmt::Debug for RotatingFileWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingFileWriter")
            .field("appender", &self.appender)
            .finish()
    }
}

impl<'a> MakeWriter<'a> for RotatingFileWriter {
    type Writer = EventWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter {
            appender: &self.appender,
            urgent: false,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        EventWriter {
            appender: &self.appender,
            urgent: *meta.level() == Level::ERROR,
        }
    }
}

thread_local! {
    static PENDING: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Collects what the fmt layer writes for one event and writes it as one record when dropped.
pub struct EventWriter<'a> {
    appender: &'a RotatingFileAppender,
    urgent: bool,
}

impl fmt::Debug for EventWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventWriter")
    }
}

impl EventWriter<'_> {
    fn commit(&self) {
        let _ = PENDING.try_with(|pending| {
            let Ok(mut bytes) = pending.try_borrow_mut() else {
                return;
            };
            if bytes.is_empty() {
                return;
            }
            if let Err(e) = self.appender.append_formatted(&bytes, self.urgent) {
                crate::report::report_error(&e);
            }
            bytes.clear();
            if bytes.capacity() > 64 * 1024 {
                *bytes = Vec::new();
            }
        });
    }
}

impl io::Write for EventWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        PENDING
            .try_with(|pending| match pending.try_borrow_mut() {
                Ok(mut bytes) => {
                    bytes.extend_from_slice(buf);
                    Ok(buf.len())
                }
                // Re-entered from inside a write: write this piece as a record of its own.
                Err(_) => self
                    .appender
                    .append_formatted(buf, self.urgent)
                    .map(|()| buf.len())
                    .map_err(io::Error::other),
            })
            .unwrap_or_else(|_| Err(io::Error::other("thread is exiting")))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.commit();
        Ok(())
    }
}

impl Drop for EventWriter<'_> {
    fn drop(&mut self) {
        self.commit();
    }
}
