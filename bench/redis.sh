#!/usr/bin/env bash
# What sharing the rate limits through Redis costs (issue 10): the list
# benchmark of bench/run.sh (GET /api/v1/servers?per_page=20, keep-alive, 20
# servers) against two `piora serve` processes on one database, side by side
# in interleaved rounds of one run:
#   in-process  no --redis: the node's own GCRA table (auth/ratelimit.c)
#   redis       --redis: one EVALSHA round trip per request to a local
#               redis-server started here (plus the node's own table), made
#               on the store pool with the connection suspended: the polling
#               thread hands the request over and never waits on Redis
#   redis-inline with PIORA_BEFORE=path/to/older/piora: that build with
#               --redis on the same database and Redis, for a build that
#               made the round trip on the polling thread itself
# and, after the rounds, one round of the redis node with Redis stopped
# (every decision falls back to its own table; the fallback path's cost).
# The limit is real but never reached (--rate-limit 1000000000), so every
# request runs the limiter. Prints req/s, the ratio to in-process and the
# machine line; medians of --rounds.
#
# Usage: bench/redis.sh [--duration 10] [--connections 64] [--threads 2] [--rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE="bench/redis.sh [--duration S] [--connections N] [--threads N] [--rounds N]"
TOOLS="wrk curl redis-server redis-cli"
. bench/lib.sh

RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
  >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
PORT2=
PIORA2_PID=
PIORA3_PID=
stop_extra() {
  [ -n "${PIORA2_PID:-}" ] && kill "$PIORA2_PID" 2>/dev/null && wait "$PIORA2_PID" 2>/dev/null
  [ -n "${PIORA3_PID:-}" ] && kill "$PIORA3_PID" 2>/dev/null && wait "$PIORA3_PID" 2>/dev/null
  [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  cleanup
}
trap stop_extra EXIT
for _ in $(seq 100); do [ "$(redis-cli -p "$RPORT" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
[ "$(redis-cli -p "$RPORT" ping)" = PONG ] || { echo "bench: redis-server did not start" >&2; exit 1; }

piora_start --access-log off
seed_servers
PORT2=$(free_port)
# shellcheck disable=SC2086 # PIORA_LIMITS is a list of flags
"$BIN" serve --database "$DB" --listen 127.0.0.1:$PORT2 $PIORA_LIMITS --access-log off \
  --redis "redis://127.0.0.1:$RPORT" ${REDIS_NODE_ARGS:-} >"$WORK/stdout2.log" 2>"$WORK/stderr2.log" &
PIORA2_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT2/healthz" >/dev/null && break; sleep 0.05; done
grep -q 'shared by every node through Redis' "$WORK/stderr2.log" ||
  { echo "bench: the redis node does not use Redis:" >&2; cat "$WORK/stderr2.log" >&2; exit 1; }

MODES="in-process redis"
if [ -n "${PIORA_BEFORE:-}" ]; then
  [ -x "$PIORA_BEFORE" ] || { echo "bench: PIORA_BEFORE=$PIORA_BEFORE is not an executable" >&2; exit 1; }
  PORT3=$(free_port)
  # shellcheck disable=SC2086 # PIORA_LIMITS is a list of flags
  "$PIORA_BEFORE" serve --database "$DB" --listen 127.0.0.1:$PORT3 $PIORA_LIMITS --access-log off \
    --redis "redis://127.0.0.1:$RPORT" ${REDIS_NODE_ARGS:-} >"$WORK/stdout3.log" 2>"$WORK/stderr3.log" &
  PIORA3_PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT3/healthz" >/dev/null && break; sleep 0.05; done
  grep -q 'shared by every node through Redis' "$WORK/stderr3.log" ||
    { echo "bench: the redis-inline node does not use Redis:" >&2; cat "$WORK/stderr3.log" >&2; exit 1; }
  MODES="in-process redis-inline redis"
fi

URL1="http://127.0.0.1:$PORT/api/v1/servers?per_page=20"
URL2="http://127.0.0.1:$PORT2/api/v1/servers?per_page=20"
URL3="http://127.0.0.1:${PORT3:-0}/api/v1/servers?per_page=20"
a=$(curl -fs "$URL1" -H "Authorization: Bearer $TOKEN" | sha256sum)
b=$(curl -fs "$URL2" -H "Authorization: Bearer $TOKEN" | sha256sum)
[ "$a" = "$b" ] || { echo "bench: the two nodes answer differently" >&2; exit 1; }
if [ -n "${PIORA3_PID:-}" ]; then
  c=$(curl -fs "$URL3" -H "Authorization: Bearer $TOKEN" | sha256sum)
  [ "$a" = "$c" ] || { echo "bench: the redis-inline node answers differently" >&2; exit 1; }
fi

# CPU seconds (user + system) a process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
# One round: NAME URL PIDS... -> "NAME req/s cpu-us-per-request-of-each-pid..."
round() {
  local name=$1 url=$2 pid v out
  shift 2
  local before=()
  for pid in "$@"; do before+=("$(cpu_s "$pid")"); done
  v=$(run_wrk "$url")
  out="$name $v"
  local i=0
  for pid in "$@"; do
    out="$out $(echo "(($(cpu_s "$pid")) - ${before[$i]}) * 1000000 / ($v * $DURATION)" | bc -l)"
    i=$((i + 1))
  done
  echo "$out"
}

: >"$WORK/results"
for _ in $(seq "$ROUNDS"); do
  round in-process "$URL1" "$PIORA_PID" >>"$WORK/results"
  [ -n "${PIORA3_PID:-}" ] && round redis-inline "$URL3" "$PIORA3_PID" "$REDIS_PID" >>"$WORK/results"
  round redis "$URL2" "$PIORA2_PID" "$REDIS_PID" >>"$WORK/results"
done
# The requests really went through Redis: the token's key is there.
redis-cli -p "$RPORT" --scan --pattern 'piora:rl:token:*' | grep -q . ||
  { echo "bench: no limiter key in Redis" >&2; exit 1; }
kill "$REDIS_PID" && wait "$REDIS_PID" 2>/dev/null || true
REDIS_PID=
round redis-down "$URL2" "$PIORA2_PID" >>"$WORK/results"
fallbacks=$(curl -fs "http://127.0.0.1:$PORT2/metrics" | awk '$1=="piora_ratelimit_redis_fallbacks_total" {print $2}')

base=$(awk '$1=="in-process" {print $2}' "$WORK/results" | median)
printf '%-12s %12s %8s %14s %14s\n' limiter req/s ratio 'piora us/req' 'redis us/req'
for name in $MODES redis-down; do
  v=$(awk -v n="$name" '$1==n {print $2}' "$WORK/results" | median)
  p=$(awk -v n="$name" '$1==n {print $3}' "$WORK/results" | median)
  r=$(awk -v n="$name" '$1==n {print ($4 == "" ? "-" : $4)}' "$WORK/results" | median)
  [ "$name" = redis ] || [ "$name" = redis-inline ] || r=-
  printf '%-12s %12.0f %8.2f %14.1f %14s\n' "$name" "$v" "$(echo "$v / $base" | bc -l)" "$p" \
    "$([ "$r" = - ] && echo - || printf '%.1f' "$r")"
done
echo "us/req: CPU microseconds (user + system) the process spent per request answered"
echo "medians of $ROUNDS rounds (redis-down: one round, $fallbacks decisions fell back); list: GET /api/v1/servers?per_page=20"
handed=$(curl -fs "http://127.0.0.1:$PORT2/metrics" | awk '$1=="piora_store_pool_handed_total" {print $2}')
echo "redis: $handed requests handed to the store pool (the redis node, all rounds)"
echo "redis: $(redis-server --version | awk '{print $3}') on 127.0.0.1, no persistence"
machine_line
