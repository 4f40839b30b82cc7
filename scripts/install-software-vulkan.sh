#!/usr/bin/env bash
# Installs Mesa's lavapipe (a software Vulkan driver) so that Dawn finds a WebGPU adapter on a
# headless Linux machine without a GPU. Debian bookworm's own Mesa (22.3) is too old for Dawn;
# the bookworm-backports build works. Idempotent: does nothing when a usable driver is present.
# On a machine with a real GPU driver this script is not needed.
set -u

have_lavapipe() {
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || return 1
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null) || return 1
  # Major version 23 or later is new enough for Dawn.
  [ "${v%%.*}" -ge 23 ] 2>/dev/null
}

if have_lavapipe; then
  echo "software Vulkan: lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"
  exit 0
fi

fail() {
  echo "software Vulkan: $1" >&2
  echo "software Vulkan: install it by hand (as root) on Debian bookworm:" >&2
  echo "  add 'bookworm-backports' to the Suites of /etc/apt/sources.list.d/debian.sources," >&2
  echo "  then: apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1" >&2
  echo "  (on other systems: install your distribution's Mesa Vulkan drivers, version 23 or later)" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || fail "this needs root"
command -v apt-get >/dev/null || fail "apt-get not found (not a Debian system)"
src=/etc/apt/sources.list.d/debian.sources
[ -f "$src" ] || fail "$src not found"
grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null || fail "not Debian bookworm"

if ! grep -qE '^Suites:.*bookworm-backports' "$src"; then
  sed -i -E "s/^(Suites:.* bookworm-updates)$/\1 bookworm-backports/" "$src"
  grep -qE '^Suites:.*bookworm-backports' "$src" || fail "could not add bookworm-backports to $src"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || fail "apt-get update failed"
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null \
  || fail "apt-get install of mesa-vulkan-drivers from bookworm-backports failed"
have_lavapipe || fail "lavapipe still missing after install"
echo "software Vulkan: installed lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
