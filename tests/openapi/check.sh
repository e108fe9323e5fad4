#!/usr/bin/env bash
# The OpenAPI stage of scripts/test.sh (issue 13): the document a piora
# binary serves must lint clean under Redocly's recommended rules (0 errors,
# 0 warnings), the types openapi-typescript generates from it must type
# src/client.ts under `tsc --strict`, that client must call every operation
# of the document (check-calls.mjs), and it must get a 2xx from each call on
# a live server. Prints one "pass:"/"fail:" line per step and ends with
# "N passed, N failed". Needs `npm ci` in this folder first.
# Usage: tests/openapi/check.sh PIORA_BIN
set -uo pipefail
# The binary's path is taken from where we were called, before the cd.
BIN=$(realpath "${1:?usage: check.sh PIORA_BIN}") || exit 2
cd "$(dirname "$0")"
# No usage report to Redocly, no update check: the stage talks to piora only.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
passed=0
failed=0
step() { # name command...
    local name=$1
    shift
    if "$@" >"work/$name.log" 2>&1; then
        echo "pass: $name"
        passed=$((passed + 1))
    else
        echo "fail: $name (work/$name.log):"
        tail -n 40 "work/$name.log"
        failed=$((failed + 1))
    fi
}

rm -rf work generated out
mkdir -p work generated
db=$PWD/work/piora.db
pid=
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi; }
trap cleanup EXIT

start_server() {
    printf 'Sup3r-Secret-openapi-pw\n' |
        "$BIN" user add --database "$db" --email openapi@piora.test --team OpenAPI --admin --password-stdin &&
        "$BIN" token create --database "$db" --email openapi@piora.test --name typed-client \
            --scopes servers:write,applications:write,applications:deploy,databases:write,backups:write \
            --expires-in 1d >work/token || return 1
    "$BIN" serve --listen 127.0.0.1:0 --database "$db" >work/serve.out 2>work/serve.err &
    pid=$!
    for _ in $(seq 1 200); do
        base=$(grep -o 'listening on http://[^ ]*' work/serve.err | head -1 | sed 's/^listening on //')
        [ -n "$base" ] && curl -fsS "$base/healthz" >/dev/null 2>&1 && { echo "$base" >work/base; return 0; }
        kill -0 "$pid" 2>/dev/null || { cat work/serve.err; return 1; }
        sleep 0.1
    done
    return 1
}
fetch_document() { curl -fsS "$(cat work/base)/api/v1/openapi.json" -o generated/openapi.json; }
lint() {
    npx --no-install redocly lint --config redocly.yaml --format=json generated/openapi.json >work/lint.json
    npx --no-install redocly lint --config redocly.yaml generated/openapi.json
    node -e 'const t = require("./work/lint.json").totals;
        console.log(`redocly: ${t.errors} errors, ${t.warnings} warnings`);
        process.exit(t.errors + t.warnings === 0 ? 0 : 1);'
}
generate() { npx --no-install openapi-typescript generated/openapi.json -o generated/api.d.ts; }
compile() { npx --no-install tsc -p tsconfig.json; }
run_client() { PIORA_BASE=$(cat work/base) PIORA_TOKEN=$(cat work/token) node out/src/client.js; }

step server start_server
step fetch fetch_document
step lint lint
step generate generate
step compile compile
step every-operation node check-calls.mjs generated/openapi.json src/client.ts
step run run_client
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
