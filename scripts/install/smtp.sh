#!/usr/bin/env bash
# Installs aiosmtpd, the real SMTP server (not ours) that tests/smtp.rs and benches/smtp_latency.rs
# talk to through tests/smtp_server.py. Idempotent; quick when already installed.
set -euo pipefail
if python3 -c "import aiosmtpd" 2>/dev/null; then
    exit 0
fi
# A python3 of its own (pyenv, venv, CI image): pip into it.
if python3 -m pip install --quiet --disable-pip-version-check aiosmtpd 2>/dev/null; then
    python3 -c "import aiosmtpd"
    exit 0
fi
# Debian's python3 refuses pip outside a venv (PEP 668): use Debian's package instead.
if [ "$(readlink -f "$(command -v python3)")" = "$(readlink -f /usr/bin/python3)" ]; then
    apt-get install -y --no-install-recommends python3-aiosmtpd >/dev/null ||
        { apt-get update >/dev/null && apt-get install -y --no-install-recommends python3-aiosmtpd >/dev/null; }
fi
python3 -c "import aiosmtpd"
