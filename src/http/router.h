/* The route table and its matcher. Patterns are literal segments and at
 * most one "{id}" segment (a positive 64-bit decimal). The table lives in
 * api/routes.c; the OpenAPI document is checked against it by a test. */
#ifndef PIORA_HTTP_ROUTER_H
#define PIORA_HTTP_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "auth/scopes.h"
#include "http/request.h"

typedef void (*route_handler)(req_t *r);

enum route_flags {
    ROUTE_NO_TOKEN = 1u << 0,   /* no Authorization needed (health, openapi, revoke) */
    ROUTE_CACHEABLE = 1u << 1,  /* GET whose answer depends only on (team, URL, data):
                                   the http layer may replay it until the data changes */
    ROUTE_ADDR_LIMIT = 1u << 2  /* rate limited per client address (no token) */
};

typedef struct route {
    http_method method;
    const char *pattern; /* "/api/v1/servers/{id}" */
    scope_set scopes;    /* any one of them suffices; 0: any valid token */
    unsigned flags;
    route_handler fn;
    int success_status;  /* for the OpenAPI document: 200, 201, 202, 204 */
    const char *summary; /* one line, for the OpenAPI document */
} route_t;

extern const route_t api_routes[];
extern const size_t api_routes_count;

typedef enum route_match_result {
    ROUTE_FOUND,
    ROUTE_NO_PATH,     /* 404 */
    ROUTE_BAD_METHOD   /* 405; *allowed holds the methods the path takes */
} route_match_result;

/* Finds the route for method and path. On ROUTE_FOUND *route and *id are
 * set (id 0 when the pattern has no {id}); on ROUTE_BAD_METHOD *allowed is
 * the OR of the methods that would match. An {id} that is not a positive
 * decimal in int64 range does not match (so the path is a 404). */
route_match_result router_match(const route_t *table, size_t n, http_method method,
                                const char *path, const route_t **route, int64_t *id,
                                unsigned *allowed);

/* Writes "GET, HEAD, POST" style text for an Allow header. */
void router_allow_header(unsigned methods, char *out, size_t outlen);

#endif
