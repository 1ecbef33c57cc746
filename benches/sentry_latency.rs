//! What an `error!` costs the application thread with the sentry appender, against the Sentry
//! SDK's own `log` integration (`sentry-log` with the SDK's ureq transport) on the same records,
//! in one run, with a real server (Bugsink) answering, answering after 3 s, and stopped.
//!
//! ```sh
//! bash scripts/install/sentry.sh
//! cargo bench --bench sentry_latency  # CALLS=300 GAP_MS=5 DELAY_MS=3000 BREADCRUMBS=20 to change it
//! ```
//!
//! Each round logs one record through each peer (the order alternating), timing only the call
//! itself; records are spaced `GAP_MS` apart, as errors are in a real program (a flood only
//! measures how fast a full queue drops). Both peers get `BREADCRUMBS` (20) info breadcrumbs first.
//! The slow server is the real Bugsink behind a TCP proxy (tests/bugsink `DelayProxy`) that holds
//! each piece of its answers for `DELAY_MS`: the delay is the only thing faked. Each scenario has
//! fresh senders and projects; after it, one flush each (5 s) and the events Bugsink stored.

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

/// One timed call: wall time, and what the thread did meanwhile (Linux: CPU time and context
/// switches, to tell a call that worked or waited on a lock (voluntary switches) from one the
/// scheduler preempted (involuntary switches, wall time much above CPU time)).
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    wall: Duration,
    cpu: Duration,
    voluntary: i64,
    involuntary: i64,
}

#[derive(Clone, Copy, Default)]
struct Usage {
    cpu: Duration,
    voluntary: i64,
    involuntary: i64,
}

#[cfg(target_os = "linux")]
fn thread_usage() -> Usage {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) } != 0 {
        return Usage::default();
    }
    // The thread's CPU time to the nanosecond (rusage's times are tick-sampled).
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: clock_gettime writes into the struct it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Usage {
        cpu: Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
        voluntary: ru.ru_nvcsw,
        involuntary: ru.ru_nivcsw,
    }
}

#[cfg(not(target_os = "linux"))]
fn thread_usage() -> Usage {
    Usage::default()
}

/// Logs the round's record through `sink`, returning how long the call took.
fn timed(i: u64, sink: &dyn Fn(&Record)) -> Sample {
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
    let before = thread_usage();
    let start = Instant::now();
    sink(&record);
    let wall = start.elapsed();
    let after = thread_usage();
    Sample {
        wall,
        cpu: after.cpu.saturating_sub(before.cpu),
        voluntary: after.voluntary - before.voluntary,
        involuntary: after.involuntary - before.involuntary,
    }
}

fn breadcrumbs(sink: &dyn Fn(&Record)) {
    for i in 0..env_or("BREADCRUMBS", 20) {
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
    /// The median CPU time of a call (Linux; else 0).
    median_cpu: Duration,
    p99: Duration,
    max: Sample,
    /// Calls over 1 ms, and how many of them the scheduler preempted.
    slow: usize,
    slow_preempted: usize,
    /// Each call over 1 ms: wall µs / CPU µs / voluntary / involuntary switches.
    slow_calls: Vec<String>,
    /// Calls during which the thread blocked (a voluntary context switch: a lock, a sleeping
    /// system call), however short.
    blocked: usize,
}

fn stats(mut samples: Vec<Sample>) -> Stats {
    samples.sort_unstable_by_key(|s| s.wall);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize].wall;
    let slow: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.wall > Duration::from_millis(1))
        .collect();
    let mut cpu: Vec<Duration> = samples.iter().map(|s| s.cpu).collect();
    cpu.sort_unstable();
    Stats {
        median: at(0.5),
        median_cpu: cpu.get(cpu.len() / 2).copied().unwrap_or_default(),
        p99: at(0.99),
        max: samples.last().copied().unwrap_or_default(),
        slow: slow.len(),
        slow_preempted: slow.iter().filter(|s| s.involuntary > 0).count(),
        blocked: samples.iter().filter(|s| s.voluntary > 0).count(),
        slow_calls: slow
            .iter()
            .map(|s| {
                format!(
                    "{}/{}/{}/{}",
                    us(s.wall),
                    us(s.cpu),
                    s.voluntary,
                    s.involuntary
                )
            })
            .collect(),
    }
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

/// Our appender, as the application's `error!` would reach it.
fn ours(name: &str, dsn: &str) -> SentryAppender {
    SentryAppender::builder()
        .name(name)
        .dsn(Secret::new(dsn.to_owned()))
        .build()
        .expect("our appender")
}

/// A sentry-log client for `dsn`, bound to the current hub (the SDK's global state).
fn bind_sentry_client(dsn: &str) -> std::sync::Arc<sentry::Client> {
    // apply_defaults: what `sentry::init` adds, the SDK's ureq transport among it.
    let options = sentry::apply_defaults((dsn, sentry::ClientOptions::default()).into());
    let client = std::sync::Arc::new(sentry::Client::from(options));
    sentry::Hub::current().bind_client(Some(client.clone()));
    client
}

/// The delaying proxy, in a process of its own (this binary again, `--delay-proxy <upstream
/// port> <delay ms>`), so that its threads share neither the CPU accounting nor the allocator
/// of the process measured. Returns it and its port; it ends when its stdin closes.
fn spawn_delay_proxy(upstream: u16, delay: Duration) -> (std::process::Child, u16) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().expect("this binary"))
        .args([
            "--delay-proxy",
            &upstream.to_string(),
            &delay.as_millis().to_string(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the delay proxy process");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("its stdout"))
        .read_line(&mut line)
        .expect("its port");
    (child, line.trim().parse().expect("a port"))
}

fn run_delay_proxy(upstream: &str, delay_ms: &str) {
    use std::io::Read;
    let proxy = bugsink::DelayProxy::start(
        upstream.parse().expect("upstream port"),
        Duration::from_millis(delay_ms.parse().expect("delay ms")),
    );
    println!("{}", proxy.port);
    // Until the benchmark ends (closes our stdin).
    let _ = std::io::stdin().read(&mut [0u8; 1]);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, upstream, delay] = args.as_slice()
        && flag == "--delay-proxy"
    {
        return run_delay_proxy(upstream, delay);
    }
    // `cargo bench` passes --bench; `cargo test --benches` runs this too: keep that quick.
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let Some(server) = bugsink::shared() else {
        return;
    };
    let calls = env_or("CALLS", 300);
    let gap = Duration::from_millis(env_or("GAP_MS", 5));
    let answer_delay = Duration::from_millis(env_or("DELAY_MS", 3000));
    log4rs_appenders::set_error_handler(|_| {});
    let peer = sentry::integrations::log::SentryLogger::new();
    // The slow server: the real Bugsink behind a proxy that holds each answer for 3 s.
    let (mut proxy, proxy_port) = spawn_delay_proxy(server.port, answer_delay);
    let through_proxy = |p: &bugsink::Project| {
        p.dsn.replace(
            &format!("@127.0.0.1:{}/", server.port),
            &format!("@127.0.0.1:{proxy_port}/"),
        )
    };

    println!(
        "sentry_latency: {calls} error records each, {gap:?} apart, time of the logging call on the app thread (µs)"
    );
    println!(
        "| server | logger | median | median on CPU | p99 | max | the max call: on CPU, voluntary/involuntary switches | calls > 1 ms (preempted) | calls that blocked | events stored after flush |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let delayed_label = format!("Bugsink answering after {} s", answer_delay.as_secs_f64());
    for (label, scenario) in [
        ("Bugsink answering", 0),
        (delayed_label.as_str(), 1),
        ("Bugsink stopped", 2),
    ] {
        let ours_project = server.project(&format!("bench-ours-{scenario}"));
        let peer_project = server.project(&format!("bench-sentry-log-{scenario}"));
        let (ours_dsn, peer_dsn) = if scenario == 1 {
            (through_proxy(&ours_project), through_proxy(&peer_project))
        } else {
            (ours_project.dsn.clone(), peer_project.dsn.clone())
        };
        let ours = ours(&format!("bench-{scenario}"), &ours_dsn);
        let client = bind_sentry_client(&peer_dsn);
        let ours_call = |r: &Record| {
            let _ = ours.append(r);
        };
        let peer_call = |r: &Record| peer.log(r);
        breadcrumbs(&ours_call);
        breadcrumbs(&peer_call);
        if scenario == 2 {
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
        // One flush each, as long as our default timeout (5 s), then what Bugsink holds.
        ours.flush();
        client.flush(Some(Duration::from_secs(5)));
        if scenario == 2 {
            server.start();
        }
        let stored = |p: &bugsink::Project| -> usize {
            server.issues(p).iter().map(|i| i.events.len()).sum()
        };
        let counts = [stored(&ours_project), stored(&peer_project)];
        let mut slow_calls = Vec::new();
        for ((name, samples), count) in [("log4rs-appenders sentry", a), ("sentry-log 0.49", b)]
            .into_iter()
            .zip(counts)
        {
            let s = stats(samples);
            if !s.slow_calls.is_empty() {
                slow_calls.push(format!("{label}, {name}: {}", s.slow_calls.join(", ")));
            }
            println!(
                "| {label} | {name} | {} | {} | {} | {} | {} µs, {}/{} | {} ({}) | {} | {count} of {calls} |",
                us(s.median),
                us(s.median_cpu),
                us(s.p99),
                us(s.max.wall),
                us(s.max.cpu),
                s.max.voluntary,
                s.max.involuntary,
                s.slow,
                s.slow_preempted,
                s.blocked
            );
        }
        for line in slow_calls {
            eprintln!("calls over 1 ms (wall/CPU µs/voluntary/involuntary switches): {line}");
        }
        // Not timed: the next scenario starts without this one's senders.
        sentry::Hub::current().bind_client(None);
        client.close(Some(Duration::from_secs(1)));
        drop(ours);
    }
    let _ = proxy.kill();
    let _ = proxy.wait();
}
