#!/usr/bin/env bash
# The Windows cross-check needs Rust's x86_64-pc-windows-gnu target and Debian's mingw linker.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
rustup target list --installed | grep -q x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu
command -v x86_64-w64-mingw32-gcc >/dev/null || $SUDO apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64
