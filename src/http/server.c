/* listen -> parse -> authenticate -> rate-limit -> authorize -> handler ->
 * respond. This file is the first and last of those steps and the one place
 * that orders the others (dispatch() below reads top to bottom as SPEC 3). */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/scopes.h"
#include "authn/authn.h"
#include "authn/lastused.h"
#include "http/request.h"
#include "http/respcache.h"
#include "http/response.h"
#include "http/router.h"
#include "monitor/accesslog.h"
#include "monitor/metrics.h"
#include "monitor/proxies.h"
#include "monitor/reqid.h"
#include "monitor/usagelog.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "web/web.h"

#define RESPONSE_MAX (32u << 20)
/* A body over BODY_MAX_BYTES is read and dropped up to this many bytes and
 * answered 413 at its end: closing on a client still sending makes its
 * kernel reset the connection, and the client never reads the 413. Past
 * this, the 413 is sent at once and the connection closed. */
#define BODY_DRAIN_MAX (16u << 20)
#define URI_MAX_LEN 8192

/* Per-request state, created by the URI callback (the first thing
 * libmicrohttpd tells us about a request) and freed when it completes. */
typedef struct conn_ctx {
    char *uri;     /* raw request target: path and query, as sent */
    bool started;  /* the header callback has run */
    bool too_big;  /* the body passed BODY_MAX_BYTES */
    bool answered; /* a response was queued early (413) */
    uint64_t received;
    int64_t start_ns; /* when the request line arrived: the latency's start */
    buf_t body;
} conn_ctx;

static _Atomic long inflight;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    conn_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    size_t n = strnlen(uri, URI_MAX_LEN);
    x->uri = strndup(uri, n);
    x->start_ns = clock_mono_ns();
    buf_init(&x->body, BODY_MAX_BYTES);
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

static void client_addr(struct MHD_Connection *c, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outlen, "unknown");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)outlen);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
    }
}

typedef struct xff_acc {
    char buf[1024];
    size_t len;
    bool overflow;
} xff_acc;

static enum MHD_Result xff_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    (void)kind;
    xff_acc *a = cls;
    if (!key || strcasecmp(key, "X-Forwarded-For") != 0 || !value)
        return MHD_YES;
    size_t n = strlen(value);
    if (a->len + n + 2 > sizeof a->buf) {
        a->overflow = true;
        return MHD_NO;
    }
    if (a->len)
        a->buf[a->len++] = ',';
    memcpy(a->buf + a->len, value, n);
    a->len += n;
    a->buf[a->len] = '\0';
    return MHD_YES;
}

/* The socket's address, or the client behind a trusted proxy (every
 * X-Forwarded-For header, in order, read as one list). An oversized list
 * is not believed at all. */
static void request_addr(struct MHD_Connection *c, const char *peer, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", peer);
    if (!proxies_any() || !proxies_trusted(peer))
        return;
    xff_acc a;
    a.len = 0;
    a.overflow = false;
    a.buf[0] = '\0';
    MHD_get_connection_values(c, MHD_HEADER_KIND, xff_cb, &a);
    if (!a.overflow && a.len)
        proxies_client_addr(peer, a.buf, out, outlen);
}

/* The client's X-Request-Id when it is sane, else a new one. */
static void request_id(struct MHD_Connection *c, char out[REQID_MAX + 1])
{
    const char *v = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "X-Request-Id", 12, &v, &n) ==
            MHD_YES &&
        v && reqid_valid(v, n) && strlen(v) == n) {
        memcpy(out, v, n);
        out[n] = '\0';
        return;
    }
    reqid_new(out);
}

static enum MHD_Result has_key_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    (void)value;
    if (key && strcmp(key, "access_token") == 0) {
        *(bool *)cls = true;
        return MHD_NO;
    }
    return MHD_YES;
}

/* Presence, not value: "?access_token" alone is still a token in the URL. */
static bool url_has_token(struct MHD_Connection *c)
{
    bool found = false;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, has_key_cb, &found);
    return found;
}

/* The Authorization value, or "" (an invalid one) when it holds a NUL byte:
 * libmicrohttpd hands values over as C strings, and "Bearer <token>\0junk"
 * must not authenticate as "Bearer <token>". */
static const char *authorization_header(struct MHD_Connection *c)
{
    const char *v = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION,
                                      strlen(MHD_HTTP_HEADER_AUTHORIZATION), &v, &n) != MHD_YES ||
        !v)
        return NULL;
    return strlen(v) == n ? v : "";
}

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

static void set_challenge(req_t *r, const char *error, const char *description)
{
    char v[256];
    if (error)
        snprintf(v, sizeof v, "Bearer realm=\"piora\", error=\"%s\", error_description=\"%s\"",
                 error, description);
    else
        snprintf(v, sizeof v, "Bearer realm=\"piora\"");
    resp_header(r, "WWW-Authenticate", v);
}

static void set_retry_after(req_t *r, int64_t secs)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)(secs > 0 ? secs : 1));
    resp_header(r, "Retry-After", v);
}

/* Steps 1-3 failed: the answer for each outcome. */
static void answer_authn_failure(req_t *r, authn_outcome o, int64_t retry_after)
{
    switch (o) {
    case AUTHN_MISSING:
        set_challenge(r, NULL, NULL);
        resp_problem(r, 401, "missing_token",
                     "Authentication required: send \"Authorization: Bearer <token>\".", NULL);
        break;
    case AUTHN_URL_TOKEN:
        set_challenge(r, "invalid_request", "Tokens are not accepted in the URL");
        resp_problem(r, 400, "invalid_request",
                     "Tokens are not accepted in the URL (access_token); send them in the "
                     "Authorization header.",
                     NULL);
        break;
    case AUTHN_EXPIRED:
        set_challenge(r, "invalid_token", "The access token expired");
        resp_problem(r, 401, "token_expired", "The access token expired.", NULL);
        break;
    case AUTHN_REVOKED:
        set_challenge(r, "invalid_token", "The access token was revoked");
        resp_problem(r, 401, "token_revoked", "The access token was revoked.", NULL);
        break;
    case AUTHN_THROTTLED:
        set_retry_after(r, retry_after);
        resp_problem(r, 429, "rate_limited",
                     "Too many failed authentication attempts from this address.", NULL);
        break;
    case AUTHN_UNAVAILABLE:
        resp_problem(r, 503, "unavailable", "The database is unavailable; try again shortly.",
                     NULL);
        break;
    case AUTHN_INVALID:
    default:
        set_challenge(r, "invalid_token", "The access token is invalid");
        resp_problem(r, 401, "invalid_token", "The access token is invalid.", NULL);
        break;
    }
}

static void set_scope_headers(req_t *r, const principal_t *who, const route_t *rt)
{
    char v[SCOPES_STR_MAX];
    scopes_format(who->scopes, ", ", v, sizeof v);
    resp_header(r, "X-OAuth-Scopes", v);
    scopes_format(rt->scopes, ", ", v, sizeof v);
    resp_header(r, "X-Accepted-OAuth-Scopes", v);
}

static void set_rate_headers(req_t *r, const ratelimit_result *rl)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)rl->limit);
    resp_header(r, "X-RateLimit-Limit", v);
    snprintf(v, sizeof v, "%lld", (long long)rl->remaining);
    resp_header(r, "X-RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%lld", (long long)(rl->limit - rl->remaining));
    resp_header(r, "X-RateLimit-Used", v);
    snprintf(v, sizeof v, "%lld", (long long)rl->reset);
    resp_header(r, "X-RateLimit-Reset", v);
}

static void answer_insufficient_scope(req_t *r, const principal_t *who, const route_t *rt)
{
    char need[SCOPES_STR_MAX], v[SCOPES_STR_MAX + 96];
    scopes_format(rt->scopes, " ", need, sizeof need);
    snprintf(v, sizeof v, "Bearer realm=\"piora\", error=\"insufficient_scope\", scope=\"%s\"",
             need);
    resp_header(r, "WWW-Authenticate", v);
    json_t *extra = json_object(), *req = json_array(), *got = json_array();
    for (int i = 0; i < SCOPE_COUNT; i++) {
        if (rt->scopes & (1u << i))
            json_array_append_new(req, json_string(scope_name(i)));
        if (who->scopes & (1u << i))
            json_array_append_new(got, json_string(scope_name(i)));
    }
    json_object_set_new(extra, "required_scopes", req);
    json_object_set_new(extra, "granted_scopes", got);
    char detail[SCOPES_STR_MAX + 64];
    scopes_format(rt->scopes, " or ", need, sizeof need);
    snprintf(detail, sizeof detail, "This endpoint needs the scope %s.", need);
    resp_problem(r, 403, "insufficient_scope", detail, extra);
}

static int method_index(http_method m)
{
    return __builtin_ctz((unsigned)m);
}

/* What one request leaves behind for operators: its metrics, its access-log
 * line and, for a known token, its usage-log row. Runs after the response
 * is complete and before it is queued; it only copies into memory. */
typedef struct req_trace {
    int slot;           /* metrics route slot */
    int64_t token_id;   /* 0: no token, or one that is not known */
    bool usage;         /* log this request in the token's usage log */
} req_trace;

static void record_request(struct MHD_Connection *c, conn_ctx *x, const char *method,
                           const req_t *r, const req_trace *t, const char *addr, const char *rid)
{
    int64_t dur = clock_mono_ns() - x->start_ns;
    metrics_request(t->slot, r->status, dur);
    if (t->usage && t->token_id > 0 && usagelog_running())
        usagelog_note(t->token_id, clock_now(), method, x->uri, r->status, addr,
                      MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_USER_AGENT));
    if (accesslog_running()) {
        access_entry e = {
            .method = method,
            .raw_uri = x->uri,
            .status = r->status,
            .duration_us = dur / 1000,
            .token_id = t->token_id,
            .addr = addr,
            .request_id = rid,
        };
        accesslog_write(&e);
    }
}

static metrics_auth_reason auth_reason(authn_outcome o)
{
    switch (o) {
    case AUTHN_MISSING: return MR_MISSING;
    case AUTHN_EXPIRED: return MR_EXPIRED;
    case AUTHN_REVOKED: return MR_REVOKED;
    default: return MR_INVALID;
    }
}

/* The whole request, in SPEC 3's order. */
static enum MHD_Result dispatch(struct MHD_Connection *c, conn_ctx *x, const char *url,
                                const char *method)
{
    req_t r;
    memset(&r, 0, sizeof r);
    buf_init(&r.out, RESPONSE_MAX);
    r.method = parse_method(method);
    r.path = url;
    r.conn = c;
    r.body = x->body.len ? x->body.data : NULL;
    r.body_len = x->body.len;
    char peer[ADDR_MAX], addr[ADDR_MAX];
    client_addr(c, peer, sizeof peer);
    request_addr(c, peer, addr, sizeof addr);
    r.peer_addr = peer;
    r.client_addr = addr;
    char rid[REQID_MAX + 1];
    request_id(c, rid);
    req_trace trace = {metrics_slot_unmatched(method_index(r.method)), 0, false};

    const route_t *rt = NULL;
    unsigned allowed = 0;
    principal_t who;
    memset(&who, 0, sizeof who);
    if (x->too_big) {
        resp_problem(&r, 413, "payload_too_large", "The request body is larger than 1 MiB.", NULL);
        goto send;
    }
    /* The dashboard has its own authentication (session + CSRF), never a
     * bearer token: its requests leave the API pipeline here. */
    if (web_owns(url)) {
        trace.slot = metrics_slot_dashboard(method_index(r.method));
        r.store = store_thread();
        if (!r.store)
            resp_problem(&r, 503, "unavailable", "The database is unavailable.", NULL);
        else
            web_dispatch(&r);
        goto send;
    }
    route_match_result m = router_match(api_routes, api_routes_count, r.method, url, &rt, &r.id,
                                        &allowed);
    if (resp_route_miss(&r, m, allowed))
        goto send;
    trace.slot = metrics_slot_route((int)(rt - api_routes));
    r.store = store_thread();
    if (!r.store) {
        resp_problem(&r, 503, "unavailable", "The database is unavailable.", NULL);
        goto send;
    }
    uint64_t addr_key = authn_addr_key(addr);

    if (rt->flags & ROUTE_NO_TOKEN) {
        if (rt->flags & ROUTE_ADDR_LIMIT) {
            ratelimit_result rl = authn_addr_take(addr_key);
            if (!rl.allowed) {
                metrics_rate_limited(ML_ADDRESS);
                set_retry_after(&r, rl.retry_after);
                resp_problem(&r, 429, "rate_limited", "Too many requests from this address.",
                             NULL);
                goto send;
            }
        }
        rt->fn(&r);
        goto send;
    }

    /* 1-3: authenticate */
    authn_gens gen = authn_sync(r.store);
    int64_t retry_after = 0;
    authn_outcome o = authn_authenticate(r.store, gen.tokens, authorization_header(c), url_has_token(c),
                                         addr_key, &who, &retry_after);
    if (o != AUTHN_OK) {
        if (o == AUTHN_THROTTLED)
            metrics_rate_limited(ML_AUTH_FAILURES);
        else if (o != AUTHN_UNAVAILABLE)
            metrics_auth_failure(auth_reason(o));
        /* A refused but known token: its owner should see the attempt. */
        if (o == AUTHN_REVOKED || o == AUTHN_EXPIRED) {
            trace.token_id = who.token_id;
            trace.usage = true;
        }
        answer_authn_failure(&r, o, retry_after);
        goto send;
    }
    trace.token_id = who.token_id;
    trace.usage = true;
    /* 4: rate-limit */
    ratelimit_result rl = authn_rate_take(&who);
    if (!rl.allowed) {
        metrics_rate_limited(ML_TOKEN);
        set_retry_after(&r, rl.retry_after);
        resp_problem(&r, 429, "rate_limited", "The token's rate limit is exceeded.", NULL);
        goto authenticated;
    }
    /* 5: authorize */
    if (!scopes_allow(who.effective, rt->scopes)) {
        metrics_auth_failure(MR_INSUFFICIENT_SCOPE);
        answer_insufficient_scope(&r, &who, rt);
        goto authenticated;
    }
    lastused_note(who.token_id, clock_now(), addr);
    r.who = &who;
    /* 6: the handler (team isolation is the handlers' and the store's) */
    if ((rt->flags & ROUTE_CACHEABLE) && respcache_get(who.team_id, x->uri, gen.pages, &r))
        goto authenticated;
    int64_t h0 = clock_mono_ns();
    rt->fn(&r);
    metrics_db(MD_HANDLER, clock_mono_ns() - h0);
    if (rt->flags & ROUTE_CACHEABLE)
        respcache_put(who.team_id, x->uri, gen.pages, &r);

authenticated:
    set_scope_headers(&r, &who, rt);
    set_rate_headers(&r, &rl);
send:
    if (!r.status)
        resp_problem(&r, 500, "internal_error", "An internal error occurred.", NULL);
    record_request(c, x, method, &r, &trace, addr, rid);
    enum MHD_Result ret = send_req(c, &r, rid);
    req_dispose(&r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
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
            unsigned long long n = strtoull(cl, NULL, 10);
            if (n > BODY_MAX_BYTES)
                x->too_big = true;
            if (n > BODY_DRAIN_MAX) {
                x->answered = true;
                return dispatch(c, x, url, method);
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
            return dispatch(c, x, url, method);
        }
        return MHD_YES;
    }
    if (x->answered)
        return MHD_YES;
    return dispatch(c, x, url, method);
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

static bool resolve_listen(const piora_config *cfg, struct sockaddr_storage *ss, socklen_t *len)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%u", cfg->listen_port);
    if (getaddrinfo(cfg->listen_host, port, &hints, &res) != 0 || !res)
        return false;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

static const char *method_name(http_method m)
{
    switch (m) {
    case HTTP_GET: return "GET";
    case HTTP_POST: return "POST";
    case HTTP_PUT: return "PUT";
    case HTTP_PATCH: return "PATCH";
    case HTTP_DELETE: return "DELETE";
    case HTTP_HEAD: return "HEAD";
    case HTTP_OPTIONS: return "OPTIONS";
    default: return "OTHER";
    }
}

/* Metrics, the last-used and usage-log writers and the access log: started
 * before the first request, stopped after the last one so that everything
 * buffered is written (SPEC 7: a graceful stop loses nothing). */
static bool monitoring_start(const piora_config *cfg)
{
    static const char *methods[256], *patterns[256];
    size_t n = api_routes_count < 256 ? api_routes_count : 256;
    for (size_t i = 0; i < n; i++) {
        methods[i] = method_name(api_routes[i].method);
        patterns[i] = api_routes[i].pattern;
    }
    metrics_init(methods, patterns, (int)n);
    char why[160];
    if (!proxies_parse(cfg->trusted_proxies, why, sizeof why)) {
        fprintf(stderr, "piora: invalid --trusted-proxies: %s\n", why);
        return false;
    }
    if (cfg->last_used &&
        lastused_start(cfg->database, cfg->touch_interval_s, 1u << 16) != PIORA_OK) {
        fprintf(stderr, "piora: cannot start the last-used writer\n");
        return false;
    }
    if (cfg->usage_log) {
        usagelog_opts uo = {
            .db_url = cfg->database,
            .flush_ms = cfg->usage_flush_s * 1000,
            .retention_s = cfg->usage_retention_days * 86400,
            .max_rows = cfg->usage_max_rows,
        };
        if (usagelog_start(&uo) != PIORA_OK) {
            fprintf(stderr, "piora: cannot start the usage-log writer\n");
            lastused_stop();
            return false;
        }
    }
    if (cfg->access_log && !accesslog_start(STDOUT_FILENO)) {
        fprintf(stderr, "piora: cannot start the access log\n");
        usagelog_stop();
        lastused_stop();
        return false;
    }
    return true;
}

static void monitoring_stop(void)
{
    lastused_stop();
    usagelog_stop();
    accesslog_stop();
    proxies_free();
}

long http_server_inflight(void) { return atomic_load(&inflight); }

int http_server_run(const piora_config *cfg)
{
    char msg[512] = "";
    store_t *boot = store_open(cfg->database, msg, sizeof msg);
    if (!boot) {
        fprintf(stderr, "piora: cannot open database: %s\n", msg);
        return 1;
    }
    int64_t users = 0;
    store_user_count(boot, &users);
    store_close(boot);
    store_thread_init(cfg->database);

    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (!resolve_listen(cfg, &ss, &sslen)) {
        fprintf(stderr, "piora: cannot resolve listen address %s\n", cfg->listen_host);
        return 1;
    }

    /* Signals go to the main thread only, which waits for them below; the
     * worker threads started by libmicrohttpd inherit the blocked mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    authn_init(cfg);
    web_init(cfg);
    respcache_init(4096);
    if (!monitoring_start(cfg))
        return 1;

    unsigned threads = cfg->threads;
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, cfg->listen_port, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(cfg->max_header_bytes + 16384),
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "piora: cannot listen on %s:%u: %s\n", cfg->listen_host, cfg->listen_port,
                strerror(errno));
        monitoring_stop();
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    log_info("piora listening on http://%s%s%s:%u (%u threads, database %s)",
             ss.ss_family == AF_INET6 ? "[" : "", cfg->listen_host,
             ss.ss_family == AF_INET6 ? "]" : "", di ? di->port : cfg->listen_port, threads,
             cfg->database);
    if (users == 0) {
        log_info("no users yet: create the first with `piora user add --email E --team T "
                 "--admin --password-stdin`");
        /* The one-time link goes to the console only, never into a log line. */
        char link[512];
        store_t *ls = store_thread();
        if (ls && web_setup_link(ls, cfg->listen_host, di ? di->port : cfg->listen_port, link,
                                 sizeof link)) {
            printf("First run: open %s to create the first admin (the link works once).\n",
                   link);
            fflush(stdout);
        }
    }

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("received %s: stopping (in-flight requests finish first)",
             sig == SIGTERM ? "SIGTERM" : "SIGINT");

    /* Stop accepting, let the requests in flight finish (bounded), then
     * close the rest and write what is buffered. */
    MHD_socket ls = MHD_quiesce_daemon(d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    for (int i = 0; i < 1000 && atomic_load(&inflight) > 0; i++)
        usleep(10000);
    MHD_stop_daemon(d);
    monitoring_stop();
    respcache_free();
    authn_shutdown();
    web_shutdown();
    store_thread_release();
    log_info("stopped");
    return 0;
}
