#!/usr/bin/env bash
# Cargo runner for x86_64-pc-windows-gnu test binaries under wine (set by
# scripts/windows-eventlog-test.sh through CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER).
# Puts the bcryptprimitives.dll stand-in ($LOG4RS_APPENDERS_WINE_SHIM) next to the program.
set -euo pipefail
exe=$1
shift
dir=$(dirname "$exe")
if [ -n "${LOG4RS_APPENDERS_WINE_SHIM:-}" ] && [ ! -f "$dir/bcryptprimitives.dll" ]; then
    cp "$LOG4RS_APPENDERS_WINE_SHIM" "$dir/bcryptprimitives.dll"
fi
exec wine "$exe" "$@"
