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
# Prints req/s and p99 per case and mode, and offload/inline ratios.
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

# name port env flags: one piora per mode and case, all on $DB.
PIDS=()
start_one() {
  local port=$1 remote=$2
  shift 2
  # shellcheck disable=SC2086 # PIORA_LIMITS is a list of flags
  PIORA_TEST_STORE_REMOTE=$remote "$BIN" serve --database "$DB" --listen 127.0.0.1:"$port" \
    $PIORA_LIMITS --access-log off "$@" >"$WORK/$port.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.05; done
  echo "bench: piora on $port did not start:" >&2; cat "$WORK/$port.log" >&2; exit 1
}
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; cleanup' EXIT

P_LIST_IN=$(free_port); start_one "$P_LIST_IN" 0
P_LIST_OFF=$(free_port); start_one "$P_LIST_OFF" 1
P_HAND_IN=$(free_port); start_one "$P_HAND_IN" 0 --response-cache-bytes 0
P_HAND_OFF=$(free_port); start_one "$P_HAND_OFF" 1 --response-cache-bytes 0
grep -q PIORA_TEST_STORE_REMOTE "$WORK/$P_HAND_OFF.log" ||
  { echo "bench: the offload piora did not take PIORA_TEST_STORE_REMOTE" >&2; exit 1; }

URL_PATH="/api/v1/servers?per_page=20"
a=$(curl -fs "http://127.0.0.1:$P_LIST_IN$URL_PATH" -H "Authorization: Bearer $TOKEN" | sha256sum)
for p in $P_LIST_OFF $P_HAND_IN $P_HAND_OFF; do
  b=$(curl -fs "http://127.0.0.1:$p$URL_PATH" -H "Authorization: Bearer $TOKEN" | sha256sum)
  [ "$a" = "$b" ] || { echo "bench: the answers differ between modes" >&2; exit 1; }
done

# wrk --latency: URL -> "req/s p99_ms"
run_wrk_p99() {
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$1" 2>&1 |
    awk '/Requests\/sec/ {rps=$2}
         $1=="99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)}
                    else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; p99=v}
         END {print rps, p99}'
}

handed_of() {
  curl -fs "http://127.0.0.1:$1/metrics" | awk '$1=="piora_store_pool_handed_total" {print $2}'
}
h0=$(handed_of "$P_HAND_OFF")
l0=$(handed_of "$P_LIST_OFF")

: >"$WORK/results"
for _ in $(seq "$ROUNDS"); do
  for c in "list inline $P_LIST_IN" "list offload $P_LIST_OFF" "handler inline $P_HAND_IN" \
           "handler offload $P_HAND_OFF"; do
    read -r name mode port <<<"$c"
    echo "$name $mode $(run_wrk_p99 "http://127.0.0.1:$port$URL_PATH")" >>"$WORK/results"
  done
done
h1=$(handed_of "$P_HAND_OFF")
l1=$(handed_of "$P_LIST_OFF")
[ "$(handed_of "$P_HAND_IN")" = 0 ] || { echo "bench: the inline piora handed requests over" >&2; exit 1; }
[ "$h1" -gt "$h0" ] || { echo "bench: the offload piora handed nothing over" >&2; exit 1; }

col() { awk -v n="$1" -v m="$2" -v k="$3" '$1==n && $2==m {print $k}' "$WORK/results" | median; }
printf '%-8s %12s %10s %12s %10s %8s %8s\n' case inline_rps p99_ms offload_rps p99_ms rps_x p99_x
for name in list handler; do
  ir=$(col "$name" inline 3) ip=$(col "$name" inline 4)
  orr=$(col "$name" offload 3) op=$(col "$name" offload 4)
  printf '%-8s %12.0f %10.2f %12.0f %10.2f %8.2f %8.2f\n' "$name" "$ir" "$ip" "$orr" "$op" \
    "$(echo "$orr / $ir" | bc -l)" "$(echo "$op / $ip" | bc -l)"
done
echo "medians of $ROUNDS rounds; offload handed $((h1 - h0)) handler requests and $((l1 - l0)) cached-list requests to the store pool"
machine_line
