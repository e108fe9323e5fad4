#!/usr/bin/env bash
# Revocation across cluster nodes (issue 10): how long a revoke takes to
# return on one node and how soon the other nodes answer 401, on three
# `piora serve` nodes sharing one PostgreSQL that this script starts and
# stops itself (tests/lib/pgserver.sh, a temporary directory, a free port).
# The numbers and the machine they were measured on go in
# docs/performance.md ("Cluster: revocation across nodes").
#
# Usage: bench/cluster.sh [--rounds 200]    PIORA_BIN=build/piora (default)
# Needs node and PostgreSQL 15 (scripts/deps.sh); run as root (the database
# server runs as the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=200
if [ "${1:-}" = "--rounds" ]; then ROUNDS=$2; shift 2; fi
[ $# -eq 0 ] || { echo "usage: bench/cluster.sh [--rounds N]" >&2; exit 2; }
export PIORA_BIN=${PIORA_BIN:-build/piora}
[ -x "$PIORA_BIN" ] || { echo "bench: $PIORA_BIN not built" >&2; exit 1; }
echo "load average: $(cut -d" " -f1-3 /proc/loadavg); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
node bench/cluster.mjs --rounds "$ROUNDS"
