/* The route table and its matcher. One table serves the API and the
 * dashboard: each row says how the request authenticates, which limiter
 * applies, the scopes, the handler and what the OpenAPI document shows of
 * it. app/ composes the table (api/routes.c, web/web.c) and hands it to
 * http/ with its areas; http/ never names a handler itself.
 *
 * Patterns are literal segments and at most one "{id}" segment (a positive
 * 64-bit decimal). */
#ifndef PIORA_HTTP_ROUTER_H
#define PIORA_HTTP_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "auth/scopes.h"
#include "http/request.h"

typedef void (*route_handler)(req_t *r);

/* How a route's caller proves who it is (http/pipeline.c). */
typedef enum route_auth {
    ROUTE_AUTH_TOKEN,        /* Authorization: Bearer <token>, SPEC 3 */
    ROUTE_AUTH_SESSION,      /* the dashboard's cookie; CSRF + origin when state-changing */
    ROUTE_AUTH_SESSION_PEEK, /* the session when there is a live one, else none (r->session
                                NULL, r->session_expired says whether one just ended) */
    ROUTE_AUTH_NONE          /* anyone (health, metrics, sign-in, the leak report) */
} route_auth;

/* Which limiter spends one unit of the caller's budget before the handler. */
typedef enum route_limit {
    ROUTE_LIMIT_NONE,
    ROUTE_LIMIT_TOKEN,  /* the token's requests per minute (--rate-limit) */
    ROUTE_LIMIT_ADDR    /* the client address's (--revoke-limit) */
} route_limit;

enum route_flags {
    ROUTE_CACHEABLE = 1u << 0, /* GET whose answer depends only on (team, URL, data):
                                 the http layer may replay it until the data changes */
    ROUTE_MFA_ENROL = 1u << 1, /* a session route open to a user whose team requires
                                  two-factor sign-in before they enrolled (issue 13) */
    ROUTE_NO_STORE = 1u << 2   /* the handler never touches the store (r->store may be
                                  NULL): it answers on the polling thread even when the
                                  store is remote (http/pipeline.c) */
};

typedef struct route {
    http_method method;
    const char *pattern; /* "/api/v1/servers/{id}" */
    route_auth auth;
    route_limit limit;
    scope_set scopes;    /* any one of them suffices; 0: any valid token */
    unsigned flags;
    route_handler fn;
    int success_status;  /* for the OpenAPI document: 200, 201, 202, 204 */
    const char *summary; /* one line, for the OpenAPI document */
} route_t;

/* A part of the URL space, with what every answer in it shares. The areas
 * are tried in order; the first whose prefix fits a path owns it, and only
 * its rows are matched (the index that keeps one table as cheap to match
 * as the API's alone). prefix "": every path; ending in '/': that subtree;
 * otherwise exactly that path. */
typedef struct route_area {
    const char *prefix;
    bool dashboard;              /* metrics count its answers in the dashboard slots,
                                    except rows among route_site.metrics_rows */
    void (*headers)(req_t *r);   /* set first on every answer of the area, or NULL */
    route_handler miss;          /* a path that no row has: NULL answers 404 */
    bool miss_no_store;          /* miss never touches the store (as ROUTE_NO_STORE) */
} route_area;

/* What app/ hands to http/. The first metrics_rows rows are the ones
 * monitor/metrics.h counts one by one (slot = row index); rows of
 * dashboard areas are counted per method. */
typedef struct route_site {
    const route_t *routes;
    size_t nroutes;
    const route_area *areas;
    size_t nareas;
    size_t metrics_rows;
} route_site;

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

/* The same over a list of rows (an area's index). */
route_match_result router_match_rows(const route_t *const *rows, size_t n, http_method method,
                                     const char *path, const route_t **route, int64_t *id,
                                     unsigned *allowed);

/* True when path lies in an area of that prefix (the rule above). */
bool router_prefix_fits(const char *prefix, const char *path);

/* Writes "GET, HEAD, POST" style text for an Allow header. */
void router_allow_header(unsigned methods, char *out, size_t outlen);

#endif
