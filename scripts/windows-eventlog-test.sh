#!/usr/bin/env bash
# The Windows Event Log appender, for real: cross-builds examples/eventlog_smoke.rs for
# x86_64-pc-windows-gnu, runs it under wine, and checks from the Linux side (wine's stderr with
# WINEDEBUG=+eventlog) that each record reached ReportEventW with the right type, id, category
# and text, both from `log` records through log4rs and from `tracing` events through the tracing
# front end (fields, spans, an error chain, each once), and (wine's registry) that registering
# and deregistering a source work. Then runs the crate's eventlog unit and integration tests
# built for Windows, under wine.
#
# Needs scripts/install/windows.sh (mingw-w64, wine, the Rust target) and python3; without them it
# says SKIPPED and exits 0, unless LOG4RS_APPENDERS_REQUIRE_PEERS=1 (scripts/test.sh sets it).
# Exits non-zero on any failure; ends with "eventlog-wine: N passed, M failed".
# Under wine events are not stored, so Event Viewer's rendering through the registered message
# file cannot be checked here (see docs/readme/eventlog.md).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/windows/wine-env.sh
wine_env_init eventlog-wine

echo "== cargo check --target x86_64-pc-windows-gnu --all-features --all-targets"
windows_check_ok=1
if ! cargo check --quiet --target x86_64-pc-windows-gnu --all-features --all-targets \
    >"$work/windows-check.log" 2>&1; then
    windows_check_ok=0
    sed 's/^/     /' "$work/windows-check.log" | tail -40
fi

echo "== building examples/eventlog_smoke.rs for x86_64-pc-windows-gnu"
cargo build --quiet --target x86_64-pc-windows-gnu --no-default-features \
    --features eventlog,tracing --example eventlog_smoke
exe="$exe_dir/eventlog_smoke.exe"

passed=0
failed=0
if [ "$windows_check_ok" = 1 ]; then
    echo "PASS the whole crate (every feature, tests, examples) builds for Windows"
    passed=1
else
    echo "FAIL the crate does not build for Windows with --all-features (output above)"
    failed=1
fi
run() { # run NAME ARGS...: runs the program, output in $work/NAME.{out,err}
    local name=$1
    shift
    wine "$exe" "$@" >"$work/$name.out" 2>"$work/$name.err"
}
events_ok() { # events_ok NAME hint|nohint [log|tracing]
    python3 scripts/windows/check_wine_eventlog.py "$work/$1.err" "$2" "${3:-log}" >"$work/$1.check" 2>&1
    local rc=$?
    sed 's/^/     /' "$work/$1.check"
    return $rc
}
contains() { grep -qF -- "$2" "$1"; }
key='HKLM\SYSTEM\CurrentControlSet\Services\EventLog'
source=Log4rsAppendersSmoke
ops_log=Log4rsAppendersOps
dotnet_dir="$WINEPREFIX/drive_c/windows/Microsoft.NET/Framework64/v4.0.30319"

# Start from an unregistered source and no .NET message file (a fresh prefix has none).
run clean-1 deregister "$source" || true
run clean-2 deregister "$source" "$ops_log" || true
rm -f "$dotnet_dir/EventLogMessages.dll"

echo "== logging with the source not registered"
WINEDEBUG=-all,+eventlog,fixme+advapi run log-unregistered log "$source" || true
check "log run exits 0 and says the source is not registered" \
    contains "$work/log-unregistered.out" "source $source registered: false"
check "each record reached ReportEventW with its type, id, category and text; hint given once" \
    events_ok log-unregistered hint

echo "== registering"
check "registering without .NET's EventLogMessages.dll fails, saying what is missing" \
    bash -c "! wine '$exe' register '$source' >'$work/reg-none.out' 2>'$work/reg-none.err'"
check "  ... and the error names the missing file and the way out" \
    contains "$work/reg-none.err" 'EventLogMessages.dll is not at C:\windows\Microsoft.NET\Framework64\v4.0.30319'
# wine has no .NET Framework: a stand-in file where Windows has it makes the lookup succeed.
mkdir -p "$dotnet_dir"
cp "$shim" "$dotnet_dir/EventLogMessages.dll"
check "registering the source succeeds" run reg register "$source"
wine reg query "$key\\Application\\$source" >"$work/reg-query.out" 2>&1 || true
check "the registry has EventMessageFile pointing at .NET's EventLogMessages.dll" \
    grep -qE 'EventMessageFile +REG_EXPAND_SZ +%SystemRoot%\\Microsoft\.NET\\Framework64\\v4\.0\.30319\\EventLogMessages\.dll' \
    "$work/reg-query.out"
check "the registry has TypesSupported 7 (error, warning, information)" \
    grep -qE 'TypesSupported +REG_DWORD +0x7' "$work/reg-query.out"

echo "== logging with the source registered"
WINEDEBUG=-all,+eventlog,fixme+advapi run log-registered log "$source" || true
check "log run sees the source registered" contains "$work/log-registered.out" "source $source registered: true"
check "records arrive as before, and no registration hint" events_ok log-registered nohint

echo "== tracing events through the tracing front end (tracing::init_config)"
WINEDEBUG=-all,+eventlog,fixme+advapi run tracing-registered tracing "$source" || true
check "tracing run exits 0" contains "$work/tracing-registered.out" "logged"
check "each event (typed field, span chain, funcName, error chain; a log record through the bridge) reached ReportEventW once, by level" \
    events_ok tracing-registered nohint tracing

echo "== another log and an explicit message file"
check "registering in log $ops_log with a given message file succeeds" \
    run reg-ops register "$source" "$ops_log" '%ProgramFiles%\Microblog\messages.dll'
wine reg query "$key\\$ops_log\\$source" >"$work/reg-ops-query.out" 2>&1 || true
check "the registry has that message file under $ops_log" \
    grep -qF '%ProgramFiles%\Microblog\messages.dll' "$work/reg-ops-query.out"
check "deregistering from $ops_log succeeds" run dereg-ops deregister "$source" "$ops_log"

echo "== deregistering"
check "deregistering the source succeeds" run dereg deregister "$source"
check "  ... and says it removed it" contains "$work/dereg.out" "deregistered"
check "the registry key is gone" bash -c "! wine reg query '$key\\Application\\$source' >/dev/null 2>&1"
run dereg-again deregister "$source" || true
check "deregistering again says it was not registered" contains "$work/dereg-again.out" "was not registered"

echo "== the crate's eventlog tests, built for Windows and run under wine"
if CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/scripts/windows/wine-runner.sh" \
    LOG4RS_APPENDERS_WINE_SHIM="$shim" \
    cargo test --quiet --target x86_64-pc-windows-gnu --no-default-features --features eventlog,tracing \
    --lib --test eventlog >"$work/cargo-test.log" 2>&1; then
    echo "PASS cargo test --target x86_64-pc-windows-gnu (lib + tests/eventlog.rs) under wine"
    passed=$((passed + 1))
else
    echo "FAIL cargo test --target x86_64-pc-windows-gnu under wine; its output:"
    sed 's/^/     /' "$work/cargo-test.log" | tail -40
    failed=$((failed + 1))
fi
grep -E '^test result' "$work/cargo-test.log" | sed 's/^/     /' || true

wineserver --kill >/dev/null 2>&1 || true
echo "eventlog-wine: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
