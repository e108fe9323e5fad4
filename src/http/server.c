/* libmicrohttpd glue: reads each request (target, headers, body with its
 * early-413 rules) into a req_t, hands it to http/pipeline.c, and queues
 * what the pipeline answered. The first handler call never answers (see
 * on_request), and every answer carries X-Request-Id. */
#include "http/server.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
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

struct http_server {
    struct MHD_Daemon *d;
    pipeline_t pipeline;
    size_t body_max;
    unsigned port;
    bool ipv6;
    workpool_t *pool; /* the deferred halves of handlers (http/defer.c) */
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
    bool answered; /* a response was queued early (413) */
    uint64_t received;
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
    size_t n = strnlen(uri, URI_MAX_LEN);
    x->uri = strndup(uri, n);
    x->start_ns = clock_mono_ns();
    buf_init(&x->body, s->body_max);
    atomic_fetch_add(&inflight, 1);
    return x;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_ctx *x = *con_cls;
    if (!x)
        return;
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
    char *body = buf_steal(&r->out, &len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (r->content_type && len)
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

/* The pipeline came back pending: r (on the caller's stack) moves to the
 * heap with its strings, the connection is suspended (no polling thread
 * waits on it), and the pool place req_defer reserved gets the job. */
static enum MHD_Result suspend(const http_server *s, struct MHD_Connection *c, conn_ctx *x,
                               req_t *r)
{
    deferred *d = malloc(sizeof *d);
    if (!d) {
        workpool_release(s->pool);
        r->pending.fn(NULL, r->pending.ctx);
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
    workpool_submit(s->pool, deferred_run, d);
    return MHD_YES;
}

/* One request: its facts into a req_t, the pipeline, the answer out. */
static enum MHD_Result dispatch(const http_server *s, struct MHD_Connection *c, conn_ctx *x,
                                const char *url, const char *method)
{
    req_t r;
    memset(&r, 0, sizeof r);
    buf_init(&r.out, RESPONSE_MAX);
    r.method = parse_method(method);
    r.method_text = method;
    r.path = url;
    r.uri = x->uri;
    r.src = &mhd_source;
    r.conn = c;
    r.body = x->body.len ? x->body.data : NULL;
    r.body_len = x->body.len;
    r.body_too_big = x->too_big;
    r.start_ns = x->start_ns;
    char peer[ADDR_MAX], addr[ADDR_MAX];
    peer_addresses(c, peer, sizeof peer, addr, sizeof addr);
    r.peer_addr = peer;
    r.client_addr = addr;
    char rid[REQID_MAX + 1];
    peer_request_id(c, rid);
    r.request_id = rid;
    r.pool = s->pool;
    if (!pipeline_run(&s->pipeline, &r))
        return suspend(s, c, x, &r);
    enum MHD_Result ret = send_req(c, &r, rid);
    req_dispose(&r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    const http_server *s = cls;
    conn_ctx *x = *con_cls;
    if (!x)
        return MHD_NO; /* out of memory in on_uri: drop the connection */
    if (!x->started) {
        /* Answer on the next call, never this one: libmicrohttpd 0.9.75
         * closes the connection after a response queued on the first call,
         * which would cost keep-alive (measured: ~8x fewer requests/s). */
        x->started = true;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            /* libmicrohttpd refuses a malformed length before we see it; one
             * that still does not parse (too large for 64 bits) is too big. */
            uint64_t n = 0;
            if (!num_parse_u64(cl, UINT64_MAX, &n))
                n = UINT64_MAX;
            if (n > s->body_max)
                x->too_big = true;
            if (n > BODY_DRAIN_MAX) {
                x->answered = true;
                return dispatch(s, c, x, url, method);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        x->received += *upload_data_size;
        if (!x->too_big && !buf_append(&x->body, upload_data, *upload_data_size))
            x->too_big = true;
        if (x->too_big)
            buf_free(&x->body);
        *upload_data_size = 0;
        if (x->received > BODY_DRAIN_MAX && !x->answered) {
            x->answered = true;
            return dispatch(s, c, x, url, method);
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
    if (x->answered)
        return MHD_YES;
    return dispatch(s, c, x, url, method);
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
    s->ipv6 = ss.ss_family == AF_INET6;
    s->pool = workpool_new(o->slow_threads, o->slow_max);
    if (!s->pool) {
        fprintf(stderr, "piora: cannot start the password-hashing threads\n");
        pipeline_free(&s->pipeline);
        free(s);
        return NULL;
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
        MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->max_header_bytes + 16384,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_END);
    if (!s->d) {
        fprintf(stderr, "piora: cannot listen on %s:%u: %s\n", o->listen_host, o->listen_port,
                strerror(errno));
        workpool_free(s->pool);
        pipeline_free(&s->pipeline);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->listen_port;
    atomic_store(&live_pool, s->pool);
    return s;
}

unsigned http_server_port(const http_server *s) { return s->port; }

bool http_server_ipv6(const http_server *s) { return s->ipv6; }

void http_server_stop(http_server *s)
{
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    for (int i = 0; i < 1000 && atomic_load(&inflight) > 0; i++)
        usleep(10000);
    /* Every job still waiting runs and resumes its connection before the
     * daemon goes: libmicrohttpd must not stop with one suspended. */
    atomic_store(&live_pool, NULL);
    workpool_free(s->pool);
    MHD_stop_daemon(s->d);
    pipeline_free(&s->pipeline);
    free(s);
}
