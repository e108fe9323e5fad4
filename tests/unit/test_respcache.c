/* Replayed answers: only for the same team and URI, only while the store
 * generation they were made under is current, only 200s under the cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http/respcache.h"
#include "http/response.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_same_team_uri_generation),
        cmocka_unit_test(test_only_200_under_the_cap),
        cmocka_unit_test(test_older_answer_never_replaces_newer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
