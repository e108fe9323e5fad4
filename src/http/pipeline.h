/* One request's walk, written once for the API and the dashboard, in the
 * order of SPEC 3 (like nginx's phases): route -> authenticate (as the
 * route says: token, session, none) -> limit -> authorize -> handler ->
 * log. It knows no libmicrohttpd: http/server.c fills a req_t and sends
 * what this leaves in it, and tests/unit/test_pipeline.c drives it with a
 * fake request. */
#ifndef PIORA_HTTP_PIPELINE_H
#define PIORA_HTTP_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "authn/policy.h"
#include "http/request.h"
#include "http/router.h"

/* An area and the rows of the table it owns (built once, read by every
 * thread). */
typedef struct pipeline_area {
    const route_area *area;
    const route_t **rows;
    size_t nrows;
} pipeline_area;

typedef struct pipeline {
    route_site site;
    pipeline_area *areas;
    const route_t **rows;           /* every row, area by area (the areas' runs) */
    store_t *(*thread_store)(void); /* this thread's connection, or NULL when down */
    bool secure_cookies;            /* --secure-cookies: the cleared cookie is Secure */
    policy_route *policy;           /* SPEC 11: per row of site->routes, from its pattern */
    /* A remote store: the pool that runs every step needing it, so that a
     * polling thread never waits on a round trip; NULL (a local store, unit
     * tests): every step runs where pipeline_run() is called. Set by the
     * caller after pipeline_init(). */
    struct workpool *store_pool;
    /* With store_pool: the store is local (SQLite) and its steps run where
     * pipeline_run() is called; the pool is there for the shared limits
     * alone (--redis), whose round trip must not be waited on there
     * either. false with store_pool: the store is remote. Whenever
     * store_pool is set, a limit decision that needs Redis is a step the
     * pool runs (docs/architecture.md, "Shared limits off the polling
     * threads"). */
    bool store_local;
} pipeline_t;

/* Indexes site (kept by pointer: it must outlive p) by area. false, with
 * the reason in why, when a row lies in no area or memory ran out. */
bool pipeline_init(pipeline_t *p, const route_site *site, store_t *(*thread_store)(void),
                   bool secure_cookies, char *why, size_t whylen);
void pipeline_free(pipeline_t *p);

/* Runs every phase for r and leaves the answer in it (r->status is always
 * set). The caller has filled the request half of r (method, method_text,
 * path, uri, body, addresses, request_id, start_ns, body_too_big, src,
 * conn and pool) and initialised r->out. false: the handler deferred its
 * rest (req_defer); the caller suspends the connection and has
 * pipeline_finish run on a pool thread, and only then sends r. */
bool pipeline_run(const pipeline_t *p, req_t *r);
/* With p->store_pool, pipeline_run() also comes back false with r->resume
 * set and a place of the store pool reserved: the caller suspends the
 * connection and has pipeline_resume() run on a store pool thread, which
 * walks on from the step that needed the store (or Redis). It answers true, or false
 * when the handler then deferred to the hashing pool (r->pending, a place
 * there reserved: the caller submits pipeline_finish() there). The pool's
 * bound reached, pipeline_run() answers 503 with Retry-After itself. */
bool pipeline_resume(const pipeline_t *p, req_t *r);
/* Handed-over requests answered 503 because they waited in the store
 * pool's queue past its bound (2 s), since start. */
uint64_t pipeline_store_late(void);
/* The deferred rest of r, on the calling (pool) thread: the handler's
 * slow half, then the log phase. */
void pipeline_finish(const pipeline_t *p, req_t *r);

/* The part of the walk that needs no body, run on the headers alone before
 * a body is read: the route, and for a token route its authentication.
 * true when that answered (404, 405, 401, 429, ...: r holds the answer,
 * already logged, and the body is never read); false when the body may be
 * read, and then pipeline_run() walks the whole request again (r is
 * disposed of by the caller in between). */
bool pipeline_screen(const pipeline_t *p, req_t *r);

#endif
