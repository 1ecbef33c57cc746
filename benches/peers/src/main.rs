//! One run of one logger on workload W (see benches/compare_rotating_file.sh): N records of
//! `2026-11-23 02:18:30,000 INFO: user 72000 logged in from 10.0.0.7 (request 1962000) [in src/app/routes.rs:42]`
//! into a file rotated at 10 MiB with 5 backups, from T threads. Prints
//! `<impl> <threads> <records> <seconds> <records/s>`, timed until the final flush.
//!
//! Usage: rotating-file-peers <impl> <threads> <records> <empty dir>
//! impl: baseline | ours | ours-buffered | ours-pattern | ours-pattern-buffered | ours-floorfmt |
//!       ours-floorfmt-buffered | log4rs |
//!       flexi | flexi-buffered | spdlog | floor

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Record};

const MAX_BYTES: u64 = 10 << 20;
const BACKUPS: u32 = 5;
const PYTHON_FORMAT: &str = "%(asctime)s %(levelname)s: %(message)s [in %(pathname)s:%(lineno)d]";
const PATTERN: &str = "{d(%Y-%m-%d %H:%M:%S,%3f)} {l}: {m} [in {f}:{L}]{n}";

fn log_one(n: u64) {
    log::logger().log(
        &Record::builder()
            .level(Level::Info)
            .target("app")
            .module_path_static(Some("app::routes"))
            .file_static(Some("src/app/routes.rs"))
            .line(Some(42))
            .args(format_args!(
                "user {} logged in from 10.0.0.7 (request {})",
                72000 + n % 1000,
                1962000 + n
            ))
            .build(),
    );
}

fn with_log4rs(appender: Box<dyn log4rs::append::Append>) {
    use log4rs::config::{Appender, Config, Root};
    let config = Config::builder()
        .appender(Appender::builder().build("file", appender))
        .build(Root::builder().appender("file").build(LevelFilter::Info))
        .expect("log4rs config");
    log4rs::init_config(config).expect("init log4rs");
}

/// The floor's line formatting (timestamp text cached per second) as a log4rs encoder: plugged
/// into our appender it isolates the appender's own cost from the encoder's.
#[derive(Debug)]
struct FloorFormat;

impl log4rs::encode::Encode for FloorFormat {
    fn encode(&self, w: &mut dyn log4rs::encode::Write, record: &Record) -> anyhow::Result<()> {
        FLOOR_LINE.with(|cell| {
            let (second, prefix, line) = &mut *cell.borrow_mut();
            format_floor_line(second, prefix, line, record);
            w.write_all(line)
        })?;
        Ok(())
    }
}

fn format_floor_line(second: &mut u64, prefix: &mut String, line: &mut Vec<u8>, record: &Record) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    if now.as_secs() != *second {
        *second = now.as_secs();
        *prefix = chrono::Local::now()
            .format("%Y-%m-%d %H:%M:%S,")
            .to_string();
    }
    line.clear();
    let _ = writeln!(
        line,
        "{prefix}{:03} {}: {} [in {}:{}]",
        now.subsec_millis(),
        record.level(),
        record.args(),
        record.file().unwrap_or(""),
        record.line().unwrap_or(0)
    );
}

#[derive(Clone, Copy)]
enum Enc {
    Python,
    Pattern,
    Floor,
}

fn ours(dir: &Path, buffered: bool, enc: Enc) {
    ours_with(dir, buffered, enc, None);
}

/// `timed`: also rotate by time (`when: midnight`, size and time together): the clock is read
/// and compared with the precomputed boundary at every record.
fn ours_with(dir: &Path, buffered: bool, enc: Enc, timed: Option<log4rs_appenders::file::When>) {
    use log4rs_appenders::file::RotatingFileAppender;
    let mut b = RotatingFileAppender::builder()
        .max_bytes(MAX_BYTES)
        .backup_count(BACKUPS);
    if let Some(when) = timed {
        b = b.when(when);
    }
    if buffered {
        b = b.buffer(64 * 1024);
    }
    b = match enc {
        Enc::Pattern => b.encoder(Box::new(log4rs::encode::pattern::PatternEncoder::new(
            PATTERN,
        ))),
        Enc::Python => b.encoder(Box::new(
            log4rs_appenders::encode::PythonEncoder::new(PYTHON_FORMAT).expect("format"),
        )),
        Enc::Floor => b.encoder(Box::new(FloorFormat)),
    };
    with_log4rs(Box::new(b.build(dir.join("app.log")).expect("build")));
}

fn log4rs_rolling(dir: &Path) {
    use log4rs::append::rolling_file::RollingFileAppender;
    use log4rs::append::rolling_file::policy::compound::CompoundPolicy;
    use log4rs::append::rolling_file::policy::compound::roll::fixed_window::FixedWindowRoller;
    use log4rs::append::rolling_file::policy::compound::trigger::size::SizeTrigger;
    let roller = FixedWindowRoller::builder()
        .build(&format!("{}/app.log.{{}}", dir.display()), BACKUPS)
        .expect("roller");
    let policy = CompoundPolicy::new(Box::new(SizeTrigger::new(MAX_BYTES)), Box::new(roller));
    let appender = RollingFileAppender::builder()
        .encoder(Box::new(log4rs::encode::pattern::PatternEncoder::new(
            PATTERN,
        )))
        .build(dir.join("app.log"), Box::new(policy))
        .expect("appender");
    with_log4rs(Box::new(appender));
}

fn flexi_format(
    w: &mut dyn Write,
    now: &mut flexi_logger::DeferredNow,
    record: &Record,
) -> std::io::Result<()> {
    write!(
        w,
        "{} {}: {} [in {}:{}]",
        now.format("%Y-%m-%d %H:%M:%S,%3f"),
        record.level(),
        record.args(),
        record.file().unwrap_or(""),
        record.line().unwrap_or(0)
    )
}

fn flexi(dir: &Path, buffered: bool) -> flexi_logger::LoggerHandle {
    use flexi_logger::{Cleanup, Criterion, FileSpec, Logger, Naming, WriteMode};
    Logger::try_with_str("info")
        .expect("spec")
        .log_to_file(
            FileSpec::default()
                .directory(dir)
                .basename("app")
                .suppress_timestamp(),
        )
        .rotate(
            Criterion::Size(MAX_BYTES),
            Naming::Numbers,
            Cleanup::KeepLogFiles(BACKUPS as usize),
        )
        .format_for_files(flexi_format)
        .write_mode(if buffered {
            WriteMode::BufferAndFlush
        } else {
            WriteMode::Direct
        })
        .start()
        .expect("flexi start")
}

fn spdlog(dir: &Path) {
    use spdlog::formatter::{PatternFormatter, pattern};
    use spdlog::sink::{RotatingFileSink, RotationPolicy};
    let sink = RotatingFileSink::builder()
        .base_path(dir.join("app.log"))
        .rotation_policy(RotationPolicy::FileSize(MAX_BYTES))
        .max_files(BACKUPS as usize + 1)
        .formatter(PatternFormatter::new(pattern!(
            "{date} {time},{millisecond} {level}: {payload} [in {source}]{eol}"
        )))
        .build_arc()
        .expect("sink");
    let logger = Arc::new(
        spdlog::Logger::builder()
            .sink(sink)
            .build()
            .expect("logger"),
    );
    spdlog::init_log_crate_proxy().expect("proxy");
    spdlog::log_crate_proxy().set_logger(Some(logger));
    log::set_max_level(LevelFilter::Info);
}

/// The floor: the same lines, timestamp text cached per second, a 64 KiB `BufWriter<File>`,
/// rename rotation. No error handling, no reopen check, nothing else.
struct Floor {
    base: PathBuf,
    out: BufWriter<File>,
    size: u64,
}

struct FloorLogger(Mutex<Floor>);

thread_local! {
    static FLOOR_LINE: std::cell::RefCell<(u64, String, Vec<u8>)> =
        const { std::cell::RefCell::new((u64::MAX, String::new(), Vec::new())) };
}

impl log::Log for FloorLogger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &Record) {
        FLOOR_LINE.with(|cell| {
            let (second, prefix, line) = &mut *cell.borrow_mut();
            format_floor_line(second, prefix, line, record);
            let mut f = self.0.lock().unwrap();
            if f.size + line.len() as u64 > MAX_BYTES {
                let _ = f.out.flush();
                for i in (1..BACKUPS).rev() {
                    let _ = std::fs::rename(
                        format!("{}.{i}", f.base.display()),
                        format!("{}.{}", f.base.display(), i + 1),
                    );
                }
                let _ = std::fs::rename(&f.base, format!("{}.1", f.base.display()));
                f.out = BufWriter::with_capacity(64 * 1024, File::create(&f.base).unwrap());
                f.size = 0;
            }
            let _ = f.out.write_all(line);
            f.size += line.len() as u64;
        });
    }
    fn flush(&self) {
        let _ = self.0.lock().unwrap().out.flush();
    }
}

fn floor(dir: &Path) {
    let base = dir.join("app.log");
    let out = BufWriter::with_capacity(64 * 1024, File::create(&base).expect("create"));
    let logger = FloorLogger(Mutex::new(Floor { base, out, size: 0 }));
    log::set_boxed_logger(Box::new(logger)).expect("set logger");
    log::set_max_level(LevelFilter::Info);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("probe-encoder") {
        // Until the real Python encoder lands, PythonEncoder is a placeholder that leaves
        // %(asctime)s unrendered; the comparison then uses log4rs's PatternEncoder in ours.
        let line = log4rs_appenders::encode::PythonEncoder::new(PYTHON_FORMAT)
            .map(|e| {
                e.format_to_string(
                    &Record::builder()
                        .level(Level::Info)
                        .file_static(Some("src/app/routes.rs"))
                        .line(Some(42))
                        .args(format_args!("x"))
                        .build(),
                )
            })
            .unwrap_or_default();
        println!(
            "{}",
            if line.contains("%(") {
                "pattern"
            } else {
                "python"
            }
        );
        return;
    }
    if args.len() != 5 {
        eprintln!("usage: rotating-file-peers <impl> <threads> <records> <empty dir>");
        std::process::exit(2);
    }
    let (which, dir) = (args[1].as_str(), PathBuf::from(&args[4]));
    let threads: u64 = args[2].parse().expect("threads");
    let records: u64 = args[3].parse().expect("records");
    std::fs::create_dir_all(&dir).expect("dir");
    let mut _flexi = None;
    match which {
        "baseline" => {}
        "ours" => ours(&dir, false, Enc::Python),
        "ours-buffered" => ours(&dir, true, Enc::Python),
        "ours-midnight" => ours_with(
            &dir,
            false,
            Enc::Python,
            Some(log4rs_appenders::file::When::Midnight),
        ),
        "ours-pattern" => ours(&dir, false, Enc::Pattern),
        "ours-pattern-buffered" => ours(&dir, true, Enc::Pattern),
        "ours-floorfmt" => ours(&dir, false, Enc::Floor),
        "ours-floorfmt-buffered" => ours(&dir, true, Enc::Floor),
        "log4rs" => log4rs_rolling(&dir),
        "flexi" => _flexi = Some(flexi(&dir, false)),
        "flexi-buffered" => _flexi = Some(flexi(&dir, true)),
        "spdlog" => spdlog(&dir),
        "floor" => floor(&dir),
        other => {
            eprintln!("unknown impl {other}");
            std::process::exit(2);
        }
    }
    let started = Instant::now();
    if which != "baseline" {
        let per_thread = records / threads;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                std::thread::spawn(move || {
                    for n in t * per_thread..(t + 1) * per_thread {
                        log_one(n);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        log::logger().flush();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{which} {threads} {records} {secs:.3} {:.0}",
        records as f64 / secs.max(1e-9)
    );
}
