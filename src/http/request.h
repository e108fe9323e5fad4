/* One HTTP request as the handlers see it: parsed method and path, the {id}
 * of the route, the authenticated principal (and the dashboard session),
 * this thread's store, and the accessors for query, headers and body.
 * Handlers fill the response through http/response.h and never see
 * libmicrohttpd: the accessors go through a req_source, which
 * http/server.c implements over libmicrohttpd and the unit tests over a
 * plain list. */
#ifndef PIORA_HTTP_REQUEST_H
#define PIORA_HTTP_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/scopes.h"
#include "auth/principal.h"
#include "authn/session.h"
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

/* Why http/server.c refuses a request before any route sees it (the
 * pipeline answers and logs it like any other). */
typedef enum req_refusal {
    REQ_REFUSE_NONE = 0,
    REQ_REFUSE_NUL,       /* a NUL byte in the target (%00) or in a header value: 400 */
    REQ_REFUSE_HEAD_SIZE, /* request line and headers over --max-header-bytes: 431 */
    REQ_REFUSE_BUSY       /* the budget for buffered bodies is spent: 503 */
} req_refusal;

/* Where a request's headers and query come from. conn is req_t.conn. */
typedef struct req_source {
    /* A header's value, or NULL. */
    const char *(*header)(void *conn, const char *name);
    /* Like header, but "" when the value holds a NUL byte: a value that
     * decides authentication must be read whole. */
    const char *(*header_whole)(void *conn, const char *name);
    /* A query parameter's decoded value, or NULL (also for "?key" alone). */
    const char *(*query)(void *conn, const char *key);
    /* Whether the query names key at all ("?key" alone counts). */
    bool (*query_has)(void *conn, const char *key);
} req_source;

struct workpool;
typedef struct req req_t;
/* The slow half of a handler (http/defer.c): runs on a pool thread with
 * r->store that thread's connection and r->session, r->who NULL (copy what
 * it needs from them, and any header, into ctx first); it answers r and
 * frees ctx. With r NULL (the request is dropped) it only frees ctx. */
typedef void (*req_deferred_fn)(req_t *r, void *ctx);

typedef struct req {
    /* in */
    http_method method;
    const char *method_text; /* the method as sent ("GET", "PROPFIND"), for the logs */
    const char *path;       /* without the query string */
    const char *uri;        /* the raw request target, path and query, as sent */
    int64_t id;             /* the route's {id}, > 0, or 0 when it has none */
    const principal_t *who; /* the token's or the session's; NULL on routes of neither */
    authn_session *session; /* the dashboard's signed-in user, or NULL */
    bool session_expired;   /* ROUTE_AUTH_SESSION_PEEK: a session just ended */
    store_t *store;         /* this thread's connection (never NULL in handlers) */
    const char *client_addr; /* the client: behind a trusted proxy, what it says */
    const char *peer_addr;   /* the socket's peer (a proxy, when there is one) */
    const char *body;       /* NULL when the request had none */
    size_t body_len;
    bool body_too_big;      /* the body passed BODY_MAX_BYTES (answered 413) */
    req_refusal refusal;    /* refused before routing (answered 400, 431 or 503) */
    const char *request_id; /* X-Request-Id of the answer */
    int64_t start_ns;       /* when the request line arrived: the latency's start */
    const req_source *src;
    void *conn;             /* the source's connection (opaque) */
    struct workpool *pool;  /* where req_defer sends work; NULL: it runs inline */
    struct {
        req_deferred_fn fn; /* set by req_defer: the pipeline is pending */
        void *ctx;
        int slot;           /* the pipeline's metrics slot, for the deferred log */
    } pending;

    /* out: set through http/response.h */
    int status;
    const char *content_type;
    buf_t out;
    struct {
        const char *name; /* static string */
        char *value;      /* malloc'd */
    } headers[REQ_MAX_HEADERS];
    int nheaders;
    /* A body streamed from a file (resp_file) instead of out: the server
     * sends it from the descriptor and closes it; -1 when none. Only
     * meaningful while file_body is set, so a zeroed req_t has no file. */
    bool file_body;
    int file_fd;
    uint64_t file_size;
    /* Set by the pipeline when it handed the rest of the walk to the store
     * pool (http/pipeline.h: pipeline_resume); NULL otherwise. */
    void *resume;
} req_t;

/* The value of a query parameter (decoded), or NULL when absent. */
const char *req_query(req_t *r, const char *key);
/* A request header, or NULL. */
const char *req_header(req_t *r, const char *name);
/* Whether the request reached us over HTTPS: X-Forwarded-Proto: https from
 * a trusted proxy (http/peer.c; piora itself speaks plain HTTP). */
bool req_https(req_t *r);

/* Hands the rest of the handler to the slow-work pool: the connection is
 * suspended until fn(r, ctx) has answered on a pool thread, so Argon2id
 * never holds a polling thread. false when the pool is full: r is answered
 * 503 with Retry-After and the caller frees ctx. Without a pool (unit
 * tests) fn runs here and now. The handler returns right after a true. */
bool req_defer(req_t *r, req_deferred_fn fn, void *ctx);

/* The body as a JSON value. On failure the response is already set (400
 * invalid JSON or invalid UTF-8; Content-Type is not consulted) and NULL is
 * returned; the handler just returns. An empty body answers 400 too. The
 * result is a new reference. */
json_t *req_json_body(req_t *r);

#endif
