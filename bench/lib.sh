# Shared by the bench scripts (sourced, not run): options, tools, a work
# folder, free ports, a seeded database and starting/stopping piora.
# The caller sets USAGE and TOOLS before sourcing, and may read EXTRA_ARGS.

DURATION=${DURATION:-10}
CONNS=64
WRK_THREADS=2
ROUNDS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --threads) WRK_THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: $USAGE" >&2; exit 2 ;;
  esac
done

BIN=${PIORA_BIN:-build/piora}
for tool in $TOOLS; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install $TOOLS)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench: $BIN not built (cmake -B build && cmake --build build)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/piora-bench.XXXXXX)
chmod 755 "$WORK"   # nginx workers (www-data) read files from here

# A port nothing listens on yet (a busy fixed port would measure someone else).
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
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# One user, one token that never expires.
DB="$WORK/piora.db"
echo 'bench-password-123' | "$BIN" user add --database "$DB" --email bench@example.com --team bench --password-stdin >/dev/null
TOKEN=$("$BIN" token create --database "$DB" --email bench@example.com --name bench \
        --scopes servers:read,servers:write --expires-in never)

# The limits piora_start sets: none in the way by default. A caller that
# measures the limits themselves (bench/abuse.sh) sets its own before sourcing.
PIORA_LIMITS=${PIORA_LIMITS:---rate-limit 1000000000 --auth-fail-limit 0}

# Starts piora on $PORT with $PIORA_LIMITS and any extra flags; waits for
# /healthz and checks it is our process answering.
piora_start() {
  # shellcheck disable=SC2086 # PIORA_LIMITS is a list of flags
  "$BIN" serve --database "$DB" --listen 127.0.0.1:$PORT $PIORA_LIMITS \
    "$@" >"$WORK/stdout.log" 2>"$WORK/stderr.log" &
  PIORA_PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.05; done
  kill -0 "$PIORA_PID" 2>/dev/null || { echo "bench: piora did not start:" >&2; cat "$WORK/stderr.log" >&2; exit 1; }
}

piora_stop() {
  kill "$PIORA_PID" && wait "$PIORA_PID" || true
  PIORA_PID=
}

# 20 servers, through the API, on a running piora.
seed_servers() {
  for i in $(seq 1 20); do
    curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/servers" -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' \
      -d "{\"name\":\"web-$i\",\"ip_address\":\"10.0.0.$i\",\"provider\":\"hetzner\",\"region\":\"fsn1\"}" >/dev/null
  done
}

# wrk with keep-alive: URL [TOKEN] -> requests/s
run_wrk() {
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" -H "Authorization: Bearer ${2:-$TOKEN}" "$1" 2>&1 |
    awk '/Requests\/sec/ {print $2}'
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

machine_line() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d); wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s"
}
