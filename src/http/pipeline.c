/* The phases of one request (pipeline.h): each returns false when it has
 * answered, and pipeline_run() reads top to bottom as SPEC 3. The token
 * path does no allocation and no lookup beyond today's (the area index
 * keeps the table scan to the API's own rows). */
#include "http/pipeline.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scopes.h"
#include "auth/session.h"
#include "authn/authn.h"
#include "authn/lastused.h"
#include "authn/session.h"
#include "http/respcache.h"
#include "http/response.h"
#include "monitor/accesslog.h"
#include "monitor/metrics.h"
#include "monitor/usagelog.h"
#include "util/clock.h"
#include "util/workpool.h"

/* The area a row belongs to: the first whose prefix fits its pattern, or
 * site->nareas when none does. */
static size_t area_owner(const route_site *site, const char *pattern)
{
    size_t a = 0;
    while (a < site->nareas && !router_prefix_fits(site->areas[a].prefix, pattern))
        a++;
    return a;
}

bool pipeline_init(pipeline_t *p, const route_site *site, store_t *(*thread_store)(void),
                   bool secure_cookies, char *why, size_t whylen)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < site->nroutes; i++) {
        if (area_owner(site, site->routes[i].pattern) == site->nareas) {
            snprintf(why, whylen, "route %s lies in no area", site->routes[i].pattern);
            return false;
        }
    }
    p->site = *site;
    p->thread_store = thread_store;
    p->secure_cookies = secure_cookies;
    p->areas = calloc(site->nareas ? site->nareas : 1, sizeof *p->areas);
    const route_t **rows = calloc(site->nroutes ? site->nroutes : 1, sizeof *rows);
    p->policy = calloc(site->nroutes ? site->nroutes : 1, sizeof *p->policy);
    if (!p->areas || !rows || !p->policy) {
        free(p->areas);
        free(rows);
        free(p->policy);
        p->areas = NULL;
        p->policy = NULL;
        snprintf(why, whylen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < site->nroutes; i++)
        p->policy[i] = policy_route_of(site->routes[i].pattern);
    /* One array of row pointers, cut into one run per area in area order,
     * each run in table order (the first matching row wins, as before). */
    p->rows = rows;
    size_t used = 0;
    for (size_t a = 0; a < site->nareas; a++) {
        p->areas[a].area = &site->areas[a];
        p->areas[a].rows = rows + used;
        for (size_t i = 0; i < site->nroutes; i++)
            if (area_owner(site, site->routes[i].pattern) == a)
                rows[used++] = &site->routes[i];
        p->areas[a].nrows = (size_t)(rows + used - p->areas[a].rows);
    }
    return true;
}

void pipeline_free(pipeline_t *p)
{
    free((void *)p->rows);
    free(p->areas);
    free(p->policy);
    p->rows = NULL;
    p->areas = NULL;
    p->policy = NULL;
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

static metrics_auth_reason auth_reason(authn_outcome o)
{
    switch (o) {
    case AUTHN_MISSING: return MR_MISSING;
    case AUTHN_EXPIRED: return MR_EXPIRED;
    case AUTHN_REVOKED: return MR_REVOKED;
    default: return MR_INVALID;
    }
}

/* Where the store pool picks a handed-over walk up (pipeline_resume). */
typedef enum walk_stage {
    AT_AUTHENTICATE, /* the route's authentication and everything after it */
    AT_RESOURCES,    /* a limited token's resource rule (SPEC 11), then the handler */
    AT_HANDLE,       /* the handler */
    AT_MISS,         /* the area's handler for a path no row has */
    AT_LIMIT         /* the limit (its decision needs Redis), then authorize and the handler */
} walk_stage;

/* What the phases share for one request. sess is filled only on session
 * routes (it is not cleared: the token path must not pay for it). */
typedef struct walk {
    const pipeline_t *p;
    const route_t *rt;
    principal_t who;
    authn_session sess;
    authn_gens gen;        /* the generations the token cache and the response cache trust */
    ratelimit_result rl;   /* the token's budget, for the X-RateLimit-* headers */
    int slot;              /* metrics slot */
    int64_t token_id;      /* 0: no token, or one that is not known */
    bool usage;            /* log this request in the token's usage log */
    bool authed;           /* the route's authentication passed */
    /* A remote store (pipeline_t.store_pool): on the polling thread a step
     * that needs the store stops (handover) and the pool runs the walk on
     * from `at`; what needs none (caches, limiters, refusals) answers here. */
    bool nostore;
    /* Any pool (pipeline_t.store_pool): on the polling thread a limit
     * decision that needs Redis stops the walk too (handover at the limit
     * step, or at authentication for a failure's count). */
    bool nowait;
    bool gens_ok;          /* nostore: gen is known current without a round trip */
    bool handover;
    bool cache_looked;     /* the response cache was asked already */
    walk_stage at;
    const pipeline_area *miss_area; /* AT_MISS: whose miss handler */
    int64_t handed_ns;     /* when it was handed over (clock_mono_ns) */
} walk;

/* A handed-over request that waited this long for a store thread is
 * answered 503 without touching the store: while the database is
 * unreachable every thread waits out its connect timeout (3 s), and SPEC 1
 * promises the 503 within 5 s, however long the queue. */
#define STORE_QUEUE_WAIT_MAX_NS (2 * 1000000000LL)

static _Atomic uint64_t store_late; /* answered 503 for that */

uint64_t pipeline_store_late(void) { return atomic_load_explicit(&store_late, memory_order_relaxed); }

/* nostore: stops the walk here; the store pool goes on from at. */
static bool hand_over_at(walk *w, walk_stage at)
{
    w->handover = true;
    w->at = at;
    return false;
}

/* The cookie that ends the browser's copy of a session that is gone. */
static void cookie_clear(const walk *w, req_t *r)
{
    char v[SET_COOKIE_MAX];
    session_cookie_format(v, NULL, 0, w->p->secure_cookies || req_https(r));
    resp_header_add(r, "Set-Cookie", v);
}

/* ---- authenticate --------------------------------------------------------- */

/* SPEC 3 steps 1-3: the bearer token. */
static bool authenticate_token(walk *w, req_t *r)
{
    int64_t retry_after = 0;
    const char *authorization = r->src ? r->src->header_whole(r->conn, "Authorization") : NULL;
    bool url_token = r->src && r->src->query_has(r->conn, "access_token");
    memset(&w->who, 0, sizeof w->who);
    authn_outcome o;
    if (w->nostore) {
        w->gens_ok = authn_sync_nowait(&w->gen);
        o = authn_authenticate_cached(w->gen.tokens, w->gens_ok, authorization, url_token,
                                      ratelimit_key(r->client_addr), &w->who, &retry_after);
    } else {
        w->gen = authn_sync(r->store);
        int64_t lookup_ns = -1;
        o = (w->nowait ? authn_authenticate_nowait : authn_authenticate)(
            r->store, w->gen.tokens, authorization, url_token, ratelimit_key(r->client_addr),
            &w->who, &retry_after, &lookup_ns);
        if (lookup_ns >= 0)
            metrics_db(MD_TOKEN_LOOKUP, lookup_ns);
    }
    /* Nothing was counted: the pool authenticates again from the start. */
    if (o == AUTHN_NEED_STORE || o == AUTHN_NEED_LIMIT)
        return hand_over_at(w, AT_AUTHENTICATE);
    if (o == AUTHN_OK) {
        w->token_id = w->who.token_id;
        w->usage = true;
        return true;
    }
    if (o == AUTHN_THROTTLED)
        metrics_rate_limited(ML_AUTH_FAILURES);
    else if (o != AUTHN_UNAVAILABLE)
        metrics_auth_failure(auth_reason(o));
    /* A refused but known token: its owner should see the attempt. */
    if (o == AUTHN_REVOKED || o == AUTHN_EXPIRED) {
        w->token_id = w->who.token_id;
        w->usage = true;
    }
    answer_authn_failure(r, o, retry_after);
    return false;
}

/* The dashboard's cookie; for a state-changing method also the origin and
 * the CSRF token. peek: no session is no refusal. */
static bool authenticate_session(walk *w, req_t *r, bool peek)
{
    if (w->nostore)
        return hand_over_at(w, AT_AUTHENTICATE); /* every session is read from the store */
    session_facts f = {.cookie = req_header(r, "Cookie"),
                       .state_changing = r->method != HTTP_GET && r->method != HTTP_HEAD};
    if (f.state_changing) {
        f.origin = req_header(r, "Origin");
        f.sec_fetch_site = req_header(r, "Sec-Fetch-Site");
        f.host = req_header(r, "Host");
        f.csrf = req_header(r, "X-CSRF-Token");
    }
    piora_err err = PIORA_OK;
    switch (authn_session_verify(r->store, &f, &w->sess, &err)) {
    case SESSION_OK:
        r->session = &w->sess;
        r->who = &w->sess.who;
        /* A team that requires two-factor sign-in: until they enrol, its
         * members reach only the enrolment (and sign-out). */
        if (!peek && w->sess.user.team_requires_2fa && !w->sess.user.totp_on &&
            !(w->rt->flags & ROUTE_MFA_ENROL)) {
            resp_problem(r, 403, "mfa_enrolment_required",
                         "Your team requires two-factor sign-in: set it up on the Account page.",
                         NULL);
            return false;
        }
        return true;
    case SESSION_NONE:
        if (peek)
            return true;
        cookie_clear(w, r);
        resp_problem(r, 401, "signed_out", "Sign in to use the dashboard.", NULL);
        return false;
    case SESSION_EXPIRED:
        cookie_clear(w, r);
        if (peek) {
            r->session_expired = true;
            return true;
        }
        resp_problem(r, 401, "session_expired", "Your session expired; sign in again.", NULL);
        return false;
    case SESSION_BAD_ORIGIN:
        resp_problem(r, 403, "csrf_failed", "The request did not come from this dashboard.", NULL);
        return false;
    case SESSION_BAD_CSRF:
        resp_problem(r, 403, "csrf_failed",
                     "The request's CSRF token is missing or wrong; reload the page.", NULL);
        return false;
    case SESSION_UNAVAILABLE:
    default:
        resp_error(r, err, NULL);
        return false;
    }
}

static bool authenticate(walk *w, req_t *r)
{
    bool ok;
    switch (w->rt->auth) {
    case ROUTE_AUTH_TOKEN: ok = authenticate_token(w, r); break;
    case ROUTE_AUTH_SESSION: ok = authenticate_session(w, r, false); break;
    case ROUTE_AUTH_SESSION_PEEK: ok = authenticate_session(w, r, true); break;
    case ROUTE_AUTH_NONE:
    default: ok = true; break;
    }
    w->authed = ok;
    return ok;
}

/* ---- limit ------------------------------------------------------------- */

/* SPEC 3 step 4. */
static bool limit(walk *w, req_t *r)
{
    switch (w->rt->limit) {
    case ROUTE_LIMIT_TOKEN:
        if (!w->nowait)
            w->rl = authn_rate_take(&w->who);
        else if (!authn_rate_take_nowait(&w->who, &w->rl))
            return hand_over_at(w, AT_LIMIT);
        if (w->rl.allowed)
            return true;
        metrics_rate_limited(ML_TOKEN);
        set_retry_after(r, w->rl.retry_after);
        resp_problem(r, 429, "rate_limited", "The token's rate limit is exceeded.", NULL);
        return false;
    case ROUTE_LIMIT_ADDR: {
        ratelimit_result rl;
        if (!w->nowait)
            rl = authn_addr_take(ratelimit_key(r->client_addr));
        else if (!authn_addr_take_nowait(ratelimit_key(r->client_addr), &rl))
            return hand_over_at(w, AT_LIMIT);
        if (rl.allowed)
            return true;
        metrics_rate_limited(ML_ADDRESS);
        set_retry_after(r, rl.retry_after);
        resp_problem(r, 429, "rate_limited", "Too many requests from this address.", NULL);
        return false;
    }
    case ROUTE_LIMIT_NONE:
    default:
        return true;
    }
}

/* ---- authorize --------------------------------------------------------- */

/* SPEC 11: what a limited token may reach, after its scopes. */
static bool authorize_resources(walk *w, req_t *r)
{
    if (!w->who.resources.limited)
        return true;
    const policy_route *pr = &w->p->policy[w->rt - w->p->site.routes];
    bool read_only = r->method == HTTP_GET || r->method == HTTP_HEAD;
    switch (policy_check(r->store, &w->who, pr, read_only, r->method == HTTP_POST, r->id,
                         r->body, r->body_len)) {
    case POLICY_ALLOW:
        return true;
    case POLICY_NOT_FOUND:
        resp_error(r, PIORA_ENOTFOUND, NULL);
        return false;
    case POLICY_RESTRICTED:
        resp_problem(r, 403, "resource_restricted",
                     pr->collection == PK_SERVER
                         ? "This token is limited to chosen resources; it cannot create servers."
                         : "This token is limited to chosen resources; it cannot change what "
                           "the whole team shares.",
                     NULL);
        return false;
    case POLICY_UNAVAILABLE:
    default:
        resp_problem(r, 503, "unavailable", "The database is unavailable; try again shortly.",
                     NULL);
        return false;
    }
}

/* A token past its scopes: the resource rule, then it acts. */
static bool authorize_rest(walk *w, req_t *r)
{
    if (!authorize_resources(w, r))
        return false;
    lastused_note(w->who.token_id, clock_now(), r->client_addr);
    r->who = &w->who;
    return true;
}

/* SPEC 3 step 5: a token needs one of the route's scopes (a session acts
 * with every scope, so it always passes). Before it, SPEC 11's address
 * rule; after it, the resource rule. */
static bool authorize(walk *w, req_t *r)
{
    if (w->rt->auth != ROUTE_AUTH_TOKEN)
        return true;
    if (!policy_addr_allowed(&w->who, r->client_addr)) {
        metrics_auth_failure(MR_IP_NOT_ALLOWED);
        resp_problem(r, 403, "ip_not_allowed",
                     "This token may not be used from this address (its allowed_ips).", NULL);
        return false;
    }
    if (!scopes_allow(w->who.effective, w->rt->scopes)) {
        metrics_auth_failure(MR_INSUFFICIENT_SCOPE);
        answer_insufficient_scope(r, &w->who, w->rt);
        return false;
    }
    /* The resource rule may resolve objects in the store. */
    if (w->nostore && w->who.resources.limited)
        return hand_over_at(w, AT_RESOURCES);
    return authorize_rest(w, r);
}

/* ---- handler ----------------------------------------------------------- */

/* A handler's writes are seen by every node before its answer leaves
 * (authn_settle()). A route that never reaches the store has none. */
static void settle(req_t *r)
{
    if (r->store)
        authn_settle(r->store);
}

/* SPEC 3 step 6 (team isolation is the handlers' and the store's). A
 * token's cacheable GET may be replayed from the response cache. */
static void handle(walk *w, req_t *r)
{
    const route_t *rt = w->rt;
    bool here = !w->nostore || (rt->flags & ROUTE_NO_STORE);
    if (rt->auth != ROUTE_AUTH_TOKEN) {
        if (!here) {
            hand_over_at(w, AT_HANDLE);
            return;
        }
        rt->fn(r);
        settle(r);
        return;
    }
    bool cacheable = (rt->flags & ROUTE_CACHEABLE) != 0;
    /* A limited token's pages differ from its team's: the grant's 64-bit
     * fingerprint (made once when the token entered the cache) prefixes the
     * key, so a page is replayed only to tokens of the team that see the
     * same objects. An unlimited token's key stays the bare URI (a URI
     * always starts with '/', a prefixed key never does). A key that does
     * not fit is not cached. */
    const char *key = r->uri;
    char limited_key[4096];
    if (cacheable && w->who.resources.limited) {
        int n = snprintf(limited_key, sizeof limited_key, "g%016llx %s",
                         (unsigned long long)w->who.resources_key, r->uri);
        cacheable = n > 0 && (size_t)n < sizeof limited_key;
        key = limited_key;
    }
    /* Looked up once: a walk handed over after a miss here goes straight
     * to the handler (w->gen.pages was read before, as the put needs). */
    if (cacheable && !w->cache_looked && (!w->nostore || w->gens_ok)) {
        w->cache_looked = true;
        if (respcache_get(w->who.team_id, key, w->gen.pages, r))
            return;
    }
    if (!here) {
        hand_over_at(w, AT_HANDLE);
        return;
    }
    int64_t h0 = clock_mono_ns();
    rt->fn(r);
    settle(r);
    metrics_db(MD_HANDLER, clock_mono_ns() - h0);
    if (cacheable && !r->pending.fn)
        respcache_put(w->who.team_id, key, w->gen.pages, r);
}

/* ---- log --------------------------------------------------------------- */

/* What one request leaves behind for operators: its metrics, its access-log
 * line and, for a known token, its usage-log row. Runs after the response
 * is complete and before it is queued; it only copies into memory. */
static void record(int slot, int64_t token_id, bool usage, req_t *r)
{
    int64_t dur = clock_mono_ns() - r->start_ns;
    metrics_request(slot, r->status, dur);
    if (usage && token_id > 0 && usagelog_running())
        usagelog_note(token_id, clock_now(), r->method_text, r->uri, r->status,
                      r->client_addr, req_header(r, "User-Agent"));
    if (accesslog_running()) {
        access_entry e = {
            .method = r->method_text,
            .raw_uri = r->uri,
            .status = r->status,
            .duration_us = dur / 1000,
            .token_id = token_id,
            .addr = r->client_addr,
            .request_id = r->request_id,
        };
        accesslog_write(&e);
    }
}

/* ---- route ------------------------------------------------------------- */

static const pipeline_area *area_of(const pipeline_t *p, const char *path)
{
    for (size_t i = 0; i < p->site.nareas; i++)
        if (router_prefix_fits(p->areas[i].area->prefix, path))
            return &p->areas[i];
    return NULL;
}

/* The row for r, or NULL once answered (404, 405, the area's miss handler,
 * or 503 when the store is down). */
static const route_t *route(walk *w, req_t *r)
{
    const pipeline_area *a = area_of(w->p, r->path);
    if (!a) {
        resp_problem(r, 404, "not_found", "No such endpoint.", NULL);
        return NULL;
    }
    if (a->area->dashboard)
        w->slot = metrics_slot_dashboard(method_index(r->method));
    if (a->area->headers)
        a->area->headers(r);
    const route_t *rt = NULL;
    unsigned allowed = 0;
    route_match_result m =
        router_match_rows(a->rows, a->nrows, r->method, r->path, &rt, &r->id, &allowed);
    bool miss = m == ROUTE_NO_PATH && a->area->miss;
    if (!miss && resp_route_miss(r, m, allowed))
        return NULL;
    if (m == ROUTE_FOUND) {
        size_t i = (size_t)(rt - w->p->site.routes);
        if (i < w->p->site.metrics_rows)
            w->slot = metrics_slot_route((int)i);
    }
    if (!w->nostore) {
        r->store = w->p->thread_store();
        if (!r->store) {
            resp_problem(r, 503, "unavailable", "The database is unavailable.", NULL);
            return NULL;
        }
    }
    if (miss) {
        if (w->nostore && !a->area->miss_no_store) {
            w->miss_area = a;
            hand_over_at(w, AT_MISS);
            return NULL;
        }
        a->area->miss(r);
        return NULL;
    }
    return rt;
}

static void walk_start(walk *w, const pipeline_t *p, req_t *r)
{
    w->p = p;
    w->slot = metrics_slot_unmatched(method_index(r->method));
    w->token_id = 0;
    w->usage = false;
    w->rl = (ratelimit_result){0};
    w->authed = false;
    w->nostore = p->store_pool != NULL && !p->store_local;
    w->nowait = p->store_pool != NULL;
    w->gens_ok = false;
    w->handover = false;
    w->cache_looked = false;
    w->miss_area = NULL;
    if (w->nostore)
        w->gen = (authn_gens){0};
}

/* What server.c found wrong before routing: true when it answered. */
static bool refuse_early(req_t *r)
{
    switch (r->refusal) {
    case REQ_REFUSE_NUL:
        resp_problem(r, 400, "bad_request",
                     "The request holds a NUL byte (in its target or a header value).", NULL);
        return true;
    case REQ_REFUSE_HEAD_SIZE:
        resp_problem(r, 431, "headers_too_large",
                     "The request line and headers are larger than the server accepts.", NULL);
        return true;
    case REQ_REFUSE_BUSY:
        set_retry_after(r, 1);
        resp_problem(r, 503, "unavailable",
                     "The server is buffering too many request bodies; try again shortly.", NULL);
        return true;
    case REQ_REFUSE_NONE:
    default:
        break;
    }
    if (r->body_too_big) {
        resp_problem(r, 413, "payload_too_large", "The request body is larger than 1 MiB.", NULL);
        return true;
    }
    return false;
}

bool pipeline_screen(const pipeline_t *p, req_t *r)
{
    walk w;
    walk_start(&w, p, r);
    if (refuse_early(r))
        goto log;
    w.rt = route(&w, r);
    if (!w.rt) {
        if (w.handover)
            return false;
        goto log;
    }
    /* A token the polling thread cannot judge without the store: the body
     * is read (under its bounds) and the store pool authenticates it first
     * (docs/architecture.md, "A remote store"). */
    if (w.rt->auth != ROUTE_AUTH_TOKEN || authenticate_token(&w, r) || w.handover)
        return false;
log:
    if (!r->status)
        resp_problem(r, 500, "internal_error", "An internal error occurred.", NULL);
    record(w.slot, w.token_id, w.usage, r);
    return true;
}

/* The steps after the route, from at; a step that hands over stops them
 * (w->handover). */
static void walk_steps(walk *w, req_t *r, walk_stage at)
{
    switch (at) {
    case AT_MISS:
        w->miss_area->area->miss(r);
        return;
    case AT_AUTHENTICATE:
        if (!authenticate(w, r) || !limit(w, r) || !authorize(w, r))
            return;
        break;
    case AT_LIMIT:
        if (!limit(w, r) || !authorize(w, r))
            return;
        break;
    case AT_RESOURCES:
        if (!authorize_rest(w, r))
            return;
        break;
    case AT_HANDLE:
        break;
    }
    handle(w, r);
}

/* After the steps: a handler's hand-off to the hashing pool (false), or the
 * token's headers and the log (true). */
static bool walk_end(walk *w, req_t *r)
{
    if (r->pending.fn) {
        /* The session and principal live in w: the deferred half must not
         * reach them. */
        r->session = NULL;
        r->who = NULL;
        r->pending.slot = w->slot;
        return false;
    }
    /* Every answer to an authenticated token says what it holds and what
     * is left of its budget, refusals included. */
    if (w->authed && w->rt->auth == ROUTE_AUTH_TOKEN) {
        set_scope_headers(r, &w->who, w->rt);
        set_rate_headers(r, &w->rl);
    }
    if (!r->status)
        resp_problem(r, 500, "internal_error", "An internal error occurred.", NULL);
    record(w->slot, w->token_id, w->usage, r);
    return true;
}

/* A step needs the store or Redis: w moves to the heap for the store pool (false),
 * or, with the pool's bound reached, r is answered 503 here (true). */
static bool hand_over(walk *w, req_t *r)
{
    bool reserved = workpool_reserve(w->p->store_pool);
    walk *h = reserved ? malloc(sizeof *h) : NULL;
    if (!h) {
        if (reserved)
            workpool_release(w->p->store_pool);
        set_retry_after(r, 1);
        resp_problem(r, 503, "unavailable",
                     w->p->store_local
                         ? "The server is waiting on Redis for too many requests; try again "
                           "shortly."
                         : "The server is waiting on the database for too many requests; try "
                           "again shortly.",
                     NULL);
        return walk_end(w, r);
    }
    *h = *w;
    h->nostore = false;
    h->nowait = false;
    h->handover = false;
    h->handed_ns = clock_mono_ns();
    if (r->who == &w->who)
        r->who = &h->who;
    r->resume = h;
    return false;
}

bool pipeline_run(const pipeline_t *p, req_t *r)
{
    walk w;
    walk_start(&w, p, r);
    if (!refuse_early(r)) {
        w.rt = route(&w, r);
        if (w.rt)
            walk_steps(&w, r, AT_AUTHENTICATE);
    }
    if (w.handover)
        return hand_over(&w, r);
    return walk_end(&w, r);
}

bool pipeline_resume(const pipeline_t *p, req_t *r)
{
    walk *w = r->resume;
    r->resume = NULL;
    w->p = p;
    if (clock_mono_ns() - w->handed_ns > STORE_QUEUE_WAIT_MAX_NS) {
        atomic_fetch_add_explicit(&store_late, 1, memory_order_relaxed);
        set_retry_after(r, 1);
        resp_problem(r, 503, "unavailable",
                     p->store_local ? "Redis is answering too slowly; try again shortly."
                                    : "The database is answering too slowly; try again shortly.",
                     NULL);
    } else if ((r->store = p->thread_store()) != NULL) {
        walk_steps(w, r, w->at);
    } else {
        resp_problem(r, 503, "unavailable", "The database is unavailable.", NULL);
    }
    bool done = walk_end(w, r);
    r->who = NULL; /* they point into w */
    r->session = NULL;
    free(w);
    return done;
}

void pipeline_finish(const pipeline_t *p, req_t *r)
{
    req_deferred_fn fn = r->pending.fn;
    void *ctx = r->pending.ctx;
    r->pending.fn = NULL;
    r->pending.ctx = NULL;
    r->pool = NULL; /* the deferred half runs to its end here */
    r->store = p->thread_store();
    if (r->store) {
        fn(r, ctx);
        settle(r);
    } else {
        fn(NULL, ctx); /* frees ctx only */
        resp_problem(r, 503, "unavailable", "The database is unavailable.", NULL);
    }
    if (!r->status)
        resp_problem(r, 500, "internal_error", "An internal error occurred.", NULL);
    record(r->pending.slot, 0, false, r);
}
