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

USAGE="bench/monitoring.sh [--duration S] [--connections N] [--threads N] [--rounds N]"
TOOLS="wrk curl"
. bench/lib.sh

piora_start --usage-log off --last-used off --access-log off
seed_servers
piora_stop

URL="http://127.0.0.1:$PORT/api/v1/servers?per_page=20"
measure() { # name flags...
  local name=$1; shift
  piora_start "$@"
  wrk -t"$WRK_THREADS" -c"$CONNS" -d1s -H "Authorization: Bearer $TOKEN" "$URL" >/dev/null 2>&1 # warm-up
  local r
  r=$(run_wrk "$URL")
  local dropped
  dropped=$(curl -fs "http://127.0.0.1:$PORT/metrics" | awk '/^piora_usage_log_dropped_total/ {print $2}')
  piora_stop
  printf '%s %s %s\n' "$name" "$r" "${dropped:-0}"
}

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
machine_line
