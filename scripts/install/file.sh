#!/usr/bin/env bash
# Peers for tests/rotating_file.rs (CPython's RotatingFileHandler, gzip -t, bash for `ulimit -f`)
# and /usr/bin/time for benches/compare_rotating_file.sh. Idempotent; quick when installed.
set -euo pipefail
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v gzip >/dev/null || missing+=(gzip)
command -v bash >/dev/null || missing+=(bash)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
