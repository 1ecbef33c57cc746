//! `log4rs-appenders check` on configs with 10,000 and 20,000 loggers (and as many appenders):
//! the time must grow linearly, so 20k takes about twice 10k. (Before issue 12's fix each logger
//! scanned every other one: 10k loggers took 12.3 s, 20k 43.4 s in a debug build.)
//!
//! Runs the real binary, output to /dev/null, as an operator would.
//! Run: `cargo bench --bench check -- --warm-up-time 1 --measurement-time 10`

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A config with `n` loggers in nested groups (`app::m3`, `app::m3::s301`, ...), half of the
/// groups with `additive: false`, and `n / 10` appenders referenced from them.
fn write_config(dir: &Path, n: usize) -> PathBuf {
    let mut yaml = String::from("appenders:\n");
    let appenders = n / 10;
    for a in 0..appenders {
        yaml.push_str(&format!("  a{a}: {{ kind: console }}\n"));
    }
    yaml.push_str("root: { level: info, appenders: [a0] }\nloggers:\n");
    for i in 0..n {
        let appender = i % appenders;
        if i % 100 == 0 {
            let additive = i % 200 != 0;
            yaml.push_str(&format!(
                "  app::m{}: {{ level: warn, appenders: [a{appender}], additive: {additive} }}\n",
                i / 100
            ));
        } else {
            yaml.push_str(&format!(
                "  app::m{}::s{i}: {{ level: debug, appenders: [a{appender}] }}\n",
                i / 100
            ));
        }
    }
    let path = dir.join(format!("loggers{n}.yaml"));
    std::fs::write(&path, yaml).expect("write the config");
    path
}

fn check(config: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_log4rs-appenders"))
        .arg("check")
        .arg(config)
        .stdout(Stdio::null())
        .status()
        .expect("run log4rs-appenders check");
    assert!(status.success(), "check failed on {}", config.display());
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("check_loggers");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for n in [10_000, 20_000] {
        let config = write_config(dir.path(), n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &config, |b, config| {
            b.iter(|| check(config))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
