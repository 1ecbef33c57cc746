#!/usr/bin/env bash
# Prints one table from one run: syslog records/s over UDP and TCP, this crate vs the syslog
# crate vs Python's SysLogHandler vs the floor. RECORDS=N to change the count.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --no-default-features --features syslog --bench compare_syslog
