#!/usr/bin/env bash
# Installs Bugsink (a real, self-hosted, Sentry-SDK-compatible error tracker; Django + SQLite, no
# Docker) into a virtualenv of its own, for tests/sentry.rs and benches/sentry_latency.rs, and
# migrates one template database there (tests copy it instead of migrating, ~4-15 s each).
# Idempotent; instant when already installed. The venv: $BUGSINK_VENV, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/log4rs-appenders/bugsink-venv (tests/bugsink looks there too).
set -euo pipefail
venv="${BUGSINK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/log4rs-appenders/bugsink-venv}"
if ! { [ -x "$venv/bin/bugsink-manage" ] && "$venv/bin/python" -c "import bugsink" 2>/dev/null; }; then
    if ! python3 -m venv --help >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
        $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null ||
            { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null; }
    fi
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check bugsink
    "$venv/bin/python" -c "import bugsink"
fi
template="$venv/log4rs-appenders-template"
if [ ! -f "$template/done" ]; then
    rm -rf "$template.tmp" && mkdir -p "$template.tmp"
    (
        cd "$template.tmp"
        "$venv/bin/bugsink-create-conf" --template local --port 8000 -o bugsink_conf.py >/dev/null
        DJANGO_SETTINGS_MODULE=bugsink_conf PYTHONPATH="$PWD" "$venv/bin/bugsink-manage" migrate -v0
        rm -f bugsink_conf.py && touch done
    )
    rm -rf "$template" && mv "$template.tmp" "$template"
fi
