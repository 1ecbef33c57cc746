//! One run, one table: syslog records/s over UDP and TCP to a local receiver that drains them.
//! This crate's appender vs the raw `syslog` crate 7.0 vs Python's `SysLogHandler` vs the floor
//! (a preformatted datagram sent with `send_to` in a loop / preformatted frames written to TCP).
//! Same message for all. Run: `benches/compare_syslog.sh` (or `cargo bench --bench
//! compare_syslog`). `RECORDS=N` sets the record count (default 300,000; Python gets a third),
//! `ROUNDS=N` the interleaved rounds (default 3, medians shown).
//!
//! Unix only (the raw `syslog` crate, a peer here, does not build for Windows): the benchmark
//! itself is in `benches/unix/compare_syslog.rs`.

#[cfg(unix)]
include!("unix/compare_syslog.rs");

#[cfg(not(unix))]
fn main() {
    eprintln!("the syslog benchmarks run on unix only");
}
