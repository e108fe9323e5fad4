#!/usr/bin/env bash
# What monitoring costs (issue 4): the same authenticated requests against
# the same database with the per-token usage log and last-used tracking on,
# then off, and the JSON access log on top. Prints req/s and the ratios;
# the target is usage log + last-used ON / OFF >= 0.9.
#
#   off        --usage-log off --last-used off --access-log off
#   usage      --usage-log on  --last-used on  --access-log off
#   all        --usage-log on  --last-used on  --access-log on (stdout to a file)
#
# The three configurations run in turn, --rounds times (default 3), and the
# median of each is reported: on a shared machine one run alone is noise.
#
# Usage: bench/monitoring.sh [--duration 10] [--connections 64] [--threads 2] [--rounds 3]
#        PIORA_BIN=build/piora (default). bench/run.sh calls it at its end.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=10
CONNS=64
WRK_THREADS=2
ROUNDS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --threads) WRK_THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: bench/monitoring.sh [--duration S] [--connections N] [--threads N] [--rounds N]" >&2; exit 2 ;;
  esac
done

BIN=${PIORA_BIN:-build/piora}
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install wrk curl)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench: $BIN not built (cmake -B build && cmake --build build)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/piora-bench-mon.XXXXXX)
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "bench: no free port found" >&2; exit 1
}
PORT=$(free_port)
cleanup() {
  [ -n "${PIORA_PID:-}" ] && kill "$PIORA_PID" 2>/dev/null && wait "$PIORA_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

DB="$WORK/piora.db"
echo 'bench-password-123' | "$BIN" user add --database "$DB" --email bench@example.com --team bench --password-stdin >/dev/null
TOKEN=$("$BIN" token create --database "$DB" --email bench@example.com --name bench \
        --scopes servers:read,servers:write --expires-in never)

start() { # extra serve flags...
  "$BIN" serve --database "$DB" --listen 127.0.0.1:$PORT --rate-limit 1000000000 \
    --auth-fail-limit 0 "$@" >"$WORK/stdout.log" 2>"$WORK/stderr.log" &
  PIORA_PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.05; done
  kill -0 "$PIORA_PID" 2>/dev/null || { echo "bench: piora did not start:" >&2; cat "$WORK/stderr.log" >&2; exit 1; }
}
stop() {
  kill "$PIORA_PID" && wait "$PIORA_PID" || true
  PIORA_PID=
}

start --usage-log off --last-used off --access-log off
for i in $(seq 1 20); do
  curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/servers" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"name\":\"web-$i\",\"ip_address\":\"10.0.0.$i\"}" >/dev/null
done
stop

URL="http://127.0.0.1:$PORT/api/v1/servers?per_page=20"
run_wrk() {
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$URL" 2>&1 |
    awk '/Requests\/sec/ {print $2}'
}
measure() { # name flags...
  local name=$1; shift
  start "$@"
  wrk -t"$WRK_THREADS" -c"$CONNS" -d1s -H "Authorization: Bearer $TOKEN" "$URL" >/dev/null 2>&1 # warm-up
  local r
  r=$(run_wrk)
  local dropped
  dropped=$(curl -fs "http://127.0.0.1:$PORT/metrics" | awk '/^piora_usage_log_dropped_total/ {print $2}')
  stop
  printf '%s %s %s\n' "$name" "$r" "${dropped:-0}"
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
: >"$WORK/results"
for round in $(seq "$ROUNDS"); do
  measure off --usage-log off --last-used off --access-log off >>"$WORK/results"
  measure usage --usage-log on --last-used on --access-log off >>"$WORK/results"
  measure all --usage-log on --last-used on --access-log on >>"$WORK/results"
done
ROWS=$("$BIN" token usage 1 --json --limit 100000 --database "$DB" | grep -c '"status"' || true)
LINES=$(grep -c '"request_id"' "$WORK/stdout.log" || true)
o=$(awk '$1=="off" {print $2}' "$WORK/results" | median)
u=$(awk '$1=="usage" {print $2}' "$WORK/results" | median)
a=$(awk '$1=="all" {print $2}' "$WORK/results" | median)
du=$(awk '$1=="usage" {s+=$3} END {print s+0}' "$WORK/results")
da=$(awk '$1=="all" {s+=$3} END {print s+0}' "$WORK/results")
printf '%-34s %12s %8s %10s\n' "monitoring (GET list, cached)" "req/s" "ratio" "dropped"
printf '%-34s %12.0f %8s %10s\n' "off" "$o" "1.00" "-"
printf '%-34s %12.0f %8.2f %10s\n' "usage log + last-used on" "$u" "$(echo "$u / $o" | bc -l)" "$du"
printf '%-34s %12.0f %8.2f %10s\n' "... + access log on" "$a" "$(echo "$a / $o" | bc -l)" "$da"
echo "medians of $ROUNDS rounds; usage rows now: $ROWS (identical requests of a second and a batch share a row);"
echo "access-log lines in the last run: $LINES"
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s"
