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

/* One row against the request: found (true), or the row's method added to
 * *methods when only the method differs. */
static bool match_row(const route_t *rt, http_method want, const char *path, int64_t *id,
                      unsigned *methods)
{
    int64_t rid;
    if (!match_pattern(rt->pattern, path, &rid))
        return false;
    if (rt->method == want) {
        *id = rid;
        return true;
    }
    *methods |= rt->method;
    return false;
}

static route_match_result match_miss(unsigned methods, unsigned *allowed)
{
    if (!methods)
        return ROUTE_NO_PATH;
    if (methods & HTTP_GET)
        methods |= HTTP_HEAD;
    *allowed = methods;
    return ROUTE_BAD_METHOD;
}

/* HEAD is answered by the GET route (libmicrohttpd drops the body). */
static http_method wanted(http_method method) { return method == HTTP_HEAD ? HTTP_GET : method; }

route_match_result router_match(const route_t *table, size_t n, http_method method,
                                const char *path, const route_t **route, int64_t *id,
                                unsigned *allowed)
{
    http_method want = wanted(method);
    unsigned methods = 0;
    for (size_t i = 0; i < n; i++) {
        if (match_row(&table[i], want, path, id, &methods)) {
            *route = &table[i];
            return ROUTE_FOUND;
        }
    }
    return match_miss(methods, allowed);
}

route_match_result router_match_rows(const route_t *const *rows, size_t n, http_method method,
                                     const char *path, const route_t **route, int64_t *id,
                                     unsigned *allowed)
{
    http_method want = wanted(method);
    unsigned methods = 0;
    for (size_t i = 0; i < n; i++) {
        if (match_row(rows[i], want, path, id, &methods)) {
            *route = rows[i];
            return ROUTE_FOUND;
        }
    }
    return match_miss(methods, allowed);
}

bool router_prefix_fits(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    if (n == 0)
        return true;
    if (prefix[n - 1] == '/')
        return strncmp(path, prefix, n) == 0;
    return strcmp(path, prefix) == 0;
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
