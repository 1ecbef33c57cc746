#!/usr/bin/env bash
# The Python encoder's differential tests run CPython's logging.Formatter (standard library
# only): python3 for tests/python_encoder_vs_cpython.rs, and CPython 3.13 specifically for
# tests/python_encoder_vs_cpython313.rs (its Unicode database for repr, gh-102402's msecs).
# Idempotent; instant when both are there. The tests find 3.13 as python3.13 on PATH, in
# ~/.pyenv/versions/3.13.*, as python3, or through `uv python find 3.13` (what this installs
# when none of the others exists).
set -euo pipefail
if ! command -v python3 >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends python3
fi
python3 -c 'import json, logging' >/dev/null

is_313() { "$1" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; }
for candidate in "${LOG4RS_APPENDERS_PYTHON313:-}" "$(command -v python3.13 || true)" \
    "$HOME"/.pyenv/versions/3.13*/bin/python3 "$(command -v python3)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && is_313 "$candidate"; then
        exit 0
    fi
done
if command -v uv >/dev/null 2>&1 && uv python find 3.13 >/dev/null 2>&1; then
    exit 0
fi
echo "python-encoder.sh: no CPython 3.13 found; installing one with uv" >&2
python3 -m pip install -q uv
python3 -m uv python install -q 3.13
python3 -m uv python find 3.13 >/dev/null
