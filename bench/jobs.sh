#!/usr/bin/env bash
# The job runner's overhead (issue 9), side by side in one run:
#   by hand  50 x `ssh user@127.0.0.1 '<checkout> && bash -c <script>'`,
#            one after the other: what a person (or a CI job with ssh) does
#   piora    50 deployments of the same application, same script, queued
#            through the API and run by `piora serve` (serial: one running
#            deployment per application), from the first POST until the
#            50th is `succeeded`
# Both do the same work on the server: fetch and reset the checkout, run
# the script. Prints seconds per run for each and the ratio piora / by hand.
# Then memory: RSS of `piora serve` idle, and with N deployments running at
# once (N applications, a `sleep` script, --jobs-per-server N), per job.
#
# Needs root: it starts its own sshd on a free loopback port (own host key
# and config) and makes a throwaway user with its home under the work
# folder, removed at the end with everything else.
#
# Usage: bench/jobs.sh [--runs 50] [--running 20]   PIORA_BIN=build/piora (default)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=50
RUNNING=20
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --running) RUNNING=$2; shift 2 ;;
    *) echo "usage: bench/jobs.sh [--runs N] [--running N]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/jobs.sh: run as root (it starts an sshd and adds a throwaway user)" >&2; exit 1; }

USAGE="bench/jobs.sh [--runs N] [--running N]"
TOOLS="curl ssh ssh-keygen git jq bc"
set --   # lib.sh parses the arguments; these are ours
. bench/lib.sh

SSHD_PORT=$(free_port)
BUSER="pbench$$"
BHOME="$WORK/home"
jobs_cleanup() {
  [ -f "$WORK/sshd.pid" ] && kill "$(cat "$WORK/sshd.pid")" 2>/dev/null || true
  if id "$BUSER" >/dev/null 2>&1; then
    # the throwaway user's processes are this run's (a sleep the memory
    # run's cancel may have missed), each by its pid
    for p in $(pgrep -u "$BUSER" || true); do kill "$p" 2>/dev/null || true; done
    userdel "$BUSER" 2>/dev/null || true
  fi
  cleanup   # bench/lib.sh's: piora, the work folder
}
trap jobs_cleanup EXIT

# --- the "server": a user, a bare repository, an sshd -------------------
useradd --home-dir "$BHOME" --create-home --shell /bin/bash "$BUSER"
usermod -p '*' "$BUSER"   # no password, but not locked: sshd without PAM refuses a locked account
su "$BUSER" -c "set -e; cd '$BHOME'; git init -q --bare repo.git; git init -q -b main src; cd src;
  echo hi > README; git add README; git -c user.email=b@b -c user.name=b commit -qm one; git push -q ../repo.git main"
mkdir -p /run/sshd "$WORK/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/client_key"   # the "by hand" side's own key
cat >"$WORK/ssh/sshd_config" <<EOF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $WORK/ssh/host_key
PidFile $WORK/sshd.pid
AuthorizedKeysFile $WORK/ssh/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers $BUSER
MaxStartups 100:30:200
MaxSessions 100
EOF
cp "$WORK/ssh/client_key.pub" "$WORK/ssh/authorized_keys"
chmod 644 "$WORK/ssh/authorized_keys"
/usr/sbin/sshd -f "$WORK/ssh/sshd_config" -E "$WORK/sshd.log"
for _ in $(seq 50); do [ -f "$WORK/sshd.pid" ] && break; sleep 0.1; done

# --- piora: a token, the team key in authorized_keys, server + app --------
JOBTOKEN=$("$BIN" token create --database "$DB" --email bench@example.com --name jobs \
  --scopes servers:read,servers:write,applications:read,applications:write,applications:deploy --expires-in never)
piora_start --jobs-per-server "$RUNNING" --job-workers "$RUNNING" --queue-per-server $((RUNS + RUNNING + 10))
API="http://127.0.0.1:$PORT/api/v1"
call() { # METHOD PATH [JSON]
  curl -fsS -X "$1" "$API$2" -H "Authorization: Bearer $JOBTOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}
}
call GET /ssh-key | jq -r .public_key >>"$WORK/ssh/authorized_keys"
SERVER=$(call POST /servers "{\"name\":\"bench\",\"ip_address\":\"127.0.0.1\",\"ssh_port\":$SSHD_PORT,\"ssh_user\":\"$BUSER\"}" | jq .id)
status=$(call POST "/servers/$SERVER/check" | jq -r .status)
[ "$status" = reachable ] || { echo "bench: the server check says $status" >&2; exit 1; }
SCRIPT='echo deployed $PIORA_COMMIT > deployed.txt'
APP=$(call POST /applications "$(jq -nc --arg r "$BHOME/repo.git" --arg s "$SCRIPT" --argjson srv "$SERVER" \
  '{name:"bench",server_id:$srv,repository:$r,domain:"bench.example.com",deploy_script:$s}')" | jq .id)

wait_final() { # deployment id -> its status, once final
  local s
  while :; do
    s=$(call GET "/deployments/$1" | jq -r .status)
    case $s in succeeded | failed | cancelled) echo "$s"; return ;; esac
    sleep 0.05
  done
}

# One deployment first, so both sides start from a cloned checkout.
first=$(call POST "/applications/$APP/deploy" | jq .id)
[ "$(wait_final "$first")" = succeeded ] || { echo "bench: the first deployment failed:" >&2; call GET "/deployments/$first/log" >&2; exit 1; }
DIR="piora/apps/$APP"

now() { date +%s.%N; }
echo "runs: $RUNS of: git fetch + reset in ~/$DIR, then: $SCRIPT"

# --- by hand ---------------------------------------------------------------
SSH=(ssh -i "$WORK/ssh/client_key" -p "$SSHD_PORT" -o BatchMode=yes -o StrictHostKeyChecking=no
     -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$BUSER@127.0.0.1")
REMOTE="cd ~/$DIR && git fetch -q origin main && git reset -q --hard FETCH_HEAD && PIORA_COMMIT=\$(git rev-parse HEAD) bash -c '$SCRIPT'"
t0=$(now)
for _ in $(seq "$RUNS"); do "${SSH[@]}" "$REMOTE"; done
t1=$(now)
hand=$(echo "($t1 - $t0) / $RUNS" | bc -l)

# --- through piora ---------------------------------------------------------
t0=$(now)
last=
for _ in $(seq "$RUNS"); do last=$(call POST "/applications/$APP/deploy" | jq .id); done
[ "$(wait_final "$last")" = succeeded ] || { echo "bench: deployment $last did not succeed" >&2; exit 1; }
t1=$(now)
failed=$(call GET "/applications/$APP/deployments?per_page=100" | jq '[.data[] | select(.status != "succeeded")] | length')
viap=$(echo "($t1 - $t0) / $RUNS" | bc -l)

printf '%-10s %8.3f s per run\n' "by hand" "$hand"
printf '%-10s %8.3f s per run  (%s not succeeded)\n' "piora" "$viap" "$failed"
printf 'ratio piora / by hand: %.2f\n' "$(echo "$viap / $hand" | bc -l)"

# --- memory per running job ------------------------------------------------
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PIORA_PID/status"; }
ids=()
for i in $(seq "$RUNNING"); do
  a=$(call POST /applications "$(jq -nc --arg r "$BHOME/repo.git" --argjson srv "$SERVER" --arg n "sleeper-$i" \
    '{name:$n,server_id:$srv,repository:$r,domain:"s.example.com",deploy_script:"sleep 120"}')" | jq .id)
  ids+=("$a")
done
sleep 1
idle=$(rss)
deps=()
for a in "${ids[@]}"; do deps+=("$(call POST "/applications/$a/deploy" | jq .id)"); done
running=0
for _ in $(seq 600); do
  running=0
  for d in "${deps[@]}"; do
    [ "$(call GET "/deployments/$d" | jq -r .status)" = running ] && running=$((running + 1))
  done
  [ "$running" -eq "$RUNNING" ] && break
  sleep 0.2
done
sleep 2 # past the checkout, into the script
busy=$(rss)
for d in "${deps[@]}"; do call POST "/deployments/$d/cancel" >/dev/null || true; done
printf 'RSS idle %d KiB, with %d jobs running %d KiB: %.0f KiB per running job\n' \
  "$idle" "$running" "$busy" "$(echo "($busy - $idle) / $running" | bc -l)"
echo "$(machine_line | sed 's/; wrk.*//'), sshd on loopback"
