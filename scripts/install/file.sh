#!/usr/bin/env bash
# Peers for tests/rotating_file.rs (CPython's RotatingFileHandler, gzip -t, bash for `ulimit -f`),
# libfaketime for tests/rotating_file_timed_vs_cpython.rs (CPython 3.13's
# TimedRotatingFileHandler and ours under one faked clock; the CPython 3.13 itself comes from
# scripts/install/python-encoder.sh: python3.13, pyenv's, or `uv python install 3.13`)
# and /usr/bin/time for benches/compare_rotating_file.sh. Idempotent; quick when installed.
set -euo pipefail
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v gzip >/dev/null || missing+=(gzip)
command -v bash >/dev/null || missing+=(bash)
[ -x /usr/bin/time ] || missing+=(time)
compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null ||
  [ -f /usr/lib/faketime/libfaketime.so.1 ] || missing+=(libfaketime)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
