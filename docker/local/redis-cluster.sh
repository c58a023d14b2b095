#!/usr/bin/env bash
# Local Redis Cluster for development and tests: three masters with one replica each.
#   docker/local/redis-cluster.sh start   start (or reuse) the six nodes and create the cluster once
#   docker/local/redis-cluster.sh stop    stop the nodes and forget the cluster
#   docker/local/redis-cluster.sh status  exit 0 when every slot is served (cluster_state:ok)
#   docker/local/redis-cluster.sh nodes   print REDIS_CLUSTER_NODES for this cluster
#   docker/local/redis-cluster.sh start-node PORT DIR   start one node again (after a test killed it)
# State lives in .local/redis-cluster (git-ignored): one folder per node with its nodes.conf,
# log and pid. No persistence (like the machine's Redis in tests): a node started again after
# a kill comes back empty and rejoins as a replica of whoever took over its slots.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${REDIS_CLUSTER_DIR:-$ROOT/.local/redis-cluster}
HOST=127.0.0.1
BASE=${REDIS_CLUSTER_BASE_PORT:-7301}
PORTS=$(seq "$BASE" $((BASE + 5)))
# Short, so that a killed master's replica takes over within seconds (production keeps 15 s).
NODE_TIMEOUT_MS=${REDIS_CLUSTER_NODE_TIMEOUT_MS:-2000}

log() { printf '[redis-cluster] %s\n' "$*" >&2; }
die() { printf '[redis-cluster] error: %s\n' "$*" >&2; exit 1; }

node_up() { [ "$(redis-cli -h "$HOST" -p "$1" ping 2>/dev/null)" = "PONG" ]; }
cluster_ok() { redis-cli -h "$HOST" -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

start_node() {
  local port=$1 dir=${2:-$STATE/$1}
  mkdir -p "$dir"
  node_up "$port" && return 0
  redis-server --port "$port" --bind "$HOST" --daemonize yes --dir "$dir" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$NODE_TIMEOUT_MS" \
    --save '' --appendonly no --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 1 50); do node_up "$port" && return 0; sleep 0.1; done
  die "node $port did not start (see $dir/redis.log)"
}

nodes() { local list=""; for p in $PORTS; do list="$list${list:+,}$HOST:$p"; done; echo "$list"; }

all_ok() { for p in $PORTS; do cluster_ok "$p" || return 1; done; }

start() {
  command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed (apt-get install redis-server)"
  for p in $PORTS; do start_node "$p"; done
  if ! cluster_ok "$BASE"; then
    local known; known=$(redis-cli -h "$HOST" -p "$BASE" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')
    if [ "${known:-1}" = "1" ]; then
      log "creating the cluster on ports $BASE-$((BASE + 5)) ..."
      # shellcheck disable=SC2046
      redis-cli --cluster create $(for p in $PORTS; do printf '%s:%s ' "$HOST" "$p"; done) \
        --cluster-replicas 1 --cluster-yes >"$STATE/create.log" 2>&1 || die "cluster create failed (see $STATE/create.log)"
    fi
  fi
  for _ in $(seq 1 150); do all_ok && break; sleep 0.2; done
  all_ok || die "the cluster did not reach cluster_state:ok"
  # Every replica in sync with its master, so the first failover of a test has one to promote.
  for _ in $(seq 1 100); do
    [ "$(for p in $PORTS; do redis-cli -h "$HOST" -p "$p" info replication; done | grep -c 'master_link_status:up')" = "3" ] && break
    sleep 0.2
  done
  log "ready: REDIS_CLUSTER_NODES=$(nodes)"
}

stop() {
  for p in $PORTS; do redis-cli -h "$HOST" -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  rm -rf "$STATE"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) all_ok ;;
  nodes) nodes ;;
  start-node) start_node "$2" "$3" ;;
  *) echo "usage: $0 start|stop|status|nodes|start-node PORT DIR" >&2; exit 2 ;;
esac
