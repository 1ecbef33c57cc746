//! The record attributes a format can name (`%(levelname)s`, ...), how each is read from a
//! `log::Record`, and what it is when Rust has no direct equivalent of Python's.

use log::Level;

/// One attribute named in a format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Attribute {
    Name,
    LevelName,
    LevelNo,
    PathName,
    FileName,
    Module,
    LineNo,
    FuncName,
    AscTime,
    Created,
    Msecs,
    RelativeCreated,
    Thread,
    ThreadName,
    Process,
    Message,
    /// The tracing span chain (`request{id=7}:db`): the record's `spans` key-value, empty when
    /// it has none.
    Spans,
    /// Any other name: a key-value of the record, looked up at run time.
    KeyValue(String),
}

/// The Python type of an attribute, which decides the conversions it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueType {
    Text,
    Integer,
    Float,
    /// A key-value: its type is known only when a record carries it.
    Dynamic,
}

/// Built-in attribute names, in Python's spelling.
pub(crate) const BUILT_IN: [&str; 17] = [
    "name",
    "levelname",
    "levelno",
    "pathname",
    "filename",
    "module",
    "lineno",
    "funcName",
    "asctime",
    "created",
    "msecs",
    "relativeCreated",
    "thread",
    "threadName",
    "process",
    "message",
    "spans",
];

/// Python `LogRecord` attributes that have no meaning for a Rust record.
const PYTHON_ONLY: [(&str, &str); 7] = [
    ("msg", "the unformatted message; use %(message)s"),
    ("args", "the message arguments; use %(message)s"),
    (
        "exc_info",
        "Rust errors are logged as a key-value `error`; its chain is appended",
    ),
    (
        "exc_text",
        "Rust errors are logged as a key-value `error`; its chain is appended",
    ),
    ("stack_info", "Rust has no stack info on log records"),
    (
        "processName",
        "Rust processes have no name; use %(process)d",
    ),
    (
        "taskName",
        "Rust log records carry no asyncio task; log the task as a key-value",
    ),
];

impl Attribute {
    /// The attribute `name` stands for: a built-in, or a record key-value declared with a
    /// default (`declared`, Python's `Formatter(fmt, defaults=...)`). Any other name is an
    /// error, with the closest name as a hint: Python raises `KeyError` for it on every record.
    pub(crate) fn from_name(name: &str, declared: &[&str]) -> Result<Attribute, String> {
        let attribute = match name {
            "name" => Attribute::Name,
            "levelname" => Attribute::LevelName,
            "levelno" => Attribute::LevelNo,
            "pathname" => Attribute::PathName,
            "filename" => Attribute::FileName,
            "module" => Attribute::Module,
            "lineno" => Attribute::LineNo,
            "funcName" => Attribute::FuncName,
            "asctime" => Attribute::AscTime,
            "created" => Attribute::Created,
            "msecs" => Attribute::Msecs,
            "relativeCreated" => Attribute::RelativeCreated,
            "thread" => Attribute::Thread,
            "threadName" => Attribute::ThreadName,
            "process" => Attribute::Process,
            "message" => Attribute::Message,
            "spans" => Attribute::Spans,
            other if declared.contains(&other) => Attribute::KeyValue(other.to_owned()),
            other => {
                if let Some((_, why)) = PYTHON_ONLY.iter().find(|(n, _)| *n == other) {
                    return Err(format!(
                        "attribute \"{other}\" is not available for Rust log records ({why})"
                    ));
                }
                let hint = closest_attribute(other, declared)
                    .map(|n| format!(" (did you mean \"{n}\"?)"))
                    .unwrap_or_default();
                return Err(format!(
                    "unknown attribute \"{other}\"{hint}; a record key-value shown in a format is \
                     declared with the value to show when a record lacks it, as in Python's \
                     logging.Formatter(fmt, defaults={{...}}): `defaults: {{ {other}: \"-\" }}`"
                ));
            }
        };
        Ok(attribute)
    }

    pub(crate) fn value_type(&self) -> ValueType {
        match self {
            Attribute::LevelNo | Attribute::LineNo | Attribute::Thread | Attribute::Process => {
                ValueType::Integer
            }
            Attribute::Created | Attribute::Msecs | Attribute::RelativeCreated => ValueType::Float,
            Attribute::KeyValue(_) => ValueType::Dynamic,
            _ => ValueType::Text,
        }
    }

    /// True when rendering needs the record's creation time.
    pub(crate) fn needs_time(&self) -> bool {
        matches!(
            self,
            Attribute::AscTime | Attribute::Created | Attribute::Msecs | Attribute::RelativeCreated
        )
    }
}

/// The built-in or declared name closest to `name`: a case-insensitive match first (`funcname`,
/// `lineNo`), else the nearest by edit distance if it is close enough to be a typo.
fn closest_attribute<'a>(name: &str, declared: &[&'a str]) -> Option<&'a str> {
    let names = || BUILT_IN.iter().copied().chain(declared.iter().copied());
    if let Some(n) = names().find(|n| n.eq_ignore_ascii_case(name)) {
        return Some(n);
    }
    crate::fields::closest_name(name, names())
}

/// True for the names of built-in attributes (a default for one would never be used).
pub(crate) fn is_built_in(name: &str) -> bool {
    BUILT_IN.contains(&name)
}

/// Python's level name; `TRACE` for Rust's trace level.
pub(crate) fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARNING",
        Level::Info => "INFO",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    }
}

/// Python's level number; 5 for trace.
pub(crate) fn level_number(level: Level) -> i128 {
    match level {
        Level::Error => 40,
        Level::Warn => 30,
        Level::Info => 20,
        Level::Debug => 10,
        Level::Trace => 5,
    }
}

/// What CPython's `findCaller` gives when it cannot tell.
pub(crate) const UNKNOWN_FILE: &str = "(unknown file)";
/// What CPython's `findCaller` gives when it cannot tell.
pub(crate) const UNKNOWN_FUNCTION: &str = "(unknown function)";

/// The last component of a path, on `/` or `\` (Python's `os.path.basename`; Rust's `file!()`
/// uses `\` on Windows).
pub(crate) fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// `%(module)s`: the last segment of the record's module path (`app::routes` gives `routes`),
/// or, when the record has none, the file name without its extension (Python's rule).
pub(crate) fn module_name<'a>(module_path: Option<&'a str>, file: Option<&'a str>) -> &'a str {
    if let Some(m) = module_path {
        // `rfind` of one byte is a memrchr; `rsplit("::")` costs ~400 instructions.
        return m.rfind(':').map_or(m, |colon| &m[colon + 1..]);
    }
    match file {
        Some(f) => {
            let base = base_name(f);
            match base.rfind('.') {
                Some(dot) if dot > 0 => &base[..dot],
                _ => base,
            }
        }
        None => UNKNOWN_FILE,
    }
}

/// The current thread's number and name, computed once per thread.
pub(crate) struct ThreadInfo {
    pub id: u64,
    pub name: String,
}

impl ThreadInfo {
    fn current() -> ThreadInfo {
        let thread = std::thread::current();
        // `ThreadId::as_u64` is unstable; its Debug form is `ThreadId(7)`.
        let debug = format!("{:?}", thread.id());
        let id = debug
            .trim_start_matches("ThreadId(")
            .trim_end_matches(')')
            .parse()
            .unwrap_or(0);
        let name = match thread.name() {
            Some(n) => n.to_owned(),
            None => format!("Thread-{id}"),
        };
        ThreadInfo { id, name }
    }
}

thread_local! {
    static THREAD_INFO: ThreadInfo = ThreadInfo::current();
}

/// Runs `f` with the current thread's info; `None` while the thread is being torn down (a
/// record logged from a thread-local destructor).
pub(crate) fn with_thread_info<R>(f: impl FnOnce(&ThreadInfo) -> R) -> Option<R> {
    THREAD_INFO.try_with(f).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_built_ins_are_errors_with_a_hint() {
        for (typo, meant) in [
            ("levelnam", "levelname"),
            ("funcname", "funcName"),
            ("lineNo", "lineno"),
            ("linenum", "lineno"),
            ("mesage", "message"),
            ("threadname", "threadName"),
            ("relativecreated", "relativeCreated"),
        ] {
            let e = Attribute::from_name(typo, &[]).unwrap_err();
            assert!(
                e.contains(&format!("did you mean \"{meant}\"")),
                "{typo}: {e}"
            );
        }
    }

    #[test]
    fn undeclared_names_are_refused_and_declared_ones_are_key_values() {
        for key in ["user_id", "path", "time", "request", "error"] {
            let e = Attribute::from_name(key, &[]).unwrap_err();
            assert!(
                e.contains(&format!("unknown attribute \"{key}\""))
                    && e.contains(&format!("defaults: {{ {key}: \"-\" }}")),
                "{key}: {e}"
            );
            assert_eq!(
                Attribute::from_name(key, &[key]).unwrap(),
                Attribute::KeyValue(key.to_owned()),
                "{key}"
            );
        }
        // A typo of a declared key-value gets the declared name as its hint.
        let e = Attribute::from_name("usr_id", &["user_id"]).unwrap_err();
        assert!(e.contains("did you mean \"user_id\""), "{e}");
    }

    #[test]
    fn python_only_attributes_explain_themselves() {
        let e = Attribute::from_name("exc_info", &[]).unwrap_err();
        assert!(e.contains("not available") && e.contains("error"), "{e}");
    }

    #[test]
    fn module_is_the_last_module_path_segment_else_the_file_stem() {
        assert_eq!(
            module_name(Some("shop::http::routes"), Some("src/http/routes.rs")),
            "routes"
        );
        assert_eq!(
            module_name(Some("shop::http"), Some("src/http/mod.rs")),
            "http"
        );
        assert_eq!(module_name(None, Some("src/http/mod.rs")), "mod");
        assert_eq!(module_name(None, Some("C:\\src\\lib.rs")), "lib");
        assert_eq!(module_name(None, None), "(unknown file)");
    }

    #[test]
    fn unnamed_threads_are_numbered_like_pythons() {
        let name = std::thread::spawn(|| with_thread_info(|t| t.name.clone()))
            .join()
            .unwrap()
            .unwrap();
        assert!(name.starts_with("Thread-"), "{name}");
        let named = std::thread::Builder::new()
            .name("worker-1".into())
            .spawn(|| with_thread_info(|t| t.name.clone()))
            .unwrap()
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(named, "worker-1");
    }
}
