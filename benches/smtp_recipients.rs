//! Building an smtp appender for 1,000 and 10,000 recipients: the `To:` header and the envelope
//! are built once, in one pass, so 10x the recipients costs about 10x the time. (Before issue
//! 12's fix the header was rebuilt for every added recipient: 24 s for one mail to 10,000.)
//!
//! `check()` validates every address and builds the header and envelope; nothing is started.
//! Run: `cargo bench --bench smtp_recipients -- --warm-up-time 1 --measurement-time 5`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use log4rs_appenders::smtp::{Security, SmtpAppender};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("smtp_recipients");
    group.sample_size(10);
    for n in [1_000usize, 10_000] {
        let recipients: Vec<String> = (0..n).map(|i| format!("oncall-{i}@example.com")).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(n),
            &recipients,
            |b, recipients| {
                b.iter(|| {
                    let mut builder = SmtpAppender::builder()
                        .host("127.0.0.1")
                        .security(Security::None)
                        .from("app@example.com");
                    for r in recipients {
                        builder = builder.to(r.clone());
                    }
                    builder.check().expect("a valid config")
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
