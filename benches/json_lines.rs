//! The json_lines encoder, in each field set, vs log4rs's own `json` encoder (`JsonEncoder`) on
//! the same record: the performance anchors' workload W message, with a target, file, line,
//! module path and two key-values (an integer and a string), as a web request's log line has.
//! All encode into the same in-memory log4rs writer, cleared before each record.
//!
//! Run: `cargo bench --bench json_lines -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use log::kv::Value;
use log4rs::encode::Encode;
use log4rs::encode::json::JsonEncoder;
use log4rs::encode::writer::simple::SimpleWriter;
use log4rs_appenders::encode::{FieldSet, JsonLinesEncoder};

fn encode_one(encoder: &dyn Encode, w: &mut SimpleWriter<Vec<u8>>, request: u64) {
    w.0.clear();
    let kvs = [
        ("user_id", Value::from(72000)),
        ("client", Value::from("10.0.0.7")),
    ];
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
                .module_path(Some("app::routes"))
                .key_values(&kvs)
                .build(),
        )
        .expect("encode");
}

fn bench_encoders(c: &mut Criterion) {
    let ours = |fields| {
        JsonLinesEncoder::builder()
            .fields(fields)
            .service("microblog")
            .build()
            .expect("encoder")
    };
    let (flat, ecs, gcp, otel) = (
        ours(FieldSet::Flat),
        ours(FieldSet::Ecs),
        ours(FieldSet::Gcp),
        ours(FieldSet::Otel),
    );
    let theirs = JsonEncoder::new();
    let encoders: [(&str, &dyn Encode); 5] = [
        ("json_lines_flat", &flat),
        ("json_lines_ecs", &ecs),
        ("json_lines_gcp", &gcp),
        ("json_lines_otel", &otel),
        ("log4rs_json_encoder", &theirs),
    ];
    for (name, encoder) in encoders {
        let mut w = SimpleWriter(Vec::new());
        encode_one(encoder, &mut w, 1_962_000);
        let line = String::from_utf8(w.0).expect("UTF-8");
        eprintln!("{name:>20} ({} bytes): {}", line.len(), line.trim_end());
    }

    let mut group = c.benchmark_group("json_record");
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
