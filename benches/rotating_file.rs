//! Criterion bench of the rotating file appender: one `append` of a workload-W record (see
//! shared/reference/performance-anchors.md) into a file rotated at 10 MiB with 5 backups, with
//! the default encoder (PythonEncoder, the format), in default and buffered mode.
//! The peer comparison is benches/compare_rotating_file.sh.

use criterion::{Criterion, criterion_group, criterion_main};
use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::file::RotatingFileAppender;

fn append_one(app: &RotatingFileAppender, n: u64) {
    let _ = app.append(
        &Record::builder()
            .level(Level::Info)
            .target("app")
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

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("rotating_file");
    for (name, buffer) in [("append_default", 0), ("append_buffered_64k", 64 * 1024)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let app = RotatingFileAppender::builder()
            .max_bytes(10 << 20)
            .backup_count(5)
            .buffer(buffer)
            .build(dir.path().join("app.log"))
            .expect("appender");
        let mut n = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                n += 1;
                append_one(&app, n)
            })
        });
        app.flush();
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
