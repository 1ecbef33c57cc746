//! What an `error!` costs the application thread with the sentry appender, against the Sentry
//! SDK's own `log` integration (`sentry-log` with the SDK's ureq transport) on the same records,
//! in one run, with a real server (Bugsink) answering and then stopped.
//!
//! ```sh
//! bash scripts/install/sentry.sh
//! cargo bench --bench sentry_latency            # CALLS=300 GAP_MS=5 to change the workload
//! ```
//!
//! Each round logs one record through each peer (the order alternating), timing only the call
//! itself; records are spaced `GAP_MS` apart, as errors are in a real program (a flood only
//! measures how fast a full queue drops). Both peers get 20 info breadcrumbs first.

#[path = "../tests/bugsink/mod.rs"]
mod bugsink;

use std::time::{Duration, Instant};

use log::kv::Value;
use log::{Level, Log, Record};
use log4rs::append::Append;
use log4rs_appenders::fields::Secret;
use log4rs_appenders::sentry::SentryAppender;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug)]
struct SaveError(std::io::Error);

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("cannot write the profile file")
    }
}

impl std::error::Error for SaveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Logs the round's record through `sink`, returning how long the call took.
fn timed(i: u64, sink: &dyn Fn(&Record)) -> Duration {
    let error = SaveError(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        "permission denied",
    ));
    let kvs: &[(&str, Value)] = &[
        ("error", Value::from_dyn_error(&error)),
        ("user_id", Value::from(i)),
    ];
    let args = format_args!("cannot save the profile of user {i}");
    let record = Record::builder()
        .level(Level::Error)
        .target("microblog::profile")
        .file(Some("src/profile.rs"))
        .line(Some(42))
        .module_path(Some("microblog::profile"))
        .args(args)
        .key_values(&kvs)
        .build();
    let start = Instant::now();
    sink(&record);
    start.elapsed()
}

fn breadcrumbs(sink: &dyn Fn(&Record)) {
    for i in 0..20 {
        sink(
            &Record::builder()
                .level(Level::Info)
                .target("microblog::auth")
                .args(format_args!("user {i} logged in"))
                .build(),
        );
    }
}

struct Stats {
    median: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        median: at(0.5),
        p99: at(0.99),
        max: *samples.last().unwrap_or(&Duration::ZERO),
    }
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this too: keep that quick.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let Some(server) = bugsink::shared() else {
        return;
    };
    let calls = env_or("CALLS", 300);
    let gap = Duration::from_millis(env_or("GAP_MS", 5));
    let ours_project = server.project("bench-ours");
    let peer_project = server.project("bench-sentry-log");

    log4rs_appenders::set_error_handler(|_| {});
    let ours = SentryAppender::builder()
        .name("bench")
        .dsn(Secret::new(ours_project.dsn.clone()))
        .timeout(Duration::from_secs(3))
        .build()
        .expect("our appender");
    let _sentry = sentry::init((peer_project.dsn.as_str(), sentry::ClientOptions::default()));
    let peer = sentry::integrations::log::SentryLogger::new();

    let ours_call = |r: &Record| {
        let _ = ours.append(r);
    };
    let peer_call = |r: &Record| peer.log(r);
    breadcrumbs(&ours_call);
    breadcrumbs(&peer_call);

    println!(
        "sentry_latency: {calls} error records each, {gap:?} apart, time of the logging call on the app thread (µs)"
    );
    println!("| server | logger | median | p99 | max |");
    println!("|---|---|---|---|---|");
    for (label, up) in [("Bugsink answering", true), ("Bugsink stopped", false)] {
        if !up {
            server.stop();
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in 0..calls {
            if i % 2 == 0 {
                a.push(timed(i, &ours_call));
                b.push(timed(i, &peer_call));
            } else {
                b.push(timed(i, &peer_call));
                a.push(timed(i, &ours_call));
            }
            std::thread::sleep(gap);
        }
        for (name, samples) in [("log4rs-appenders sentry", a), ("sentry-log 0.49", b)] {
            let s = stats(samples);
            println!(
                "| {label} | {name} | {} | {} | {} |",
                us(s.median),
                us(s.p99),
                us(s.max)
            );
        }
        if up {
            ours.flush();
            if let Some(client) = sentry::Hub::current().client() {
                client.flush(Some(Duration::from_secs(10)));
            }
            let stored = |p: &bugsink::Project| -> usize {
                server.issues(p).iter().map(|i| i.events.len()).sum()
            };
            println!(
                "|  | events stored (of {calls}) | ours {} | sentry-log {} | |",
                stored(&ours_project),
                stored(&peer_project)
            );
        }
    }
    server.start();
}
