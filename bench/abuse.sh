#!/usr/bin/env bash
# What one hostile client does to everyone else (issue 8), side by side in one
# run, on this machine.
#
# Starts piora on a fresh database (one user, two tokens, 100 servers) with its
# default limits except the per-token rate limit (raised, so the probe and the
# cache-key flood are not throttled: a CI token with a high limit is what the
# probe stands for, and the flood does in seconds what hours at the default
# 1000/min would). Then measures authenticated API latency with a probe,
# first alone, then during each attack, then alone again:
#
#   probe       GET /api/v1/servers?per_page=20 with a valid token, 4 closed
#               loops paced to 200 req/s in all, each request on a new
#               connection, from 127.0.0.2 (bench/abuse.mjs probe); a failed
#               or timed-out request counts as the 5 s timeout
#   setup       16 loops POST /web/api/setup with fake secrets, from 127.0.0.3
#   signin      24 loops of failed sign-ins for unknown accounts, each from the
#               next of 1000 source addresses in 127.1.0.0/16 (Linux routes all
#               of 127.0.0.0/8 to lo; no X-Forwarded-For), so no address or
#               account reaches the sign-in limit
#   slowloris   slowhttptest -H: 1030 connections from 127.0.0.1, one header
#               line every 10 s
#   slowbody    slowhttptest -B: 1030 connections from 127.0.0.1, POST bodies
#               of 64 KiB sent a few bytes every 10 s
#   cachekeys   wrk, one read-only token, 8 connections paced to ~2000 req/s,
#               every request a new query string (?per_page=100&k=N, a ~22 KB
#               answer: the database holds 100 servers)
#   bodies      300 connections from 30 addresses in 127.2.0.0/16, each
#               POSTing a 1 MB body to /api/v1/servers without a token, all
#               but its last bytes fast, the rest 1 byte every 2 s
#
# The cache-key flood runs before the body flood: the heap the bodies leave
# free would otherwise hold the cache's answers without RSS growing.
# Each attack starts, gets a few seconds to build up, then the probe runs for
# --duration seconds while it goes on; then the attack is ended by its pid and
# the next phase waits for the server to finish what the attack left queued
# (piora_http_requests_in_flight back to 1). The server's RSS is read from
# /proc/PID/status: VmHWM after resetting it (clear_refs 5) when the attack
# starts, and VmRSS sampled every 100 ms; the peak is the larger.
#
# Prints one table: phase, probe p50/p99, p99 / p99 alone (the lower of the
# two runs alone), failed probe
# requests, RSS when the phase began, peak RSS, and whether the target of
# issue 8 holds (p99 within 3x of alone and peak RSS under 64 MiB), then what
# each attack's own requests got.
#
# Usage: bench/abuse.sh [--duration 10]     PIORA_BIN=build/piora (default)
# Needs node, wrk, slowhttptest and curl (apt-get install wrk slowhttptest curl).
# Runs as root or not; the RSS peak reset needs write access to
# /proc/PID/clear_refs (the sampled VmRSS is used alone otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE="bench/abuse.sh [--duration S]"
TOOLS="node wrk slowhttptest curl"
PIORA_LIMITS="--rate-limit 1000000000"
. bench/lib.sh
ulimit -n 8192 # slowhttptest holds 1030 sockets, the server as many

RO_TOKEN=$("$BIN" token create --database "$DB" --email bench@example.com --name cachekeys \
           --scopes servers:read --expires-in never)
piora_start
seed_servers
# 80 more, so that a page of 100 (the cache-key flood's) is a ~22 KB body:
# the response cache holds a fixed number of answers, so what it costs is
# their size.
for i in $(seq 21 100); do
  curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/servers" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"name\":\"web-$i\",\"ip_address\":\"10.0.1.$i\",\"provider\":\"hetzner\",\"region\":\"fsn1\"}" >/dev/null
done

RAMP=3
LOAD="node bench/abuse.mjs"
ATTACK_PIDS=()

rss_kb() { awk -v k="$1:" '$1==k {print $2}' "/proc/$PIORA_PID/status"; }

# Every 100 ms until killed: the server's VmRSS in kB, one a line.
rss_sampler() {
  while kill -0 "$PIORA_PID" 2>/dev/null; do rss_kb VmRSS; sleep 0.1; done
}

# Ends what a phase started, by pid: SIGINT (wrk and slowhttptest print their
# summary on it, bench/abuse.mjs too), then SIGKILL after 5 s.
end_pids() {
  local pid
  [ $# -gt 0 ] || return 0
  for pid in "$@"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

attack_for() { echo $((RAMP + DURATION + 5)); } # each attack's own bound, seconds

start_attack() { # phase -> ATTACK_PIDS
  local name=$1 len
  len=$(attack_for)
  ATTACK_PIDS=()
  case $name in
    alone|alone-after) ;;
    setup) $LOAD setup --port "$PORT" --duration "$len" >"$WORK/attack.$name" 2>&1 & ATTACK_PIDS+=($!) ;;
    signin) $LOAD signin --port "$PORT" --duration "$len" >"$WORK/attack.$name" 2>&1 & ATTACK_PIDS+=($!) ;;
    slowloris)
      slowhttptest -H -c 1030 -r 250 -i 10 -x 24 -p 3 -l "$len" \
        -u "http://127.0.0.1:$PORT/api/v1/servers" >"$WORK/attack.$name" 2>&1 & ATTACK_PIDS+=($!) ;;
    slowbody)
      slowhttptest -B -c 1030 -r 250 -i 10 -x 24 -s 65536 -p 3 -l "$len" \
        -u "http://127.0.0.1:$PORT/api/v1/servers" >"$WORK/attack.$name" 2>&1 & ATTACK_PIDS+=($!) ;;
    bodies) $LOAD bodies --port "$PORT" --duration "$len" >"$WORK/attack.$name" 2>&1 & ATTACK_PIDS+=($!) ;;
    cachekeys)
      cat >"$WORK/cachekeys.lua" <<'LUA'
-- Every request a query string the response cache has not seen.
n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/api/v1/servers?per_page=100&k=" .. n)
end
-- 4 ms between a connection's requests: ~250 req/s each, a load the
-- server carries easily, so what shows is memory, not CPU.
delay = function() return 4 end
LUA
      wrk -t1 -c8 -d"${len}s" --timeout 5s -H "Authorization: Bearer $RO_TOKEN" -s "$WORK/cachekeys.lua" \
        "http://127.0.0.1:$PORT/" >"$WORK/attack.$name" 2>&1 & ATTACK_PIDS+=($!) ;;
  esac
}

# What the attack's own requests got, one line.
attack_summary() {
  local name=$1 f="$WORK/attack.$1"
  case $name in
    alone|alone-after) echo "-" ;;
    slowloris|slowbody)
      sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$f" | awk -F': *' '
        /^connected:/ {c=$2} /^closed:/ {x=$2} /^error:/ {e=$2} /^service available:/ {a=$2}
        END {printf "sockets at the end: %s connected, %s closed, %s error; its own probe: service available %s\n", c, x, e, a}' ;;
    cachekeys)
      awk '/requests in/ {r=$1} /Non-2xx/ {e=$NF} END {printf "%s requests (distinct query strings), %s non-2xx\n", r, e+0}' "$f" ;;
    *) node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").pop());
                console.log(Object.entries(j.statuses).map(([k, v]) => `${k}: ${v}`).join(", "))' "$f" 2>/dev/null ||
         tail -c 300 "$f" ;;
  esac
}

# Warm-up, not reported: the first connections and queries of a fresh server.
$LOAD probe --port "$PORT" --token "$TOKEN" --duration 5 >/dev/null

PHASES="alone setup signin slowloris slowbody cachekeys bodies alone-after"
for name in $PHASES; do
  echo "abuse: phase $name" >&2
  curl -fs -m 30 "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "bench: piora stopped answering before $name" >&2; exit 1; }
  start_kb=$(rss_kb VmRSS)
  load=$(cut -d' ' -f1 /proc/loadavg)
  hwm_reset=0
  echo 5 2>/dev/null >"/proc/$PIORA_PID/clear_refs" && hwm_reset=1
  rss_sampler >"$WORK/rss.$name" &
  SAMPLER=$!
  start_attack "$name"
  [ ${#ATTACK_PIDS[@]} -gt 0 ] && sleep "$RAMP"
  $LOAD probe --port "$PORT" --token "$TOKEN" --duration "$DURATION" >"$WORK/probe.$name"
  hwm=$([ "$hwm_reset" = 1 ] && rss_kb VmHWM || echo 0)
  kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null || true
  end_pids "${ATTACK_PIDS[@]}"
  peak=$(sort -n "$WORK/rss.$name" | tail -1)
  [ "${hwm:-0}" -gt "${peak:-0}" ] && peak=$hwm
  echo "$name $start_kb $peak $load" >>"$WORK/rss"
  # The next phase starts on a quiet server: requests the attack left queued
  # (a hash each, for the floods) are finished, closed connections gone.
  for _ in $(seq 120); do
    inflight=$(curl -fs -m 10 "http://127.0.0.1:$PORT/metrics" | awk '$1=="piora_http_requests_in_flight" {print $2}' || true)
    [ "${inflight:-9}" -le 1 ] && break
    sleep 0.5
  done
  sleep 1
done

field() { node -p "const v = JSON.parse(require('fs').readFileSync('$WORK/probe.$1', 'utf8')).$2; v === null ? '-' : v"; }
# The baseline is the better of the two runs alone (before and after the
# attacks): on a shared machine either can catch a stall, and a high baseline
# would flatter every attack.
ALONE_P99=$(node -p "Math.min($(field alone p99), $(field alone-after p99))")
printf '%-12s %9s %9s %9s %8s %10s %10s %5s  %s\n' phase p50_ms p99_ms p99/alone failed rss_start peak_rss load target
for name in $PHASES; do
  p50=$(field "$name" p50); p99=$(field "$name" p99); fails=$(field "$name" fails); n=$(field "$name" n)
  read -r _ start_kb peak_kb load < <(awk -v n="$name" '$1==n' "$WORK/rss")
  ratio=$(echo "$p99 / $ALONE_P99" | bc -l)
  # The runs alone are the baseline: only their RSS is judged (alone-after
  # shows what the attacks left behind), and their p99 ratio shows the noise.
  verdict=$(awk -v r="$ratio" -v p="$peak_kb" -v base="$([[ $name == alone* ]] && echo 1 || echo 0)" 'BEGIN {
    if (base) r = 0
    ok = r <= 3 && p < 65536
    printf "%s", base ? (ok ? "baseline" : "baseline, FAILS") : (ok ? "holds" : "FAILS")
    if (r > 3) printf " (p99)"
    if (p >= 65536) printf " (RSS)"
  }')
  printf '%-12s %9.2f %9.2f %9.2f %8s %6.1f MiB %6.1f MiB %5s  %s\n' "$name" "$p50" "$p99" "$ratio" \
    "$fails/$n" "$(echo "$start_kb / 1024" | bc -l)" "$(echo "$peak_kb / 1024" | bc -l)" "$load" "$verdict"
done
echo "target: p99 <= 3x alone (the lower p99 of alone and alone-after) and peak RSS < 64 MiB; probe: 200 req/s, 4 loops, new connection each, ${DURATION}s;"
echo "failed: probe requests that failed or timed out (each counted as 5000 ms); load: 1-min load average at the phase's start"
echo
echo "what each attack's own requests got:"
for name in $PHASES; do
  case $name in alone|alone-after) continue ;; esac
  printf '  %-10s %s\n' "$name" "$(attack_summary "$name")"
done
machine_line | sed 's/; wrk.*//'
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)"
