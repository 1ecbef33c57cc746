//! Panic logging: every panic becomes an ERROR record on target `panic`, with the panicking
//! thread, the location as the record's file and line, and a backtrace as the record's error
//! chain, so a file appender keeps it and the smtp appender mails it (as Flask mails an
//! unhandled exception with its traceback).

use std::backtrace::Backtrace;
use std::cell::Cell;
use std::fmt;
use std::panic::PanicHookInfo;
use std::sync::Once;

/// Installs a panic hook that logs each panic, flushes every appender, then runs the hook that
/// was installed before (by default the one printing `thread 'main' panicked at ...` to stderr).
///
/// Call it once, after logging is initialized; calling it again does nothing. The record is:
/// - level ERROR, target `panic`, file and line of the panic (`%(pathname)s:%(lineno)d`);
/// - message `thread 'NAME' panicked at FILE:LINE:COL: MESSAGE`;
/// - key-value `error`: the panic, whose text carries the backtrace (captured whatever
///   `RUST_BACKTRACE` says, since a log record is where it is read later), and `thread`.
///
/// Appenders are flushed before the previous hook runs, so queued mail is sent even when the
/// program aborts right after (`panic = "abort"`).
///
/// ```no_run
/// let _log = log4rs_appenders::init_file("log4rs.yaml").unwrap();
/// log4rs_appenders::log_panics();
/// std::thread::spawn(|| panic!("worker died")).join().ok(); // logged, mailed, flushed
/// ```
pub fn log_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            log_panic(info);
            previous(info);
        }));
    });
}

thread_local! {
    /// Set while this thread logs a panic, so a panic inside an appender is not logged again.
    static LOGGING_PANIC: Cell<bool> = const { Cell::new(false) };
}

fn log_panic(info: &PanicHookInfo<'_>) {
    // `try_with`: a panic in a thread-local destructor must not panic again here.
    if LOGGING_PANIC
        .try_with(|busy| busy.replace(true))
        .unwrap_or(false)
    {
        return;
    }
    let thread = std::thread::current();
    let thread_name = thread.name().unwrap_or("<unnamed>");
    let message = payload_text(info.payload());
    let (file, line, column) = match info.location() {
        Some(l) => (Some(l.file()), Some(l.line()), l.column()),
        None => (None, None, 0),
    };
    let backtrace = short_backtrace(&Backtrace::force_capture());
    let function = panicking_function(&backtrace);
    let error = PanicError {
        message: message.to_owned(),
        location: file.map(|f| format!("{f}:{}:{column}", line.unwrap_or(0))),
        backtrace,
    };
    let mut key_values: Vec<(&str, log::kv::Value)> = vec![
        ("error", log::kv::Value::from_dyn_error(&error)),
        ("thread", log::kv::Value::from(thread_name)),
    ];
    if let Some(function) = &function {
        // What the crate's macros record, so `%(funcName)s` names the panicking function.
        key_values.push(("funcName", log::kv::Value::from(function.as_str())));
    }
    let at = error
        .location
        .as_deref()
        .map(|l| format!(" at {l}"))
        .unwrap_or_default();
    log::logger().log(
        &log::Record::builder()
            .level(log::Level::Error)
            .target("panic")
            .file(file)
            .line(line)
            .module_path(None)
            .args(format_args!(
                "thread '{thread_name}' panicked{at}: {message}"
            ))
            .key_values(&key_values.as_slice())
            .build(),
    );
    log::logger().flush();
    let _ = LOGGING_PANIC.try_with(|busy| busy.set(false));
}

/// The text of a panic payload: `panic!("literal")` gives a `&str`, formatted panics a `String`.
fn payload_text(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}

/// The panic as an error value: its `Display` is the message, the location and the backtrace,
/// so every encoder that prints the `error` value (the Python encoder's error chain, log4rs's
/// `{K(error)}`, JSON) shows the whole story. The JSON encoder downcasts to it, to put the
/// message and the backtrace in fields of their own; the sentry appender, to send the message
/// and the stack frames.
pub(crate) struct PanicError {
    message: String,
    location: Option<String>,
    /// Already cut to the frames that matter.
    backtrace: String,
}

impl PanicError {
    /// The panic's message (its payload).
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The backtrace, cut to the frames that matter.
    pub(crate) fn backtrace(&self) -> &str {
        self.backtrace.trim_end()
    }
}

impl fmt::Display for PanicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "panic: {}", self.message)?;
        if let Some(l) = &self.location {
            write!(f, " (at {l})")?;
        }
        write!(f, "\nstack backtrace:\n{}", self.backtrace.trim_end())
    }
}

/// The short name of the function that panicked: the first frame outside the standard library,
/// closures and generic arguments dropped (`app::jobs::run::{{closure}}` gives `run`), as the
/// crate's macros name functions for `%(funcName)s`.
fn panicking_function(backtrace: &str) -> Option<String> {
    const STD: &[&str] = &[
        "core::", "std::", "alloc::", "<core::", "<std::", "<alloc::", "__rust", "rust_",
    ];
    for line in backtrace.lines() {
        let Some((n, symbol)) = line.trim_start().split_once(": ") else {
            continue;
        };
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let symbol = symbol.trim();
        if STD.iter().any(|p| symbol.starts_with(p)) {
            continue;
        }
        let mut path = symbol;
        loop {
            if let Some(rest) = path.strip_suffix("::{{closure}}") {
                path = rest;
            } else if let Some(i) = path.rfind("::{closure#").filter(|_| path.ends_with('}')) {
                path = &path[..i];
            } else if let Some(i) = path.rfind("::<").filter(|_| path.ends_with('>')) {
                path = &path[..i];
            } else {
                break;
            }
        }
        let name = path.rsplit("::").next().unwrap_or(path);
        return (!name.is_empty()).then(|| name.to_owned());
    }
    None
}

/// The backtrace without the frames of the panic machinery (this hook, `std::panicking`, ...)
/// and of the thread start-up, as Rust's own panic message shows it: the first frame is the
/// code that panicked. If the text does not have the expected shape (no symbols), all of it.
fn short_backtrace(backtrace: &Backtrace) -> String {
    let text = backtrace.to_string();
    // Each frame: "  N: symbol" then indented "at file:line" lines.
    let mut frames: Vec<(String, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        match trimmed.split_once(": ") {
            Some((n, symbol)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                frames.push((symbol.to_owned(), Vec::new()));
            }
            _ => match frames.last_mut() {
                Some((_, rest)) => rest.push(trimmed),
                None => return text,
            },
        }
    }
    let machinery = |symbol: &str| {
        symbol.starts_with("core::panicking::")
            || symbol.starts_with("std::panicking::")
            || symbol.contains("rust_begin_unwind")
            || symbol.contains("__rust_end_short_backtrace")
            || symbol.starts_with("log4rs_appenders::panic::")
    };
    let end = frames
        .iter()
        .position(|(s, _)| s.contains("__rust_begin_short_backtrace"))
        .unwrap_or(frames.len());
    let Some(last_machinery) = frames[..end].iter().rposition(|(s, _)| machinery(s)) else {
        return text;
    };
    let start = last_machinery + 1;
    if start >= end {
        return text;
    }
    let mut out = String::new();
    for (i, (symbol, rest)) in frames[start..end].iter().enumerate() {
        out.push_str(&format!("{i:>4}: {symbol}\n"));
        for line in rest {
            out.push_str(&format!("             {line}\n"));
        }
    }
    out
}

/// One frame of a panic's backtrace.
#[cfg_attr(not(feature = "sentry"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PanicFrame {
    /// The demangled function, as the backtrace shows it (`app::jobs::run::{{closure}}`).
    pub(crate) function: String,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u64>,
    pub(crate) column: Option<u64>,
}

#[cfg_attr(not(feature = "sentry"), allow(dead_code))]
impl PanicError {
    /// The frames of the backtrace, the panicking code first (as [`short_backtrace`] left
    /// them). Empty when the backtrace has no symbols.
    pub(crate) fn frames(&self) -> Vec<PanicFrame> {
        parse_frames(&self.backtrace)
    }
}

/// Parses the backtrace text Rust prints (`  N: symbol` lines, each followed by indented
/// `at file:line:column` lines) into frames, innermost first.
fn parse_frames(backtrace: &str) -> Vec<PanicFrame> {
    let mut frames: Vec<PanicFrame> = Vec::new();
    for line in backtrace.lines() {
        let trimmed = line.trim_start();
        if let Some((n, symbol)) = trimmed.split_once(": ")
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
        {
            frames.push(PanicFrame {
                function: symbol.trim().to_owned(),
                file: None,
                line: None,
                column: None,
            });
        } else if let Some(at) = trimmed.strip_prefix("at ")
            && let Some(frame) = frames.last_mut()
            && frame.file.is_none()
        {
            // `file:line:column`; the file itself may hold colons (`C:\...`), so split from the
            // right and keep only what parses as numbers.
            let mut parts = at.rsplitn(3, ':');
            let (column, line, file) = (parts.next(), parts.next(), parts.next());
            match (
                file,
                line.and_then(|l| l.parse().ok()),
                column.and_then(|c| c.parse().ok()),
            ) {
                (Some(file), Some(line), Some(column)) => {
                    frame.file = Some(file.to_owned());
                    frame.line = Some(line);
                    frame.column = Some(column);
                }
                _ => frame.file = Some(at.to_owned()),
            }
        }
    }
    frames
}

impl fmt::Debug for PanicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for PanicError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_parsed_from_the_backtrace_text_innermost_first() {
        let text = "   0: microblog::jobs::run::{{closure}}\n             at ./src/jobs.rs:42:9\n   1: std::rt::lang_start\n   2: C::weird\n             at C:\\src\\main.rs:7:1\n";
        let frames = parse_frames(text);
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].function, "microblog::jobs::run::{{closure}}");
        assert_eq!(frames[0].file.as_deref(), Some("./src/jobs.rs"));
        assert_eq!((frames[0].line, frames[0].column), (Some(42), Some(9)));
        assert_eq!(frames[1].file, None);
        assert_eq!(frames[2].file.as_deref(), Some("C:\\src\\main.rs"));
        assert_eq!(frames[2].line, Some(7));
    }
}
