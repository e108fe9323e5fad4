/* One HTTP request as the handlers see it: parsed method and path, the {id}
 * of the route, the authenticated principal, this thread's store, and the
 * accessors for query, headers and body. Handlers fill the response through
 * http/response.h and never see libmicrohttpd. */
#ifndef PIORA_HTTP_REQUEST_H
#define PIORA_HTTP_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/scopes.h"
#include "authn/principal.h"
#include "store/store.h"
#include "util/buf.h"

typedef enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_POST = 1 << 1,
    HTTP_PUT = 1 << 2,
    HTTP_PATCH = 1 << 3,
    HTTP_DELETE = 1 << 4,
    HTTP_HEAD = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
    HTTP_OTHER = 1 << 7
} http_method;


#define REQ_MAX_HEADERS 16

typedef struct req {
    /* in */
    http_method method;
    const char *path;       /* without the query string */
    int64_t id;             /* the route's {id}, > 0, or 0 when it has none */
    const principal_t *who; /* NULL on routes that take no token */
    store_t *store;         /* this thread's connection (never NULL in handlers) */
    const char *client_addr; /* the client: behind a trusted proxy, what it says */
    const char *peer_addr;   /* the socket's peer (a proxy, when there is one) */
    const char *body;       /* NULL when the request had none */
    size_t body_len;
    void *conn;             /* the http layer's connection (opaque) */

    /* out: set through http/response.h */
    int status;
    const char *content_type;
    buf_t out;
    struct {
        const char *name; /* static string */
        char *value;      /* malloc'd */
    } headers[REQ_MAX_HEADERS];
    int nheaders;
} req_t;

/* The value of a query parameter (decoded), or NULL when absent. */
const char *req_query(req_t *r, const char *key);
/* A request header, or NULL. */
const char *req_header(req_t *r, const char *name);

/* The body as a JSON value. On failure the response is already set (400
 * invalid JSON or invalid UTF-8; Content-Type is not consulted) and NULL is
 * returned; the handler just returns. An empty body answers 400 too. The
 * result is a new reference. */
json_t *req_json_body(req_t *r);

#endif
