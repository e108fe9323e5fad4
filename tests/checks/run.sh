#!/usr/bin/env bash
# Proves that scripts/check-layers.sh and scripts/check-banned.sh fail when
# a rule is broken and pass when none is: a tiny fake tree (sources and a
# CMakeLists.txt) that keeps every rule (and hides look-alikes in comments,
# strings, tests/ and fuzz/) must
# pass both; each copy of it with one violation added must make the check
# exit 1 and name the offending file:line. Ends with "N passed, N failed"
# (scripts/test.sh counts it).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/piora-checks.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }

# The clean tree: every include allowed, nothing banned outside comments,
# literals and the unchecked directories.
clean=$work/clean
mkdir -p "$clean"/src/{cli,core,store/sql,api,http,util} "$clean"/tests/unit "$clean"/fuzz
cat >"$clean/src/main.c" <<'EOF'
#include <stdio.h>
#include "cli/cli.h"
#include "http/server.h"
int main(void) { char b[8]; snprintf(b, sizeof b, "%d", 1); return 0; }
EOF
cat >"$clean/src/cli/cli.h" <<'EOF'
#include "core/users.h"
#include "store/store.h"
EOF
cat >"$clean/src/core/users.h" <<'EOF'
#include "store/store.h"
#include "users_internal.h"
EOF
cat >"$clean/src/core/users.c" <<'EOF'
#include <string.h>
#include "core/users.h"
/* strcpy(a, b) is banned, and so is
 * atoi(s) across lines */
static const char *msg = "gets 401 \" strcat( here";
static const char c = '"'; // then strncpy in a line comment
void f(char *s) { char *save; strtok_r(s, ",", &save); (void)msg; (void)c; }
EOF
cat >"$clean/src/store/store.h" <<'EOF'
#include "util/err.h"
EOF
cat >"$clean/src/store/sql/build.c" <<'EOF'
#include "../store.h"
#include "store/store.h"
#include "util/num.h"
EOF
cat >"$clean/src/api/health.c" <<'EOF'
#include "http/request.h"
#include "http/response.h"
#include "core/users.h"
EOF
cat >"$clean/src/http/server.h" <<'EOF'
#include "util/err.h"
EOF
: >"$clean/src/util/err.h"
cat >"$clean/CMakeLists.txt" <<'EOF'
target_link_libraries(piora_core PUBLIC piora_store piora_auth
                      piora_util) # piora_http in a comment
target_link_libraries(piora_api PUBLIC piora_http piora_core)
target_link_libraries(piora_store_sql PRIVATE piora_store)
target_link_libraries(piora PRIVATE piora_cli piora_api)
target_link_libraries(${tname} PRIVATE piora_cli piora_web PkgConfig::CMOCKA)
EOF
cat >"$clean/tests/unit/test_x.c" <<'EOF'
#include "web/web.h"
#include "http/server.h"
void t(char *d) { strcpy(d, "x"); }
EOF
cat >"$clean/fuzz/fuzz_x.c" <<'EOF'
#include "store/store.h"
int g(const char *s) { return atoi(s); }
EOF

# A fresh copy of the clean tree with one file added or replaced.
variant() { # name path content
    rm -rf "${work:?}/$1"
    cp -a "$clean" "$work/$1"
    mkdir -p "$(dirname "$work/$1/$2")"
    printf '%s\n' "$3" >"$work/$1/$2"
}

# Runs one check and asserts its exit code and, on failure, that its
# output names the expected file:line.
expect() { # script tree rc [expected-output]
    local out rc
    out=$(bash "$repo/scripts/$1" "$work/$2" 2>&1)
    rc=$?
    if [ "$rc" -ne "$3" ]; then
        bad "$1 on $2 exited $rc, expected $3: $out"
    elif [ -n "${4:-}" ] && ! grep -qF -- "$4" <<<"$out"; then
        bad "$1 on $2 does not say '$4': $out"
    else
        ok "$1 on $2 exits $3${4:+ naming $4}"
    fi
}

expect check-layers.sh clean 0
expect check-banned.sh clean 0

variant store-core src/store/store.h '#include "util/err.h"
#include "core/model.h"'
expect check-layers.sh store-core 1 'src/store/store.h:2: #include "core/model.h"'

variant http-web src/http/server.c '#include <stdlib.h>
#include "web/web.h"'
expect check-layers.sh http-web 1 'src/http/server.c:2: #include "web/web.h": http may include only'

variant api-server src/api/routes.c '#include "http/server.h"'
expect check-layers.sh api-server 1 'src/api/routes.c:1: #include "http/server.h"'

variant sql-core src/store/sql/dialect.c '#include "core/model.h"'
expect check-layers.sh sql-core 1 'src/store/sql/dialect.c:1: #include "core/model.h": store may'

variant relative src/store/sqlite.c '  #  include "../core/model.h"'
expect check-layers.sh relative 1 'src/store/sqlite.c:1: #include "../core/model.h": store may'

variant main-app src/main.c '#include "tests/unit/fixture.h"'
expect check-layers.sh main-app 1 'src/main.c:1: #include "tests/unit/fixture.h": app may include only'

variant util-up src/util/log.c '#include "core/users.h"'
expect check-layers.sh util-up 1 'src/util/log.c:1: #include "core/users.h": util may include only itself'

variant unknown src/gadgets/g.c '#include "util/err.h"'
expect check-layers.sh unknown 1 "src/gadgets/g.c: layer 'gadgets' is not in the rules"

variant cmake-cycle CMakeLists.txt 'target_link_libraries(piora_api PUBLIC piora_http)
target_link_libraries(piora_http PUBLIC
    piora_authn piora_api)'
expect check-layers.sh cmake-cycle 1 'CMakeLists.txt:2: piora_http links piora_api: http may link only authn monitor auth util'

variant cmake-store CMakeLists.txt 'target_link_libraries(piora_store_sql PUBLIC piora_core)'
expect check-layers.sh cmake-store 1 'CMakeLists.txt:1: piora_store_sql links piora_core: store may link'

variant strcpy src/core/name.c 'void n(char *d, const char *s) { strcpy(d, s); }'
expect check-banned.sh strcpy 1 'src/core/name.c:1: strcpy: use snprintf'

variant atoi src/api/page.c '#include <stdlib.h>
int p(const char *s) { int n = 0;
    n = atoi (s); return n; }'
expect check-banned.sh atoi 1 'src/api/page.c:3: atoi: use a strict parser'

variant strtoull src/http/len.h 'static inline unsigned long long len(const char *s) { return strtoull(s, 0, 10); }'
expect check-banned.sh strtoull 1 'src/http/len.h:1: strtoull'

variant sprintf src/util/fmt.c 'void f(char *b) { /* fine */ sprintf(b, "%d", 1); }'
expect check-banned.sh sprintf 1 'src/util/fmt.c:1: sprintf: use snprintf'

variant after-block src/util/gets.c '/* a comment
   that ends here */ char *g(char *b) { return gets(b); }'
expect check-banned.sh after-block 1 'src/util/gets.c:2: gets: use fgets'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
