#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests (run-pg.sh, the black-box
# tests, scripts/test.sh):
#   pgserver.sh start DIR PORT   makes DIR (must not exist or be empty), a new
#                                cluster in it listening on 127.0.0.1:PORT only
#                                (its unix socket in DIR), and prints its URL
#                                postgresql://postgres@127.0.0.1:PORT/postgres
#   pgserver.sh stop DIR         stops it (fast shutdown) and removes DIR
# Authentication is trust: the cluster listens on loopback only and lives as
# long as one test run. As root, everything runs as the `postgres` OS user
# (initdb refuses root). PG_BIN overrides Debian's binary directory.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

usage() {
    echo "usage: pgserver.sh start DIR PORT | stop DIR" >&2
    exit 2
}

start() {
    local dir=$1 port=$2
    case "$port" in '' | *[!0-9]*) usage ;; esac
    if [ "$port" -lt 1024 ] || [ "$port" -gt 65535 ]; then
        echo "pgserver.sh: port $port is not in 1024-65535" >&2
        exit 2
    fi
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        echo "pgserver.sh: $dir exists and is not empty" >&2
        exit 2
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$dir"
        chmod 700 "$dir"
    fi
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        --no-instructions >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    # fsync off: a test cluster is thrown away, and it makes each migration
    # and schema reset several times faster
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || {
        cat "$dir/server.log" >&2
        exit 1
    }
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
}

stop() {
    local dir=$1
    [ -d "$dir" ] || return 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
stop) [ $# -eq 2 ] || usage; stop "$2" ;;
*) usage ;;
esac
