//! What an `error!` costs the application thread when the mail server is slow, against Python's
//! SMTPHandler on the same server; and the mail worker's delivery rate with and without the
//! single-write DATA fix (see src/smtp/transport.rs).
//!
//! Needs python3 with aiosmtpd (scripts/install/smtp.sh). Run:
//! `cargo bench --no-default-features --features smtp --bench smtp_latency -- --warm-up-time 1 --measurement-time 3`
//! Prints criterion's estimate, then one table from the same run.

#[path = "../tests/smtp_peer/mod.rs"]
mod smtp_peer;

use std::process::Command;
use std::time::{Duration, Instant};

use criterion::Criterion;
use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::smtp::{Security, SmtpAppender};
use smtp_peer::SmtpServer;

const SLOW_SERVER_SECONDS: &str = "2";

fn error(a: &SmtpAppender, line: u32, i: u64) {
    let _ = a.append(
        &Record::builder()
            .level(Level::Error)
            .target("app::routes")
            .file(Some("src/app/routes.rs"))
            .line(Some(line))
            .args(format_args!("request {i} failed: upstream timeout"))
            .build(),
    );
}

fn appender(port: u16, batch_window: Duration, single_write: bool) -> SmtpAppender {
    SmtpAppender::builder()
        .name("bench")
        .host("127.0.0.1")
        .port(port)
        .security(Security::None)
        .from("app@example.com")
        .to("ops@example.com")
        .batch_window(batch_window)
        .max_mails_per_hour(1_000_000)
        .timeout(Duration::from_secs(3))
        .single_write_data(single_write)
        .build()
        .expect("appender")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Mails per second, one at a time: log one error, flush (returns once the server accepted it).
fn mails_per_second(port: u16, single_write: bool, mails: u64) -> f64 {
    let a = appender(port, Duration::ZERO, single_write);
    error(&a, 1, 0); // connect outside the timing
    a.flush();
    let start = Instant::now();
    for i in 0..mails {
        error(&a, 2, i);
        a.flush();
    }
    mails as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let aiosmtpd = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !aiosmtpd {
        eprintln!("SKIPPED: needs python3 with aiosmtpd (bash scripts/install/smtp.sh)");
        return;
    }
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    // 1. The application thread, server answering DATA after 2 s. Default batch window (10 s):
    //    the worker is in the middle of a 2 s dialogue most of the time.
    let slow = SmtpServer::start(&["--delay", SLOW_SERVER_SECONDS]);
    let a = appender(slow.port, Duration::from_secs(10), true);
    let mut i = 0u64;
    criterion.bench_function("smtp/error_call_on_app_thread_slow_server", |b| {
        b.iter(|| {
            i += 1;
            error(&a, 3, i);
        })
    });
    // Our own per-call distribution from the same appender, for the table.
    let mut calls: Vec<f64> = (0..20_000)
        .map(|n| {
            let t = Instant::now();
            error(&a, 4, n);
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    calls.sort_by(f64::total_cmp);
    let dropped = a.dropped_errors();
    drop(a);

    // 2. Python's SMTPHandler against the same slow server.
    let python_calls = 3;
    let out = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/smtp_python_handler.py"
        ))
        .args([slow.port.to_string(), python_calls.to_string()])
        .output()
        .expect("run smtp_python_handler.py");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "python output: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut py: Vec<f64> = v["seconds"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_f64())
                .map(|s| s * 1e3)
                .collect()
        })
        .unwrap_or_default();
    py.sort_by(f64::total_cmp);
    drop(slow);

    // 3. Delivery rate, fast server, with and without the fix (lettre's own two-write DATA).
    let fast = SmtpServer::start(&[]);
    let with_fix = mails_per_second(fast.port, true, 200);
    let without_fix = mails_per_second(fast.port, false, 40);

    criterion.final_summary();
    println!();
    println!(
        "| measurement (server answers DATA after {SLOW_SERVER_SECONDS} s) | median | p99 | max |"
    );
    println!("|---|---|---|---|");
    println!(
        "| our `error!` on the app thread (20,000 calls, µs) | {:.2} | {:.2} | {:.1} |",
        percentile(&calls, 0.5),
        percentile(&calls, 0.99),
        calls[calls.len() - 1]
    );
    println!(
        "| Python SMTPHandler `logger.error` ({} calls, ms) | {:.0} | - | {:.0} |",
        py.len(),
        percentile(&py, 0.5),
        py[py.len() - 1]
    );
    println!("(errors dropped by our queue during the run: {dropped})");
    println!();
    println!("| mail worker, one mail at a time to a local aiosmtpd | mails/s |");
    println!("|---|---|");
    println!(
        "| lettre's SmtpConnection::send (body and terminator in two writes) | {without_fix:.1} |"
    );
    println!("| ours: body + terminator in one write | {with_fix:.1} |");
}
