#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing (CI runs as root on a Debian
# machine). `apt-get update` runs once, and only when something is missing.
set -euo pipefail

updated=0
need() {
  # need <check command> <package>...
  if ! bash -c "$1" >/dev/null 2>&1; then
    if [ "$updated" = 0 ]; then apt-get update; updated=1; fi
    shift
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
  fi
}

# The schema registry's Avro compatibility oracle (packages/registry/test/avro-oracle.test.ts).
need "/usr/bin/python3 -c 'import avro.compatibility'" python3-avro
