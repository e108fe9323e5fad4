#!/usr/bin/env bash
# Cluster mode (issue 10), side by side in one run, on this machine:
#  1. reads: authenticated `GET /api/v1/servers?per_page=20` (20 servers,
#     keep-alive, wrk) against one SQLite node, one PostgreSQL node, and two
#     PostgreSQL nodes on the same database at once (two wrk, half the
#     connections each, their req/s added), in interleaved rounds; medians.
#     Targets: the PostgreSQL node >= 0.8x the SQLite node; two nodes
#     together more than one.
#  2. revocation (bench/cluster.mjs): how long a revoke takes to return on
#     one of three nodes and how soon the other nodes answer 401 (p50, p99).
#     Target: propagation p99 under 50 ms.
# PostgreSQL is this script's own (tests/lib/pgserver.sh: a temporary
# directory, a free loopback port), stopped at the end. The numbers and the
# machine go in docs/performance.md ("Cluster mode").
#
# Usage: bench/cluster.sh [--duration 5] [--connections 64] [--threads 2]
#                         [--rounds 3] [--revokes 200]
#        PIORA_BIN=build/piora (default)
# Needs wrk, curl, bc, node and PostgreSQL 15 (scripts/deps.sh); run as root
# (the database server runs as the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."

REVOKES=200
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --revokes) REVOKES=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- ${args[@]+"${args[@]}"}
USAGE="bench/cluster.sh [--duration S] [--connections N] [--threads N] [--rounds N] [--revokes N]"
TOOLS="wrk curl bc node"
DURATION=5
. bench/lib.sh
export PIORA_BIN=$BIN
echo "load average: $(cut -d" " -f1-3 /proc/loadavg)"

# ---- 1. reads ------------------------------------------------------------------

PGDIR="$WORK/pg"
PGPORT=$(free_port)
PGURL=$(bash tests/lib/pgserver.sh start "$PGDIR" "$PGPORT" | tail -n1)
NODE_PIDS=()
stop_all() {
  for p in ${NODE_PIDS[@]+"${NODE_PIDS[@]}"}; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  bash tests/lib/pgserver.sh stop "$PGDIR" || true
  cleanup
}
trap stop_all EXIT

piora_start --access-log off # the SQLite node, on $PORT
seed_servers
SQ_TOKEN=$TOKEN

echo 'bench-password-123' | "$BIN" user add --database "$PGURL" --email bench@example.com --team bench \
  --password-stdin >/dev/null
PG_TOKEN=$("$BIN" token create --database "$PGURL" --email bench@example.com --name bench \
  --scopes servers:read,servers:write --expires-in never)
# pg_node PORT LOG: a node on the shared database and the shared key file
pg_node() {
  # shellcheck disable=SC2086 # PIORA_LIMITS is a list of flags
  "$BIN" serve --database "$PGURL" --secret-key-file "$WORK/piora.key" --backup-dir "$WORK/backups" \
    --listen "127.0.0.1:$1" $PIORA_LIMITS --access-log off >"$WORK/$2.out" 2>"$WORK/$2.err" &
  NODE_PIDS+=($!)
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.05; done
  echo "bench: the PostgreSQL node on $1 did not start:" >&2
  cat "$WORK/$2.err" >&2
  exit 1
}
P1=$(free_port)
pg_node "$P1" pg1
P2=$(free_port)
pg_node "$P2" pg2
TOKEN=$PG_TOKEN PORT=$P1 seed_servers

SQ_URL="http://127.0.0.1:$PORT/api/v1/servers?per_page=20"
P1_URL="http://127.0.0.1:$P1/api/v1/servers?per_page=20"
P2_URL="http://127.0.0.1:$P2/api/v1/servers?per_page=20"
# the same page from every node (ids and times aside, the same 20 servers)
names() { curl -fs "$1" -H "Authorization: Bearer $2" | grep -o '"name":"[^"]*"' | sort | tr -d '\n'; }
[ "$(names "$SQ_URL" "$SQ_TOKEN")" = "$(names "$P1_URL" "$PG_TOKEN")" ] &&
  [ "$(names "$P1_URL" "$PG_TOKEN")" = "$(names "$P2_URL" "$PG_TOKEN")" ] ||
  { echo "bench: the nodes answer different pages" >&2; exit 1; }

# two wrk at once, one per PostgreSQL node, half the connections each
both() {
  local half=$((CONNS / 2)) t=$(((WRK_THREADS + 1) / 2)) a b
  wrk -t"$t" -c"$half" -d"${DURATION}s" -H "Authorization: Bearer $PG_TOKEN" "$P1_URL" >"$WORK/w1" 2>&1 &
  local w1=$!
  wrk -t"$t" -c"$half" -d"${DURATION}s" -H "Authorization: Bearer $PG_TOKEN" "$P2_URL" >"$WORK/w2" 2>&1
  wait "$w1"
  a=$(awk '/Requests\/sec/ {print $2}' "$WORK/w1")
  b=$(awk '/Requests\/sec/ {print $2}' "$WORK/w2")
  echo "$a + $b" | bc -l
}

: >"$WORK/results"
for _ in $(seq "$ROUNDS"); do
  echo "sqlite $(run_wrk "$SQ_URL" "$SQ_TOKEN")" >>"$WORK/results"
  echo "pg-one $(run_wrk "$P1_URL" "$PG_TOKEN")" >>"$WORK/results"
  echo "pg-two $(both)" >>"$WORK/results"
done
# every answer of the run was a 200: a node answering 401/429/503 fast would
# look fast
for p in "$PORT" "$P1" "$P2"; do
  bad=$(curl -fs "http://127.0.0.1:$p/metrics" |
    awk '$1 ~ /^piora_http_requests_total\{/ && $1 !~ /status="2/ && $1 ~ /servers/ {n += $2} END {print n + 0}')
  [ "$bad" = 0 ] || {
    echo "bench: node on $p answered $bad list requests with a non-2xx status:" >&2
    curl -fs "http://127.0.0.1:$p/metrics" | grep -E '^piora_(http_requests_total\{.*servers|change_feed|store_pool)' |
      grep -v 'status="2' >&2
    for f in "$WORK"/pg1.err "$WORK"/pg2.err; do
      echo "$f:" >&2
      grep -v '"level":"info"' "$f" | sort | uniq -c | sort -rn | head -20 >&2
    done
    exit 1
  }
done
base=$(awk '$1=="sqlite" {print $2}' "$WORK/results" | median)
printf '%-28s %10s %8s\n' reads req/s ratio
for name in sqlite pg-one pg-two; do
  v=$(awk -v n="$name" '$1==n {print $2}' "$WORK/results" | median)
  case $name in
    sqlite) label="one SQLite node" ;;
    pg-one) label="one PostgreSQL node" ;;
    pg-two) label="two PostgreSQL nodes, summed" ;;
  esac
  printf '%-28s %10.0f %8.2f\n' "$label" "$v" "$(echo "$v / $base" | bc -l)"
done
echo "medians of $ROUNDS rounds; GET /api/v1/servers?per_page=20, 20 servers, response cache on (the default)"
machine_line
for p in ${NODE_PIDS[@]+"${NODE_PIDS[@]}"}; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
NODE_PIDS=()
piora_stop

# ---- 2. revocation -------------------------------------------------------------

echo "load average: $(cut -d" " -f1-3 /proc/loadavg)"
node bench/cluster.mjs --rounds "$REVOKES"
