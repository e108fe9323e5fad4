#!/usr/bin/env bash
# The include check of DESIGN.md's layer rules: every `#include "X/..."` in
# src/<layer>/ must name a layer (or, for api/ and web/, an http/ header)
# that the table below allows. src/main.c and any other file directly in
# src/ is app/. A layer may include itself; an include without a directory
# ("sqlite_internal.h") is a file beside the includer, so its own layer;
# src/store/sql/... is store. <system> headers, tests/ and fuzz/ are not
# checked. The CMake libraries are held to the same rules (below). Prints
# one line per offending include or link (file:line, what, the rule it
# breaks) and exits 1 when there is any.
#
# Usage: scripts/check-layers.sh [ROOT]   (ROOT holds src/; default: the repo)
set -uo pipefail

root=${1:-"$(dirname "$0")/.."}
cd "$root" || exit 2
[ -d src ] || { echo "check-layers: no src/ under $root" >&2; exit 2; }

# The rules, copied from DESIGN.md ("Each layer includes only the layers to
# its right"). A word is a whole layer; a word with a '/' is one header of
# another layer (api/ and web/ may use http/'s request and response, and
# the router's types, since they declare their own route rows; api/ may
# read monitor/metrics.h, since /metrics and /readyz render its counters:
# docs/architecture.md, "Departures from DESIGN.md"). Layers that do not
# exist yet are here too, so they start out ruled.
declare -A allowed=(
    [app]="cli http api web authn jobs monitor core store cluster schema auth util"
    [cli]="core store monitor schema auth util"
    [http]="authn monitor auth util"
    [api]="http/request.h http/response.h http/router.h monitor/metrics.h core schema auth util"
    [web]="http/request.h http/response.h http/router.h core schema auth util"
    [authn]="core store cluster auth util"
    [jobs]="core store schema auth util"
    [core]="store schema auth util"
    [store]="schema auth util"
    [monitor]="store util"
    [cluster]="util"
    [schema]="util"
    [auth]="util"
    [util]=""
)

# Normalises a/b/../c to a/c without touching the file system, so the
# check also works on a tree where the included file is missing.
normalise() { # path
    local part out=()
    local IFS=/
    for part in $1; do
        case $part in
        '' | .) ;;
        ..) [ ${#out[@]} -gt 0 ] && unset 'out[${#out[@]}-1]' || out+=(..) ;;
        *) out+=("$part") ;;
        esac
    done
    printf '%s\n' "${out[*]}"
}

bad=0
while IFS= read -r -d '' file; do
    rel=${file#src/}
    from=app
    [[ $rel == */* ]] && from=${rel%%/*}
    if [ -z "${allowed[$from]+set}" ]; then
        echo "$file: layer '$from' is not in the rules of scripts/check-layers.sh (DESIGN.md)"
        bad=1
        continue
    fi
    # The layer of a path under src/ is its first directory; a file
    # directly in src/ (main.c) is app/.
    dir=.
    [[ $rel == */* ]] && dir=${rel%/*}
    # grep -n keeps the line number; the sed pulls the quoted name out of
    # `#include "x"` (spaces allowed around '#'), angle brackets never match.
    while IFS=: read -r line inc; do
        # Where the name resolves: beside the includer when it exists there
        # or has no directory or starts with ./ or ../, else from src/ (the
        # one include directory CMake gives every layer).
        if [ -e "src/$dir/$inc" ] || [[ $inc != */* ]] || [[ $inc == ./* ]] || [[ $inc == ../* ]]; then
            target="$dir/$inc"
            [ "$dir" = . ] && target=$inc
        else
            target=$inc
        fi
        [[ $target == *./* ]] && target=$(normalise "$target")
        if [[ $target == ../* ]]; then
            echo "$file:$line: #include \"$inc\": reaches outside src/ (tests and tools may not be included)"
            bad=1
            continue
        fi
        to=app
        [[ $target == */* ]] && to=${target%%/*}
        [ "$to" = "$from" ] && continue
        ok=0
        for a in ${allowed[$from]}; do
            if [ "$a" = "$to" ] || [ "$a" = "$target" ]; then
                ok=1
                break
            fi
        done
        if [ $ok -eq 0 ]; then
            echo "$file:$line: #include \"$inc\": $from may include only ${allowed[$from]:-itself}"
            bad=1
        fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
        sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1:\2/')
done < <(find src -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

# The same rules for the CMake libraries: piora_<layer> (or
# piora_<layer>_<part>) may link only the libraries of layers its layer may
# include, and the executable piora is app/. Since the rules have no cycle,
# checking each direct link also rules out a cycle between libraries. A
# header-only allowance (api/ and web/ use http/request.h) allows the
# library. Test and fuzz executables may link anything.
lib_layer() { # target name -> layer, or nothing when not one of ours
    local n=${1#piora_}
    [ "$1" = piora ] && { echo app; return; }
    [ "$n" = "$1" ] && return
    n=${n%%_*}
    [ -n "${allowed[$n]+set}" ] && echo "$n"
}
if [ -f CMakeLists.txt ]; then
    # awk joins each target_link_libraries( ... ) call onto one line and
    # prints its first line number before it.
    while read -r line target items; do
        from=$(lib_layer "$target")
        [ -n "$from" ] || continue
        for item in $items; do
            to=$(lib_layer "$item")
            if [ -z "$to" ] || [ "$to" = "$from" ]; then continue; fi
            ok=0
            libs=""
            for a in ${allowed[$from]}; do
                [[ " $libs " == *" ${a%%/*} "* ]] || libs="$libs ${a%%/*}"
                [ "${a%%/*}" = "$to" ] && ok=1
            done
            if [ $ok -eq 0 ]; then
                echo "CMakeLists.txt:$line: $target links $item: $from may link only${libs:- itself}"
                bad=1
            fi
        done
    done < <(awk '
        !open && /^[[:space:]]*target_link_libraries[[:space:]]*\(/ { open = 1; start = NR; call = "" }
        open {
            t = $0; sub(/#.*/, "", t); call = call " " t
            if (t ~ /\)/) {
                open = 0
                sub(/.*target_link_libraries[[:space:]]*\(/, "", call); sub(/\).*/, "", call)
                gsub(/(PUBLIC|PRIVATE|INTERFACE)/, " ", call)
                print start, call
            }
        }' CMakeLists.txt)
fi

if [ $bad -ne 0 ]; then
    echo "check-layers: includes or links above break the layer rules (DESIGN.md, scripts/check-layers.sh)"
    exit 1
fi
echo "check-layers: every include in src/ and every link in CMakeLists.txt keeps the layer rules"
