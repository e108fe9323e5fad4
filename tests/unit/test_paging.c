/* Pagination: ?page / ?per_page parsing (defaults, bounds, garbage), the
 * meta object, and the Link header for first, middle, last and past-the-end
 * pages, with and without a filter kept in the links. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/paging.h"

static piora_err parse(const char *page, const char *per_page, page_req *p, verrs *e)
{
    memset(e, 0, sizeof *e);
    return paging_parse(page, per_page, p, e);
}

static void test_defaults(void **state)
{
    (void)state;
    page_req p;
    verrs e;
    assert_int_equal(parse(NULL, NULL, &p, &e), PIORA_OK);
    assert_int_equal(p.page, 1);
    assert_int_equal(p.per_page, 20);
    assert_int_equal(p.offset, 0);
    assert_int_equal(e.n, 0);

    assert_int_equal(parse("3", "50", &p, &e), PIORA_OK);
    assert_int_equal(p.page, 3);
    assert_int_equal(p.per_page, 50);
    assert_int_equal(p.offset, 100);

    assert_int_equal(parse("1", "100", &p, &e), PIORA_OK);
    assert_int_equal(p.per_page, 100);
    assert_int_equal(parse(NULL, "1", &p, &e), PIORA_OK);
    assert_int_equal(p.per_page, 1);
    /* a huge page is fine: it is simply past the end */
    assert_int_equal(parse("1000000000", "100", &p, &e), PIORA_OK);
    assert_int_equal(p.offset, (int64_t)999999999 * 100);
}

static void expect_bad(const char *page, const char *per_page, const char *field)
{
    page_req p;
    verrs e;
    if (parse(page, per_page, &p, &e) != PIORA_EINVALID)
        fail_msg("page=%s per_page=%s accepted", page ? page : "(none)",
                 per_page ? per_page : "(none)");
    assert_int_equal(e.n, 1);
    assert_string_equal(e.items[0].field, field);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_bad("0", NULL, "page");
    expect_bad("-1", NULL, "page");
    expect_bad("", NULL, "page");
    expect_bad("abc", NULL, "page");
    expect_bad("1.5", NULL, "page");
    expect_bad(" 1", NULL, "page");
    expect_bad("1 ", NULL, "page");
    expect_bad("+1", NULL, "page");
    expect_bad("0x10", NULL, "page");
    expect_bad("1e3", NULL, "page");
    expect_bad("99999999999999999999999", NULL, "page");
    expect_bad("9223372036854775807", NULL, "page"); /* offset would overflow */
    expect_bad("1;DROP TABLE servers", NULL, "page");
    expect_bad(NULL, "0", "per_page");
    expect_bad(NULL, "101", "per_page");
    expect_bad(NULL, "1000", "per_page");
    expect_bad(NULL, "-5", "per_page");
    expect_bad(NULL, "", "per_page");
    expect_bad(NULL, "ten", "per_page");

    page_req p;
    verrs e;
    assert_int_equal(parse("x", "y", &p, &e), PIORA_EINVALID);
    assert_int_equal(e.n, 2);
    assert_string_equal(e.items[0].field, "page");
    assert_string_equal(e.items[1].field, "per_page");
}

static void test_meta(void **state)
{
    (void)state;
    page_req p = {.page = 2, .per_page = 10, .offset = 10};
    json_t *m = paging_meta(&p, 35);
    assert_non_null(m);
    assert_int_equal(json_object_size(m), 3);
    assert_int_equal(json_integer_value(json_object_get(m, "page")), 2);
    assert_int_equal(json_integer_value(json_object_get(m, "per_page")), 10);
    assert_int_equal(json_integer_value(json_object_get(m, "total")), 35);
    json_decref(m);
}

static void link_eq(const char *path, const char *extra, int64_t page, int64_t per_page,
                    int64_t total, const char *want)
{
    page_req p = {.page = page, .per_page = per_page, .offset = (page - 1) * per_page};
    buf_t b;
    buf_init(&b, 4096);
    paging_link(&b, path, extra, &p, total);
    assert_false(b.failed);
    assert_string_equal(b.data ? b.data : "", want);
    buf_free(&b);
}

/* With --public-url the links are absolute on it (a trailing slash of the
 * setting is not doubled); cleared, relative again. */
static void test_link_base(void **state)
{
    (void)state;
    paging_set_base("https://piora.example.com/ops/");
    link_eq("/api/v1/backups", "database_id=3", 1, 20, 5,
            "<https://piora.example.com/ops/api/v1/backups?database_id=3&page=1&per_page=20>; "
            "rel=\"first\", "
            "<https://piora.example.com/ops/api/v1/backups?database_id=3&page=1&per_page=20>; "
            "rel=\"last\"");
    paging_set_base("");
    link_eq("/api/v1/backups", "", 1, 20, 5,
            "</api/v1/backups?page=1&per_page=20>; rel=\"first\", "
            "</api/v1/backups?page=1&per_page=20>; rel=\"last\"");
}

static void test_link(void **state)
{
    (void)state;
    /* first of 3 pages */
    link_eq("/api/v1/servers", "", 1, 10, 25,
            "</api/v1/servers?page=1&per_page=10>; rel=\"first\", "
            "</api/v1/servers?page=2&per_page=10>; rel=\"next\", "
            "</api/v1/servers?page=3&per_page=10>; rel=\"last\"");
    /* middle */
    link_eq("/api/v1/servers", "", 2, 10, 25,
            "</api/v1/servers?page=1&per_page=10>; rel=\"first\", "
            "</api/v1/servers?page=1&per_page=10>; rel=\"prev\", "
            "</api/v1/servers?page=3&per_page=10>; rel=\"next\", "
            "</api/v1/servers?page=3&per_page=10>; rel=\"last\"");
    /* last, exactly full */
    link_eq("/api/v1/servers", "", 3, 10, 30,
            "</api/v1/servers?page=1&per_page=10>; rel=\"first\", "
            "</api/v1/servers?page=2&per_page=10>; rel=\"prev\", "
            "</api/v1/servers?page=3&per_page=10>; rel=\"last\"");
    /* empty list */
    link_eq("/api/v1/servers", "", 1, 20, 0,
            "</api/v1/servers?page=1&per_page=20>; rel=\"first\", "
            "</api/v1/servers?page=1&per_page=20>; rel=\"last\"");
    /* past the end: prev points at the last real page, no next */
    link_eq("/api/v1/servers", "", 9, 10, 25,
            "</api/v1/servers?page=1&per_page=10>; rel=\"first\", "
            "</api/v1/servers?page=3&per_page=10>; rel=\"prev\", "
            "</api/v1/servers?page=3&per_page=10>; rel=\"last\"");
    /* a filter is kept in every link */
    link_eq("/api/v1/backups", "database_id=7", 2, 1, 3,
            "</api/v1/backups?database_id=7&page=1&per_page=1>; rel=\"first\", "
            "</api/v1/backups?database_id=7&page=1&per_page=1>; rel=\"prev\", "
            "</api/v1/backups?database_id=7&page=3&per_page=1>; rel=\"next\", "
            "</api/v1/backups?database_id=7&page=3&per_page=1>; rel=\"last\"");
    /* NULL extra is the same as "" */
    link_eq("/api/v1/databases", NULL, 1, 100, 100,
            "</api/v1/databases?page=1&per_page=100>; rel=\"first\", "
            "</api/v1/databases?page=1&per_page=100>; rel=\"last\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_meta),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_link_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
