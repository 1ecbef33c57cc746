//! The encoder's steady state allocates nothing: a counting global allocator counts this
//! thread's heap allocations while records go through `Encode::encode`, on the real clock and
//! thread path (`format_into`), with every kind of attribute in the format.

use std::time::{SystemTime, UNIX_EPOCH};

use log::kv::Value;
use log4rs::encode::Encode;
use log4rs::encode::pattern::PatternEncoder;
use log4rs::encode::writer::simple::SimpleWriter;
use log4rs_appenders::encode::PythonEncoder;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{Failed, Upstream, allocations};

fn second_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Allocations per `records` records through `encoder`, measured within one wall-clock second
/// (a new second refreshes the cached asctime text once: counted separately below).
fn allocations_for(encoder: &dyn Encode, records: u64) -> u64 {
    let error = Failed(Upstream);
    let kvs = [
        ("user_id", Value::from(72)),
        ("client", Value::from("10.0.0.7")),
        ("ratio", Value::from(0.125)),
        ("funcName", Value::from("handle_login")),
        ("error", Value::from_dyn_error(&error)),
    ];
    let mut w = SimpleWriter(Vec::with_capacity(4 << 20));
    let encode = |w: &mut SimpleWriter<Vec<u8>>, i: u64| {
        encoder
            .encode(
                w,
                &log::Record::builder()
                    .args(format_args!("user {} logged in from {}", i, "10.0.0.7"))
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
    for attempt in 0..10 {
        // Warm-up: the thread's buffer, thread info and the second's asctime.
        for i in 0..100 {
            encode(&mut w, i);
        }
        w.0.clear();
        let second = second_now();
        let before = allocations();
        for i in 0..records {
            encode(&mut w, i);
        }
        let counted = allocations() - before;
        if second_now() == second {
            assert!(!w.0.is_empty());
            return counted;
        }
        eprintln!("attempt {attempt}: crossed a second boundary, measuring again");
    }
    panic!("every attempt crossed a second boundary");
}

const EVERY_ATTRIBUTE: &str = "%(asctime)s %(levelname)-8s %(levelno)d %(name)s %(pathname)s \
    %(filename)s %(module)s.%(funcName)s:%(lineno)d [%(threadName)s/%(thread)d pid %(process)d] \
    %(created).3f %(created)s %(msecs)03d %(relativeCreated)d %(user_id)05d %(client)r \
    %(ratio)g %(missing)s %(message)-40s|%(message).5r";

#[test]
fn encoding_records_allocates_nothing_once_warm() {
    let declared = [
        ("user_id", "-"),
        ("client", "-"),
        ("ratio", "-"),
        ("missing", "-"),
    ];
    let ours = PythonEncoder::with_defaults(EVERY_ATTRIBUTE, declared).unwrap();
    assert_eq!(
        allocations_for(&ours, 2000),
        0,
        "PythonEncoder allocated in the steady state"
    );

    let with_datefmt = PythonEncoder::with_defaults(EVERY_ATTRIBUTE, declared)
        .unwrap()
        .datefmt("%d/%b/%Y:%H:%M:%S %z")
        .unwrap();
    assert_eq!(
        allocations_for(&with_datefmt, 2000),
        0,
        "datefmt allocated in the steady state"
    );

    // For comparison only (the README quotes it): log4rs's PatternEncoder on the benchmark's
    // equivalent pattern.
    let pattern = PatternEncoder::new("{d(%Y-%m-%d %H:%M:%S%.3f)} {l}: {m} [in {f}:{L}]");
    let theirs = allocations_for(&pattern, 2000);
    eprintln!(
        "heap allocations per record: PythonEncoder 0, log4rs PatternEncoder {:.1}",
        theirs as f64 / 2000.0
    );
}

#[test]
fn a_new_second_costs_a_bounded_number_of_allocations() {
    // The asctime text is rebuilt once per second (chrono's strftime and its periodic TZ
    // check allocate a little); spread over a second of records that is nothing, but it must
    // stay bounded: measure across 3 second boundaries.
    let encoder = PythonEncoder::new("%(asctime)s %(message)s").unwrap();
    let mut w = SimpleWriter(Vec::with_capacity(1 << 20));
    let record = |w: &mut SimpleWriter<Vec<u8>>| {
        w.0.clear();
        encoder
            .encode(
                w,
                &log::Record::builder().args(format_args!("tick")).build(),
            )
            .unwrap();
    };
    record(&mut w);
    let start = second_now();
    let before = allocations();
    let mut records = 0u64;
    while second_now() < start + 3 {
        record(&mut w);
        records += 1;
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let counted = allocations() - before;
    eprintln!("{counted} allocations over {records} records and 3 new seconds");
    assert!(counted <= 3 * 16, "{counted} allocations for 3 new seconds");
}
