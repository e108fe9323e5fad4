#!/usr/bin/env bash
# The banned-function check: no C file under src/ may use strcpy, strcat,
# strncpy, sprintf, vsprintf, gets, atoi, atol, atoll, strtol, strtoul,
# strtoull or strtoll. They overflow, truncate without saying so, or accept
# " +12abc" as 12, and they have been used on outside input before. Whole
# words only (snprintf, vsnprintf, strtok_r, my_atoi do not match);
# comments (// and /* */, also across lines) and string and character
# literals are blanked first. Prints file:line, the name and what to use
# instead, and exits 1 when there is any.
#
# Usage: scripts/check-banned.sh [ROOT]   (ROOT holds src/; default: the repo)
set -uo pipefail

root=${1:-"$(dirname "$0")/.."}
cd "$root" || exit 2
[ -d src ] || { echo "check-banned: no src/ under $root" >&2; exit 2; }

banned='strcpy|strcat|strncpy|sprintf|vsprintf|gets|atoi|atol|atoll|strtol|strtoul|strtoull|strtoll'

hint() { # name
    case $1 in
    strcpy | strcat | strncpy) echo "snprintf, or memcpy with an explicit length (util/buf.h for growing text)" ;;
    sprintf | vsprintf) echo "snprintf / vsnprintf with the buffer's size, checking the result" ;;
    gets) echo "fgets with the buffer's size" ;;
    *) echo "a strict parser from util/num.h (num_parse_i64 and friends)" ;;
    esac
}

files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(find src -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
[ ${#files[@]} -gt 0 ] || { echo "check-banned: no C files under src/"; exit 0; }

# awk blanks comments and literals (keeping the line numbers) and prints
# file:line:code; grep then keeps the lines naming a banned function.
hits=$(awk '
FNR == 1 { inblock = 0 }
{
    s = $0; out = ""; i = 1; n = length(s)
    while (i <= n) {
        c = substr(s, i, 1); d = substr(s, i, 2)
        if (inblock) {
            if (d == "*/") { inblock = 0; i += 2 } else i++
            continue
        }
        if (d == "//") break
        if (d == "/*") { inblock = 1; out = out " "; i += 2; continue }
        if (c == "\"" || c == "\047") {
            q = c; out = out " "; i++
            while (i <= n) {
                c = substr(s, i, 1)
                if (c == "\\") { i += 2; continue }
                i++
                if (c == q) break
            }
            continue
        }
        out = out c; i++
    }
    print FILENAME ":" FNR ":" out
}' "${files[@]}" | grep -E "(^|[^A-Za-z0-9_])($banned)([^A-Za-z0-9_]|$)")

if [ -z "$hits" ]; then
    echo "check-banned: no banned function in src/"
    exit 0
fi
while IFS= read -r h; do
    where=${h%%:*}
    rest=${h#*:}
    line=${rest%%:*}
    code=${rest#*:}
    for name in $(grep -oE "(^|[^A-Za-z0-9_])($banned)([^A-Za-z0-9_]|$)" <<<"$code" |
        grep -oE "$banned" | sort -u); do
        echo "$where:$line: $name: use $(hint "$name")"
    done
done <<<"$hits"
echo "check-banned: banned functions above (scripts/check-banned.sh says why)"
exit 1
