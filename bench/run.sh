#!/usr/bin/env bash
# Piora vs nginx, side by side in one run, on this machine.
#
# Starts piora on a fresh SQLite database holding one user, one token and 20
# servers, captures its answers, has nginx serve byte-identical bodies, and
# measures both with wrk (keep-alive) for:
#   list    GET /api/v1/servers?per_page=20   (authenticated)
#   one     GET /api/v1/servers/{id}          (authenticated)
#   reject  GET /api/v1/servers with a token whose checksum is wrong (401)
# It prints req/s and the ratio to nginx for each. Targets (issue 2): list
# >= 0.8x, reject >= 0.9x.
#
# Usage: bench/run.sh [--duration 10] [--connections 64] [--threads 2] [--rounds 3]
#        PIORA_BIN=build/piora (default)
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE="bench/run.sh [--duration S] [--connections N] [--threads N]"
TOOLS="wrk nginx curl"
. bench/lib.sh
PPORT=$PORT
NPORT=$(free_port)

# The same token with its last checksum character changed: rejected before any lookup.
last=${TOKEN: -1}; [ "$last" = "A" ] && repl=B || repl=A
BADTOKEN="${TOKEN:0:47}$repl"

# nginx runs with access_log off, so piora does too (bench/monitoring.sh
# measures the access log, the usage log and last-used tracking).
piora_start --access-log off
seed_servers
ID=$(curl -fs "http://127.0.0.1:$PPORT/api/v1/servers?per_page=1" -H "Authorization: Bearer $TOKEN" | sed -E 's/.*"data":\[\{"id":([0-9]+).*/\1/')

mkdir -p "$WORK/www"
curl -s "http://127.0.0.1:$PPORT/api/v1/servers?per_page=20" -H "Authorization: Bearer $TOKEN" -o "$WORK/www/list.json"
curl -s "http://127.0.0.1:$PPORT/api/v1/servers/$ID" -H "Authorization: Bearer $TOKEN" -o "$WORK/www/one.json"
curl -s "http://127.0.0.1:$PPORT/api/v1/servers" -H "Authorization: Bearer $BADTOKEN" -o "$WORK/www/reject.json"

cat >"$WORK/nginx.conf" <<NGINX
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  open_file_cache max=16;   # keep the files open, as piora keeps its answers
  server {
    listen 127.0.0.1:$NPORT;
    location = /api/v1/servers { if (\$http_authorization = "Bearer $BADTOKEN") { return 401; } default_type application/json; alias $WORK/www/list.json; }
    location = /api/v1/servers/$ID { default_type application/json; alias $WORK/www/one.json; }
    error_page 401 /reject.json;
    location = /reject.json { internal; default_type application/problem+json; root $WORK/www; }
  }
}
NGINX
nginx -c "$WORK/nginx.conf"
sleep 0.3

# Byte-identical bodies or the comparison means nothing.
for pair in "list:/api/v1/servers?per_page=20:$TOKEN" "one:/api/v1/servers/$ID:$TOKEN" "reject:/api/v1/servers:$BADTOKEN"; do
  IFS=: read -r name path tok <<<"$pair"
  a=$(curl -s "http://127.0.0.1:$PPORT$path" -H "Authorization: Bearer $tok" | sha256sum)
  b=$(curl -s "http://127.0.0.1:$NPORT$path" -H "Authorization: Bearer $tok" | sha256sum)
  [ "$a" = "$b" ] || { echo "bench: $name bodies differ between piora and nginx" >&2; curl -s "http://127.0.0.1:$NPORT$path" -H "Authorization: Bearer $tok" | head -c 300 >&2; cat "$WORK/nginx-error.log" >&2; exit 1; }
done


# Interleaved rounds, medians reported: on a 2-core machine shared with wrk
# itself, one run alone is noise.
CASES="list:/api/v1/servers?per_page=20:$TOKEN one:/api/v1/servers/$ID:$TOKEN reject:/api/v1/servers:$BADTOKEN"
: >"$WORK/results"
for round in $(seq "$ROUNDS"); do
  for pair in $CASES; do
    IFS=: read -r name path tok <<<"$pair"
    echo "$name piora $(run_wrk "http://127.0.0.1:$PPORT$path" "$tok")" >>"$WORK/results"
    echo "$name nginx $(run_wrk "http://127.0.0.1:$NPORT$path" "$tok")" >>"$WORK/results"
  done
done
printf '%-8s %12s %12s %8s   %s\n' case piora nginx ratio target
for pair in $CASES; do
  IFS=: read -r name _ _ <<<"$pair"
  p=$(awk -v n="$name" '$1==n && $2=="piora" {print $3}' "$WORK/results" | median)
  n=$(awk -v n="$name" '$1==n && $2=="nginx" {print $3}' "$WORK/results" | median)
  case $name in list) t=">= 0.80" ;; reject) t=">= 0.90" ;; *) t="" ;; esac
  printf '%-8s %12.0f %12.0f %8.2f   %s\n' "$name" "$p" "$n" "$(echo "$p / $n" | bc -l)" "$t"
done
echo "medians of $ROUNDS rounds"
machine_line

# What monitoring costs: usage log + last-used on vs off (target >= 0.9).
echo
PIORA_BIN="$BIN" bench/monitoring.sh --duration "$DURATION" --connections "$CONNS" --threads "$WRK_THREADS" --rounds "$ROUNDS"
