#!/usr/bin/env bash
# Backup and download throughput (issue 11), side by side in one run:
#   backup    `ssh host pg_dump -Fc > file` vs a backup job of `piora serve`
#             (POST /backups until completed), same database (~MB MB of
#             incompressible rows), alternating, --rounds each; target >= 0.9x
#   download  GET /backups/{id}/download vs nginx serving the same file
# Needs root (its own sshd, a throwaway user, its own PostgreSQL cluster:
# tests/blackbox/lib, as the black-box tests), node, nginx, curl, ssh.
#
# Usage: bench/backup.sh [--mb 200] [--rounds 3]   PIORA_BIN=build/piora (default)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench/backup.sh: run as root (it starts an sshd and PostgreSQL)" >&2; exit 1; }
for tool in node nginx curl ssh; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done
export PIORA_BIN=${PIORA_BIN:-build/piora}
[ -x "$PIORA_BIN" ] || { echo "bench: $PIORA_BIN not built" >&2; exit 1; }
exec node bench/backup.mjs "$@"
