#!/usr/bin/env bash
# Peers for tests/syslog.rs: rsyslog (started by the tests in the foreground with their own
# config) and its GnuTLS stream driver for the TLS test. Never starts rsyslog as a service and
# does not need /dev/log. Idempotent; quick when already installed.
set -euo pipefail
if command -v rsyslogd >/dev/null 2>&1 && compgen -G "/usr/lib/*/rsyslog/lmnsd_gtls.so" >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
# Keep the package scripts from starting the daemon as a system service.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends rsyslog rsyslog-gnutls
if [ "$created_policy" = 1 ]; then
  $SUDO rm -f /usr/sbin/policy-rc.d
fi
