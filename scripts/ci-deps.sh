#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing (`apt-get update` at most once).
#   kcat   librdkafka's command-line client: the Kafka listener's compatibility tests (packages/cli/test/kcat.integration.test.ts)
set -euo pipefail

updated=0
need() {
  local command="$1" package="$2"
  if command -v "$command" >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "ci-deps: $command is missing and installing $package needs root" >&2
    exit 1
  fi
  if [ "$updated" -eq 0 ]; then
    apt-get update
    updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$package"
}

need kcat kcat
