//! Criterion: the cost of one `append` over UDP (sent on the calling thread) and TCP (queued to
//! the worker, which batches writes), next to the floor (a preformatted datagram with
//! `send_to`). The peer comparison table comes from `benches/compare_syslog.sh`.
//!
//! Unix only (the raw `syslog` crate, a peer here, does not build for Windows): the benchmark
//! itself is in `benches/unix/syslog.rs`.

#[cfg(unix)]
include!("unix/syslog.rs");

#[cfg(not(unix))]
fn main() {
    eprintln!("the syslog benchmarks run on unix only");
}
