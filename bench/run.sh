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
# Usage: bench/run.sh [--duration 10] [--connections 64] [--threads 2]
#        PIORA_BIN=build/piora (default)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=10
CONNS=64
WRK_THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --threads) WRK_THREADS=$2; shift 2 ;;
    *) echo "usage: bench/run.sh [--duration S] [--connections N] [--threads N]" >&2; exit 2 ;;
  esac
done

BIN=${PIORA_BIN:-build/piora}
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install wrk nginx-light curl)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench: $BIN not built (cmake -B build && cmake --build build)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/piora-bench.XXXXXX)
chmod 755 "$WORK"   # nginx workers (www-data) read the bodies from here
# Two ports nothing listens on yet (a busy fixed port would measure someone else).
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "bench: no free port found" >&2; exit 1
}
PPORT=$(free_port)
NPORT=$(free_port)
cleanup() {
  [ -n "${PIORA_PID:-}" ] && kill "$PIORA_PID" 2>/dev/null && wait "$PIORA_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

DB="$WORK/piora.db"
echo 'bench-password-123' | "$BIN" user add --database "$DB" --email bench@example.com --team bench --password-stdin >/dev/null
TOKEN=$("$BIN" token create --database "$DB" --email bench@example.com --name bench \
        --scopes servers:read,servers:write --expires-in never)
# The same token with its last checksum character changed: rejected before any lookup.
last=${TOKEN: -1}; [ "$last" = "A" ] && repl=B || repl=A
BADTOKEN="${TOKEN:0:47}$repl"

# nginx runs with access_log off, so piora does too (bench/monitoring.sh
# measures the access log, the usage log and last-used tracking).
"$BIN" serve --database "$DB" --listen 127.0.0.1:$PPORT --rate-limit 1000000000 \
  --auth-fail-limit 0 --access-log off >"$WORK/piora.log" 2>&1 &
PIORA_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PPORT/healthz" >/dev/null && break; sleep 0.05; done
kill -0 "$PIORA_PID" 2>/dev/null || { echo "bench: piora did not start:" >&2; cat "$WORK/piora.log" >&2; exit 1; }

for i in $(seq 1 20); do
  curl -fs -X POST "http://127.0.0.1:$PPORT/api/v1/servers" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"name\":\"web-$i\",\"ip_address\":\"10.0.0.$i\",\"provider\":\"hetzner\",\"region\":\"fsn1\"}" >/dev/null
done
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

run_wrk() { # url token -> req/s
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" -H "Authorization: Bearer $2" "$1" 2>&1 |
    awk '/Requests\/sec/ {print $2} /Non-2xx/ {non=$NF} END {}'
}

printf '%-8s %12s %12s %8s\n' case piora nginx ratio
for pair in "list:/api/v1/servers?per_page=20:$TOKEN" "one:/api/v1/servers/$ID:$TOKEN" "reject:/api/v1/servers:$BADTOKEN"; do
  IFS=: read -r name path tok <<<"$pair"
  p=$(run_wrk "http://127.0.0.1:$PPORT$path" "$tok")
  n=$(run_wrk "http://127.0.0.1:$NPORT$path" "$tok")
  printf '%-8s %12.0f %12.0f %8.2f\n' "$name" "$p" "$n" "$(echo "$p / $n" | bc -l)"
done
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s"

# What monitoring costs: usage log + last-used on vs off (target >= 0.9).
echo
PIORA_BIN="$BIN" bench/monitoring.sh --duration "$DURATION" --connections "$CONNS" --threads "$WRK_THREADS"
