/* Route matching: literal segments, one {id} (a positive int64 in plain
 * decimal), 404 versus 405 with the methods the path takes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "http/router.h"

static void h(req_t *r) { (void)r; }

static const route_t table[] = {
    {HTTP_GET, "/api/v1/things", ROUTE_AUTH_TOKEN, ROUTE_LIMIT_TOKEN, 0, 0, h, 200, ""},
    {HTTP_POST, "/api/v1/things", ROUTE_AUTH_TOKEN, ROUTE_LIMIT_TOKEN, 0, 0, h, 201, ""},
    {HTTP_GET, "/api/v1/things/{id}", ROUTE_AUTH_TOKEN, ROUTE_LIMIT_TOKEN, 0, 0, h, 200, ""},
    {HTTP_DELETE, "/api/v1/things/{id}", ROUTE_AUTH_TOKEN, ROUTE_LIMIT_TOKEN, 0, 0, h, 204, ""},
    {HTTP_POST, "/api/v1/things/{id}/poke", ROUTE_AUTH_TOKEN, ROUTE_LIMIT_TOKEN, 0, 0, h, 202, ""},
};
#define N (sizeof table / sizeof table[0])

static route_match_result m(http_method meth, const char *path, const route_t **rt, int64_t *id,
                            unsigned *allowed)
{
    *rt = NULL;
    *id = -1;
    *allowed = 0;
    return router_match(table, N, meth, path, rt, id, allowed);
}

static void test_literal_and_id(void **st)
{
    (void)st;
    const route_t *rt;
    int64_t id;
    unsigned allowed;
    assert_int_equal(m(HTTP_GET, "/api/v1/things", &rt, &id, &allowed), ROUTE_FOUND);
    assert_ptr_equal(rt, &table[0]);
    assert_int_equal(id, 0);
    assert_int_equal(m(HTTP_GET, "/api/v1/things/42", &rt, &id, &allowed), ROUTE_FOUND);
    assert_ptr_equal(rt, &table[2]);
    assert_int_equal(id, 42);
    assert_int_equal(m(HTTP_POST, "/api/v1/things/9223372036854775807/poke", &rt, &id, &allowed),
                     ROUTE_FOUND);
    assert_int_equal(id, INT64_MAX);
}

static void test_bad_ids_are_404(void **st)
{
    (void)st;
    const route_t *rt;
    int64_t id;
    unsigned allowed;
    const char *bad[] = {"/api/v1/things/0",  "/api/v1/things/-1",  "/api/v1/things/+1",
                         "/api/v1/things/01", "/api/v1/things/1a",  "/api/v1/things/ 1",
                         "/api/v1/things/",   "/api/v1/things/1/",  "/api/v1/things//1",
                         "/api/v1/things/9223372036854775808",       "/api/v1/things/1e3",
                         "/api/v1/thingsx",   "/api/v1/Things",     "/api/v1/things/1/poke/x",
                         "",                  "/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        route_match_result r = m(HTTP_GET, bad[i], &rt, &id, &allowed);
        if (r != ROUTE_NO_PATH)
            fail_msg("%s matched (%d)", bad[i], r);
    }
}

static void test_wrong_method_lists_allowed(void **st)
{
    (void)st;
    const route_t *rt;
    int64_t id;
    unsigned allowed;
    char allow[96];
    assert_int_equal(m(HTTP_PUT, "/api/v1/things/7", &rt, &id, &allowed), ROUTE_BAD_METHOD);
    router_allow_header(allowed, allow, sizeof allow);
    assert_string_equal(allow, "GET, HEAD, DELETE");
    assert_int_equal(m(HTTP_GET, "/api/v1/things/7/poke", &rt, &id, &allowed), ROUTE_BAD_METHOD);
    router_allow_header(allowed, allow, sizeof allow);
    assert_string_equal(allow, "POST");
    assert_int_equal(m(HTTP_OTHER, "/api/v1/things", &rt, &id, &allowed), ROUTE_BAD_METHOD);
    router_allow_header(allowed, allow, sizeof allow);
    assert_string_equal(allow, "GET, HEAD, POST");
}

static void test_head_is_get(void **st)
{
    (void)st;
    const route_t *rt;
    int64_t id;
    unsigned allowed;
    assert_int_equal(m(HTTP_HEAD, "/api/v1/things/5", &rt, &id, &allowed), ROUTE_FOUND);
    assert_ptr_equal(rt, &table[2]);
    assert_int_equal(m(HTTP_HEAD, "/api/v1/things/5/poke", &rt, &id, &allowed), ROUTE_BAD_METHOD);
}

static void test_allow_header_truncates_safely(void **st)
{
    (void)st;
    char small[8];
    router_allow_header(HTTP_GET | HTTP_POST | HTTP_DELETE, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
    assert_string_equal(small, "GET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_and_id),
        cmocka_unit_test(test_bad_ids_are_404),
        cmocka_unit_test(test_wrong_method_lists_allowed),
        cmocka_unit_test(test_head_is_get),
        cmocka_unit_test(test_allow_header_truncates_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
