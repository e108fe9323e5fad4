#!/usr/bin/env bash
# What SPEC 11's limits cost (issue 12): the list benchmark of bench/run.sh
# (GET /api/v1/servers?per_page=20, keep-alive, 20 servers) with three tokens
# of one user side by side in interleaved rounds of one run:
#   unlimited   no resources, no allowed_ips (as bench/run.sh)
#   resources   limited to the 20 servers by id (the same answer, so only the
#               policy and the grant-keyed cache differ)
#   addresses   32 allowed_ips rules, the client's (127.0.0.1) matching last
# Prints req/s, the ratio to the unlimited token (target >= 0.95) and the
# machine line; medians of --rounds.
#
# Usage: bench/limits.sh [--duration 10] [--connections 64] [--threads 2] [--rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE="bench/limits.sh [--duration S] [--connections N] [--threads N] [--rounds N]"
TOOLS="wrk curl"
. bench/lib.sh

piora_start --access-log off
seed_servers
ids=$(curl -fs "http://127.0.0.1:$PORT/api/v1/servers?per_page=100" -H "Authorization: Bearer $TOKEN" |
  grep -o '"id":[0-9]*' | cut -d: -f2 | sed 's/^/servers:/' | paste -sd, -)
RTOKEN=$("$BIN" token create --database "$DB" --email bench@example.com --name limited \
  --scopes servers:read --expires-in never --resources "$ids")
rules=$(for i in $(seq 1 31); do printf '198.51.%d.0/24,' "$i"; done)
ATOKEN=$("$BIN" token create --database "$DB" --email bench@example.com --name addressed \
  --scopes servers:read --expires-in never --allowed-ips "${rules}127.0.0.1")

URL="http://127.0.0.1:$PORT/api/v1/servers?per_page=20"
# The same body for all three, or the comparison means nothing.
a=$(curl -fs "$URL" -H "Authorization: Bearer $TOKEN" | sha256sum)
for t in "$RTOKEN" "$ATOKEN"; do
  b=$(curl -fs "$URL" -H "Authorization: Bearer $t" | sha256sum)
  [ "$a" = "$b" ] || { echo "bench: a limited token's list differs from the unlimited one's" >&2; exit 1; }
done

: >"$WORK/results"
for _ in $(seq "$ROUNDS"); do
  echo "unlimited $(run_wrk "$URL" "$TOKEN")" >>"$WORK/results"
  echo "resources $(run_wrk "$URL" "$RTOKEN")" >>"$WORK/results"
  echo "addresses $(run_wrk "$URL" "$ATOKEN")" >>"$WORK/results"
done
base=$(awk '$1=="unlimited" {print $2}' "$WORK/results" | median)
printf '%-10s %12s %8s   %s\n' token req/s ratio target
for name in unlimited resources addresses; do
  v=$(awk -v n="$name" '$1==n {print $2}' "$WORK/results" | median)
  t=""; [ "$name" = unlimited ] || t=">= 0.95"
  printf '%-10s %12.0f %8.2f   %s\n' "$name" "$v" "$(echo "$v / $base" | bc -l)" "$t"
done
echo "medians of $ROUNDS rounds (list: GET /api/v1/servers?per_page=20)"
machine_line
