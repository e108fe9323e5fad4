/* Token limits (grant.h): the text forms and the checks. */
#include "auth/grant.h"

#include <stdio.h>
#include <string.h>

#include "util/num.h"

static const char *const KIND_NAMES[GRANT_KINDS] = {"servers", "applications", "databases"};
static const char *const KIND_SINGULARS[GRANT_KINDS] = {"server", "application", "database"};

const char *grant_kind_name(grant_kind k)
{
    return (unsigned)k < GRANT_KINDS ? KIND_NAMES[k] : "";
}

grant_kind grant_kind_from_name(const char *name, size_t len)
{
    for (int k = 0; k < GRANT_KINDS; k++) {
        if ((strlen(KIND_NAMES[k]) == len && memcmp(KIND_NAMES[k], name, len) == 0) ||
            (strlen(KIND_SINGULARS[k]) == len && memcmp(KIND_SINGULARS[k], name, len) == 0))
            return (grant_kind)k;
    }
    return GRANT_KINDS;
}

static int cmp_item(uint8_t ka, int64_t a, uint8_t kb, int64_t b)
{
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return a < b ? -1 : a > b;
}

bool grant_add(token_grant *g, grant_kind k, int64_t id)
{
    if ((unsigned)k >= GRANT_KINDS || id <= 0)
        return false;
    g->limited = true;
    size_t i = 0;
    while (i < g->n && cmp_item(g->kinds[i], g->ids[i], (uint8_t)k, id) < 0)
        i++;
    if (i < g->n && g->kinds[i] == k && g->ids[i] == id)
        return true;
    if (g->n >= GRANT_IDS_MAX)
        return false;
    memmove(&g->ids[i + 1], &g->ids[i], (g->n - i) * sizeof g->ids[0]);
    memmove(&g->kinds[i + 1], &g->kinds[i], (g->n - i) * sizeof g->kinds[0]);
    g->ids[i] = id;
    g->kinds[i] = (uint8_t)k;
    g->n++;
    return true;
}

bool grant_has(const token_grant *g, grant_kind k, int64_t id)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_item(g->kinds[mid], g->ids[mid], (uint8_t)k, id);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

size_t grant_count(const token_grant *g, grant_kind k)
{
    size_t c = 0;
    for (size_t i = 0; i < g->n; i++)
        c += g->kinds[i] == k;
    return c;
}

static bool is_sep(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool grant_parse(const char *s, token_grant *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    if (!s)
        return true;
    g->limited = true;
    const char *p = s;
    while (*p) {
        while (*p && is_sep(*p))
            p++;
        if (!*p)
            break;
        const char *item = p;
        while (*p && !is_sep(*p))
            p++;
        size_t n = (size_t)(p - item);
        const char *colon = memchr(item, ':', n);
        grant_kind k = colon ? grant_kind_from_name(item, (size_t)(colon - item)) : GRANT_KINDS;
        int64_t id = 0;
        char num[24];
        size_t idlen = colon ? n - (size_t)(colon - item) - 1 : 0;
        bool ok = k != GRANT_KINDS && idlen > 0 && idlen < sizeof num;
        if (ok) {
            memcpy(num, colon + 1, idlen);
            num[idlen] = '\0';
            ok = num_parse_i64(num, 1, INT64_MAX, &id);
        }
        if (!ok) {
            snprintf(err, errlen, "\"%.*s\" is not servers:ID, applications:ID or databases:ID",
                     (int)(n > 40 ? 40 : n), item);
            return false;
        }
        if (!grant_add(g, k, id)) {
            snprintf(err, errlen, "at most %d resources", GRANT_IDS_MAX);
            return false;
        }
    }
    return true;
}

void grant_format(const token_grant *g, char *out, size_t outlen)
{
    size_t used = 0;
    if (outlen)
        out[0] = '\0';
    for (size_t i = 0; i < g->n && used < outlen; i++) {
        int w = snprintf(out + used, outlen - used, "%s%s:%lld", i ? "," : "",
                         grant_kind_name((grant_kind)g->kinds[i]), (long long)g->ids[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

bool addrs_parse(const char *s, token_addrs *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    if (!s)
        return true;
    const char *p = s;
    while (*p) {
        while (*p && is_sep(*p))
            p++;
        if (!*p)
            break;
        const char *item = p;
        while (*p && !is_sep(*p))
            p++;
        size_t n = (size_t)(p - item);
        cidr_t c;
        const char *why = NULL;
        if (!cidr_parse(item, n, &c, &why)) {
            snprintf(err, errlen, "\"%.*s\" %s", (int)(n > 60 ? 60 : n), item, why);
            return false;
        }
        bool dup = false;
        for (size_t i = 0; i < a->n; i++)
            dup |= a->nets[i].bits == c.bits && memcmp(a->nets[i].addr, c.addr, 16) == 0;
        if (dup)
            continue;
        if (a->n >= ADDRS_MAX) {
            snprintf(err, errlen, "at most %d addresses or blocks", ADDRS_MAX);
            return false;
        }
        a->nets[a->n++] = c;
    }
    if (a->n == 0) {
        snprintf(err, errlen,
                 "must list at least one address or block (write 0.0.0.0/0 and ::/0 to allow "
                 "every address)");
        return false;
    }
    a->limited = true;
    return true;
}

void addrs_format(const token_addrs *a, char *out, size_t outlen)
{
    size_t used = 0;
    if (outlen)
        out[0] = '\0';
    for (size_t i = 0; i < a->n && used < outlen; i++) {
        char t[CIDR_TEXT_MAX];
        cidr_format(&a->nets[i], t);
        int w = snprintf(out + used, outlen - used, "%s%s", i ? "," : "", t);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

bool addrs_allow(const token_addrs *a, const char *addr)
{
    if (!a->limited)
        return true;
    uint8_t v[16];
    if (!addr || !cidr_addr_parse(addr, strlen(addr), v))
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (cidr_contains(&a->nets[i], v))
            return true;
    return false;
}

uint64_t grant_fingerprint(const token_grant *g)
{
    if (!g->limited)
        return 0;
    /* FNV-1a over the ordered items; 0 is kept for "not limited". */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < g->n; i++) {
        uint64_t v = ((uint64_t)g->kinds[i] << 56) ^ (uint64_t)g->ids[i];
        for (int b = 0; b < 8; b++) {
            h ^= (v >> (8 * b)) & 0xff;
            h *= 1099511628211ull;
        }
    }
    h ^= g->n;
    return h ? h : 1;
}
