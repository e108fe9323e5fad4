/* libmicrohttpd glue: reads each request (target, headers, body with its
 * early-413 rules) into a req_t, hands it to http/pipeline.c, and queues
 * what the pipeline answered. The first handler call never answers (see
 * on_request) unless it refuses the request outright, and every answer
 * carries X-Request-Id.
 *
 * What no client may hold (SPEC 8): a request head is due within
 * --header-timeout of the connection waiting for it and a body within
 * --body-timeout of its head (a watchdog thread shuts the socket of a
 * connection past its deadline); an address holds at most
 * --max-connections-per-address connections; the bodies buffered across
 * all connections stay within --body-memory; a token route's body is read
 * only once the token is known good. */
#include "http/server.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/peer.h"
#include "http/pipeline.h"
#include "http/request.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/num.h"
#include "util/workpool.h"

#define RESPONSE_MAX (32u << 20)
/* A body over the cap is read and dropped up to this many bytes and
 * answered 413 at its end: closing on a client still sending makes its
 * kernel reset the connection, and the client never reads the 413. Past
 * this, the 413 is sent at once and the connection closed. */
#define BODY_DRAIN_MAX (16u << 20)
#define URI_MAX_LEN 8192

/* Where a connection is in its request, for the watchdog: the deadline
 * of WATCH_HEAD and WATCH_BODY counts from since_ns. */
enum { WATCH_HEAD, WATCH_BODY, WATCH_WORK };

/* One open connection (libmicrohttpd's socket context), in the server's
 * list from its accept to its close. phase and since_ns are written by the
 * connection's polling thread and read by the watchdog. */
typedef struct conn_watch {
    struct conn_watch *prev, *next;
    int fd;
    _Atomic int phase;
    _Atomic int64_t since_ns;
    bool shut; /* the watchdog shut it down (under the list's lock) */
} conn_watch;

struct http_server {
    struct MHD_Daemon *d;
    pipeline_t pipeline;
    size_t body_max;
    size_t max_header_bytes;
    size_t body_budget;
    _Atomic size_t body_bytes; /* buffered now, across all connections */
    int64_t header_timeout_ns;
    int64_t body_timeout_ns;
    pthread_mutex_t watch_lock;
    conn_watch watch_head; /* the list's sentinel */
    pthread_t watchdog;
    bool watchdog_running;
    _Atomic bool stopping;
    unsigned port;
    bool ipv6;
    workpool_t *pool; /* the deferred halves of handlers (http/defer.c) */
    workpool_t *store_pool; /* steps waiting on a remote store or Redis; NULL: none */
};

/* A request whose handler deferred (req_defer): its req_t and the strings
 * it points at, kept while the connection is suspended. */
typedef struct deferred {
    req_t r;
    const http_server *s;
    struct MHD_Connection *c;
    char peer[ADDR_MAX], addr[ADDR_MAX], rid[REQID_MAX + 1];
} deferred;

/* Per-request state, created by the URI callback (the first thing
 * libmicrohttpd tells us about a request) and freed when it completes. */
typedef struct conn_ctx {
    char *uri;     /* raw request target: path and query, as sent */
    bool started;  /* the header callback has run */
    bool too_big;  /* the body passed the cap */
    bool busy;     /* the body budget was spent: read and dropped, answered 503 */
    bool answered; /* a response was queued before the body's end (a refusal, 401, 413) */
    bool nul_target; /* the raw target holds %00 */
    uint64_t received;
    size_t reserved; /* bytes of the body budget this request holds */
    int64_t start_ns; /* when the request line arrived: the latency's start */
    buf_t body;
    deferred *pending; /* suspended until a pool thread answered it */
} conn_ctx;

static _Atomic long inflight;

static void req_dispose(req_t *r);

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    const http_server *s = cls;
    conn_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    /* Decoded, %00 would end the path early (/metrics%00.html reads as
     * /metrics): no target may hold it. */
    x->nul_target = strstr(uri, "%00") != NULL;
    size_t n = strnlen(uri, URI_MAX_LEN);
    x->uri = strndup(uri, n);
    x->start_ns = clock_mono_ns();
    buf_init(&x->body, s->body_max);
    atomic_fetch_add(&inflight, 1);
    return x;
}

static conn_watch *watch_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void watch_phase(struct MHD_Connection *c, int phase)
{
    conn_watch *w = watch_of(c);
    if (!w)
        return;
    atomic_store(&w->since_ns, clock_mono_ns());
    atomic_store(&w->phase, phase);
}

/* Gives back what x holds of the body budget. */
static void budget_release(http_server *s, conn_ctx *x)
{
    if (x->reserved)
        atomic_fetch_sub(&s->body_bytes, x->reserved);
    x->reserved = 0;
}

/* Takes n bytes of the body budget for x; false when that would pass it. */
static bool budget_take(http_server *s, conn_ctx *x, size_t n)
{
    size_t was = atomic_fetch_add(&s->body_bytes, n);
    if (was + n > s->body_budget) {
        atomic_fetch_sub(&s->body_bytes, n);
        return false;
    }
    x->reserved += n;
    return true;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    (void)toe;
    conn_ctx *x = *con_cls;
    if (!x)
        return;
    /* A kept-alive connection now waits for its next head. */
    watch_phase(c, WATCH_HEAD);
    budget_release(s, x);
    if (x->pending) {
        req_dispose(&x->pending->r);
        free(x->pending);
    }
    buf_free(&x->body);
    free(x->uri);
    free(x);
    *con_cls = NULL;
    atomic_fetch_sub(&inflight, 1);
}

static http_method parse_method(const char *m)
{
    if (strcmp(m, "GET") == 0) return HTTP_GET;
    if (strcmp(m, "POST") == 0) return HTTP_POST;
    if (strcmp(m, "PATCH") == 0) return HTTP_PATCH;
    if (strcmp(m, "DELETE") == 0) return HTTP_DELETE;
    if (strcmp(m, "PUT") == 0) return HTTP_PUT;
    if (strcmp(m, "HEAD") == 0) return HTTP_HEAD;
    if (strcmp(m, "OPTIONS") == 0) return HTTP_OPTIONS;
    return HTTP_OTHER;
}

/* ---- req_source over libmicrohttpd ---------------------------------------- */

static const char *mhd_header(void *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* libmicrohttpd hands values over as C strings, and "Bearer <token>\0junk"
 * must not authenticate as "Bearer <token>": such a value reads as "". */
static const char *mhd_header_whole(void *conn, const char *name)
{
    const char *v = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(conn, MHD_HEADER_KIND, name, strlen(name), &v, &n) !=
            MHD_YES ||
        !v)
        return NULL;
    return strlen(v) == n ? v : "";
}

static const char *mhd_query(void *conn, const char *key)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

typedef struct key_search {
    const char *key;
    bool found;
} key_search;

static enum MHD_Result has_key_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    (void)value;
    key_search *k = cls;
    if (key && strcmp(key, k->key) == 0) {
        k->found = true;
        return MHD_NO;
    }
    return MHD_YES;
}

/* Presence, not value: "?access_token" alone is still a token in the URL. */
static bool mhd_query_has(void *conn, const char *key)
{
    key_search k = {key, false};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, has_key_cb, &k);
    return k.found;
}

static const req_source mhd_source = {mhd_header, mhd_header_whole, mhd_query, mhd_query_has};

static enum MHD_Result send_req(struct MHD_Connection *c, req_t *r, const char *rid)
{
    size_t len = 0;
    struct MHD_Response *resp;
    bool has_body;
    if (r->file_body) {
        /* libmicrohttpd reads the file as the socket drains (sendfile where
         * it can) and closes the descriptor with the response: a dump of any
         * size costs one buffer, not its size */
        resp = MHD_create_response_from_fd64(r->file_size, r->file_fd);
        if (!resp)
            return MHD_NO; /* req_dispose closes the descriptor */
        r->file_body = false;
        has_body = true;
    } else {
        char *body = buf_steal(&r->out, &len);
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
            free(body);
            return MHD_NO;
        }
        has_body = len > 0;
    }
    if (r->content_type && has_body)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    /* libmicrohttpd refuses empty header values; an empty list (e.g.
     * X-Accepted-OAuth-Scopes of a route any token may call, as GitHub's
     * /user) goes out as one space, which clients trim to "". */
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name,
                                r->headers[i].value[0] ? r->headers[i].value : " ");
    /* Added here, not through resp_header(), so that no handler's headers
     * can crowd it out: every answer carries it. */
    MHD_add_response_header(resp, "X-Request-Id", rid);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void req_dispose(req_t *r)
{
    buf_free(&r->out);
    if (r->file_body) {
        close(r->file_fd);
        r->file_body = false;
    }
    for (int i = 0; i < r->nheaders; i++)
        free(r->headers[i].value);
    r->nheaders = 0;
}


/* On a pool thread: the handler's slow half, then the connection goes
 * back to its polling thread, which sends the answer (on_request). */
static void deferred_run(void *arg)
{
    deferred *d = arg;
    pipeline_finish(&d->s->pipeline, &d->r);
    MHD_resume_connection(d->c);
}

static _Atomic uint64_t store_handed;

/* On a store pool thread: the walk from the step that needed the store.
 * A handler that then defers its slow half goes on to the hashing pool,
 * whose thread resumes the connection (the place is req_defer's). */
static void store_run(void *arg)
{
    deferred *d = arg;
    if (!pipeline_resume(&d->s->pipeline, &d->r)) {
        workpool_submit(d->s->pool, deferred_run, d);
        return;
    }
    MHD_resume_connection(d->c);
}

/* The pipeline came back pending: r (on the caller's stack) moves to the
 * heap with its strings, the connection is suspended (no polling thread
 * waits on it), and the pool place the pipeline or req_defer reserved gets
 * the job: the store pool's (r->resume) or the hashing pool's. */
static enum MHD_Result suspend(const http_server *s, struct MHD_Connection *c, conn_ctx *x,
                               req_t *r)
{
    deferred *d = malloc(sizeof *d);
    if (!d) {
        if (r->resume) {
            workpool_release(s->store_pool);
            free(r->resume);
            r->resume = NULL;
        } else {
            workpool_release(s->pool);
            r->pending.fn(NULL, r->pending.ctx);
        }
        req_dispose(r);
        return MHD_NO;
    }
    d->r = *r;
    d->s = s;
    d->c = c;
    snprintf(d->peer, sizeof d->peer, "%s", r->peer_addr);
    snprintf(d->addr, sizeof d->addr, "%s", r->client_addr);
    snprintf(d->rid, sizeof d->rid, "%s", r->request_id);
    d->r.peer_addr = d->peer;
    d->r.client_addr = d->addr;
    d->r.request_id = d->rid;
    x->pending = d;
    MHD_suspend_connection(c);
    if (d->r.resume) {
        atomic_fetch_add_explicit(&store_handed, 1, memory_order_relaxed);
        workpool_submit(s->store_pool, store_run, d);
    } else {
        workpool_submit(s->pool, deferred_run, d);
    }
    return MHD_YES;
}

/* ---- checks on the head ---------------------------------------------------- */

/* libmicrohttpd 0.9.75 measures a header value with strlen, so
 * "Bearer <token>\0junk" reads as "Bearer <token>". The values lie in the
 * connection's read buffer in the order sent, each followed by what ended
 * its line (turned into NULs) up to the next header's name: anything but
 * NUL, CR, LF, space or tab in that gap is the rest of a value cut at a
 * NUL. */
typedef struct nul_scan {
    const char *head, *end; /* the request head in the read buffer */
    const char *prev_end;   /* where the previous value's measured length ends */
    bool found;
} nul_scan;

static bool gap_is_line_end(const char *from, const char *to)
{
    for (const char *p = from; p < to; p++)
        if (*p != '\0' && *p != '\r' && *p != '\n' && *p != ' ' && *p != '\t')
            return false;
    return true;
}

static void nul_scan_gap(nul_scan *n, const char *next)
{
    if (n->prev_end && n->prev_end >= n->head && next <= n->end && n->prev_end <= next &&
        !gap_is_line_end(n->prev_end, next))
        n->found = true;
}

static enum MHD_Result nul_scan_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key_size;
    nul_scan *n = cls;
    if (!key)
        return MHD_YES;
    nul_scan_gap(n, key);
    n->prev_end = value ? value + value_size : NULL;
    return n->found ? MHD_NO : MHD_YES;
}

/* What is wrong with the head of a request, judged on its first handler
 * call: a NUL byte (in the target or a header value), or a head over
 * --max-header-bytes (libmicrohttpd's own limit is its connection memory,
 * which must hold more than the head). method points at the head's start
 * in the read buffer. */
static req_refusal head_refusal(const http_server *s, struct MHD_Connection *c, const conn_ctx *x,
                                const char *method)
{
    if (x->nul_target)
        return REQ_REFUSE_NUL;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (!ci)
        return REQ_REFUSE_NONE;
    if (ci->header_size > s->max_header_bytes)
        return REQ_REFUSE_HEAD_SIZE;
    nul_scan n = {method, method + ci->header_size, NULL, false};
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, nul_scan_cb, &n);
    if (!n.found)
        nul_scan_gap(&n, n.end);
    return n.found ? REQ_REFUSE_NUL : REQ_REFUSE_NONE;
}

/* ---- one request through the pipeline --------------------------------------- */

/* The strings a req_t points into, alive while it is. */
typedef struct req_facts {
    char peer[ADDR_MAX], addr[ADDR_MAX];
    char rid[REQID_MAX + 1];
} req_facts;

static void req_fill(req_t *r, req_facts *f, struct MHD_Connection *c, const conn_ctx *x,
                     const char *url, const char *method, req_refusal refusal)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->out, RESPONSE_MAX);
    r->method = parse_method(method);
    r->method_text = method;
    r->path = url;
    r->uri = x->uri;
    r->src = &mhd_source;
    r->conn = c;
    r->body = x->body.len ? x->body.data : NULL;
    r->body_len = x->body.len;
    r->body_too_big = x->too_big;
    r->refusal = refusal;
    r->start_ns = x->start_ns;
    peer_addresses(c, f->peer, sizeof f->peer, f->addr, sizeof f->addr);
    r->peer_addr = f->peer;
    r->client_addr = f->addr;
    peer_request_id(c, f->rid);
    r->request_id = f->rid;
}

/* One request: its facts into a req_t, the pipeline, the answer out. */
static enum MHD_Result dispatch(const http_server *s, struct MHD_Connection *c, conn_ctx *x,
                                const char *url, const char *method, req_refusal refusal)
{
    req_t r;
    req_facts f;
    req_fill(&r, &f, c, x, url, method, refusal);
    r.pool = s->pool;
    if (!pipeline_run(&s->pipeline, &r))
        return suspend(s, c, x, &r);
    enum MHD_Result ret = send_req(c, &r, f.rid);
    req_dispose(&r);
    return ret;
}

/* Before a body is read: the route and a token route's authentication
 * (pipeline_screen). true with *ret set when that answered; the body is
 * then never read (libmicrohttpd closes the connection after an answer
 * queued this early, which is what a refused upload should get). */
static bool screen(const http_server *s, struct MHD_Connection *c, conn_ctx *x, const char *url,
                   const char *method, enum MHD_Result *ret)
{
    req_t r;
    req_facts f;
    req_fill(&r, &f, c, x, url, method, REQ_REFUSE_NONE);
    bool answered = pipeline_screen(&s->pipeline, &r);
    if (answered)
        *ret = send_req(c, &r, f.rid);
    req_dispose(&r);
    return answered;
}

/* Whether the request announces a body (a length above 0, or chunks). */
static bool has_body(struct MHD_Connection *c, uint64_t length, bool has_length)
{
    if (has_length)
        return length > 0;
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) !=
           NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    http_server *s = cls;
    conn_ctx *x = *con_cls;
    if (!x)
        return MHD_NO; /* out of memory in on_uri: drop the connection */
    if (!x->started) {
        /* Answer on the next call, never this one: libmicrohttpd 0.9.75
         * closes the connection after a response queued on the first call,
         * which would cost keep-alive (measured: ~8x fewer requests/s).
         * Refusals are the exception: they should close. */
        x->started = true;
        req_refusal why = head_refusal(s, c, x, method);
        if (why != REQ_REFUSE_NONE) {
            x->answered = true;
            return dispatch(s, c, x, url, method, why);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        uint64_t n = 0;
        if (cl) {
            /* libmicrohttpd refuses a malformed length before we see it; one
             * that still does not parse (too large for 64 bits) is too big. */
            if (!num_parse_u64(cl, UINT64_MAX, &n))
                n = UINT64_MAX;
            if (n > s->body_max)
                x->too_big = true;
            if (n > BODY_DRAIN_MAX) {
                x->answered = true;
                return dispatch(s, c, x, url, method, REQ_REFUSE_NONE);
            }
        }
        if (!has_body(c, n, cl != NULL)) {
            watch_phase(c, WATCH_WORK);
            return MHD_YES;
        }
        enum MHD_Result ret = MHD_NO;
        if (!x->too_big && screen(s, c, x, url, method, &ret)) {
            x->answered = true;
            return ret;
        }
        watch_phase(c, WATCH_BODY);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        x->received += n;
        *upload_data_size = 0;
        if (x->answered)
            return MHD_YES;
        /* Past the budget the body is drained like a too large one (see
         * BODY_DRAIN_MAX) so that the client reads its 503. */
        if (!x->too_big && !x->busy && !budget_take(s, x, n))
            x->busy = true;
        if (!x->too_big && !x->busy && !buf_append(&x->body, upload_data, n))
            x->too_big = true;
        if (x->too_big || x->busy) {
            buf_free(&x->body);
            budget_release(s, x);
        }
        if (x->received > BODY_DRAIN_MAX) {
            x->answered = true;
            return dispatch(s, c, x, url, method, REQ_REFUSE_NONE);
        }
        return MHD_YES;
    }
    if (x->pending) {
        /* Resumed: the pool thread answered. */
        deferred *d = x->pending;
        x->pending = NULL;
        x->answered = true;
        enum MHD_Result ret = send_req(c, &d->r, d->rid);
        req_dispose(&d->r);
        free(d);
        return ret;
    }
    watch_phase(c, WATCH_WORK);
    if (x->answered)
        return MHD_YES;
    return dispatch(s, c, x, url, method, x->busy ? REQ_REFUSE_BUSY : REQ_REFUSE_NONE);
}

/* ---- the watchdog --------------------------------------------------------- */

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_watch *w = calloc(1, sizeof *w);
        *socket_context = w;
        if (!w)
            return; /* unwatched: the idle timeout still bounds it */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        w->fd = ci ? ci->connect_fd : -1;
        atomic_store(&w->phase, WATCH_HEAD);
        atomic_store(&w->since_ns, clock_mono_ns());
        pthread_mutex_lock(&s->watch_lock);
        w->next = s->watch_head.next;
        w->prev = &s->watch_head;
        w->next->prev = w;
        s->watch_head.next = w;
        pthread_mutex_unlock(&s->watch_lock);
        return;
    }
    /* Closed: libmicrohttpd closes the socket after this returns, so once
     * the entry is off the list the watchdog cannot touch a reused fd. */
    conn_watch *w = *socket_context;
    if (!w)
        return;
    pthread_mutex_lock(&s->watch_lock);
    w->prev->next = w->next;
    w->next->prev = w->prev;
    pthread_mutex_unlock(&s->watch_lock);
    free(w);
    *socket_context = NULL;
}

#define WATCHDOG_TICK_US 100000

/* Every tick, shuts the socket of each connection past its head or body
 * deadline; libmicrohttpd then sees the end of the stream and closes it as
 * it would any other. */
static void *watchdog_main(void *arg)
{
    http_server *s = arg;
    while (!atomic_load(&s->stopping)) {
        usleep(WATCHDOG_TICK_US);
        int64_t now = clock_mono_ns();
        pthread_mutex_lock(&s->watch_lock);
        for (conn_watch *w = s->watch_head.next; w != &s->watch_head; w = w->next) {
            int phase = atomic_load(&w->phase);
            int64_t limit = phase == WATCH_HEAD   ? s->header_timeout_ns
                            : phase == WATCH_BODY ? s->body_timeout_ns
                                                  : 0;
            if (w->shut || w->fd < 0 || !limit || now - atomic_load(&w->since_ns) <= limit)
                continue;
            shutdown(w->fd, SHUT_RDWR);
            w->shut = true;
        }
        pthread_mutex_unlock(&s->watch_lock);
    }
    return NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_msg(LOG_DEBUG, "http: %s", msg);
}

static bool resolve_listen(const http_options *o, struct sockaddr_storage *ss, socklen_t *len)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%u", o->listen_port);
    if (getaddrinfo(o->listen_host, port, &hints, &res) != 0 || !res)
        return false;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

long http_server_inflight(void) { return atomic_load(&inflight); }

static _Atomic(workpool_t *) live_pool;

unsigned http_server_slow_busy(void)
{
    workpool_t *p = atomic_load(&live_pool);
    return p ? workpool_busy(p) : 0;
}

uint64_t http_server_slow_refused(void)
{
    workpool_t *p = atomic_load(&live_pool);
    return p ? workpool_refused(p) : 0;
}

static _Atomic(workpool_t *) live_store_pool;

unsigned http_server_store_busy(void)
{
    workpool_t *p = atomic_load(&live_store_pool);
    return p ? workpool_busy(p) : 0;
}

uint64_t http_server_store_refused(void)
{
    workpool_t *p = atomic_load(&live_store_pool);
    return p ? workpool_refused(p) : 0;
}

uint64_t http_server_store_late(void) { return pipeline_store_late(); }

uint64_t http_server_store_handed(void)
{
    return atomic_load_explicit(&store_handed, memory_order_relaxed);
}

http_server *http_server_start(const http_options *o)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (!resolve_listen(o, &ss, &sslen)) {
        fprintf(stderr, "piora: cannot resolve listen address %s\n", o->listen_host);
        return NULL;
    }
    http_server *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "piora: out of memory\n");
        return NULL;
    }
    char why[160] = "";
    if (!pipeline_init(&s->pipeline, &o->site, o->thread_store, o->secure_cookies, why,
                       sizeof why)) {
        fprintf(stderr, "piora: cannot build the route index: %s\n", why);
        free(s);
        return NULL;
    }
    s->body_max = o->body_max;
    s->max_header_bytes = o->max_header_bytes;
    s->body_budget = o->body_budget;
    s->header_timeout_ns = (int64_t)o->header_timeout_s * 1000000000;
    s->body_timeout_ns = (int64_t)o->body_timeout_s * 1000000000;
    s->watch_head.next = s->watch_head.prev = &s->watch_head;
    pthread_mutex_init(&s->watch_lock, NULL);
    s->ipv6 = ss.ss_family == AF_INET6;
    s->pool = workpool_new(o->slow_threads, o->slow_max);
    if (!s->pool) {
        fprintf(stderr, "piora: cannot start the password-hashing threads\n");
        pipeline_free(&s->pipeline);
        free(s);
        return NULL;
    }
    if (o->store_remote || o->limits_remote) {
        s->store_pool = workpool_new(o->store_threads, o->store_max);
        if (!s->store_pool) {
            fprintf(stderr, "piora: cannot start the store threads\n");
            workpool_free(s->pool);
            pipeline_free(&s->pipeline);
            free(s);
            return NULL;
        }
        s->pipeline.store_pool = s->store_pool;
        s->pipeline.store_local = !o->store_remote;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (s->ipv6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(
        flags, o->listen_port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, o->threads,
        MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_address,
        MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s,
        /* Room for the head and the answer's own headers; the head's limit
         * is checked exactly in head_refusal(). No address reuse option:
         * SO_REUSEPORT would let a second piora share this port. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->max_header_bytes + 16384,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_END);
    if (!s->d) {
        fprintf(stderr, "piora: cannot listen on %s:%u: %s\n", o->listen_host, o->listen_port,
                strerror(errno));
        workpool_free(s->store_pool);
        workpool_free(s->pool);
        pipeline_free(&s->pipeline);
        pthread_mutex_destroy(&s->watch_lock);
        free(s);
        return NULL;
    }
    s->watchdog_running = pthread_create(&s->watchdog, NULL, watchdog_main, s) == 0;
    if (!s->watchdog_running)
        log_msg(LOG_WARN, "http: no watchdog thread: head and body deadlines are off");
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->listen_port;
    atomic_store(&live_pool, s->pool);
    atomic_store(&live_store_pool, s->store_pool);
    return s;
}

unsigned http_server_port(const http_server *s) { return s->port; }

bool http_server_ipv6(const http_server *s) { return s->ipv6; }

void http_server_stop(http_server *s)
{
    /* New clients are refused at once (shutdown ends the listen), but the
     * descriptor is closed only after MHD_stop_daemon: libmicrohttpd's
     * manual says a polling thread may still be using it until then, and
     * closing it earlier is a race ThreadSanitizer caught in CI. */
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET)
        shutdown(ls, SHUT_RDWR);
    for (int i = 0; i < 1000 && atomic_load(&inflight) > 0; i++)
        usleep(10000);
    atomic_store(&s->stopping, true);
    if (s->watchdog_running)
        pthread_join(s->watchdog, NULL);
    /* Every job still waiting runs and resumes its connection before the
     * daemon goes: libmicrohttpd must not stop with one suspended. */
    atomic_store(&live_pool, NULL);
    atomic_store(&live_store_pool, NULL);
    /* The store pool first: its jobs may still hand a hash to the other.
     * Both stay allocated until the daemon's threads, which reserve places
     * in them, are gone. */
    workpool_stop(s->store_pool);
    workpool_stop(s->pool);
    MHD_stop_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    workpool_free(s->store_pool);
    workpool_free(s->pool);
    pipeline_free(&s->pipeline);
    pthread_mutex_destroy(&s->watch_lock);
    free(s);
}
