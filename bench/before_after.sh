#!/usr/bin/env bash
# Two builds of piora, before and after a change, on the same machine in
# the same session: GET /api/v1/servers?per_page=20 (20 servers, the cached
# list) with the usage log and last-used tracking on, and with monitoring
# off, interleaved round by round so that both see the same background
# load. Prints the medians and the after/before ratios.
#
# Each binary gets its own database: an older build refuses a schema a
# newer one has migrated.
#
# Usage: bench/before_after.sh BEFORE_BIN AFTER_BIN [--duration 10] [--connections 64]
#        [--threads 2] [--rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE="bench/before_after.sh BEFORE_BIN AFTER_BIN [--duration S] [--connections N] [--threads N] [--rounds N]"
TOOLS="wrk curl bc"
[ $# -ge 2 ] || { echo "usage: $USAGE" >&2; exit 2; }
BEFORE_BIN=$1
AFTER_BIN=$2
shift 2
[ -x "$BEFORE_BIN" ] || { echo "bench: $BEFORE_BIN is not an executable" >&2; exit 1; }
PIORA_BIN=$AFTER_BIN . bench/lib.sh # seeds $DB and $TOKEN with the after build

AFTER_DB=$DB AFTER_TOKEN=$TOKEN
BEFORE_DB="$WORK/before.db"
echo 'bench-password-123' | "$BEFORE_BIN" user add --database "$BEFORE_DB" --email bench@example.com \
  --team bench --password-stdin >/dev/null
BEFORE_TOKEN=$("$BEFORE_BIN" token create --database "$BEFORE_DB" --email bench@example.com \
  --name bench --scopes servers:read,servers:write --expires-in never)

use() { # before|after: the binary, database and token piora_start and run_wrk use
  if [ "$1" = before ]; then BIN=$BEFORE_BIN DB=$BEFORE_DB TOKEN=$BEFORE_TOKEN
  else BIN=$AFTER_BIN DB=$AFTER_DB TOKEN=$AFTER_TOKEN; fi
}

for side in before after; do
  use "$side"
  piora_start --usage-log off --last-used off --access-log off
  seed_servers
  piora_stop
done

URL="http://127.0.0.1:$PORT/api/v1/servers?per_page=20"
measure() { # side config flags...
  local side=$1 config=$2; shift 2
  use "$side"
  piora_start "$@"
  wrk -t"$WRK_THREADS" -c"$CONNS" -d1s -H "Authorization: Bearer $TOKEN" "$URL" >/dev/null 2>&1 # warm-up
  local rps m lookups misses
  rps=$(run_wrk "$URL")
  # Cache misses during the run (warm-up included): token lookups, and
  # handler runs (every cacheable GET the response cache did not answer).
  m=$(curl -fs "http://127.0.0.1:$PORT/metrics")
  lookups=$(echo "$m" | awk -F' ' '/^piora_db_duration_seconds_count\{op="token_lookup"\}/ {print $2}')
  misses=$(echo "$m" | awk -F' ' '/^piora_db_duration_seconds_count\{op="handler"\}/ {print $2}')
  printf '%s %s %s %s %s %s\n' "$side" "$config" "$rps" "${lookups:-0}" "${misses:-0}" \
    "$(date -u +%H:%M:%S)"
  piora_stop
}

: >"$WORK/results"
for round in $(seq "$ROUNDS"); do
  for side in before after; do
    measure "$side" usage --usage-log on --last-used on --access-log off >>"$WORK/results"
    measure "$side" off --usage-log off --last-used off --access-log off >>"$WORK/results"
  done
done
med() { awk -v s="$1" -v c="$2" -v f="${3:-3}" '$1==s && $2==c {print $f}' "$WORK/results" | median; }
bu=$(med before usage) au=$(med after usage) bo=$(med before off) ao=$(med after off)
echo "side config req/s token-lookups handler-runs time (one line per run)"
cat "$WORK/results"
printf '%-40s %10s %10s %8s\n' "GET /api/v1/servers?per_page=20" "before" "after" "ratio"
printf '%-40s %10.0f %10.0f %8.2f\n' "usage log + last-used on" "$bu" "$au" "$(echo "$au / $bu" | bc -l)"
printf '%-40s %10.0f %10.0f %8.2f\n' "monitoring off" "$bo" "$ao" "$(echo "$ao / $bo" | bc -l)"
printf '%-40s %10.2f %10.2f\n' "on / off" "$(echo "$bu / $bo" | bc -l)" "$(echo "$au / $ao" | bc -l)"
printf '%-40s %10s %10s\n' "token lookups per run, usage on" "$(med before usage 4)" "$(med after usage 4)"
printf '%-40s %10s %10s\n' "list handler runs per run, usage on" "$(med before usage 5)" "$(med after usage 5)"
echo "medians of $ROUNDS interleaved rounds; before: $BEFORE_BIN, after: $AFTER_BIN"
machine_line
