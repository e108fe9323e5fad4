#!/usr/bin/env bash
# Installs what Piora needs on a Debian 12 machine, as root. Idempotent: when
# every package is already there it returns at once without touching apt.
#   scripts/deps.sh         build and test dependencies (scripts/test.sh)
#   scripts/deps.sh build   only what building and serving needs (scripts/serve.sh)
set -euo pipefail

mode=${1:-test}
build_pkgs=(build-essential cmake pkg-config ca-certificates git
    libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev
    libcmocka-dev libhiredis-dev libpq-dev libssh-dev
    libssl-dev libcurl4-openssl-dev)  # OpenSSL 3: TOTP's HMAC-SHA1, OIDC JWTs; libcurl: issuers' JWKS and `piora deploy`
# chromium and npm: the dashboard's browser tests (tests/browser, playwright-core
# from npm driving Debian's Chromium; never a downloaded browser).
test_pkgs=(nodejs npm chromium curl python3 python3-requests golang-go procps prometheus)  # prometheus: promtool checks /metrics; golang-go: the seed's Go example
# openssl: deploy-cli.test.mjs makes a self-signed certificate and the
# trusted-publishing tests' OIDC issuer its own CA; jq, bc: bench/jobs.sh
test_pkgs+=(openssl jq bc)
# clang + its runtimes (libFuzzer, ASan, UBSan): scripts/fuzz.sh, the fuzz stage
test_pkgs+=(clang libclang-rt-14-dev)
# real engines for the backup tests (tests/blackbox/lib/engines.mjs, issue 11):
# PostgreSQL 15, MariaDB, Redis with their client tools; sqlite3 plays the job
# runner's part in tests that need a completed backup
test_pkgs+=(postgresql-15 postgresql-client-15 mariadb-server mariadb-client redis-server redis-tools sqlite3)
# the job tests: a real sshd (tests/blackbox/lib/sshd.mjs), ssh-keygen, git on the "server"
test_pkgs+=(openssh-server openssh-client)
# the black-hole test: a network namespace (ip netns) with an nftables drop rule
test_pkgs+=(iproute2 nftables)
# the cluster test: three nodes behind nginx's upstream, the example of docs/cluster.md
test_pkgs+=(nginx)
# wrk: the load of the bench/ scripts (bench/redis.sh: in-process vs Redis limits)
test_pkgs+=(wrk)

case "$mode" in
build) want=("${build_pkgs[@]}") ;;
test | all) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: scripts/deps.sh [build|test]" >&2; exit 2 ;;
esac

node_major() {
    command -v node >/dev/null 2>&1 || { echo 0; return; }
    node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${want[@]}"; do
    # A Node.js of 18 or newer from anywhere (Debian 12 ships 18) will do.
    if [ "$p" = nodejs ] && [ "$(node_major)" -ge 18 ]; then continue; fi
    # An npm that came with another Node.js will do too.
    if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
    installed "$p" || missing+=("$p")
done
# The seed examples run Debian's python3 with its requests module.
if [ "$mode" != build ] && ! /usr/bin/python3 -c 'import requests' >/dev/null 2>&1; then
    case " ${missing[*]-} " in *" python3-requests "*) ;; *) missing+=(python3-requests) ;; esac
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all present"
    exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "deps: missing ${missing[*]}; run this script as root" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || { sleep 5; $SUDO apt-get update -q; }
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

if [ "$mode" != build ] && [ "$(node_major)" -lt 18 ]; then
    echo "deps: Node.js 18 or newer is needed for node:test (have $(node --version 2>/dev/null || echo none))" >&2
    exit 1
fi
echo "deps: done"
