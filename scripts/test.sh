#!/usr/bin/env bash
# The whole test suite against real peers: installs what the tests need (rsyslog, aiosmtpd,
# mingw + wine, ...: one script per appender in scripts/install/), then runs every test with
# missing peers turned into failures instead of loud skips.
set -euo pipefail
cd "$(dirname "$0")/.."

for installer in scripts/install/*.sh; do
  [ -e "$installer" ] || continue
  echo "==> $installer"
  bash "$installer"
done

export LOG4RS_APPENDERS_REQUIRE_PEERS=1
cargo test --all-features

for extra in scripts/windows-eventlog-test.sh scripts/windows-syslog-test.sh; do
  if [ -e "$extra" ]; then
    echo "==> $extra"
    bash "$extra"
  fi
done
echo "scripts/test.sh: all tests passed"
