/* router_match sees every request path and method. A match must be the
 * route's own method (HEAD through GET) whose pattern, with {id} written
 * back as the decimal id, is exactly the path; a 405 must name at least one
 * method; the Allow header writer must stay inside its buffer at any size. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "http/router.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* The pattern with "{id}" replaced by id. */
static void expand(const char *pat, int64_t id, char *out, size_t outlen)
{
    const char *brace = strstr(pat, "{id}");
    if (!brace) {
        snprintf(out, outlen, "%s", pat);
        return;
    }
    snprintf(out, outlen, "%.*s%" PRId64 "%s", (int)(brace - pat), pat, id, brace + 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    /* byte 0: method bits (any combination, even several); byte 1: the size
     * of the Allow buffer (1..64); the rest: the path. */
    http_method method = (http_method)data[0];
    size_t allowlen = 1 + data[1] % 64;
    data += 2, size -= 2;
    char *path = malloc(size + 1);
    char *allow = malloc(allowlen);
    if (!path || !allow) {
        free(path);
        free(allow);
        return 0;
    }
    memcpy(path, data, size);
    path[size] = '\0';

    const route_t *rt = NULL;
    int64_t id = -1;
    unsigned allowed = 0;
    route_match_result m = router_match(api_routes, api_routes_count, method, path, &rt, &id, &allowed);
    switch (m) {
    case ROUTE_FOUND: {
        CHECK(rt != NULL);
        CHECK(rt->method == (method == HTTP_HEAD ? HTTP_GET : method));
        char want[512];
        expand(rt->pattern, id, want, sizeof want);
        CHECK(strcmp(want, path) == 0);
        CHECK(strstr(rt->pattern, "{id}") ? id > 0 : id == 0);
        break;
    }
    case ROUTE_BAD_METHOD:
        CHECK(allowed != 0);
        CHECK(!(allowed & HTTP_GET) || (allowed & HTTP_HEAD));
        router_allow_header(allowed, allow, allowlen);
        CHECK(strlen(allow) < allowlen);
        break;
    case ROUTE_NO_PATH:
        break;
    default:
        CHECK(!"unknown router_match result");
    }

    /* Any method set, any buffer size: whole names only, always terminated. */
    router_allow_header(size ? data[0] : 0u, allow, allowlen);
    CHECK(strlen(allow) < allowlen);
    router_allow_header(0xFFu, allow, allowlen);
    CHECK(strlen(allow) < allowlen);
    if (allowlen >= sizeof "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
        CHECK(strcmp(allow, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS") == 0);
    free(allow);
    free(path);
    return 0;
}
