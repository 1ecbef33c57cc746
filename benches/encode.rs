//! Our Python encoder vs log4rs's PatternEncoder on the same record and the equivalent layout
//! (the performance anchors' workload W line):
//!
//! ```text
//! 2026-11-23 02:18:30,000 INFO: user 72000 logged in from 10.0.0.7 (request 1962000) [in src/app/routes.rs:42]
//! ```
//!
//! Both encode into the same in-memory log4rs writer, cleared before each record.
//! Run: `cargo bench --bench encode -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use log4rs::encode::Encode;
use log4rs::encode::pattern::PatternEncoder;
use log4rs::encode::writer::simple::SimpleWriter;
use log4rs_appenders::encode::PythonEncoder;

const PYTHON_FORMAT: &str = "%(asctime)s %(levelname)s: %(message)s [in %(pathname)s:%(lineno)d]";
// `{n}`: log4rs adds no newline of its own; ours ends every record with one.
const LOG4RS_PATTERN: &str = "{d(%Y-%m-%d %H:%M:%S%.3f)} {l}: {m} [in {f}:{L}]{n}";

fn encode_one(encoder: &dyn Encode, w: &mut SimpleWriter<Vec<u8>>, request: u64) {
    w.0.clear();
    encoder
        .encode(
            w,
            &log::Record::builder()
                .args(format_args!(
                    "user {} logged in from {} (request {})",
                    72000, "10.0.0.7", request
                ))
                .level(log::Level::Info)
                .target("app::routes")
                .file(Some("src/app/routes.rs"))
                .line(Some(42))
                .build(),
        )
        .expect("encode");
}

fn bench_encoders(c: &mut Criterion) {
    let ours = PythonEncoder::new(PYTHON_FORMAT).expect("format");
    let theirs = PatternEncoder::new(LOG4RS_PATTERN);
    let encoders: [(&str, &dyn Encode); 2] = [
        ("python_encoder", &ours),
        ("log4rs_pattern_encoder", &theirs),
    ];

    // Both render the same line (but for Python's `,` before the milliseconds).
    let mut lines = Vec::new();
    for (name, encoder) in encoders {
        let mut w = SimpleWriter(Vec::new());
        encode_one(encoder, &mut w, 1_962_000);
        let line = String::from_utf8(w.0).expect("UTF-8");
        eprintln!("{name:>24}: {}", line.trim_end());
        lines.push(line.replacen(',', ".", 1));
    }
    assert_eq!(
        lines[0].len(),
        lines[1].len(),
        "the two layouts differ: {lines:?}"
    );

    let mut group = c.benchmark_group("encode_record_w");
    group.throughput(Throughput::Elements(1));
    for (name, encoder) in encoders {
        let mut w = SimpleWriter(Vec::with_capacity(4096));
        let mut request = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                request += 1;
                encode_one(encoder, &mut w, request);
                black_box(&w.0);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_encoders);
criterion_main!(benches);
