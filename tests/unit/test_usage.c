/* The usage log's read side and retention: newest first, filters by time
 * and status, paging, per-token isolation, pruning by age and by rows per
 * token, and the --since parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/usage.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "fixture.h"

typedef fixture_db fixture;

static int setup(void **state)
{
    log_set_level(LOG_WARN);
    return fixture_db_setup(state, "usage");
}

static int teardown(void **state)
{
    return fixture_db_teardown(state);
}

static usage_entry entry(int64_t token, int64_t t, const char *method, const char *path,
                         int status)
{
    usage_entry u;
    memset(&u, 0, sizeof u);
    u.token_id = token;
    u.time = t;
    u.status = status;
    snprintf(u.method, sizeof u.method, "%s", method);
    snprintf(u.path, sizeof u.path, "%s", path);
    snprintf(u.addr, sizeof u.addr, "192.0.2.1");
    snprintf(u.user_agent, sizeof u.user_agent, "curl/8.0");
    return u;
}

static int64_t count(store_t *s, int64_t token, int64_t since, int status)
{
    usage_filter f = {since, status};
    json_t *items = NULL;
    int64_t total = -1;
    assert_int_equal(usage_list(s, token, &f, 0, 1000, &items, &total), PIORA_OK);
    assert_int_equal((int64_t)json_array_size(items), total < 1000 ? total : 1000);
    json_decref(items);
    return total;
}

static void test_list_and_filters(void **state)
{
    fixture *fx = *state;
    const int64_t t0 = 1800000000;
    usage_entry v[] = {
        entry(1, t0, "GET", "/api/v1/servers", 200),
        entry(1, t0 + 10, "POST", "/api/v1/servers", 201),
        entry(1, t0 + 20, "DELETE", "/api/v1/servers/3", 403),
        entry(1, t0 + 30, "GET", "/api/v1/servers", 429),
        entry(2, t0 + 40, "GET", "/api/v1/user", 200),
    };
    assert_int_equal(store_usage_insert(fx->s, v, 5), PIORA_OK);

    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(usage_list(fx->s, 1, NULL, 0, 10, &items, &total), PIORA_OK);
    assert_int_equal(total, 4);
    json_t *newest = json_array_get(items, 0);
    assert_int_equal(json_integer_value(json_object_get(newest, "status")), 429);
    assert_string_equal(json_string_value(json_object_get(newest, "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(newest, "path")), "/api/v1/servers");
    assert_string_equal(json_string_value(json_object_get(newest, "addr")), "192.0.2.1");
    assert_string_equal(json_string_value(json_object_get(newest, "user_agent")), "curl/8.0");
    assert_int_equal(json_integer_value(json_object_get(newest, "count")), 1); /* 0 stored as 1 */
    char t[RFC3339_LEN];
    clock_fmt_rfc3339(t0 + 30, t);
    assert_string_equal(json_string_value(json_object_get(newest, "time")), t);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 3), "status")),
                     200);
    json_decref(items);

    assert_int_equal(count(fx->s, 1, t0 + 10, 0), 3);
    assert_int_equal(count(fx->s, 1, 0, 403), 1);
    assert_int_equal(count(fx->s, 1, t0 + 25, 403), 0);
    assert_int_equal(count(fx->s, 2, 0, 0), 1);
    assert_int_equal(count(fx->s, 3, 0, 0), 0);

    /* paging keeps the order */
    assert_int_equal(usage_list(fx->s, 1, NULL, 1, 2, &items, &total), PIORA_OK);
    assert_int_equal(total, 4);
    assert_int_equal(json_array_size(items), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "status")),
                     403);
    json_decref(items);

    usage_filter bad = {0, -5};
    items = NULL;
    assert_int_equal(usage_list(fx->s, 1, &bad, 0, 10, &items, &total), PIORA_EINVALID);
    assert_null(items);
    assert_int_equal(usage_list(fx->s, 0, NULL, 0, 10, &items, &total), PIORA_EINVALID);
}

static void test_prune_by_age(void **state)
{
    fixture *fx = *state;
    usage_entry v[6];
    for (int i = 0; i < 6; i++)
        v[i] = entry(1 + i % 2, 1000 + i * 100, "GET", "/api/v1/user", 200);
    assert_int_equal(store_usage_insert(fx->s, v, 6), PIORA_OK);
    int64_t gone = -1;
    assert_int_equal(store_usage_prune(fx->s, 1250, 0, NULL, 0, &gone), PIORA_OK);
    assert_int_equal(gone, 3); /* 1000, 1100, 1200 */
    assert_int_equal(count(fx->s, 1, 0, 0) + count(fx->s, 2, 0, 0), 3);
    assert_int_equal(count(fx->s, 1, 0, 0), 1);
}

static void test_prune_by_rows(void **state)
{
    fixture *fx = *state;
    usage_entry v[30];
    for (int i = 0; i < 30; i++)
        v[i] = entry(i < 20 ? 7 : 8, 5000 + i, "GET", "/api/v1/user", 200);
    assert_int_equal(store_usage_insert(fx->s, v, 30), PIORA_OK);

    /* only the named token is cut */
    int64_t only8 = 8, gone = 0;
    assert_int_equal(store_usage_prune(fx->s, 0, 5, &only8, 1, &gone), PIORA_OK);
    assert_int_equal(gone, 5);
    assert_int_equal(count(fx->s, 7, 0, 0), 20);
    assert_int_equal(count(fx->s, 8, 0, 0), 5);

    /* every token over the cap; the newest rows stay */
    assert_int_equal(store_usage_prune(fx->s, 0, 4, NULL, 0, &gone), PIORA_OK);
    assert_int_equal(gone, 17);
    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(usage_list(fx->s, 7, NULL, 0, 10, &items, &total), PIORA_OK);
    assert_int_equal(total, 4);
    char t[RFC3339_LEN];
    clock_fmt_rfc3339(5019, t);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "time")), t);
    clock_fmt_rfc3339(5016, t);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 3), "time")), t);
    json_decref(items);
}

static void test_parse_since(void **state)
{
    (void)state;
    int64_t since = 0;
    const int64_t now = 1800000000;
    assert_true(usage_parse_since("24h", now, &since));
    assert_int_equal(since, now - 86400);
    assert_true(usage_parse_since("7d", now, &since));
    assert_int_equal(since, now - 7 * 86400);
    assert_true(usage_parse_since("30m", now, &since));
    assert_int_equal(since, now - 1800);
    assert_true(usage_parse_since("2027-01-15T10:00:00Z", now, &since));
    assert_int_equal(since, 1800007200);
    assert_true(usage_parse_since("2026-01-01", now, &since));
    assert_int_equal(since, 1767225600);
    assert_false(usage_parse_since("", now, &since));
    assert_false(usage_parse_since("never", now, &since));
    assert_false(usage_parse_since("yesterday", now, &since));
    assert_false(usage_parse_since("24", now, &since));
    assert_false(usage_parse_since("-5h", now, &since));
    assert_false(usage_parse_since("2026-02-30", now, &since));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_by_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_by_rows, setup, teardown),
        cmocka_unit_test(test_parse_since),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
