//! The json_lines encoder's steady state allocates nothing: a counting global allocator counts
//! this thread's heap allocations while records go through `Encode::encode` (the real clock and
//! thread path), in every field set, with typed key-values, a nested serde value, `funcName` and
//! an error chain. The pattern of tests/python_encoder_allocations.rs.

use log::kv::Value;
use log4rs::encode::Encode;
use log4rs::encode::json::JsonEncoder;
use log4rs::encode::writer::simple::SimpleWriter;
use log4rs_appenders::encode::{FieldSet, JsonLinesEncoder};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{Failed, Upstream, allocations};

#[derive(serde::Serialize)]
struct Order {
    id: u64,
    items: [&'static str; 2],
    total: f64,
}

/// Allocations per `records` records through `encoder`.
fn allocations_for(encoder: &dyn Encode, records: u64) -> u64 {
    let error = Failed(Upstream);
    let order = Order {
        id: 7,
        items: ["tea", "scone"],
        total: 4.5,
    };
    let kvs = [
        ("user_id", Value::from(72)),
        ("client", Value::from("10.0.0.7")),
        ("ratio", Value::from(0.125)),
        ("admin", Value::from(false)),
        ("order", Value::from_serde(&order)),
        ("shown", Value::from_display(&"displayed")),
        ("funcName", Value::from("handle_login")),
        ("error", Value::from_dyn_error(&error)),
    ];
    let mut w = SimpleWriter(Vec::with_capacity(8 << 20));
    let encode = |w: &mut SimpleWriter<Vec<u8>>, i: u64| {
        encoder
            .encode(
                w,
                &log::Record::builder()
                    .args(format_args!(
                        "user {} logged in from {}",
                        i, "10.0.0.7\n\"x\""
                    ))
                    .level(log::Level::Info)
                    .target("shop::http")
                    .file(Some("src/http/routes.rs"))
                    .line(Some(42))
                    .module_path(Some("shop::http::routes"))
                    .key_values(&kvs)
                    .build(),
            )
            .unwrap();
    };
    // Warm-up: the thread's buffer and thread info.
    for i in 0..100 {
        encode(&mut w, i);
    }
    w.0.clear();
    let before = allocations();
    for i in 0..records {
        encode(&mut w, i);
    }
    let counted = allocations() - before;
    assert!(!w.0.is_empty());
    counted
}

#[test]
fn encoding_records_allocates_nothing_once_warm_in_every_field_set() {
    for fields in [FieldSet::Flat, FieldSet::Ecs, FieldSet::Gcp, FieldSet::Otel] {
        for ensure_ascii in [false, true] {
            let ours = JsonLinesEncoder::builder()
                .fields(fields)
                .service("shop")
                .extra("env", "prod")
                .ensure_ascii(ensure_ascii)
                .build()
                .unwrap();
            assert_eq!(
                allocations_for(&ours, 2000),
                0,
                "fields: {fields}, ensure_ascii: {ensure_ascii} allocated in the steady state"
            );
        }
    }
    // For comparison only (the README quotes it): log4rs's own JSON encoder, same records.
    let theirs = allocations_for(&JsonEncoder::new(), 2000);
    eprintln!(
        "heap allocations per record: JsonLinesEncoder 0, log4rs JsonEncoder {:.1}",
        theirs as f64 / 2000.0
    );
}
