#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
# Install it when missing; as root that is apt-get, otherwise say what to run.
set -euo pipefail
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "ensure-chromium: $chromium is missing; run: sudo apt-get install chromium" >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium package" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
