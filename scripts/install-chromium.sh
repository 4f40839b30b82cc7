#!/usr/bin/env bash
# Installs Debian's Chromium for the browser demo's test (driven by playwright-core; no browser is
# ever downloaded by Playwright). Idempotent: does nothing when /usr/bin/chromium exists.
set -u

if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n 1) already installed"
  exit 0
fi

fail() {
  echo "chromium: $1" >&2
  echo "chromium: install it by hand (as root) on Debian: apt-get update && apt-get install -y chromium" >&2
  echo "chromium: without it the browser demo test is skipped" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || fail "this needs root"
command -v apt-get >/dev/null || fail "apt-get not found (not a Debian system)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || fail "apt-get update failed"
apt-get install -y -q chromium >/dev/null || fail "apt-get install chromium failed"
[ -x /usr/bin/chromium ] || fail "the package did not provide /usr/bin/chromium"
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n 1) installed"
