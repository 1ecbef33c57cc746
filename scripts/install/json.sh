#!/usr/bin/env bash
# Peers for the json_lines encoder's differential tests: Elastic's `ecs-logging` (its
# StdlibFormatter) and `python-json-logger`, installed into a venv of their own so that nothing
# is installed into the system Python. The tests find it at $LOG4RS_APPENDERS_JSON_VENV, default
# ~/.cache/log4rs-appenders/json-venv. Also needs rsyslog (scripts/install/syslog.sh) with
# mmjsonparse, part of the rsyslog package. Idempotent; instant when already installed.
set -euo pipefail
venv="${LOG4RS_APPENDERS_JSON_VENV:-$HOME/.cache/log4rs-appenders/json-venv}"
if "$venv/bin/python" -c 'import ecs_logging, pythonjsonlogger' 2>/dev/null; then
    exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends python3-venv
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    'ecs-logging==2.3.0' 'python-json-logger==4.2.0'
"$venv/bin/python" -c 'import ecs_logging, pythonjsonlogger'
