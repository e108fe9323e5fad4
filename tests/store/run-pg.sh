#!/usr/bin/env bash
# The store conformance suite against PostgreSQL: starts a throwaway
# cluster (tests/lib/pgserver.sh), runs every test_store_* binary of the
# build directory with PIORA_TEST_STORE_URL naming it (the fixture empties
# the database before each test), stops the cluster, prints ctest's summary
# and exits non-zero when any test failed.
#   tests/store/run-pg.sh BUILD_DIR [PORT]
set -euo pipefail

build=${1:?usage: run-pg.sh BUILD_DIR [PORT]}
port=${2:-$((20000 + RANDOM % 20000))}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)
[ -x "$build/test_store_users" ] || {
    echo "run-pg.sh: no test_store_* binaries in $build (configure with -DPIORA_TESTS=ON)" >&2
    exit 2
}
dir=$(mktemp -d /tmp/piora-run-pg.XXXXXX)
rmdir "$dir"
cleanup() { bash "$here/../lib/pgserver.sh" stop "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
url=$(bash "$here/../lib/pgserver.sh" start "$dir" "$port")
echo "run-pg.sh: PostgreSQL at $url"
# one test binary at a time: they share the one database. test_store_sqlite
# is the SQLite backend's own (it always runs on a file): not run here.
cd "$build"
PIORA_TEST_STORE_URL=$url ctest -R '^test_store_' -E '^test_store_sqlite$' -j1 --timeout 300 --output-on-failure
