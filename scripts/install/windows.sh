#!/usr/bin/env bash
# Installs what the Windows build and the wine runs of the Event Log and syslog appenders need:
# mingw-w64 (linker for x86_64-pc-windows-gnu), wine (runs the cross-built program), openssl
# (test certificates) and the Rust target. Idempotent; quick when everything is already there.
set -euo pipefail

need=()
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
# openssl: the test certificates of the syslog wine test (scripts/windows-syslog-test.sh).
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if ! command -v wine >/dev/null 2>&1 && ! command -v wine64 >/dev/null 2>&1; then
    need+=(wine wine64)
fi
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    sudo_=""
    [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq
    $sudo_ apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if ! rustup target list --installed 2>/dev/null | grep -qx x86_64-pc-windows-gnu; then
    rustup target add x86_64-pc-windows-gnu
fi
