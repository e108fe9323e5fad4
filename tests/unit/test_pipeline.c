/* http/pipeline.c without a server: fake requests (a plain header list
 * instead of libmicrohttpd) walked through route -> authenticate ->
 * limit -> authorize -> handler on a real SQLite store, and the answers
 * each phase gives when it refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/session.h"
#include "auth/token.h"
#include "authn/authn.h"
#include "cluster/redis.h"
#include "core/config.h"
#include "core/tokens.h"
#include "http/pipeline.h"
#include "http/response.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/workpool.h"
#include "fixture.h"

/* ---- a request without libmicrohttpd ---------------------------------------- */

typedef struct fake_conn {
    const char *names[8];
    const char *values[8];
    int n;
    const char *query_key; /* one query parameter at most */
} fake_conn;

static const char *fake_header(void *conn, const char *name)
{
    fake_conn *c = conn;
    for (int i = 0; i < c->n; i++)
        if (strcasecmp(c->names[i], name) == 0)
            return c->values[i];
    return NULL;
}

static const char *fake_query(void *conn, const char *key)
{
    fake_conn *c = conn;
    return c->query_key && strcmp(c->query_key, key) == 0 ? "" : NULL;
}

static bool fake_query_has(void *conn, const char *key) { return fake_query(conn, key) != NULL; }

static const req_source fake_source = {fake_header, fake_header, fake_query, fake_query_has};

static void fake_set(fake_conn *c, const char *name, const char *value)
{
    c->names[c->n] = name;
    c->values[c->n] = value;
    c->n++;
}

/* ---- the table under test ------------------------------------------------------- */

static int calls;              /* handler runs */
static const req_t *last_req;  /* what the last handler saw */
static store_t *serving_store; /* the pipeline's thread_store() */

static void h_ok(req_t *r)
{
    calls++;
    last_req = r;
    resp_json(r, 200, json_pack("{s:b}", "ok", 1));
}

static void h_page(req_t *r)
{
    calls++;
    resp_raw(r, 200, "text/html", "<p>", 3);
}

/* A handler whose rest runs later (req_defer): what it needs of the
 * session goes into ctx, as the session is gone by then. */
static int64_t deferred_user;
static void h_slow_half(req_t *r, void *ctx)
{
    int64_t *uid = ctx;
    if (r) {
        deferred_user = *uid;
        resp_json(r, 200, json_pack("{s:I, s:b}", "user", (json_int_t)*uid, "store",
                                    r->store != NULL));
    }
    free(uid);
}

static void h_defer(req_t *r)
{
    calls++;
    int64_t *uid = malloc(sizeof *uid);
    *uid = r->session->user.id;
    if (!req_defer(r, h_slow_half, uid))
        free(uid);
}

static void area_headers(req_t *r) { resp_header(r, "X-Area", "dashboard"); }

static store_t *thread_store(void) { return serving_store; }

static const route_t rows[] = {
    {HTTP_GET, "/api/v1/things", ROUTE_AUTH_TOKEN, ROUTE_LIMIT_TOKEN, SCOPE_SERVERS_READ, 0, h_ok,
     200, "List things"},
    {HTTP_POST, "/api/v1/things", ROUTE_AUTH_TOKEN, ROUTE_LIMIT_TOKEN, SCOPE_SERVERS_WRITE, 0,
     h_ok, 201, "Make a thing"},
    {HTTP_POST, "/api/v1/report", ROUTE_AUTH_NONE, ROUTE_LIMIT_ADDR, 0, 0, h_ok, 202, "Report"},
    {HTTP_GET, "/healthz", ROUTE_AUTH_NONE, ROUTE_LIMIT_NONE, 0, 0, h_ok, 200, "Alive"},
    {HTTP_POST, "/web/api/things", ROUTE_AUTH_SESSION, ROUTE_LIMIT_NONE, SCOPE_SERVERS_WRITE, 0,
     h_ok, 0, "Make a thing as the user"},
    {HTTP_GET, "/web/api/things", ROUTE_AUTH_SESSION, ROUTE_LIMIT_NONE, SCOPE_SERVERS_READ, 0,
     h_ok, 0, "List things as the user"},
    {HTTP_POST, "/web/api/slow", ROUTE_AUTH_SESSION, ROUTE_LIMIT_NONE, 0, 0, h_defer, 0,
     "Deferred work"},
    {HTTP_GET, "/web/api/session", ROUTE_AUTH_SESSION_PEEK, ROUTE_LIMIT_NONE, 0, 0, h_ok, 0,
     "Who is signed in"},
    {HTTP_GET, "/api/v1/nostore", ROUTE_AUTH_NONE, ROUTE_LIMIT_NONE, 0, ROUTE_NO_STORE, h_ok, 200,
     "Needs no store"},
};

static const route_area areas[] = {
    {"/api/", false, NULL, NULL, false},
    {"/web/api/", true, area_headers, NULL, false},
    {"", true, NULL, h_page, false},
};

static const route_site site = {rows, sizeof rows / sizeof rows[0], areas,
                                sizeof areas / sizeof areas[0], 4};

typedef struct fx {
    fixture_db db;
    pipeline_t p;
    int64_t user;
    char bearer_read[96];  /* servers:read */
    char cookie[96];       /* piora_session=<secret> of a live session */
    char csrf[CSRF_TOKEN_MAX + 1];
} fx;

static int setup(void **st)
{
    fx *f = calloc(1, sizeof *f);
    f->db.s = fixture_db_open(f->db.dir, f->db.path, "pipeline");
    if (!f->db.s)
        return -1;
    serving_store = f->db.s;
    user_rec u;
    if (!fixture_user(f->db.s, "ci@example.com", "acme", false, &u))
        return -1;
    f->user = u.id;
    piora_config cfg;
    config_defaults(&cfg);
    cfg.revoke_limit = 2;
    authn_init(&cfg);

    char secret[TOKEN_LEN + 1];
    token_rec rec;
    verrs errs = {0};
    token_create_req rq = {.user_id = f->user, .name = "ci", .scopes = "servers:read"};
    if (tokens_create(f->db.s, &(actor){.channel = CHANNEL_CLI}, &rq, secret, &rec, &errs) != PIORA_OK)
        return -1;
    snprintf(f->bearer_read, sizeof f->bearer_read, "Bearer %s", secret);

    char sid[SESSION_SECRET_LEN + 1];
    uint8_t digest[SESSION_DIGEST_LEN];
    session_secret(sid);
    session_secret(f->csrf);
    session_digest(sid, SESSION_SECRET_LEN, digest);
    session_rec s;
    int64_t now = clock_now();
    if (store_session_insert(f->db.s, digest, f->user, f->csrf, now, now + 3600, "127.0.0.1",
                             &s) != PIORA_OK)
        return -1;
    snprintf(f->cookie, sizeof f->cookie, "%s=%s", SESSION_COOKIE, sid);

    char why[128];
    if (!pipeline_init(&f->p, &site, thread_store, false, why, sizeof why))
        return -1;
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    fx *f = *st;
    pipeline_free(&f->p);
    authn_shutdown();
    store_close(f->db.s);
    fixture_db_remove(f->db.dir, f->db.path);
    free(f);
    return 0;
}

static bool ran_done; /* what the last run's pipeline_run() answered */

/* One request through the pipeline; the caller disposes of r with done(). */
static void run(fx *f, req_t *r, fake_conn *c, http_method m, const char *path)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->out, 1u << 20);
    r->method = m;
    r->method_text = m == HTTP_GET ? "GET" : m == HTTP_POST ? "POST" : "OTHER";
    r->path = path;
    r->uri = path;
    r->client_addr = "192.0.2.7";
    r->peer_addr = "192.0.2.7";
    r->request_id = "test";
    r->src = &fake_source;
    r->conn = c;
    calls = 0;
    last_req = NULL;
    ran_done = pipeline_run(&f->p, r);
}

static void done(req_t *r)
{
    buf_free(&r->out);
    for (int i = 0; i < r->nheaders; i++)
        free(r->headers[i].value);
}

static const char *header_of(const req_t *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static bool body_has(const req_t *r, const char *text)
{
    return r->out.data && memmem(r->out.data, r->out.len, text, strlen(text)) != NULL;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_missing_token_is_401_with_challenge(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    req_t r;
    run(f, &r, &c, HTTP_GET, "/api/v1/things");
    assert_int_equal(r.status, 401);
    assert_true(body_has(&r, "\"code\":\"missing_token\""));
    assert_string_equal(header_of(&r, "WWW-Authenticate"), "Bearer realm=\"piora\"");
    assert_int_equal(calls, 0);
    assert_null(header_of(&r, "X-OAuth-Scopes")); /* no token, nothing to describe */
    done(&r);
}

static void test_token_in_url_is_400(void **st)
{
    fx *f = *st;
    fake_conn c = {.query_key = "access_token"};
    fake_set(&c, "Authorization", f->bearer_read);
    req_t r;
    run(f, &r, &c, HTTP_GET, "/api/v1/things");
    assert_int_equal(r.status, 400);
    assert_true(body_has(&r, "\"code\":\"invalid_request\""));
    assert_int_equal(calls, 0);
    done(&r);
}

static void test_token_with_scope_reaches_handler(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    fake_set(&c, "Authorization", f->bearer_read);
    req_t r;
    run(f, &r, &c, HTTP_GET, "/api/v1/things");
    assert_int_equal(r.status, 200);
    assert_int_equal(calls, 1);
    assert_non_null(last_req->who);
    assert_true(last_req->who->token_id > 0);
    assert_null(last_req->session);
    assert_string_equal(header_of(&r, "X-OAuth-Scopes"), "servers:read");
    assert_string_equal(header_of(&r, "X-Accepted-OAuth-Scopes"), "servers:read");
    assert_non_null(header_of(&r, "X-RateLimit-Remaining"));
    done(&r);
}

static void test_bad_scope_is_403_with_headers(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    fake_set(&c, "Authorization", f->bearer_read);
    req_t r;
    run(f, &r, &c, HTTP_POST, "/api/v1/things");
    assert_int_equal(r.status, 403);
    assert_int_equal(calls, 0);
    assert_true(body_has(&r, "\"code\":\"insufficient_scope\""));
    assert_true(body_has(&r, "\"required_scopes\":[\"servers:write\"]"));
    assert_true(body_has(&r, "\"granted_scopes\":[\"servers:read\"]"));
    assert_non_null(strstr(header_of(&r, "WWW-Authenticate"), "error=\"insufficient_scope\""));
    assert_string_equal(header_of(&r, "X-OAuth-Scopes"), "servers:read");
    assert_string_equal(header_of(&r, "X-Accepted-OAuth-Scopes"), "servers:write");
    assert_non_null(header_of(&r, "X-RateLimit-Limit"));
    done(&r);
}

static void test_unknown_path_404_and_other_method_405(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    req_t r;
    run(f, &r, &c, HTTP_GET, "/api/v1/nothing");
    assert_int_equal(r.status, 404);
    assert_true(body_has(&r, "\"code\":\"not_found\""));
    done(&r);
    run(f, &r, &c, HTTP_DELETE, "/api/v1/things");
    assert_int_equal(r.status, 405);
    assert_string_equal(header_of(&r, "Allow"), "GET, HEAD, POST");
    assert_int_equal(calls, 0);
    done(&r);
    /* a dashboard-area miss carries the area's headers */
    run(f, &r, &c, HTTP_GET, "/web/api/nothing");
    assert_int_equal(r.status, 404);
    assert_string_equal(header_of(&r, "X-Area"), "dashboard");
    done(&r);
}

static void test_head_is_answered_by_get(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    req_t r;
    run(f, &r, &c, HTTP_HEAD, "/healthz");
    assert_int_equal(r.status, 200);
    assert_int_equal(calls, 1);
    done(&r);
}

static void test_other_paths_go_to_the_area_miss_handler(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    req_t r;
    run(f, &r, &c, HTTP_GET, "/settings/tokens");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/html");
    assert_int_equal(calls, 1);
    done(&r);
    /* a row of the catch-all area still answers 405 for another method */
    run(f, &r, &c, HTTP_POST, "/healthz");
    assert_int_equal(r.status, 405);
    assert_int_equal(calls, 0);
    done(&r);
}

static void test_body_too_big_is_413_before_routing(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    req_t r;
    memset(&r, 0, sizeof r);
    buf_init(&r.out, 1u << 20);
    r.method = HTTP_POST;
    r.method_text = "POST";
    r.path = r.uri = "/api/v1/things";
    r.client_addr = r.peer_addr = "192.0.2.7";
    r.src = &fake_source;
    r.conn = &c;
    r.body_too_big = true;
    calls = 0;
    pipeline_run(&f->p, &r);
    assert_int_equal(r.status, 413);
    assert_true(body_has(&r, "\"code\":\"payload_too_large\""));
    assert_int_equal(calls, 0);
    done(&r);
}

/* A request as server.c fills it before pipeline_screen or pipeline_run. */
static void prepare(req_t *r, fake_conn *c, http_method m, const char *path)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->out, 1u << 20);
    r->method = m;
    r->method_text = m == HTTP_GET ? "GET" : "POST";
    r->path = r->uri = path;
    r->client_addr = r->peer_addr = "192.0.2.7";
    r->request_id = "test";
    r->src = &fake_source;
    r->conn = c;
    calls = 0;
}

/* Issue 8 item 4: a token route's body is not read before its token is
 * known good, so the screen answers a missing or bad token on the headers
 * alone, and lets a good token (or a route without tokens) on. */
static void test_screen_refuses_a_bad_token_before_the_body(void **st)
{
    fx *f = *st;
    fake_conn none = {0}, bad = {0}, good = {0};
    fake_set(&bad, "Authorization", "Bearer piora_token_000000000000000000000000000000000000");
    fake_set(&good, "Authorization", f->bearer_read);
    req_t r;
    prepare(&r, &none, HTTP_POST, "/api/v1/things");
    assert_true(pipeline_screen(&f->p, &r));
    assert_int_equal(r.status, 401);
    assert_true(body_has(&r, "\"code\":\"missing_token\""));
    done(&r);
    prepare(&r, &bad, HTTP_POST, "/api/v1/things");
    assert_true(pipeline_screen(&f->p, &r));
    assert_int_equal(r.status, 401);
    done(&r);
    prepare(&r, &good, HTTP_POST, "/api/v1/things");
    assert_false(pipeline_screen(&f->p, &r));
    assert_int_equal(r.status, 0);
    assert_int_equal(calls, 0);
    done(&r);
    prepare(&r, &none, HTTP_POST, "/api/v1/report");
    assert_false(pipeline_screen(&f->p, &r));
    assert_int_equal(calls, 0);
    done(&r);
    prepare(&r, &none, HTTP_POST, "/api/v1/nowhere");
    assert_true(pipeline_screen(&f->p, &r));
    assert_int_equal(r.status, 404);
    done(&r);
}

/* Refusals server.c makes on the head are answered before routing. */
static void test_refusals_are_answered_before_routing(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    fake_set(&c, "Authorization", f->bearer_read);
    static const struct { req_refusal why; int status; const char *code; } cases[] = {
        {REQ_REFUSE_NUL, 400, "bad_request"},
        {REQ_REFUSE_HEAD_SIZE, 431, "headers_too_large"},
        {REQ_REFUSE_BUSY, 503, "unavailable"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        req_t r;
        prepare(&r, &c, HTTP_GET, "/api/v1/things");
        r.refusal = cases[i].why;
        pipeline_run(&f->p, &r);
        assert_int_equal(r.status, cases[i].status);
        char want[64];
        snprintf(want, sizeof want, "\"code\":\"%s\"", cases[i].code);
        assert_true(body_has(&r, want));
        assert_int_equal(calls, 0);
        if (cases[i].why == REQ_REFUSE_BUSY)
            assert_non_null(header_of(&r, "Retry-After"));
        done(&r);
    }
}

static void test_address_limit_answers_429(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    req_t r;
    for (int i = 0; i < 2; i++) {
        run(f, &r, &c, HTTP_POST, "/api/v1/report");
        assert_int_equal(r.status, 200); /* h_ok answers 200 */
        done(&r);
    }
    run(f, &r, &c, HTTP_POST, "/api/v1/report");
    assert_int_equal(r.status, 429);
    assert_non_null(header_of(&r, "Retry-After"));
    assert_int_equal(calls, 0);
    done(&r);
}

static void test_session_route_without_cookie_is_401(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    req_t r;
    run(f, &r, &c, HTTP_GET, "/web/api/things");
    assert_int_equal(r.status, 401);
    assert_true(body_has(&r, "\"code\":\"signed_out\""));
    assert_non_null(strstr(header_of(&r, "Set-Cookie"), "Max-Age=0"));
    assert_string_equal(header_of(&r, "X-Area"), "dashboard");
    assert_int_equal(calls, 0);
    done(&r);
    /* a bearer token is no way into a session route */
    fake_set(&c, "Authorization", f->bearer_read);
    run(f, &r, &c, HTTP_GET, "/web/api/things");
    assert_int_equal(r.status, 401);
    done(&r);
}

static void test_session_get_acts_as_the_user(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    fake_set(&c, "Cookie", f->cookie);
    req_t r;
    run(f, &r, &c, HTTP_GET, "/web/api/things");
    assert_int_equal(r.status, 200);
    assert_int_equal(calls, 1);
    assert_non_null(last_req->session);
    assert_int_equal(last_req->session->user.id, f->user);
    assert_int_equal(last_req->who->user_id, f->user);
    assert_int_equal(last_req->who->token_id, 0);
    assert_int_equal(last_req->who->effective, SCOPE_ALL);
    assert_null(header_of(&r, "X-OAuth-Scopes")); /* token headers are the token path's */
    done(&r);
}

static void test_csrf_refusals(void **st)
{
    fx *f = *st;
    req_t r;
    /* no CSRF token */
    fake_conn c = {0};
    fake_set(&c, "Cookie", f->cookie);
    run(f, &r, &c, HTTP_POST, "/web/api/things");
    assert_int_equal(r.status, 403);
    assert_true(body_has(&r, "\"code\":\"csrf_failed\""));
    assert_true(body_has(&r, "CSRF token"));
    assert_int_equal(calls, 0);
    done(&r);
    /* the right token from another site */
    fake_conn o = {0};
    fake_set(&o, "Cookie", f->cookie);
    fake_set(&o, "X-CSRF-Token", f->csrf);
    fake_set(&o, "Host", "piora.example");
    fake_set(&o, "Origin", "https://evil.example");
    run(f, &r, &o, HTTP_POST, "/web/api/things");
    assert_int_equal(r.status, 403);
    assert_true(body_has(&r, "did not come from this dashboard"));
    assert_int_equal(calls, 0);
    done(&r);
    /* a cross-site fetch says so itself */
    fake_conn x = {0};
    fake_set(&x, "Cookie", f->cookie);
    fake_set(&x, "X-CSRF-Token", f->csrf);
    fake_set(&x, "Sec-Fetch-Site", "cross-site");
    run(f, &r, &x, HTTP_POST, "/web/api/things");
    assert_int_equal(r.status, 403);
    done(&r);
    /* the right token from the dashboard itself */
    fake_conn ok = {0};
    fake_set(&ok, "Cookie", f->cookie);
    fake_set(&ok, "X-CSRF-Token", f->csrf);
    fake_set(&ok, "Host", "piora.example");
    fake_set(&ok, "Origin", "https://piora.example");
    fake_set(&ok, "Sec-Fetch-Site", "same-origin");
    run(f, &r, &ok, HTTP_POST, "/web/api/things");
    assert_int_equal(r.status, 200);
    assert_int_equal(calls, 1);
    done(&r);
}

static void test_expired_session_is_401_and_deleted(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    fake_set(&c, "Cookie", f->cookie);
    req_t r;
    clock_set_offset(2 * 3600); /* past the session's absolute end */
    run(f, &r, &c, HTTP_GET, "/web/api/things");
    clock_set_offset(0);
    assert_int_equal(r.status, 401);
    assert_true(body_has(&r, "\"code\":\"session_expired\""));
    assert_non_null(header_of(&r, "Set-Cookie"));
    done(&r);
    /* deleted: the same cookie is now simply signed out */
    run(f, &r, &c, HTTP_GET, "/web/api/things");
    assert_true(body_has(&r, "\"code\":\"signed_out\""));
    done(&r);
}

static void test_peek_route_runs_without_a_session(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    req_t r;
    run(f, &r, &c, HTTP_GET, "/web/api/session");
    assert_int_equal(calls, 1);
    assert_null(last_req->session);
    assert_false(last_req->session_expired);
    done(&r);
    fake_conn s = {0};
    fake_set(&s, "Cookie", f->cookie);
    run(f, &r, &s, HTTP_GET, "/web/api/session");
    assert_int_equal(calls, 1);
    assert_non_null(last_req->session);
    done(&r);
}

static void test_store_down_is_503(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    fake_set(&c, "Authorization", f->bearer_read);
    req_t r;
    serving_store = NULL;
    run(f, &r, &c, HTTP_GET, "/api/v1/things");
    serving_store = f->db.s;
    assert_int_equal(r.status, 503);
    assert_int_equal(calls, 0);
    done(&r);
}

/* A deferred handler: the pipeline comes back pending without the
 * session, pipeline_finish runs the rest with a store and answers; a full
 * pool answers 503 with Retry-After at once; no pool runs it inline. */
static void test_deferred_handler(void **st)
{
    fx *f = *st;
    fake_conn c = {0};
    fake_set(&c, "Cookie", f->cookie);
    fake_set(&c, "X-CSRF-Token", f->csrf);
    fake_set(&c, "Sec-Fetch-Site", "same-origin");
    workpool_t *pool = workpool_new(1, 1);
    req_t r;
    memset(&r, 0, sizeof r);
    buf_init(&r.out, 1u << 20);
    r.method = HTTP_POST;
    r.method_text = "POST";
    r.path = r.uri = "/web/api/slow";
    r.client_addr = r.peer_addr = "192.0.2.7";
    r.request_id = "test";
    r.src = &fake_source;
    r.conn = &c;
    r.pool = pool;
    deferred_user = 0;
    assert_false(pipeline_run(&f->p, &r));
    assert_int_equal(r.status, 0);
    assert_null(r.session);
    assert_int_equal(workpool_busy(pool), 1);

    req_t full = r;
    buf_init(&full.out, 1u << 20);
    full.pending.fn = NULL;
    full.nheaders = 0;
    full.session = NULL;
    assert_true(pipeline_run(&f->p, &full));
    assert_int_equal(full.status, 503);
    assert_string_equal(header_of(&full, "Retry-After"), "1");
    done(&full);

    pipeline_finish(&f->p, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(deferred_user, f->user);
    assert_true(body_has(&r, "\"store\": true") || body_has(&r, "\"store\":true"));
    assert_null(r.pending.fn);
    done(&r);
    workpool_release(pool); /* the place a pool thread would have given back */
    workpool_free(pool);

    deferred_user = 0;
    run(f, &r, &c, HTTP_POST, "/web/api/slow"); /* no pool: inline */
    assert_int_equal(r.status, 200);
    assert_int_equal(deferred_user, f->user);
    done(&r);
}

/* A remote store (p.store_pool): what needs no store is answered by
 * pipeline_run() itself; the rest comes back handed over (r.resume, a
 * place reserved), the handler not run, and pipeline_resume() finishes it
 * as the inline walk would; a full pool answers 503 with Retry-After. */
static void test_a_remote_store_hands_over_what_needs_it(void **st)
{
    fx *f = *st;
    store_thread_init(f->db.path); /* store_change_poll_nowait()'s connection */
    workpool_t *pool = workpool_new(1, 1);
    assert_non_null(pool);
    f->p.store_pool = pool;
    req_t r;

    fake_conn c0 = {0};
    run(f, &r, &c0, HTTP_GET, "/api/v1/nostore");
    assert_true(ran_done);
    assert_int_equal(r.status, 200);
    assert_int_equal(calls, 1);
    done(&r);

    run(f, &r, &c0, HTTP_GET, "/api/v1/things"); /* no token: no lookup due */
    assert_true(ran_done);
    assert_int_equal(r.status, 401);
    done(&r);

    fake_conn bad = {0};
    fake_set(&bad, "Authorization", "Bearer piora_not_a_token");
    run(f, &r, &bad, HTTP_GET, "/api/v1/things");
    assert_true(ran_done);
    assert_int_equal(r.status, 401);
    done(&r);

    fake_conn c = {0};
    fake_set(&c, "Authorization", f->bearer_read);
    for (int round = 0; round < 2; round++) {
        /* first a lookup, then a cached token whose handler needs the store */
        run(f, &r, &c, HTTP_GET, "/api/v1/things");
        assert_false(ran_done);
        assert_non_null(r.resume);
        assert_int_equal(calls, 0);
        assert_int_equal(workpool_busy(pool), 1);
        assert_true(pipeline_resume(&f->p, &r));
        assert_null(r.resume);
        assert_int_equal(r.status, 200);
        assert_int_equal(calls, 1);
        assert_non_null(header_of(&r, "X-OAuth-Scopes"));
        assert_non_null(header_of(&r, "X-RateLimit-Remaining"));
        done(&r);
        workpool_release(pool); /* the place a pool thread gives back */
    }

    /* A handler that may touch the store hands over even without a token. */
    run(f, &r, &c0, HTTP_GET, "/healthz");
    assert_false(ran_done);
    assert_true(pipeline_resume(&f->p, &r));
    assert_int_equal(r.status, 200);
    done(&r);
    workpool_release(pool);

    fake_conn sc = {0};
    fake_set(&sc, "Cookie", f->cookie);
    run(f, &r, &sc, HTTP_GET, "/web/api/things");
    assert_false(ran_done);
    assert_int_equal(calls, 0);
    assert_true(pipeline_resume(&f->p, &r));
    assert_int_equal(r.status, 200);
    assert_int_equal(calls, 1);
    assert_string_equal(header_of(&r, "X-Area"), "dashboard");
    done(&r);
    workpool_release(pool);

    assert_true(workpool_reserve(pool)); /* the pool's one place taken */
    run(f, &r, &c, HTTP_GET, "/api/v1/things");
    assert_true(ran_done);
    assert_int_equal(r.status, 503);
    assert_string_equal(header_of(&r, "Retry-After"), "1");
    assert_true(body_has(&r, "\"code\":\"unavailable\""));
    assert_int_equal(calls, 0);
    assert_int_equal(workpool_refused(pool), 1);
    done(&r);
    workpool_release(pool);

    f->p.store_pool = NULL;
    workpool_free(pool);
    store_thread_release();
}

/* --redis with a local store (p.store_pool for the limits alone,
 * p.store_local): the store's steps stay inline; a limit decision is
 * handed over only when it needs Redis. Redis here is a closed port: down
 * from the start with a reconnect due a second later, so the decisions are
 * the node's own, on the calling thread, until the reconnect is due; then
 * the request is handed over, nothing spent, and the pool's walk (which may
 * wait) tries the reconnect and answers as the inline walk would. */
static void test_shared_limits_hand_over_only_what_needs_redis(void **st)
{
    fx *f = *st;
    workpool_t *pool = workpool_new(1, 4);
    assert_non_null(pool);
    f->p.store_pool = pool;
    f->p.store_local = true;
    assert_true(redis_limits_start("redis://127.0.0.1:1", 100));
    assert_false(redis_limits_up());
    req_t r;

    fake_conn c = {0};
    fake_set(&c, "Authorization", f->bearer_read);
    run(f, &r, &c, HTTP_GET, "/api/v1/things"); /* a lookup, inline: the store is local */
    assert_true(ran_done);
    assert_null(r.resume);
    assert_int_equal(r.status, 200);
    assert_int_equal(calls, 1);
    assert_string_equal(header_of(&r, "X-RateLimit-Remaining"), "999");
    done(&r);
    assert_int_equal(redis_limits_fallbacks(), 1);

    fake_conn sc = {0};
    fake_set(&sc, "Cookie", f->cookie);
    run(f, &r, &sc, HTTP_GET, "/web/api/things"); /* a session: no limit, inline */
    assert_true(ran_done);
    assert_int_equal(r.status, 200);
    done(&r);
    assert_int_equal(workpool_busy(pool), 0);

    nanosleep(&(struct timespec){.tv_sec = 1, .tv_nsec = 100000000}, NULL); /* reconnect due */
    run(f, &r, &c, HTTP_GET, "/api/v1/things");
    assert_false(ran_done);
    assert_non_null(r.resume);
    assert_int_equal(calls, 0);
    assert_int_equal(redis_limits_fallbacks(), 1); /* nothing decided yet */
    assert_true(pipeline_resume(&f->p, &r));
    assert_int_equal(r.status, 200);
    assert_int_equal(calls, 1);
    /* the node's own table (the reconnect failed at once: a closed port) */
    assert_string_equal(header_of(&r, "X-RateLimit-Limit"), "1000");
    assert_false(redis_limits_up());
    assert_int_equal(redis_limits_fallbacks(), 2);
    done(&r);
    workpool_release(pool);

    /* The reconnect just failed: local again, inline. */
    run(f, &r, &c, HTTP_GET, "/api/v1/things");
    assert_true(ran_done);
    assert_int_equal(r.status, 200);
    done(&r);

    redis_limits_stop();
    f->p.store_pool = NULL;
    f->p.store_local = false;
    workpool_free(pool);
}

static void test_a_row_outside_every_area_is_refused(void **st)
{
    (void)st;
    static const route_area only_api[] = {{"/api/", false, NULL, NULL, false}};
    route_site s = site;
    s.areas = only_api;
    s.nareas = 1;
    pipeline_t p;
    char why[128] = "";
    assert_false(pipeline_init(&p, &s, thread_store, false, why, sizeof why));
    assert_non_null(strstr(why, "/healthz"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_token_is_401_with_challenge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_limits_hand_over_only_what_needs_redis,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_remote_store_hands_over_what_needs_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_in_url_is_400, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_with_scope_reaches_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_scope_is_403_with_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_path_404_and_other_method_405, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_head_is_answered_by_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_paths_go_to_the_area_miss_handler, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_body_too_big_is_413_before_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_screen_refuses_a_bad_token_before_the_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refusals_are_answered_before_routing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_address_limit_answers_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_route_without_cookie_is_401, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_get_acts_as_the_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_session_is_401_and_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek_route_runs_without_a_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_down_is_503, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_handler, setup, teardown),
        cmocka_unit_test(test_a_row_outside_every_area_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
