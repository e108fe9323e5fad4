#include "auth/scopes.h"

#include <string.h>

/* Bit i is scope_names[i]: the SPEC's order is the canonical order. */
static const char *const scope_names[SCOPE_COUNT] = {
    "servers:read",      "servers:write",        "applications:read",
    "applications:write", "applications:deploy", "databases:read",
    "databases:write",   "backups:read",         "backups:write",
};

const char *scope_name(int i)
{
    return i >= 0 && i < SCOPE_COUNT ? scope_names[i] : NULL;
}

scope_set scope_from_name(const char *name, size_t len)
{
    if (name == NULL)
        return 0;
    for (int i = 0; i < SCOPE_COUNT; i++) {
        if (strlen(scope_names[i]) == len && memcmp(scope_names[i], name, len) == 0)
            return (scope_set)(1u << i);
    }
    return 0;
}

scope_set scopes_effective(scope_set granted)
{
    scope_set e = granted & SCOPE_ALL;
    if (e & SCOPE_SERVERS_WRITE)
        e |= SCOPE_SERVERS_READ;
    if (e & SCOPE_APPLICATIONS_WRITE)
        e |= SCOPE_APPLICATIONS_READ;
    if (e & SCOPE_DATABASES_WRITE)
        e |= SCOPE_DATABASES_READ;
    if (e & SCOPE_BACKUPS_WRITE)
        e |= SCOPE_BACKUPS_READ;
    return e;
}

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool scopes_parse(const char *s, scope_set *out, char *bad, size_t badlen)
{
    scope_set set = 0;
    if (bad != NULL && badlen > 0)
        bad[0] = '\0';
    if (s == NULL) {
        *out = 0;
        return true;
    }
    const char *p = s;
    while (*p != '\0') {
        while (*p != '\0' && is_sep(*p))
            p++;
        const char *start = p;
        while (*p != '\0' && !is_sep(*p))
            p++;
        size_t n = (size_t)(p - start);
        if (n == 0)
            continue;
        scope_set bit = scope_from_name(start, n);
        if (bit == 0) {
            if (bad != NULL && badlen > 0) {
                size_t k = n < badlen - 1 ? n : badlen - 1;
                memcpy(bad, start, k);
                bad[k] = '\0';
            }
            *out = 0;
            return false;
        }
        set |= bit;
    }
    *out = set;
    return true;
}

/* Truncates (always NUL-terminated) rather than overflow when out is short;
 * SCOPES_STR_MAX holds all nine names with any reasonable separator. */
void scopes_format(scope_set s, const char *sep, char *out, size_t outlen)
{
    if (out == NULL || outlen == 0)
        return;
    if (sep == NULL)
        sep = ",";
    size_t used = 0, seplen = strlen(sep);
    bool first = true;
    out[0] = '\0';
    for (int i = 0; i < SCOPE_COUNT; i++) {
        if (!(s & (1u << i)))
            continue;
        const char *parts[2] = {first ? "" : sep, scope_names[i]};
        size_t lens[2] = {first ? 0 : seplen, strlen(scope_names[i])};
        for (int j = 0; j < 2; j++) {
            size_t k = lens[j] < outlen - 1 - used ? lens[j] : outlen - 1 - used;
            memcpy(out + used, parts[j], k);
            used += k;
        }
        first = false;
    }
    out[used] = '\0';
}
