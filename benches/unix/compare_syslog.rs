use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::syslog::{Facility, SyslogAppender};

const MESSAGE: &str = "user 72000 logged in from 10.0.0.7 (request 1962000)";

/// A UDP socket drained by a thread; counts datagrams.
fn udp_drain() -> (String, Arc<AtomicU64>) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap().to_string();
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    s.set_read_timeout(Some(Duration::from_secs(600))).unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while s.recv(&mut buf).is_ok() {
            c.fetch_add(1, Ordering::Relaxed);
        }
    });
    (addr, count)
}

/// A TCP listener whose connections are drained by threads; counts bytes.
fn tcp_drain() -> (String, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let bytes = Arc::new(AtomicU64::new(0));
    let b = bytes.clone();
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            let b = b.clone();
            std::thread::spawn(move || {
                let mut conn = conn;
                let mut buf = vec![0u8; 1 << 16];
                while let Ok(n) = conn.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    b.fetch_add(n as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (addr, bytes)
}

fn rate(n: u64, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

fn ours(address: &str, n: u64) -> f64 {
    let a = SyslogAppender::builder()
        .address(address)
        .app_name("bench")
        .hostname("benchhost")
        .facility(Facility::Local0)
        .buffer_size(1_000_000)
        .on_full(log4rs_appenders::worker::OnFull::Block)
        .build()
        .unwrap();
    let start = Instant::now();
    for _ in 0..n {
        let _ = a.append(
            &Record::builder()
                .level(Level::Info)
                .args(format_args!("{MESSAGE}"))
                .build(),
        );
    }
    a.flush();
    rate(n, start.elapsed())
}

fn syslog_formatter() -> syslog::Formatter5424 {
    syslog::Formatter5424 {
        facility: syslog::Facility::LOG_LOCAL0,
        hostname: Some("benchhost".into()),
        process: "bench".into(),
        pid: std::process::id(),
    }
}

fn syslog_crate_udp(server: &str, n: u64) -> f64 {
    let mut logger = syslog::udp(syslog_formatter(), "127.0.0.1:0", server).unwrap();
    let start = Instant::now();
    for _ in 0..n {
        let _ = logger.info((1u32, BTreeMap::new(), MESSAGE));
    }
    rate(n, start.elapsed())
}

fn syslog_crate_tcp(server: &str, n: u64) -> f64 {
    let mut logger = syslog::tcp(syslog_formatter(), server).unwrap();
    let start = Instant::now();
    for _ in 0..n {
        let _ = logger.info((1u32, BTreeMap::new(), MESSAGE));
    }
    rate(n, start.elapsed())
}

/// What our appender sends for the message, built once.
fn preformatted() -> Vec<u8> {
    format!(
        "<134>1 2026-11-23T03:30:05.123456+00:00 benchhost bench {} - - {MESSAGE}",
        std::process::id()
    )
    .into_bytes()
}

fn floor_udp(server: &str, n: u64) -> f64 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr: std::net::SocketAddr = server.parse().unwrap();
    let msg = preformatted();
    let start = Instant::now();
    for _ in 0..n {
        let _ = s.send_to(&msg, addr);
    }
    rate(n, start.elapsed())
}

/// The same with a connected socket and `send` (what the appender does: no per-datagram route
/// lookup).
fn floor_udp_connected(server: &str, n: u64) -> f64 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.connect(server).unwrap();
    let msg = preformatted();
    let start = Instant::now();
    for _ in 0..n {
        let _ = s.send(&msg);
    }
    rate(n, start.elapsed())
}

fn floor_tcp(server: &str, n: u64) -> f64 {
    let mut s = TcpStream::connect(server).unwrap();
    let msg = preformatted();
    let mut frame = format!("{} ", msg.len()).into_bytes();
    frame.extend_from_slice(&msg);
    let start = Instant::now();
    for _ in 0..n {
        let _ = s.write_all(&frame);
    }
    rate(n, start.elapsed())
}

fn python(server: &str, tcp: bool, n: u64) -> Option<f64> {
    let (host, port) = server.rsplit_once(':')?;
    let script = format!(
        r#"
import logging, logging.handlers, socket, time
h = logging.handlers.SysLogHandler(address=("{host}", {port}), facility="local0", socktype=socket.{kind})
log = logging.getLogger("bench"); log.propagate = False; log.addHandler(h); log.setLevel(logging.INFO)
n = {n}
t = time.perf_counter()
for _ in range(n):
    log.info("{MESSAGE}")
print(n / (time.perf_counter() - t))
"#,
        kind = if tcp { "SOCK_STREAM" } else { "SOCK_DGRAM" },
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`
    }
    let n: u64 = std::env::var("RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let (udp, udp_received) = udp_drain();
    let (tcp, _tcp_bytes) = tcp_drain();
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let (udp_s, tcp_s) = (format!("udp://{udp}"), format!("tcp://{tcp}"));
    // Rust senders run interleaved, `rounds` times each; the table shows medians.
    type Sender<'a> = (&'static str, &'static str, Box<dyn Fn() -> f64 + 'a>);
    let senders: Vec<Sender> = vec![
        (
            "UDP",
            "floor: preformatted datagram, send_to",
            Box::new(|| floor_udp(&udp, n)),
        ),
        (
            "UDP",
            "floor, connected socket: preformatted datagram, send",
            Box::new(|| floor_udp_connected(&udp, n)),
        ),
        (
            "UDP",
            "log4rs-appenders SyslogAppender (RFC 5424)",
            Box::new(|| ours(&udp_s, n)),
        ),
        (
            "UDP",
            "syslog 7.0 crate, Formatter5424",
            Box::new(|| syslog_crate_udp(&udp, n)),
        ),
        (
            "TCP",
            "floor: preformatted frames, one write each",
            Box::new(|| floor_tcp(&tcp, n)),
        ),
        (
            "TCP",
            "log4rs-appenders SyslogAppender (octet-counting, worker)",
            Box::new(|| ours(&tcp_s, n)),
        ),
        (
            "TCP",
            "syslog 7.0 crate, Formatter5424 (no framing)",
            Box::new(|| syslog_crate_tcp(&tcp, n)),
        ),
    ];
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); senders.len()];
    for _ in 0..rounds.max(1) {
        for (i, (_, _, run)) in senders.iter().enumerate() {
            results[i].push(run());
        }
    }
    let mut rows: Vec<(&str, &str, Option<f64>)> = Vec::new();
    for (i, (proto, name, _)) in senders.iter().enumerate() {
        let r = &mut results[i];
        r.sort_by(|a, b| a.total_cmp(b));
        rows.push((proto, name, Some(r[r.len() / 2])));
        if *name == "syslog 7.0 crate, Formatter5424" {
            rows.push(("UDP", "Python SysLogHandler", python(&udp, false, n / 3)));
        }
    }
    rows.push((
        "TCP",
        "Python SysLogHandler (SOCK_STREAM)",
        python(&tcp, true, n / 3),
    ));
    std::thread::sleep(Duration::from_millis(200));

    println!(
        "\n{n} records per Rust sender, median of {rounds} interleaved rounds ({} for Python, \
         one round), message {MESSAGE:?}",
        n / 3
    );
    println!("| transport | sender | records/s | vs floor |");
    println!("|---|---|---|---|");
    for proto in ["UDP", "TCP"] {
        let floor = rows
            .iter()
            .find(|r| r.0 == proto)
            .and_then(|r| r.2)
            .unwrap_or(f64::NAN);
        for (p, name, r) in rows.iter().filter(|r| r.0 == proto) {
            match r {
                Some(r) => println!("| {p} | {name} | {:.0} k | {:.2}x |", r / 1000.0, r / floor),
                None => println!("| {p} | {name} | (python3 not available) | |"),
            }
        }
    }
    println!(
        "\nUDP datagrams the receiver drained: {} (UDP drops what a busy receiver cannot take)",
        udp_received.load(Ordering::Relaxed)
    );
}
