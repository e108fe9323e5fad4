#!/usr/bin/env bash
# What handing the store's steps to the store pool costs (issue 10), on
# SQLite with the hand-over forced (PIORA_TEST_STORE_REMOTE=1, no delay), so
# only the suspend / pool / resume differs. Two pioras on one database,
# side by side in interleaved rounds of one run, each measured by wrk
# (keep-alive, --latency) for:
#   list     GET /api/v1/servers?per_page=20, the response cache on: a hot
#            token's cached page, answered on the polling thread by both
#   handler  the same with --response-cache-bytes 0: every request runs the
#            list query, on the polling thread (inline) or on the store pool
#            (offload)
# Prints req/s, p99 and the server's CPU time per request (utime+stime of
# the process over the run / requests: what a shared machine's load moves
# least) per case and mode, and offload/inline ratios.
# PIORA_BEFORE=path/to/older/piora adds a third mode, "before": that build,
# inline, on the same database (the same schema), so that the default SQLite
# path is compared with the build before the change in the same rounds.
#
# Usage: bench/offload.sh [--duration 10] [--connections 64] [--threads 2] [--rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE="bench/offload.sh [--duration S] [--connections N] [--threads N] [--rounds N]"
TOOLS="wrk curl bc"
. bench/lib.sh

piora_start --access-log off
seed_servers
piora_stop

# port remote bin flags: one piora per mode and case, all on $DB.
PIDS=()
declare -A PID_OF
start_one() {
  local port=$1 remote=$2 bin=$3
  shift 3
  # shellcheck disable=SC2086 # PIORA_LIMITS is a list of flags
  PIORA_TEST_STORE_REMOTE=$remote "$bin" serve --database "$DB" --listen 127.0.0.1:"$port" \
    $PIORA_LIMITS --access-log off "$@" >"$WORK/$port.log" 2>&1 &
  PIDS+=($!)
  PID_OF[$port]=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.05; done
  echo "bench: piora on $port did not start:" >&2; cat "$WORK/$port.log" >&2; exit 1
}
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; cleanup' EXIT

P_LIST_IN=$(free_port); start_one "$P_LIST_IN" 0 "$BIN"
P_LIST_OFF=$(free_port); start_one "$P_LIST_OFF" 1 "$BIN"
P_HAND_IN=$(free_port); start_one "$P_HAND_IN" 0 "$BIN" --response-cache-bytes 0
P_HAND_OFF=$(free_port); start_one "$P_HAND_OFF" 1 "$BIN" --response-cache-bytes 0
MODES="inline offload"
if [ -n "${PIORA_BEFORE:-}" ]; then
  [ -x "$PIORA_BEFORE" ] || { echo "bench: PIORA_BEFORE=$PIORA_BEFORE is not an executable" >&2; exit 1; }
  P_LIST_BEF=$(free_port); start_one "$P_LIST_BEF" 0 "$PIORA_BEFORE"
  P_HAND_BEF=$(free_port); start_one "$P_HAND_BEF" 0 "$PIORA_BEFORE" --response-cache-bytes 0
  MODES="inline offload before"
fi
grep -q PIORA_TEST_STORE_REMOTE "$WORK/$P_HAND_OFF.log" ||
  { echo "bench: the offload piora did not take PIORA_TEST_STORE_REMOTE" >&2; exit 1; }

URL_PATH="/api/v1/servers?per_page=20"
a=$(curl -fs "http://127.0.0.1:$P_LIST_IN$URL_PATH" -H "Authorization: Bearer $TOKEN" | sha256sum)
for p in $P_LIST_OFF $P_HAND_IN $P_HAND_OFF ${P_LIST_BEF:-} ${P_HAND_BEF:-}; do
  b=$(curl -fs "http://127.0.0.1:$p$URL_PATH" -H "Authorization: Bearer $TOKEN" | sha256sum)
  [ "$a" = "$b" ] || { echo "bench: the answers differ between modes" >&2; exit 1; }
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wrk --latency on a port: -> "req/s p99_ms cpu_us_per_request"
run_wrk_p99() {
  local port=$1 c0 c1 out
  c0=$(cpu_ticks "${PID_OF[$port]}")
  out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$port$URL_PATH" 2>&1)
  c1=$(cpu_ticks "${PID_OF[$port]}")
  echo "$out" | awk -v ticks=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ {n=$1}
    /Requests\/sec/ {rps=$2}
    $1=="99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)}
               else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; p99=v}
    END {print rps, p99, (n ? ticks * 1000000 / hz / n : 0)}'
}

handed_of() {
  curl -fs "http://127.0.0.1:$1/metrics" | awk '$1=="piora_store_pool_handed_total" {print $2}'
}
h0=$(handed_of "$P_HAND_OFF")
l0=$(handed_of "$P_LIST_OFF")

: >"$WORK/results"
for _ in $(seq "$ROUNDS"); do
  cases="list:inline:$P_LIST_IN list:offload:$P_LIST_OFF handler:inline:$P_HAND_IN handler:offload:$P_HAND_OFF"
  [ -n "${PIORA_BEFORE:-}" ] && cases="$cases list:before:$P_LIST_BEF handler:before:$P_HAND_BEF"
  for c in $cases; do
    IFS=: read -r name mode port <<<"$c"
    echo "$name $mode $(run_wrk_p99 "$port")" >>"$WORK/results"
  done
done
h1=$(handed_of "$P_HAND_OFF")
l1=$(handed_of "$P_LIST_OFF")
[ "$(handed_of "$P_HAND_IN")" = 0 ] || { echo "bench: the inline piora handed requests over" >&2; exit 1; }
[ "$h1" -gt "$h0" ] || { echo "bench: the offload piora handed nothing over" >&2; exit 1; }

col() { awk -v n="$1" -v m="$2" -v k="$3" '$1==n && $2==m {print $k}' "$WORK/results" | median; }
printf '%-8s %-8s %10s %9s %11s %8s %8s %8s\n' case mode req/s p99_ms cpu_us/req rps_x p99_x cpu_x
for name in list handler; do
  ir=$(col "$name" inline 3) ip=$(col "$name" inline 4) ic=$(col "$name" inline 5)
  for mode in $MODES; do
    r=$(col "$name" "$mode" 3) p=$(col "$name" "$mode" 4) c=$(col "$name" "$mode" 5)
    printf '%-8s %-8s %10.0f %9.2f %11.1f %8.2f %8.2f %8.2f\n' "$name" "$mode" "$r" "$p" "$c" \
      "$(echo "$r / $ir" | bc -l)" "$(echo "$p / $ip" | bc -l)" "$(echo "$c / $ic" | bc -l)"
  done
done
echo "ratios to inline (this build, SQLite, no pool)"
echo "medians of $ROUNDS rounds; offload handed $((h1 - h0)) handler requests and $((l1 - l0)) cached-list requests to the store pool"
machine_line
