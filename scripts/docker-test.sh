#!/usr/bin/env bash
# The deploy/ files against a real Docker engine (run by .ci/run after `npm test`; needs root):
#
#  1. validate deploy/docker-compose.yml with docker-compose config;
#  2. install Debian's docker.io and docker-compose if missing;
#  3. start a private dockerd (data, exec root and socket under a temp dir; --iptables=false
#     --bridge=none, so it touches no host networking) and wait for it;
#  4. import a base image made of this machine's own node (nothing can be pulled) and build
#     deploy/Dockerfile on it, from a context that carries the installed node_modules;
#  5. bring the compose cluster up with an override that puts every node on the host network at
#     127.0.0.1 on free ports (no traffic leaves 127.0.0.0/8), wait until all six and the schema
#     registry are healthy;
#  6. create a topic with RF=3 and min.insync.replicas=2, produce and consume through it with
#     acks=all, `docker kill` one broker, produce and consume again, check every record;
#  7. produce an Avro record through the schema registry and consume it back as JSON;
#  8. bring the cluster down and stop dockerd by its PID.
#
# Every wait is bounded; the trap cleans up (compose down, dockerd stopped by PID, temp dir
# removed) on success and failure alike. When dockerd cannot start, it says why and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CLI=(node "$ROOT/packages/cli/dist/main.js")
step() { printf '\n== docker-test: %s (%ss)\n' "$*" "$SECONDS"; }
die() { printf 'docker-test: FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (to install docker.io and run dockerd)"
[ -f packages/cli/dist/main.js ] || die "packages/cli/dist/main.js is missing: build first (npm test does)"

WORK=$(mktemp -d /tmp/samsa-docker.XXXXXX)
DOCKERD_PID=
COMPOSE_UP=
export DOCKER_HOST="unix://$WORK/docker.sock"
export COMPOSE_PROJECT_NAME=samsaci
COMPOSE=(docker-compose -f "$WORK/effective.yml" --project-directory "$ROOT/deploy")

cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$COMPOSE_UP" ]; then
    if [ "$status" != 0 ]; then
      echo "-- container logs (last 40 lines each) --"
      for s in controller-1 controller-2 controller-3 broker-1 broker-2 broker-3; do
        echo "--- $s"; timeout 20 "${COMPOSE[@]}" logs --no-color --tail 40 "$s" 2>&1 | tail -40
      done
    fi
    timeout 120 "${COMPOSE[@]}" down -v --timeout 10 >/dev/null 2>&1 || echo "docker-test: compose down failed" >&2
  fi
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    kill -TERM "$DOCKERD_PID"
    for _ in $(seq 1 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then echo "docker-test: dockerd $DOCKERD_PID did not stop; killing it" >&2; kill -KILL "$DOCKERD_PID"; fi
  fi
  # dockerd leaves its network namespace (and, if killed, layer mounts) mounted under its roots.
  awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$WORK" || echo "docker-test: could not remove $WORK" >&2
  if [ "$status" = 0 ]; then echo "docker-test: 1 passed, 0 failed"; else echo "docker-test: 0 passed, 1 failed"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 2. tools ----
step "tools"
if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null || ! [ -x /usr/bin/docker ]; then
  echo "installing Debian's docker.io and docker-compose"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -q >"$WORK/apt.log" 2>&1 || { tail -20 "$WORK/apt.log"; die "apt-get update failed"; }
  timeout 600 apt-get install -y -q --no-install-recommends docker.io docker-compose >>"$WORK/apt.log" 2>&1 \
    || { tail -20 "$WORK/apt.log"; die "apt-get install docker.io docker-compose failed"; }
fi
# Debian's client matches Debian's daemon (a newer docker CLI elsewhere on the PATH may not speak its API).
DOCKER=/usr/bin/docker
docker() { "$DOCKER" "$@"; }
echo "$($DOCKER --version); $(docker-compose --version); $(dockerd --version)"

# ---- 1. the compose file is valid ----
step "validate deploy/docker-compose.yml"
docker-compose -f deploy/docker-compose.yml config -q || die "deploy/docker-compose.yml is not a valid compose file"

# ---- 3. a private dockerd ----
step "start dockerd"
# overlay2 where the kernel allows it (much less copying), vfs otherwise.
DRIVER=vfs
if grep -qw overlay /proc/filesystems; then DRIVER=overlay2; fi
start_dockerd() {
  dockerd --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/dockerd.pid" \
    --host "$DOCKER_HOST" --iptables=false --ip6tables=false --bridge=none --ip-masq=false \
    --storage-driver "$1" >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then return 0; fi
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.5
  done
  return 1
}
if ! start_dockerd "$DRIVER"; then
  echo "dockerd did not come up with storage driver $DRIVER:"; tail -15 "$WORK/dockerd.log"
  kill -TERM "$DOCKERD_PID" 2>/dev/null; wait "$DOCKERD_PID" 2>/dev/null || true; DOCKERD_PID=
  [ "$DRIVER" = vfs ] && die "dockerd cannot start here (see its log above)"
  DRIVER=vfs
  rm -rf "$WORK/data" "$WORK/exec"
  start_dockerd vfs || { tail -30 "$WORK/dockerd.log"; die "dockerd cannot start here, not even with the vfs storage driver (see its log above)"; }
fi
echo "dockerd pid $DOCKERD_PID, storage driver $DRIVER, socket $DOCKER_HOST"

# ---- 4. base image from this machine's node, then the image ----
step "import a base image made of this machine's node"
NODE_BIN=$(readlink -f "$(command -v node)")
ROOTFS="$WORK/rootfs"
mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/etc" "$ROOTFS/tmp" "$ROOTFS/home/node"
cp "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
for lib in $(ldd "$NODE_BIN" | grep -o '/[^ ]*'); do
  mkdir -p "$ROOTFS$(dirname "$lib")"; cp -L "$lib" "$ROOTFS$lib"
done
# Native addons in the workspace (lz4, snappy, zstd, crc32, leveldb) link against these too.
for lib in /lib/x86_64-linux-gnu/librt.so.1 /lib/x86_64-linux-gnu/libresolv.so.2; do
  [ -e "$lib" ] && { mkdir -p "$ROOTFS$(dirname "$lib")"; cp -L "$lib" "$ROOTFS$lib"; }
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000::/home/node:/sbin/nologin\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' >"$ROOTFS/etc/group"
printf 'hosts: files dns\n' >"$ROOTFS/etc/nsswitch.conf"
chmod 1777 "$ROOTFS/tmp"; chown 1000:1000 "$ROOTFS/home/node"
tar -C "$ROOTFS" -c . | timeout 120 "$DOCKER" import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - samsa-node-base:ci >/dev/null
docker run --rm --network host samsa-node-base:ci node -e 'console.log(`base image: node ${process.version}`)'

step "build deploy/Dockerfile on it"
# The context: the tracked files plus the installed node_modules (the build cannot reach a registry).
CTX="$WORK/context"
mkdir -p "$CTX"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -d -t "$CTX"
cp -a node_modules "$CTX/"
for pkg in packages/*/; do [ -d "$pkg/node_modules" ] && cp -a "$pkg/node_modules" "$CTX/$pkg"; done
printf '.git\n' >"$CTX/.dockerignore"
timeout 900 "$DOCKER" build -q --build-arg BASE_IMAGE=samsa-node-base:ci -t samsa:ci -f "$CTX/deploy/Dockerfile" "$CTX" 2>&1 \
  | grep -v -e 'legacy builder is deprecated' -e 'Install the buildx' -e 'docs.docker.com/go/buildx' || true
docker image inspect samsa:ci >/dev/null 2>&1 || die "docker build produced no image"
[ "$(docker image inspect -f '{{.Config.User}}' samsa:ci)" = "1000:1000" ] || die "the image does not run as uid 1000"
echo "image samsa:ci: $(docker image inspect -f '{{.Size}}' samsa:ci) bytes"

# ---- 5. the cluster on the host network, 127.0.0.1 only ----
step "compose up (host network, 127.0.0.1)"
read -r -a PORTS <<<"$(node -e '
  const net = require("node:net");
  const one = () => new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
  (async () => { const ps = new Set(); while (ps.size < 10) ps.add(await one()); console.log([...ps].join(" ")); })();')"
C1=${PORTS[0]} C2=${PORTS[1]} C3=${PORTS[2]}
E1=${PORTS[3]} E2=${PORTS[4]} E3=${PORTS[5]} I1=${PORTS[6]} I2=${PORTS[7]} I3=${PORTS[8]} R=${PORTS[9]}
VOTERS="1@127.0.0.1:$C1,2@127.0.0.1:$C2,3@127.0.0.1:$C3"
controller() { printf '  controller-%s:\n    image: samsa:ci\n    network_mode: host\n    environment:\n      SAMSA_CONTROLLER_QUORUM_VOTERS: "%s"\n      SAMSA_CONTROLLER_LISTEN: "127.0.0.1:%s"\n' "$1" "$VOTERS" "$2"; }
broker() {
  printf '  broker-%s:\n    image: samsa:ci\n    network_mode: host\n    environment:\n' "$1"
  printf '      SAMSA_CONTROLLER_QUORUM_VOTERS: "%s"\n' "$VOTERS"
  printf '      SAMSA_LISTENERS: "INTERNAL://127.0.0.1:%s,EXTERNAL://127.0.0.1:%s"\n' "$2" "$3"
  printf '      SAMSA_ADVERTISED_LISTENERS: "INTERNAL://127.0.0.1:%s,EXTERNAL://127.0.0.1:%s"\n' "$2" "$3"
  # Fence a killed broker (and shrink the ISR) in seconds rather than Kafka's 9 s / 30 s.
  printf '      SAMSA_BROKER_SESSION_TIMEOUT_MS: "3000"\n      SAMSA_REPLICA_LAG_TIME_MAX_MS: "5000"\n'
}
registry() {
  printf '  schema-registry:\n    image: samsa:ci\n    network_mode: host\n'
  printf '    command: ["--bootstrap-server", "127.0.0.1:%s,127.0.0.1:%s,127.0.0.1:%s", "--listeners", "http://127.0.0.1:%s", "--advertised-url", "http://127.0.0.1:%s"]\n' "$I1" "$I2" "$I3" "$R" "$R"
  printf '    healthcheck:\n      test: ["CMD", "node", "-e", "fetch(\x27http://127.0.0.1:%s/subjects\x27).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]\n' "$R"
}
{
  echo "# generated by scripts/docker-test.sh: every node on the host network at 127.0.0.1"
  echo "services:"
  controller 1 "$C1"; controller 2 "$C2"; controller 3 "$C3"
  broker 1 "$I1" "$E1"; broker 2 "$I2" "$E2"; broker 3 "$I3" "$E3"
  registry
} >"$WORK/host-network.override.yml"
# Host networking cannot publish ports (docker-compose refuses the combination), and a compose
# override can only add to a list: resolve base + override, then drop each service's ports.
docker-compose -f deploy/docker-compose.yml -f "$WORK/host-network.override.yml" config >"$WORK/resolved.yml" \
  || die "deploy/docker-compose.yml with the host-network override does not resolve"
python3 - "$WORK/resolved.yml" "$WORK/effective.yml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for service in doc['services'].values():
    service.pop('ports', None)
yaml.safe_dump(doc, open(sys.argv[2], 'w'), sort_keys=False)
PY
# Every address the nodes bind, advertise or dial must be a loopback one.
if grep -Eo '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' "$WORK/effective.yml" | grep -Ev '^127\.' | sort -u | grep .; then
  die "the effective compose file names an address outside 127.0.0.0/8"
fi
if grep -E '(SAMSA_[A-Z_]+: |^ *- ).*(broker|controller|schema-registry)-[0-9]*:[0-9]' "$WORK/effective.yml"; then
  die "the effective compose file still names container hosts"
fi
COMPOSE_UP=1
timeout 300 "${COMPOSE[@]}" up -d --no-build || die "compose up failed"

SERVICES=(controller-1 controller-2 controller-3 broker-1 broker-2 broker-3 schema-registry)
wait_healthy() {
  local deadline=$((SECONDS + $1)) pending
  while :; do
    pending=()
    for s in "${SERVICES[@]}"; do
      local id; id=$("${COMPOSE[@]}" ps -q "$s" 2>/dev/null)
      [ -n "$id" ] || { echo "no container for $s"; return 1; }
      [ "$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null)" = healthy ] || pending+=("$s")
    done
    [ ${#pending[@]} = 0 ] && return 0
    [ $SECONDS -ge $deadline ] && { echo "not healthy after $1 s: ${pending[*]}"; return 1; }
    sleep 2
  done
}
wait_healthy 180 || die "the cluster did not become healthy"
echo "all seven containers healthy (six nodes and the schema registry)"
for s in broker-1 controller-1; do
  uid=$(docker exec "$("${COMPOSE[@]}" ps -q "$s")" node -e 'console.log(process.getuid())')
  [ "$uid" = 1000 ] || die "$s runs as uid $uid, not 1000"
done

# ---- 6. RF=3, min.insync.replicas=2, acks=all, one broker killed ----
BOOT="127.0.0.1:$E1"
step "create a topic with RF=3 and min.insync.replicas=2"
timeout 60 "${CLI[@]}" topics --create --bootstrap-server "$BOOT" --topic docker --partitions 3 --replication-factor 3 --config min.insync.replicas=2
timeout 30 "${CLI[@]}" topics --describe --bootstrap-server "$BOOT" --topic docker

produce() {
  seq "$1" "$2" | sed 's/^/record-/' | timeout 120 "${CLI[@]}" produce --bootstrap-server "$BOOT" --topic docker --request-required-acks all \
    || die "producing records $1..$2 with acks=all failed"
}
consume_check() {
  local want=$1 got
  got=$(timeout 120 "${CLI[@]}" consume --bootstrap-server "$BOOT" --topic docker --from-beginning --max-messages "$want" --timeout-ms 30000 | sort -u | wc -l)
  [ "$got" = "$want" ] || die "consumed $got distinct records, expected $want"
  echo "consumed all $want records"
}
step "produce 1000 records (acks=all) and consume them"
produce 1 1000
consume_check 1000

step "docker kill broker-3, then produce and consume again with acks=all"
docker kill "$("${COMPOSE[@]}" ps -q broker-3)" >/dev/null
# The controller fences broker-3 after its session timeout (3 s here) and moves its leaderships
# and ISR memberships to the others; wait for that (bounded), as a client's retries would.
deadline=$((SECONDS + 60))
until timeout 30 "${CLI[@]}" topics --describe --bootstrap-server "$BOOT" --topic docker >"$WORK/describe.txt" 2>&1 \
    && ! grep -Eq 'Leader: 6\b|Isr: ([0-9]+,)*6(,|$)' "$WORK/describe.txt"; do
  [ $SECONDS -ge $deadline ] && { cat "$WORK/describe.txt"; die "broker 6 still leads or is in an ISR 60 s after docker kill"; }
  sleep 1
done
echo "leaders and ISRs moved off broker 6 after $((SECONDS - deadline + 60)) s"
produce 1001 2000
consume_check 2000
timeout 30 "${CLI[@]}" topics --describe --bootstrap-server "$BOOT" --topic docker

# ---- 7. the schema registry: an Avro record produced and consumed through it ----
step "produce and consume an Avro record through the compose file's schema registry"
REGISTRY="http://127.0.0.1:$R"
# broker-3 is still down from step 6: two brokers can hold the topic.
timeout 60 "${CLI[@]}" topics --create --bootstrap-server "$BOOT" --topic docker-avro --partitions 1 --replication-factor 2
SCHEMA='{"type":"record","name":"Ping","fields":[{"name":"n","type":"long"}]}'
echo '{"n":42}' | timeout 120 "${CLI[@]}" produce --bootstrap-server "$BOOT" --topic docker-avro \
    --value-format avro --value-schema "$SCHEMA" --schema-registry "$REGISTRY" || die "producing an Avro record failed"
got=$(timeout 120 "${CLI[@]}" consume --bootstrap-server "$BOOT" --topic docker-avro --from-beginning --max-messages 1 \
    --timeout-ms 30000 --value-format avro --schema-registry "$REGISTRY")
[ "$got" = '{"n":42}' ] || die "consumed '$got' through the schema registry, expected {\"n\":42}"
timeout 30 "${CLI[@]}" schemas --list --schema-registry-url "$REGISTRY" | grep -q docker-avro-value \
  || die "the registry does not list docker-avro-value"
echo "the schema registry served docker-avro-value"

# ---- 8. down (the trap does it, and stops dockerd) ----
step "compose down"
timeout 120 "${COMPOSE[@]}" down -v --timeout 10
COMPOSE_UP=
step "done"
