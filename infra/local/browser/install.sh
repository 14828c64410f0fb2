#!/usr/bin/env bash
# The browser the console's tests drive (tests/browser): Debian's chromium and
# chromium-driver, from the machine's own apt sources. A no-op when both are there;
# nothing is ever downloaded by Selenium itself (the tests point it at these files).
set -euo pipefail

CHROMIUM=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver

if [[ -x "$CHROMIUM" && -x "$DRIVER" ]]; then
  echo "browser: chromium and chromedriver are installed" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser: $CHROMIUM or $DRIVER is missing and this is not a Debian-like system;" \
       "install chromium and its driver yourself (the browser tests skip without them," \
       "and fail in CI)" >&2
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "browser: run as root, or install sudo, to apt-get install chromium chromium-driver" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

echo "browser: installing chromium and chromium-driver with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt-get may hold the lock (a second session, unattended upgrades): wait for it.
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
  chromium chromium-driver
"$CHROMIUM" --version >&2 || true
"$DRIVER" --version >&2
