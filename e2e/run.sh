#!/bin/sh
# Browser tests: installs what they need (Debian's Chromium, playwright-core from npm — never a
# downloaded browser), builds the server unless LIENHOAN_BIN points at one, and runs them.
set -eu
cd "$(dirname "$0")"

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi

if [ -z "${LIENHOAN_BIN:-}" ]; then
  (cd .. && cargo build -p lienhoan)
fi

PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

exec node --test --test-concurrency=1 tests/
