#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ in build-fuzz/ with clang (ASan +
# UBSan, coverage-instrumented layers) and runs each one for SECONDS
# (default 60) on a scratch copy of its seed corpus fuzz/corpus/<target>/,
# so the checked-in seeds never change. Exits non-zero when a target crashes,
# leaks, breaks one of its checks or does not build; the crashing input is
# kept in build-fuzz/artifacts/. Ends with "N passed, N failed" (targets).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 300 fuzz_clock
set -uo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
dir=build-fuzz
jobs=$(nproc 2>/dev/null || echo 2)

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang is not installed (apt-get install -y clang libclang-rt-14-dev)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/piora-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DPIORA_FUZZ=ON -DPIORA_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/configure.log" 2>&1 ||
    ! cmake --build "$dir" -j"$jobs" --target fuzz >"$work/build.log" 2>&1; then
    cat "$work/configure.log"
    tail -n 40 "$work/build.log" 2>/dev/null
    echo "fuzz: build failed" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

if [ $# -gt 0 ]; then targets=("$@"); else
    targets=()
    for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$dir/artifacts"
passed=0
failed=0
for t in "${targets[@]}"; do
    seeds=fuzz/corpus/${t#fuzz_}
    corpus=$work/$t
    mkdir -p "$corpus"
    [ -d "$seeds" ] && cp "$seeds"/* "$corpus"/ 2>/dev/null
    log=$work/$t.log
    # -timeout: one input taking over 10 s is a hang, and a failure
    "$dir/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(grep -E '^stat::number_of_executed_units:' "$log" | grep -oE '[0-9]+$')
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "fuzz: $t ok (${execs:-?} runs in ${secs}s, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l))"
    else
        failed=$((failed + 1))
        echo "fuzz: $t FAILED (exit $rc); log follows, input in $dir/artifacts/"
        grep -vE '^#[0-9]+' "$log" | tail -n 60
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
