#include "http/router.h"

#include <stdio.h>
#include <string.h>

/* Matches one "{id}" segment: a positive decimal that fits in int64, no
 * sign, no leading zero. Returns the end of the segment or NULL. */
static const char *match_id(const char *p, int64_t *id)
{
    if (*p < '1' || *p > '9')
        return NULL;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return NULL;
        v = v * 10 + d;
        p++;
    }
    if (*p && *p != '/')
        return NULL;
    *id = v;
    return p;
}

static bool match_pattern(const char *pat, const char *path, int64_t *id)
{
    *id = 0;
    while (*pat) {
        if (strncmp(pat, "{id}", 4) == 0) {
            path = match_id(path, id);
            if (!path)
                return false;
            pat += 4;
            continue;
        }
        if (*pat != *path)
            return false;
        pat++;
        path++;
    }
    return *path == '\0';
}

route_match_result router_match(const route_t *table, size_t n, http_method method,
                                const char *path, const route_t **route, int64_t *id,
                                unsigned *allowed)
{
    /* HEAD is answered by the GET route (libmicrohttpd drops the body). */
    http_method want = method == HTTP_HEAD ? HTTP_GET : method;
    unsigned methods = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t rid;
        if (!match_pattern(table[i].pattern, path, &rid))
            continue;
        if (table[i].method == want) {
            *route = &table[i];
            *id = rid;
            return ROUTE_FOUND;
        }
        methods |= table[i].method;
    }
    if (!methods)
        return ROUTE_NO_PATH;
    if (methods & HTTP_GET)
        methods |= HTTP_HEAD;
    *allowed = methods;
    return ROUTE_BAD_METHOD;
}

void router_allow_header(unsigned methods, char *out, size_t outlen)
{
    static const struct {
        unsigned m;
        const char *name;
    } names[] = {{HTTP_GET, "GET"},       {HTTP_HEAD, "HEAD"},     {HTTP_POST, "POST"},
                 {HTTP_PUT, "PUT"},       {HTTP_PATCH, "PATCH"},   {HTTP_DELETE, "DELETE"},
                 {HTTP_OPTIONS, "OPTIONS"}};
    size_t len = 0;
    if (!outlen)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(methods & names[i].m))
            continue;
        int w = snprintf(out + len, outlen - len, "%s%s", len ? ", " : "", names[i].name);
        if (w < 0 || (size_t)w >= outlen - len) {
            out[len] = '\0'; /* whole method names only */
            break;
        }
        len += (size_t)w;
    }
}
