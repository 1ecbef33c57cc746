#!/usr/bin/env bash
# syslog-ng, a second independent syslog receiver for tests/syslog_shutdown.rs, unpacked into
# /opt/syslog-ng without installing it: Debian's syslog-ng-core conflicts with rsyslog (both are
# the system-log-daemon), so `apt-get install` would remove rsyslog. The packages are downloaded
# with `apt-get download` and unpacked with `dpkg -x`; nothing runs as a service. Idempotent;
# quick when already unpacked. Run it as:
#   LD_LIBRARY_PATH=$ROOT/usr/lib/syslog-ng:$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu \
#     $ROOT/usr/sbin/syslog-ng -F -e --no-caps --module-path=$ROOT/usr/lib/syslog-ng/3.38 ...
set -euo pipefail
ROOT="${SYSLOG_NG_ROOT:-/opt/syslog-ng}"
if [ -x "$ROOT/usr/sbin/syslog-ng" ] && [ -f "$ROOT/.complete" ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
# syslog-ng-core and the libraries it needs that a machine with rsyslog usually lacks; those
# already installed are skipped (their system copies are found by the loader).
packages="syslog-ng-core libivykis0 libnet1"
for dep in libcap2 libglib2.0-0 libjson-c5 libpcre3 libssl3 libsystemd0 libwrap0; do
  if ! dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "install ok installed"; then
    packages="$packages $dep"
  fi
done
if ! apt-get download -q $packages >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  apt-get download -q $packages >/dev/null
fi
$SUDO mkdir -p "$ROOT"
for deb in ./*.deb; do
  $SUDO dpkg -x "$deb" "$ROOT"
done
LD_LIBRARY_PATH="$ROOT/usr/lib/syslog-ng:$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu" \
  "$ROOT/usr/sbin/syslog-ng" --version >/dev/null
$SUDO touch "$ROOT/.complete"
