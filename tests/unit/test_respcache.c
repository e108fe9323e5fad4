/* Replayed answers: only for the same team and URI, only while the pages
 * generation they were made under is current, only 200s under the cap;
 * and that generation moves with object writes (here or in another
 * process) and not with the usage log, last-used times or sessions. The
 * memory stays within the byte budget whatever is put, by evicting the
 * least recently used answers, and /metrics shows it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authn/authn.h"
#include "core/objects.h"
#include "http/respcache.h"
#include "http/response.h"
#include "monitor/metrics.h"
#include "store/change.h"
#include "util/clock.h"
#include "fixture.h"

#define BUDGET (1024 * 1024) /* one shard */

static void answer(req_t *r, int status, const char *body)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->out, 1 << 20);
    resp_raw(r, status, "application/json", body, strlen(body));
    resp_header(r, "Link", "</x?page=2>; rel=\"next\"");
}

static void dispose(req_t *r)
{
    buf_free(&r->out);
    for (int i = 0; i < r->nheaders; i++)
        free(r->headers[i].value);
}

static bool get(int64_t team, const char *uri, uint64_t gen, req_t *out)
{
    memset(out, 0, sizeof *out);
    buf_init(&out->out, 1 << 20);
    return respcache_get(team, uri, gen, out);
}

static void test_hit_same_team_uri_generation(void **st)
{
    (void)st;
    respcache_init(BUDGET);
    req_t r, g;
    answer(&r, 200, "{\"data\":[1]}");
    respcache_put(1, "/api/v1/servers?page=1", 5, &r);
    assert_true(get(1, "/api/v1/servers?page=1", 5, &g));
    assert_int_equal(g.status, 200);
    assert_string_equal(g.out.data, "{\"data\":[1]}");
    assert_string_equal(g.content_type, "application/json");
    assert_int_equal(g.nheaders, 1);
    assert_string_equal(g.headers[0].name, "Link");
    dispose(&g);
    /* Another team, another URI, another generation: all misses. */
    assert_false(get(2, "/api/v1/servers?page=1", 5, &g));
    dispose(&g);
    assert_false(get(1, "/api/v1/servers?page=2", 5, &g));
    dispose(&g);
    assert_false(get(1, "/api/v1/servers?page=1", 6, &g));
    dispose(&g);
    dispose(&r);
    respcache_free();
}

static void test_only_200_under_the_cap(void **st)
{
    (void)st;
    respcache_init(BUDGET);
    req_t r, g;
    answer(&r, 404, "{}");
    respcache_put(1, "/a", 1, &r);
    assert_false(get(1, "/a", 1, &g));
    dispose(&g);
    dispose(&r);
    char *big = malloc(RESPCACHE_BODY_MAX + 2);
    memset(big, 'x', RESPCACHE_BODY_MAX + 1);
    big[RESPCACHE_BODY_MAX + 1] = '\0';
    answer(&r, 200, big);
    respcache_put(1, "/b", 1, &r);
    assert_false(get(1, "/b", 1, &g));
    dispose(&g);
    dispose(&r);
    free(big);
    respcache_free();
}

static void test_older_answer_never_replaces_newer(void **st)
{
    (void)st;
    respcache_init(BUDGET);
    req_t r, g;
    answer(&r, 200, "new");
    respcache_put(1, "/a", 9, &r);
    dispose(&r);
    answer(&r, 200, "old");
    respcache_put(1, "/a", 8, &r);
    dispose(&r);
    assert_true(get(1, "/a", 9, &g));
    assert_string_equal(g.out.data, "new");
    dispose(&g);
    respcache_free();
}

static size_t cached_bytes(void)
{
    respcache_stats st;
    respcache_stats_read(&st);
    return st.bytes;
}

/* A page of about 1 KiB for key i, like a list answer. */
static void put_page(size_t i, uint64_t gen)
{
    char uri[64], body[1024];
    snprintf(uri, sizeof uri, "/api/v1/servers?q=%zu", i);
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    req_t r;
    answer(&r, 200, body);
    respcache_put(1, uri, gen, &r);
    dispose(&r);
}

static bool has_page(size_t i, uint64_t gen)
{
    char uri[64];
    snprintf(uri, sizeof uri, "/api/v1/servers?q=%zu", i);
    req_t g;
    bool hit = get(1, uri, gen, &g);
    dispose(&g);
    return hit;
}

/* Distinct query strings past the budget: the total never passes it, and
 * the first entry pushed out is the oldest one. */
static void test_budget_bounds_bytes_and_evicts_the_oldest(void **st)
{
    (void)st;
    const size_t budget = 64 * 1024;
    respcache_init(budget);
    respcache_stats s;
    size_t first_eviction = 0;
    for (size_t i = 0; i < 1000; i++) {
        put_page(i, 1);
        respcache_stats_read(&s);
        assert_true(s.bytes <= budget);
        if (s.evictions && !first_eviction) {
            first_eviction = i;
            assert_int_equal(s.evictions, 1);
            assert_false(has_page(0, 1));
            assert_true(has_page(1, 1));
            assert_true(has_page(i, 1));
        }
    }
    assert_true(first_eviction > 10); /* the budget did hold pages before */
    respcache_stats_read(&s);
    assert_true(s.entries > 10);
    assert_true(s.entries * 1024 <= budget);
    assert_true(s.evictions >= 1000 - s.entries);
    /* the newest are all there, the oldest all gone */
    for (size_t i = 1000 - s.entries; i < 1000; i++)
        assert_true(has_page(i, 1));
    for (size_t i = 0; i < 500; i++)
        assert_false(has_page(i, 1));
    respcache_free();
    assert_int_equal(cached_bytes(), 0);
}

/* Every entry is charged at least its key, body and header values. */
static void test_bytes_count_key_body_headers(void **st)
{
    (void)st;
    respcache_init(BUDGET);
    req_t r;
    answer(&r, 200, "{\"data\":[1]}");
    const char *uri = "/api/v1/servers?page=1";
    respcache_put(1, uri, 1, &r);
    respcache_stats s;
    respcache_stats_read(&s);
    assert_int_equal(s.entries, 1);
    assert_true(s.bytes >= strlen(uri) + r.out.len + strlen(r.headers[0].value));
    dispose(&r);
    respcache_free();
}

/* A replayed answer is recent again: the next eviction takes another. */
static void test_a_hit_keeps_an_answer(void **st)
{
    (void)st;
    respcache_init(64 * 1024);
    size_t n = 0;
    respcache_stats s;
    do {
        put_page(n++, 1);
        respcache_stats_read(&s);
    } while (!s.evictions); /* full: page 0 just went */
    assert_true(has_page(1, 1)); /* page 1 becomes the most recent */
    put_page(n++, 1);
    assert_true(has_page(1, 1));
    assert_false(has_page(2, 1));
    respcache_free();
}

/* An answer of a generation that is gone is dropped when met, not kept. */
static void test_stale_answer_is_freed(void **st)
{
    (void)st;
    respcache_init(BUDGET);
    put_page(7, 1);
    assert_true(cached_bytes() > 0);
    assert_false(has_page(7, 2));
    respcache_stats s;
    respcache_stats_read(&s);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.bytes, 0);
    respcache_free();
}

static void test_zero_budget_is_off(void **st)
{
    (void)st;
    respcache_init(0);
    put_page(1, 1);
    assert_false(has_page(1, 1));
    assert_int_equal(cached_bytes(), 0);
    respcache_free();
}

/* /metrics shows what the cache holds and what it did. */
static void test_metrics_follow_the_cache(void **st)
{
    (void)st;
    respcache_init(64 * 1024);
    for (size_t i = 0; i < 200; i++)
        put_page(i, 1);
    assert_true(has_page(199, 1));
    assert_false(has_page(0, 1));
    respcache_stats s;
    respcache_stats_read(&s);
    buf_t b;
    buf_init(&b, 1 << 20);
    metrics_gauges g;
    memset(&g, 0, sizeof g);
    metrics_render(&b, &g);
    buf_putc(&b, '\0');
    char line[128];
    snprintf(line, sizeof line, "\npiora_response_cache_bytes %zu\n", s.bytes);
    assert_non_null(strstr(b.data, line));
    snprintf(line, sizeof line, "\npiora_response_cache_entries %zu\n", s.entries);
    assert_non_null(strstr(b.data, line));
    assert_non_null(strstr(b.data, "\npiora_response_cache_budget_bytes 65536\n"));
    assert_non_null(strstr(b.data, "# TYPE piora_response_cache_evictions_total counter\n"));
    assert_non_null(strstr(b.data, "# TYPE piora_response_cache_hits_total counter\n"));
    assert_non_null(strstr(b.data, "# TYPE piora_response_cache_misses_total counter\n"));
    buf_free(&b);
    respcache_free();
}

/* Threads putting and getting overlapping keys (run under TSan too):
 * the budget holds and the books balance. */
static void *hammer(void *arg)
{
    size_t base = (size_t)(uintptr_t)arg;
    for (size_t i = 0; i < 3000; i++) {
        size_t k = (base * 7919 + i) % 700;
        put_page(k, 1 + i % 3);
        (void)has_page(k, 1 + i % 3);
        (void)has_page((k + 1) % 700, 1);
    }
    return NULL;
}

static void test_threads_stay_within_budget(void **st)
{
    (void)st;
    const size_t budget = 4u << 20; /* four shards */
    respcache_init(budget);
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    respcache_stats s;
    respcache_stats_read(&s);
    assert_true(s.bytes <= budget);
    assert_true(s.entries > 0);
    respcache_free();
}

typedef struct page_fx {
    fixture_db db;
    user_rec user;
    token_rec token;
} page_fx;

static bool monitoring_writes(store_t *s, void *arg)
{
    const page_fx *f = arg;
    usage_entry u = {.token_id = f->token.id, .time = clock_now(), .status = 200};
    memcpy(u.method, "GET", 4);
    memcpy(u.path, "/api/v1/servers", 16);
    token_touch touch = {.token_id = f->token.id, .used_at = clock_now()};
    uint8_t d[SESSION_DIGEST_LEN] = {3};
    pid_t pid = getpid(); /* one session per process that calls this */
    memcpy(d + 1, &pid, sizeof pid);
    session_rec sr;
    return store_usage_insert(s, &u, 1) == PIORA_OK && store_token_touch(s, &touch, 1) == PIORA_OK &&
           store_session_insert(s, d, f->user.id, "csrf", clock_now(), clock_now() + 60, NULL,
                                &sr) == PIORA_OK;
}

static bool server_create(store_t *s, void *arg)
{
    const page_fx *f = arg;
    json_t *v = json_pack("{s:s, s:s}", "name", "web", "ip_address", "10.0.0.2");
    json_t *obj = NULL;
    piora_err e = objects_create(s, &RES_SERVERS, f->user.team_id, v, &obj);
    json_decref(v);
    json_decref(obj);
    return e == PIORA_OK;
}

/* One request's view: the pages generation after the other side's writes
 * are visible (authn_sync, as the server does first thing). */
static uint64_t pages_gen(page_fx *f)
{
    change_wait_visible(f->db.s);
    return authn_sync(f->db.s).pages;
}

static void test_pages_follow_object_writes_only(void **st)
{
    (void)st;
    page_fx f;
    memset(&f, 0, sizeof f);
    f.db.s = fixture_db_open(f.db.dir, f.db.path, "respcache");
    assert_non_null(f.db.s);
    assert_true(fixture_user(f.db.s, "ci@example.com", "acme", false, &f.user));
    token_new tn = {.user_id = f.user.id, .name = "ci", .scopes = SCOPE_SERVERS_READ,
                    .hint = "piora_token_abcd\xe2\x80\xa6wxyz"};
    memset(tn.digest, 0x11, sizeof tn.digest);
    assert_int_equal(store_token_insert(f.db.s, &tn, &f.token), PIORA_OK);
    char msg[256];
    store_t *other = store_open(f.db.path, msg, sizeof msg); /* the writer threads */
    assert_non_null(other);

    respcache_init(BUDGET);
    const char *uri = "/api/v1/servers?per_page=20";
    req_t r, g;
    answer(&r, 200, "{\"data\":[]}");
    respcache_put(f.user.team_id, uri, pages_gen(&f), &r);
    dispose(&r);

    /* monitoring and session writes, here and in another process: the page stays */
    assert_true(monitoring_writes(other, &f));
    assert_true(get(f.user.team_id, uri, pages_gen(&f), &g));
    dispose(&g);
    assert_true(fixture_in_child(f.db.path, monitoring_writes, &f));
    assert_true(get(f.user.team_id, uri, pages_gen(&f), &g));
    dispose(&g);

    /* a new server created by another process: the next list is read again */
    assert_true(fixture_in_child(f.db.path, server_create, &f));
    assert_false(get(f.user.team_id, uri, pages_gen(&f), &g));
    dispose(&g);

    /* and by another connection of this process */
    answer(&r, 200, "{\"data\":[1]}");
    respcache_put(f.user.team_id, uri, pages_gen(&f), &r);
    dispose(&r);
    assert_true(get(f.user.team_id, uri, pages_gen(&f), &g));
    dispose(&g);
    assert_true(server_create(other, &f));
    assert_false(get(f.user.team_id, uri, pages_gen(&f), &g));
    dispose(&g);

    respcache_free();
    store_close(other);
    store_close(f.db.s);
    fixture_db_remove(f.db.dir, f.db.path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_same_team_uri_generation),
        cmocka_unit_test(test_only_200_under_the_cap),
        cmocka_unit_test(test_older_answer_never_replaces_newer),
        cmocka_unit_test(test_pages_follow_object_writes_only),
        cmocka_unit_test(test_budget_bounds_bytes_and_evicts_the_oldest),
        cmocka_unit_test(test_bytes_count_key_body_headers),
        cmocka_unit_test(test_a_hit_keeps_an_answer),
        cmocka_unit_test(test_stale_answer_is_freed),
        cmocka_unit_test(test_zero_budget_is_off),
        cmocka_unit_test(test_metrics_follow_the_cache),
        cmocka_unit_test(test_threads_stay_within_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
