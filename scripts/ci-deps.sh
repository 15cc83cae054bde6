#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing (apt-get update at most once).
# Idempotent: safe to run on every CI run and by hand.
set -euo pipefail

updated=0
need() {
  # need <probe command...> -- <debian package...>
  local probe=() pkgs=()
  while [ "$1" != "--" ]; do probe+=("$1"); shift; done
  shift
  pkgs=("$@")
  if "${probe[@]}" >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" != "0" ]; then
    echo "ci-deps: missing ${pkgs[*]} and not root; install them with apt-get" >&2
    return 0
  fi
  if [ "$updated" = 0 ]; then apt-get update -qq; updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
}

# @samsa/connect's PostgreSQL connector tests: initdb/pg_ctl/psql from the server package.
need sh -c 'ls /usr/lib/postgresql/*/bin/initdb' -- postgresql
# @samsa/connect's Redis Streams connector tests.
need command -v redis-server -- redis-server
