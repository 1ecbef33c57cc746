use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::syslog::SyslogAppender;

const MESSAGE: &str = "user 72000 logged in from 10.0.0.7 (request 1962000)";

fn udp_drain() -> String {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap().to_string();
    s.set_read_timeout(Some(Duration::from_secs(600))).unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while s.recv(&mut buf).is_ok() {}
    });
    addr
}

fn tcp_drain() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for mut conn in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

fn bench(c: &mut Criterion) {
    let udp = udp_drain();
    let tcp = tcp_drain();
    let mut g = c.benchmark_group("syslog");
    g.throughput(Throughput::Elements(1));

    let floor = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target: std::net::SocketAddr = udp.parse().unwrap();
    let msg = format!("<134>1 2026-11-23T03:30:05.123456+00:00 h bench 1 - - {MESSAGE}");
    g.bench_function("udp floor send_to", |b| {
        b.iter(|| floor.send_to(msg.as_bytes(), target))
    });

    for (name, address) in [
        ("udp append", format!("udp://{udp}")),
        ("tcp append", format!("tcp://{tcp}")),
    ] {
        let a = SyslogAppender::builder()
            .address(address)
            .app_name("bench")
            .on_full(log4rs_appenders::worker::OnFull::Block)
            .build()
            .unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                a.append(
                    &Record::builder()
                        .level(Level::Info)
                        .args(format_args!("{MESSAGE}"))
                        .build(),
                )
            })
        });
        a.flush();
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
