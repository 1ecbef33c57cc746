#!/usr/bin/env bash
# The syslog appender on Windows, for real: cross-builds examples/syslog_smoke.rs for
# x86_64-pc-windows-gnu, runs it under wine against receivers on the Linux side
# (scripts/windows/syslog_receiver.py: UDP, TCP and TLS on 127.0.0.1), and checks that every
# record arrived once, as RFC 5424 with the right PRI, header and text (also after the TCP and TLS
# receivers closed the connection: the appender must notice and reconnect); and that the program
# reports the Windows defaults (udp://127.0.0.1:514) and refuses unix: addresses clearly. Then
# runs the crate's syslog unit tests and the portable part of tests/syslog.rs (independent
# parsers over UDP, config errors) built for Windows, under wine.
#
# Needs scripts/install/windows.sh (mingw-w64, wine, openssl, the Rust target) and python3.
# Exits non-zero on any failure; ends with "syslog-wine: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/windows/wine-env.sh
wine_env_init syslog-wine openssl

echo "== building examples/syslog_smoke.rs for x86_64-pc-windows-gnu"
cargo build --quiet --target x86_64-pc-windows-gnu --no-default-features --features syslog \
    --example syslog_smoke
exe="$exe_dir/syslog_smoke.exe"

# A CA and a server certificate for 127.0.0.1 signed by it (made once).
pki="$work/pki"
if [ ! -f "$pki/server.pem" ]; then
    mkdir -p "$pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj /CN=syslog-smoke-ca -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj /CN=127.0.0.1 -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$pki/ext.cnf"
    openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
        -CAcreateserial -days 3650 -extfile "$pki/ext.cnf" -out "$pki/server.pem" 2>/dev/null
fi

passed=0
failed=0
contains() { grep -qF -- "$2" "$1"; }

run_dir="$work/run"
rm -rf "$run_dir"
mkdir -p "$run_dir"
# 7 records per listener; the receiver stops once it has them (or after 60 s).
python3 scripts/windows/syslog_receiver.py serve "$run_dir" 7 60 \
    "$pki/server.pem" "$pki/server.key" &
receiver=$!
for _ in $(seq 100); do
    [ -f "$run_dir/ports" ] && break
    sleep 0.05
done
if [ ! -f "$run_dir/ports" ]; then
    echo "FAIL the receivers did not start (scripts/windows/syslog_receiver.py)"
    kill "$receiver" 2>/dev/null || true
    exit 1
fi
read -r udp_port tcp_port tls_port <"$run_dir/ports"

echo "== running syslog_smoke.exe under wine (udp $udp_port, tcp $tcp_port, tls $tls_port)"
ca_windows="Z:${pki//\//\\}\\ca.pem"
smoke_ok=1
start=$(date +%s.%N)
wine "$exe" --root-certificate "$ca_windows" "udp://127.0.0.1:$udp_port" \
    "tcp://127.0.0.1:$tcp_port" "tls://127.0.0.1:$tls_port" \
    >"$work/smoke.out" 2>"$work/smoke.err" || smoke_ok=0
echo "   wine run took $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
if [ "$smoke_ok" = 0 ]; then
    kill "$receiver" 2>/dev/null || true
fi
wait "$receiver" || true
sed 's/^/     /' "$work/smoke.out"
grep -v '^[0-9a-f]*:fixme:' "$work/smoke.err" | sed 's/^/     stderr: /' || true

check "syslog_smoke.exe exits 0" test "$smoke_ok" = 1
check "the default address on Windows is udp://127.0.0.1:514 (Python's SysLogHandler default)" \
    contains "$work/smoke.out" 'address: Udp("127.0.0.1", 514)'
check "a unix: address is refused, saying what to use instead" \
    contains "$work/smoke.out" 'unix address: refused: field "address": "unix:/dev/log": unix sockets are not available on Windows (there is no local syslog socket); use udp://HOST:514, tcp://HOST:601 or tls://HOST:6514'
check "  ... and in YAML the error names the appender and the field" \
    grep -qE '^ *appender "local": field "address": "unix:/dev/log": unix sockets are not' \
    "$work/smoke.out"

pid=$(sed -n 's/^pid \([0-9]*\)$/\1/p' "$work/smoke.out")
if [ -f "$run_dir/received.json" ] && [ -n "$pid" ]; then
    # wine reports the Linux host's name (its first label) as the DNS host name.
    host=$(hostname -s)
    if python3 scripts/windows/syslog_receiver.py check "$run_dir" "$pid" "$host" \
        >"$work/check.out"; then
        rc=0
    else
        rc=$?
    fi
    sed 's/^/  /' "$work/check.out"
    check "the records arrived over UDP, TCP and TLS as RFC 5424 with the right PRI and text" \
        test "$rc" = 0
else
    check "the receiver recorded what arrived" false
fi

echo "== the crate's syslog tests that need no unix, built for Windows and run under wine"
winetest() { # winetest LOG CARGO-TEST-ARGS...
    local log=$1
    shift
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/scripts/windows/wine-runner.sh" \
        LOG4RS_APPENDERS_WINE_SHIM="$shim" \
        cargo test --quiet --target x86_64-pc-windows-gnu --no-default-features --features syslog \
        "$@" >"$work/$log" 2>&1
}
test_ok() { # test_ok LOG: the run passed and ran at least one test
    grep -qE '^test result: ok\. [1-9][0-9]* passed' "$work/$1"
}
for run in "lib --lib syslog::" "tests --test syslog"; do
    read -r name args <<<"$run"
    # shellcheck disable=SC2086
    if winetest "cargo-test-$name.log" $args && test_ok "cargo-test-$name.log"; then
        echo "PASS cargo test --target x86_64-pc-windows-gnu $args under wine"
        grep -E '^test result' "$work/cargo-test-$name.log" | sed 's/^/     /'
        passed=$((passed + 1))
    else
        echo "FAIL cargo test --target x86_64-pc-windows-gnu $args under wine; its output:"
        sed 's/^/     /' "$work/cargo-test-$name.log" | tail -40
        failed=$((failed + 1))
    fi
done

wineserver --kill >/dev/null 2>&1 || true
echo "syslog-wine: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
