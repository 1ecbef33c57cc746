# Shared setup for the scripts that run Windows builds of the crate under wine
# (scripts/windows-eventlog-test.sh, scripts/windows-syslog-test.sh). Source it from the
# repository root, then call:
#
#   wine_env_init NAME [TOOL...]
#
# which checks that cargo, wine, mingw and python3 (and each TOOL) are installed (if one is
# missing: SKIPPED and exit 0, or exit 1 with LOG4RS_APPENDERS_REQUIRE_PEERS=1), and sets:
#   target_dir  cargo's target directory
#   exe_dir     where `cargo build --target x86_64-pc-windows-gnu --example X` puts X.exe
#   work        $target_dir/NAME, for the script's logs and files (created)
#   shim        the bcryptprimitives.dll stand-in, built into $exe_dir if missing or stale
# and exports the WINE* variables (a prefix of its own under the target directory, created on
# first use).

wine_env_init() {
    local name=$1
    shift
    local tool
    for tool in cargo wine x86_64-w64-mingw32-gcc python3 "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            if [ "${LOG4RS_APPENDERS_REQUIRE_PEERS:-}" = 1 ]; then
                echo "$name: $tool is missing; run scripts/install/windows.sh" >&2
                exit 1
            fi
            echo "SKIPPED: $name: $tool is missing, so nothing ran under wine;" \
                "run scripts/install/windows.sh (set LOG4RS_APPENDERS_REQUIRE_PEERS=1 to fail instead)" >&2
            exit 0
        fi
    done

    target_dir=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    exe_dir="$target_dir/x86_64-pc-windows-gnu/debug/examples"
    work="$target_dir/$name"
    mkdir -p "$work" "$exe_dir"

    # Rust's std needs bcryptprimitives.dll!ProcessPrng, which wine 8.0 lacks: a stand-in next
    # to the program (see scripts/windows/bcryptprimitives.c).
    shim="$exe_dir/bcryptprimitives.dll"
    if [ ! -f "$shim" ] || [ scripts/windows/bcryptprimitives.c -nt "$shim" ]; then
        x86_64-w64-mingw32-gcc -O2 -shared -o "$shim" scripts/windows/bcryptprimitives.c \
            scripts/windows/bcryptprimitives.def -ladvapi32
    fi

    export WINEPREFIX="${LOG4RS_APPENDERS_WINEPREFIX:-$target_dir/wine-prefix}"
    export WINEARCH=win64
    export WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono/Gecko install prompts: faster first start
    export WINEDEBUG=-all
    if [ ! -d "$WINEPREFIX" ]; then
        echo "== creating the wine prefix $WINEPREFIX (first run only)"
        local start
        start=$(date +%s.%N)
        wineboot --init >/dev/null 2>&1 || true
        wineserver --wait
        echo "   wine prefix created in $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
    fi
}

# Runs COMMAND as one named check and counts it in the caller's `passed` / `failed`.
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        echo "PASS $what"
        passed=$((passed + 1))
    else
        echo "FAIL $what"
        failed=$((failed + 1))
    fi
}
