#!/usr/bin/env bash
# The Python encoder's differential test runs CPython's logging.Formatter (python3, standard
# library only). A fresh Debian machine has it; this installs it where it is missing.
# Idempotent; instant when python3 is there.
set -euo pipefail
if ! command -v python3 >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends python3
fi
python3 -c 'import json, logging' >/dev/null
