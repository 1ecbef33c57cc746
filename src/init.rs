//! Starting logging: strict `init_file` / `init_config`, the handle that flushes on drop, and
//! hot reload (`refresh_rate`) that only ever applies a config with no problems.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::config::{ConfigError, check_config_file, load_config_file};

/// Why logging could not start.
#[derive(Debug)]
pub enum InitError {
    /// The config has problems (every one is listed); nothing was started.
    Config(ConfigError),
    /// Another logger is already installed for this process (`log::set_logger` was called);
    /// nothing was started.
    AlreadyInitialized,
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            InitError::Config(e) => e.fmt(f),
            InitError::AlreadyInitialized => f.write_str(
                "a logger is already installed in this process; call init_file/init_config once, at the top of main",
            ),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InitError::Config(e) => Some(e),
            InitError::AlreadyInitialized => None,
        }
    }
}

impl From<ConfigError> for InitError {
    fn from(e: ConfigError) -> Self {
        InitError::Config(e)
    }
}

/// The running logger. Keep it alive for the life of the program: dropping it flushes and then
/// drops every appender (queued mail is sent, buffered file data written, syslog connections
/// closed properly), like tracing-appender's `WorkerGuard`; records logged after that go
/// nowhere. It also stops the hot-reload watcher, if one runs.
///
/// ```no_run
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let _log = log4rs_appenders::init_file("config-examples/microblog.yaml")?;
///     log::info!("started");
///     Ok(())
/// } // `_log` dropped here: everything queued is delivered before exit
/// ```
#[must_use = "dropping the handle flushes and ends hot reload; bind it: `let _log = ...`"]
#[derive(Debug)]
pub struct LogHandle {
    handle: log4rs::Handle,
    stop_reload: Option<Arc<AtomicBool>>,
}

impl LogHandle {
    /// log4rs's own handle, for reconfiguring at runtime.
    pub fn log4rs_handle(&self) -> &log4rs::Handle {
        &self.handle
    }

    /// Replaces the running config (the old appenders are flushed and dropped).
    pub fn set_config(&self, config: log4rs::Config) {
        self.handle.set_config(config);
        // Under the tracing front end, tracing caches which callsites are on: recompute.
        #[cfg(feature = "tracing")]
        tracing_core::callsite::rebuild_interest_cache();
    }

    /// Flushes every appender now.
    pub fn flush(&self) {
        log::logger().flush();
    }
}

impl Drop for LogHandle {
    /// Flushes every appender, then swaps in an empty config (logging stops), so the
    /// appenders are dropped: each one ends its work there, bounded by its own timeout (a syslog
    /// stream delivers what is queued and closes its connection properly, reporting with a
    /// count what could not be sent; a file appender writes its buffer; the mail appender
    /// sends its queue). The process exiting does not drop the global logger, so without this
    /// their worker threads would just stop.
    fn drop(&mut self) {
        if let Some(stop) = &self.stop_reload {
            stop.store(true, Ordering::Relaxed);
        }
        log::logger().flush();
        self.handle.set_config(logging_off());
    }
}

/// Loads `path` strictly and starts logging with it.
///
/// Unlike `log4rs::init_file`, which prints config errors and starts with what it could build,
/// this refuses to start and returns every problem at once. With `refresh_rate:` in the file, a
/// watcher thread re-reads the file when it changes and applies it only if it has no problems
/// (otherwise the problems are reported and the running config stays).
pub fn init_file(path: impl AsRef<Path>) -> Result<LogHandle, InitError> {
    start_file::<log4rs::Handle>(path.as_ref())
}

/// Starts logging with a config built in code (see the crate docs for the builder side).
pub fn init_config(config: log4rs::Config) -> Result<LogHandle, InitError> {
    start_config::<log4rs::Handle>(config)
}

/// A process-wide front end: log4rs as `log`'s logger, or (feature `tracing`) the tracing
/// subscriber with its `log` bridge. It is installed with logging off before any appender of
/// the config starts, and given the config after.
pub(crate) trait FrontEnd: Clone + Send + Sync + 'static {
    /// Where one whose config could not start waits, logging off, for a corrected retry in this
    /// process (instead of that retry failing with [`InitError::AlreadyInitialized`]).
    fn unused() -> &'static Mutex<Option<Self>>;
    /// Installs it process-wide with logging off; `AlreadyInitialized` when another is.
    fn install() -> Result<Self, InitError>;
    /// Applies a config: the first one, and each reload.
    fn set_config(&self, config: log4rs::Config);
    /// log4rs's handle of the config it runs.
    fn log4rs_handle(&self) -> log4rs::Handle;
}

/// The front end a failed start left, or a newly installed one.
fn claim<F: FrontEnd>() -> Result<F, InitError> {
    // `%(relativeCreated)d` counts from here, as Python's counts from logging's import.
    crate::encode::python::logging_start_ns();
    let unused = F::unused()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    match unused {
        Some(front) => Ok(front),
        None => F::install(),
    }
}

/// `init_file` for front end `F`: checks the file, claims `F` (so when another logger is
/// installed nothing has started yet), starts the appenders into it, and watches the file when
/// it asks for `refresh_rate`.
pub(crate) fn start_file<F: FrontEnd>(path: &Path) -> Result<LogHandle, InitError> {
    let checked = check_config_file(path)?;
    let refresh_rate = checked.refresh_rate();
    let front = claim::<F>()?;
    match checked.start() {
        Ok(loaded) => front.set_config(loaded.config),
        Err(e) => {
            *F::unused().lock().unwrap_or_else(PoisonError::into_inner) = Some(front);
            return Err(e.into());
        }
    }
    let stop_reload = refresh_rate.map(|rate| {
        let stop = Arc::new(AtomicBool::new(false));
        let reloaded = front.clone();
        spawn_reloader(
            path.to_path_buf(),
            rate,
            move |config| reloaded.set_config(config),
            stop.clone(),
        );
        stop
    });
    Ok(LogHandle {
        handle: front.log4rs_handle(),
        stop_reload,
    })
}

/// `init_config` for front end `F`.
pub(crate) fn start_config<F: FrontEnd>(config: log4rs::Config) -> Result<LogHandle, InitError> {
    let front = claim::<F>()?;
    front.set_config(config);
    Ok(LogHandle {
        handle: front.log4rs_handle(),
        stop_reload: None,
    })
}

/// The `log` front end: log4rs as the process-wide `log` logger.
impl FrontEnd for log4rs::Handle {
    fn unused() -> &'static Mutex<Option<Self>> {
        static UNUSED: Mutex<Option<log4rs::Handle>> = Mutex::new(None);
        &UNUSED
    }

    fn install() -> Result<Self, InitError> {
        // Not `log4rs::init_config`: it sets the max level before it tries, so a refused call
        // would turn off the logger that is already installed.
        let logger = log4rs::Logger::new(logging_off());
        let handle = logger.handle();
        log::set_boxed_logger(Box::new(logger)).map_err(|_| InitError::AlreadyInitialized)?;
        Ok(handle)
    }

    fn set_config(&self, config: log4rs::Config) {
        log4rs::Handle::set_config(self, config);
    }

    fn log4rs_handle(&self) -> log4rs::Handle {
        self.clone()
    }
}

/// A config with no appenders and the root logger off.
pub(crate) fn logging_off() -> log4rs::Config {
    let root = log4rs::config::Root::builder().build(log::LevelFilter::Off);
    // log4rs refuses only unknown or duplicate appender names, and this config has none.
    log4rs::Config::builder()
        .build(root)
        .unwrap_or_else(|_| unreachable!("a config without appenders is valid"))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Watches `path` every `rate`; when it changed and loads with no problems, hands the new config
/// to `apply` (otherwise reports the problems and keeps the running config). Ends when `stop`
/// is set.
pub(crate) fn spawn_reloader(
    path: PathBuf,
    mut rate: Duration,
    apply: impl Fn(log4rs::Config) + Send + 'static,
    stop: Arc<AtomicBool>,
) {
    let spawned = std::thread::Builder::new()
        .name("log4rs-appenders-reload".into())
        .spawn(move || {
            let mut last = modified(&path);
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(rate);
                let now = modified(&path);
                if now == last || stop.load(Ordering::Relaxed) {
                    continue;
                }
                last = now;
                match load_config_file(&path) {
                    Ok(loaded) => {
                        apply(loaded.config);
                        if let Some(r) = loaded.refresh_rate {
                            rate = r;
                        }
                    }
                    Err(e) => crate::report::report_error(&anyhow::anyhow!(
                        "config reload skipped, the running config stays: {e}"
                    )),
                }
            }
        });
    if let Err(e) = spawned {
        crate::report::report_error(&anyhow::anyhow!(
            "cannot start the config reload thread: {e}"
        ));
    }
}
