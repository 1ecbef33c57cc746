//! The tracing front end against tracing's own file logging, in one run (issue 13).
//!
//! RECORDS events with two fields (`tracing::info!(user_id, request, "user logged in from
//! 10.0.0.7")`) into a file rotated at 10 MiB with 5 backups (tracing-appender's
//! `RollingFileAppender` has no size rotation: daily, so it never rotates here), from 1 and 2
//! threads. Each run is its own process in a fresh temp folder, timed inside until everything is
//! on its way to the OS (guards dropped, buffers flushed); peak RSS is the process's VmHWM. Runs
//! are interleaved; the table shows medians of ROUNDS runs.
//!
//! ```text
//! cargo bench --bench tracing                       # RECORDS=1000000 ROUNDS=3
//! RECORDS=200000 ROUNDS=1 cargo bench --bench tracing
//! ```
//!
//! | name | what |
//! |---|---|
//! | `ours` | `AppenderLayer` + `RotatingFileAppender` (PythonEncoder), default mode: one `write` per event before `info!` returns |
//! | `ours-buffered` | the same with `buffer: 64 KiB` |
//! | `ours-yaml` | `RoutingLayer` (what `tracing::init_file` runs) with the default-mode appender |
//! | `ours-writer` | tracing-subscriber's fmt layer writing to our `RotatingFileWriter` (MakeWriter), default mode |
//! | `fmt-nonblocking` | fmt layer + tracing-appender `non_blocking` (lossless) + its `RollingFileAppender` |
//! | `fmt-file` | fmt layer + a plain `File` (one `write` per event, as `ours`) |
//! | `log4rs` | our appender through log4rs and `log::info!` with the same two key-values, for reference |
//! | `baseline` | the same loop with no subscriber (for the RSS baseline) |
//! | `ours-spans` | `ours`, each event inside two nested spans with a field each (`request{id=..}:db{table="users"}`, entered once per thread), shown by `%(spans)s` in the line |
//! | `fmt-file-spans` | `fmt-file` with the same spans (fmt shows them by default) |
//!
//! The last two give the per-event cost of spans: the table ends with each side's
//! `spans / no spans` time per event, from the same run.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use log4rs_appenders::encode::PythonEncoder;
use log4rs_appenders::file::RotatingFileAppender;
use log4rs_appenders::tracing::{AppenderLayer, RotatingFileWriter, RoutingLayer};
use tracing_subscriber::prelude::*;

const IMPLS: &[&str] = &[
    "ours",
    "ours-buffered",
    "ours-yaml",
    "ours-writer",
    "fmt-nonblocking",
    "fmt-file",
    "log4rs",
    "baseline",
    "ours-spans",
    "fmt-file-spans",
];
const FORMAT: &str =
    "%(asctime)s %(levelname)s %(name)s: %(message)s user_id=%(user_id)d request=%(request)d";
/// `FORMAT` with the span chain, as fmt shows it (`request{id=0}:db{table="users"}: `).
const FORMAT_SPANS: &str = "%(asctime)s %(levelname)s %(spans)s: %(name)s: %(message)s user_id=%(user_id)d request=%(request)d";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, implementation, threads, records, dir] = &args[..]
        && mode == "--run"
    {
        run_one(
            implementation,
            threads.parse().unwrap(),
            records.parse().unwrap(),
            Path::new(dir),
        );
        return;
    }
    compare();
}

/// Spawns every implementation at 1 and 2 threads, ROUNDS times interleaved, and prints a table.
fn compare() {
    let records = env_number("RECORDS", 1_000_000);
    let rounds = env_number("ROUNDS", 3);
    let exe = std::env::current_exe().unwrap();
    let mut results: Vec<(String, usize, f64, u64)> = Vec::new();
    for round in 1..=rounds {
        for threads in [1, 2] {
            for implementation in IMPLS {
                let dir = tempfile::tempdir().unwrap();
                let out = Command::new(&exe)
                    .args([
                        "--run",
                        implementation,
                        &threads.to_string(),
                        &records.to_string(),
                        &dir.path().display().to_string(),
                    ])
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success(),
                    "{implementation}: {text}{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let mut fields = text.split_whitespace();
                let rate: f64 = fields.next().unwrap().parse().unwrap();
                let rss: u64 = fields.next().unwrap().parse().unwrap();
                results.push((implementation.to_string(), threads, rate, rss));
            }
        }
        eprintln!("round {round}/{rounds} done");
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let cell = |implementation: &str, threads: usize| {
        let rows: Vec<_> = results
            .iter()
            .filter(|r| r.0 == implementation && r.1 == threads)
            .collect();
        let rate = median(rows.iter().map(|r| r.2).collect());
        let rss = median(rows.iter().map(|r| r.3 as f64).collect());
        (rate, rss)
    };
    println!(
        "\n{records} events with two fields, medians of {rounds} interleaved runs (one process per run)\n"
    );
    println!(
        "| implementation | 1 thread events/s | µs/event | 2 threads events/s | peak RSS (1 thread) |"
    );
    println!("|---|---|---|---|---|");
    for implementation in IMPLS {
        let (rate1, rss1) = cell(implementation, 1);
        let (rate2, _) = cell(implementation, 2);
        println!(
            "| {implementation} | {:.0} k | {:.2} | {:.0} k | {:.1} MiB |",
            rate1 / 1e3,
            1e6 / rate1,
            rate2 / 1e3,
            rss1 / 1024.0
        );
    }
    let ratio = |a: &str, b: &str, threads| cell(a, threads).0 / cell(b, threads).0;
    for threads in [1, 2] {
        println!(
            "\n{threads} thread(s): ours-buffered / fmt-nonblocking = {:.2}x; ours / fmt-file = {:.2}x; ours-yaml / fmt-file = {:.2}x",
            ratio("ours-buffered", "fmt-nonblocking", threads),
            ratio("ours", "fmt-file", threads),
            ratio("ours-yaml", "fmt-file", threads),
        );
    }
    for threads in [1, 2] {
        let per_event = |implementation: &str| 1e6 / cell(implementation, threads).0;
        let (ours, ours_spans) = (per_event("ours"), per_event("ours-spans"));
        let (fmt, fmt_spans) = (per_event("fmt-file"), per_event("fmt-file-spans"));
        println!(
            "\n{threads} thread(s), time per event in two nested spans / without spans: ours {:.2}x \
             ({ours:.2} -> {ours_spans:.2} µs, +{:.2} µs); fmt + File {:.2}x ({fmt:.2} -> {fmt_spans:.2} µs, +{:.2} µs)",
            ours_spans / ours,
            ours_spans - ours,
            fmt_spans / fmt,
            fmt_spans - fmt,
        );
    }
}

fn rotating(dir: &Path, buffer: usize) -> RotatingFileAppender {
    rotating_with(dir, buffer, FORMAT)
}

fn rotating_with(dir: &Path, buffer: usize, format: &str) -> RotatingFileAppender {
    RotatingFileAppender::builder()
        .max_bytes(10 << 20)
        .backup_count(5)
        .buffer(buffer)
        .encoder(Box::new(
            PythonEncoder::with_defaults(format, [("user_id", "-"), ("request", "-")]).unwrap(),
        ))
        .build(dir.join("app.log"))
        .unwrap()
}

fn emit_tracing(threads: usize, records: usize) {
    emit_tracing_in(threads, records, false);
}

/// `spans`: each thread logs inside `request{id=<thread>}` and, within it, `db{table="users"}`.
fn emit_tracing_in(threads: usize, records: usize, spans: bool) {
    let per_thread = records / threads;
    let dispatch = tracing::dispatcher::get_default(|d| d.clone());
    std::thread::scope(|scope| {
        for t in 0..threads {
            let dispatch = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let outer = spans.then(|| tracing::info_span!("request", id = t).entered());
                    let inner = spans.then(|| tracing::info_span!("db", table = "users").entered());
                    for n in (t * per_thread)..((t + 1) * per_thread) {
                        tracing::info!(
                            user_id = 72000 + n % 1000,
                            request = 1962000 + n,
                            "user logged in from 10.0.0.7"
                        );
                    }
                    drop((inner, outer));
                })
            });
        }
    });
}

fn emit_log(threads: usize, records: usize) {
    let per_thread = records / threads;
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                for n in (t * per_thread)..((t + 1) * per_thread) {
                    log::info!(user_id = 72000 + n % 1000, request = 1962000 + n; "user logged in from 10.0.0.7");
                }
            });
        }
    });
}

/// One run: prints `events_per_second peak_rss_kib`.
fn run_one(implementation: &str, threads: usize, records: usize, dir: &Path) {
    let start = Instant::now();
    match implementation {
        "ours-spans" => {
            let layer = AppenderLayer::new(rotating_with(dir, 0, FORMAT_SPANS));
            let flush = layer.flush_guard();
            let _default = tracing_subscriber::registry().with(layer).set_default();
            emit_tracing_in(threads, records, true);
            drop(flush);
        }
        "fmt-file-spans" => {
            let file = std::sync::Arc::new(std::fs::File::create(dir.join("app.log")).unwrap());
            let fmt = tracing_subscriber::fmt::layer()
                .with_writer(file)
                .with_ansi(false);
            let _default = tracing_subscriber::registry().with(fmt).set_default();
            emit_tracing_in(threads, records, true);
        }
        "ours" | "ours-buffered" => {
            let buffer = if implementation == "ours" {
                0
            } else {
                64 << 10
            };
            let layer = AppenderLayer::new(rotating(dir, buffer));
            let flush = layer.flush_guard();
            let _default = tracing_subscriber::registry().with(layer).set_default();
            emit_tracing(threads, records);
            drop(flush);
        }
        "ours-yaml" => {
            use log4rs::config::{Appender, Config, Root};
            let config = Config::builder()
                .appender(Appender::builder().build("file", Box::new(rotating(dir, 0))))
                .build(
                    Root::builder()
                        .appender("file")
                        .build(log::LevelFilter::Info),
                )
                .unwrap();
            let layer = RoutingLayer::new(config);
            let flush = layer.flush_guard();
            let _default = tracing_subscriber::registry().with(layer).set_default();
            emit_tracing(threads, records);
            drop(flush);
        }
        "ours-writer" => {
            let writer = RotatingFileWriter::new(rotating(dir, 0));
            let flush = writer.flush_guard();
            let fmt = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false);
            let _default = tracing_subscriber::registry().with(fmt).set_default();
            emit_tracing(threads, records);
            drop(flush);
        }
        "fmt-nonblocking" => {
            let rolling = tracing_appender::rolling::RollingFileAppender::builder()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .max_log_files(5)
                .filename_prefix("app.log")
                .build(dir)
                .unwrap();
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .finish(rolling);
            let fmt = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false);
            let _default = tracing_subscriber::registry().with(fmt).set_default();
            emit_tracing(threads, records);
            drop(guard);
        }
        "fmt-file" => {
            let file = std::sync::Arc::new(std::fs::File::create(dir.join("app.log")).unwrap());
            let fmt = tracing_subscriber::fmt::layer()
                .with_writer(file)
                .with_ansi(false);
            let _default = tracing_subscriber::registry().with(fmt).set_default();
            emit_tracing(threads, records);
        }
        "log4rs" => {
            use log4rs::config::{Appender, Config, Root};
            let appender = rotating(dir, 0);
            let config = Config::builder()
                .appender(Appender::builder().build("file", Box::new(appender)))
                .build(
                    Root::builder()
                        .appender("file")
                        .build(log::LevelFilter::Info),
                )
                .unwrap();
            let handle = log4rs_appenders::init_config(config).unwrap();
            emit_log(threads, records);
            drop(handle);
        }
        "baseline" => emit_tracing(threads, records),
        other => panic!("unknown implementation {other}"),
    }
    let rate = records as f64 / start.elapsed().as_secs_f64();
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{rate:.0} {rss}");
}
