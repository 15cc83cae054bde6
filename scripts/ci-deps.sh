#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing (CI runs as root on a fresh machine).
# Each line: `need COMMAND PACKAGE...`; `apt-get update` runs once, only if something is missing.
set -euo pipefail
updated=0
need() {
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [ "$updated" = 0 ]; then apt-get update; updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}
# The console's end-to-end test drives Debian's Chromium headless through playwright-core.
need chromium chromium
