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
#        PIORA_BEFORE=path/to/older/piora: a second piora, an older build on its
#        own database, answers the same three cases in the same interleaved
#        rounds, so a change is judged by before/after ratios from one run.
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
if [ -n "${PIORA_BEFORE:-}" ]; then
  [ -x "$PIORA_BEFORE" ] || { echo "bench: PIORA_BEFORE=$PIORA_BEFORE is not an executable" >&2; exit 1; }
  # Its own database: an older build may refuse a schema a newer one migrated.
  BDB="$WORK/before.db"; BPORT=$(free_port)
  echo 'bench-password-123' | "$PIORA_BEFORE" user add --database "$BDB" --email bench@example.com \
    --team bench --password-stdin >/dev/null
  BTOKEN=$("$PIORA_BEFORE" token create --database "$BDB" --email bench@example.com --name bench \
    --scopes servers:read,servers:write --expires-in never)
  "$PIORA_BEFORE" serve --database "$BDB" --listen 127.0.0.1:$BPORT --rate-limit 1000000000 \
    --auth-fail-limit 0 --access-log off >"$WORK/before-stdout.log" 2>"$WORK/before-stderr.log" &
  BEFORE_PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$BPORT/healthz" >/dev/null && break; sleep 0.05; done
  for i in $(seq 1 20); do
    curl -fs -X POST "http://127.0.0.1:$BPORT/api/v1/servers" -H "Authorization: Bearer $BTOKEN" \
      -H 'Content-Type: application/json' \
      -d "{\"name\":\"web-$i\",\"ip_address\":\"10.0.0.$i\",\"provider\":\"hetzner\",\"region\":\"fsn1\"}" >/dev/null
  done
  blast=${BTOKEN: -1}; [ "$blast" = "A" ] && brepl=B || brepl=A
  BBADTOKEN="${BTOKEN:0:47}$brepl"
  BID=$(curl -fs "http://127.0.0.1:$BPORT/api/v1/servers?per_page=1" -H "Authorization: Bearer $BTOKEN" | sed -E 's/.*"data":\[\{"id":([0-9]+).*/\1/')
  trap 'kill "$BEFORE_PID" 2>/dev/null; wait "$BEFORE_PID" 2>/dev/null; cleanup' EXIT
fi
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
    if [ -n "${PIORA_BEFORE:-}" ]; then
      case $name in list) bp="/api/v1/servers?per_page=20" bt=$BTOKEN ;;
        one) bp="/api/v1/servers/$BID" bt=$BTOKEN ;;
        reject) bp="/api/v1/servers" bt=$BBADTOKEN ;; esac
      echo "$name before $(run_wrk "http://127.0.0.1:$BPORT$bp" "$bt")" >>"$WORK/results"
    fi
  done
done
if [ -n "${PIORA_BEFORE:-}" ]; then
  printf '%-8s %12s %12s %8s %12s %8s %10s\n' case piora nginx ratio before ratio after/bef
else
  printf '%-8s %12s %12s %8s   %s\n' case piora nginx ratio target
fi
for pair in $CASES; do
  IFS=: read -r name _ _ <<<"$pair"
  p=$(awk -v n="$name" '$1==n && $2=="piora" {print $3}' "$WORK/results" | median)
  n=$(awk -v n="$name" '$1==n && $2=="nginx" {print $3}' "$WORK/results" | median)
  case $name in list) t=">= 0.80" ;; reject) t=">= 0.90" ;; *) t="" ;; esac
  if [ -n "${PIORA_BEFORE:-}" ]; then
    b=$(awk -v n="$name" '$1==n && $2=="before" {print $3}' "$WORK/results" | median)
    printf '%-8s %12.0f %12.0f %8.2f %12.0f %8.2f %10.2f\n' "$name" "$p" "$n" "$(echo "$p / $n" | bc -l)" \
      "$b" "$(echo "$b / $n" | bc -l)" "$(echo "$p / $b" | bc -l)"
  else
    printf '%-8s %12.0f %12.0f %8.2f   %s\n' "$name" "$p" "$n" "$(echo "$p / $n" | bc -l)" "$t"
  fi
done
echo "medians of $ROUNDS rounds"
machine_line

# What monitoring costs: usage log + last-used on vs off (target >= 0.9).
echo
PIORA_BIN="$BIN" bench/monitoring.sh --duration "$DURATION" --connections "$CONNS" --threads "$WRK_THREADS" --rounds "$ROUNDS"
