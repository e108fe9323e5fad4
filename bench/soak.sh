#!/usr/bin/env bash
# Does piora hold steady under hours of ordinary use (issue 8)? Runs
# --minutes (default 10) of mixed load (bench/soak.mjs: reads, writes,
# token create/use/revoke through the dashboard with a sign-in each time,
# failed sign-ins, bad tokens) against piora on a fresh database with its
# default limits except the per-token rate limit (raised: the reads alone
# are 12 000 a minute), and samples the server's RSS (VmRSS of
# /proc/PID/status) and open file descriptors (entries of /proc/PID/fd)
# every 10 s.
#
# Prints the samples, then whether each is flat after warm-up. The rule: the
# samples are cut in thirds, the first third is warm-up, and
#   RSS is flat when the median of the last third is within 10% of the
#       median of the second, each sample being the least of 5 reads over
#       0.4 s (a read that lands on a sign-in sees Argon2id's 64 MiB for as
#       long as the hash lasts; the most of the 5 is printed beside it);
#   fds are flat when the largest count of the last third is at most the
#       largest of the second plus 2 (connections come and go).
# Then what the load's requests got, and any answer that broke the contract.
#
# Usage: bench/soak.sh [--minutes 10]     PIORA_BIN=build/piora (default)
# Needs node and curl.
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=10
if [ "${1:-}" = "--minutes" ]; then MINUTES=$2; shift 2; fi
USAGE="bench/soak.sh [--minutes N]"
TOOLS="node curl"
PIORA_LIMITS="--rate-limit 1000000000"
. bench/lib.sh

piora_start
seed_servers

SECONDS_TOTAL=$((MINUTES * 60))
node bench/soak.mjs --port "$PORT" --token "$TOKEN" --email bench@example.com \
  --password bench-password-123 --duration "$SECONDS_TOTAL" >"$WORK/soak.json" 2>"$WORK/soak.err" &
LOAD_PID=$!

# One sample: VmRSS read 5 times 100 ms apart, the least and the most. A
# sign-in holds Argon2id's 64 MiB for its duration (70 ms on a quiet core, a
# second on a loaded one) and then gives it back; the least of five is the
# server's own memory, and a leak raises it as surely as any one read.
rss_sample() {
  local i
  for i in 1 2 3 4 5; do
    awk '$1=="VmRSS:" {print $2}' "/proc/$PIORA_PID/status"
    [ $i -lt 5 ] && sleep 0.1
  done | sort -n | awk 'NR==1 {lo=$1} {hi=$1} END {print lo, hi}'
}

printf '%6s %12s %12s %5s\n' t_s rss_min_kib rss_max_kib fds
: >"$WORK/samples"
t=0
while [ $t -le "$SECONDS_TOTAL" ]; do
  read -r lo hi < <(rss_sample)
  fds=$(find "/proc/$PIORA_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
  printf '%6d %12d %12d %5d\n' "$t" "$lo" "$hi" "$fds" | tee -a "$WORK/samples"
  [ $t -ge "$SECONDS_TOTAL" ] && break
  sleep 9.6
  t=$((t + 10))
done
for _ in $(seq 150); do kill -0 "$LOAD_PID" 2>/dev/null || break; sleep 0.1; done
kill "$LOAD_PID" 2>/dev/null || true
wait "$LOAD_PID" || { echo "bench: the soak load failed:" >&2; cat "$WORK/soak.err" >&2; exit 1; }

awk '
  { rss[NR] = $2; fds[NR] = $4 }
  function median(a, from, to,   n, i, j, t, v) {
    n = 0
    for (i = from; i <= to; i++) v[++n] = a[i]
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  function max(a, from, to,   i, m) { m = a[from]; for (i = from; i <= to; i++) if (a[i] > m) m = a[i]; return m }
  END {
    if (NR < 6) { print "too few samples to judge (run at least one minute)"; exit }
    s2 = int(NR / 3) + 1; s3 = int(2 * NR / 3) + 1
    m2 = median(rss, s2, s3 - 1); m3 = median(rss, s3, NR)
    f2 = max(fds, s2, s3 - 1); f3 = max(fds, s3, NR)
    printf "RSS: median %.1f MiB in the second third, %.1f MiB in the last: %s\n", m2 / 1024, m3 / 1024,
      m3 <= 1.10 * m2 ? "flat" : "GROWS"
    printf "fds: at most %d in the second third, %d in the last: %s\n", f2, f3, f3 <= f2 + 2 ? "flat" : "GROWS"
  }' "$WORK/samples"
echo "rule: first third is warm-up; RSS (least of 5 reads per sample) flat if the last third's median <= 1.10 x the second third's; fds flat if the last third's max <= the second third's max + 2"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const [k, v] of Object.entries(s)) console.log(`${k.padEnd(10)} ` + Object.entries(v).map(([a, b]) => `${a}: ${b}`).join(", "));
  if (!s.wrong) console.log("wrong      none");' "$WORK/soak.json"
echo "$MINUTES min; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)"
