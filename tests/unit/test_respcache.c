/* Replayed answers: only for the same team and URI, only while the pages
 * generation they were made under is current, only 200s under the cap;
 * and that generation moves with object writes (here or in another
 * process) and not with the usage log, last-used times or sessions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "authn/authn.h"
#include "core/objects.h"
#include "http/respcache.h"
#include "http/response.h"
#include "store/change.h"
#include "util/clock.h"
#include "fixture.h"

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
    respcache_init(64);
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
    respcache_init(64);
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
    respcache_init(1); /* one slot: every key collides */
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

    respcache_init(64);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
