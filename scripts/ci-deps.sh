#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing (CI runs as root on a Debian
# machine). `apt-get update` runs at most once, and only when something is missing.
set -euo pipefail

# What this installs, when missing (one apt-get update at most):
#   apt-get install -y --no-install-recommends kcat python3-avro postgresql postgresql-client redis-server chromium openssl
# kcat: the Kafka listener's librdkafka tests; python3-avro: the registry's Avro oracle (seen by
# /usr/bin/python3, as `from avro import ...`); postgresql (initdb, pg_ctl): Streams' SQL oracle and
# the Connect PostgreSQL connectors; redis-server: Connect's Redis connectors; chromium: the console.
updated=0
need() {
  # need <check command> <package>...
  if bash -c "$1" >/dev/null 2>&1; then return; fi
  shift
  if [ "$(id -u)" -ne 0 ]; then
    echo "ci-deps: $* missing and installing needs root" >&2
    exit 1
  fi
  if [ "$updated" = 0 ]; then apt-get update; updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# librdkafka's command-line client: the Kafka listener's compatibility tests (kcat.integration.test.ts).
need "command -v kcat" kcat
# openssl: the TLS tests make a throwaway CA and certificates (packages/cli/test/tls.integration.test.ts).
need "command -v openssl" openssl
# The schema registry's Avro compatibility oracle (packages/registry/test/avro-oracle.test.ts).
need "/usr/bin/python3 -c 'import avro.compatibility'" python3-avro
# PostgreSQL server binaries: the Streams SQL oracle and the Connect PostgreSQL connectors.
need "ls /usr/lib/postgresql/*/bin/initdb" postgresql postgresql-client
# Redis: the Connect Redis Streams source and sink.
need "command -v redis-server" redis-server
# Headless Chromium: the console's end-to-end browser tests.
need "command -v chromium" chromium
