/* RFC 3339 times at the ends of the range the parser takes (found by
 * fuzz/fuzz_clock.c): an offset or a leap second could carry a date in 9999
 * into year 10000, which clock_fmt_rfc3339 could not write into its 21
 * bytes (strftime failed and left the buffer unterminated, so a token list
 * with such an expiry read past it), or a date in 1970 back into 1969. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/clock.h"

static void test_round_trip(void **state)
{
    (void)state;
    int64_t t = -1;
    char out[RFC3339_LEN];
    assert_true(clock_parse_rfc3339("2026-11-28T07:09:40Z", &t));
    assert_int_equal(t, 1795849780);
    clock_fmt_rfc3339(t, out);
    assert_string_equal(out, "2026-11-28T07:09:40Z");
    assert_true(clock_parse_rfc3339("2026-11-28T08:09:40+01:00", &t));
    assert_int_equal(t, 1795849780);
    assert_true(clock_parse_rfc3339("2024-02-29", &t));
    clock_fmt_rfc3339(t, out);
    assert_string_equal(out, "2024-02-29T00:00:00Z");
}

static void test_range_ends(void **state)
{
    (void)state;
    int64_t t = -1;
    char out[RFC3339_LEN];
    assert_true(clock_parse_rfc3339("9999-12-31T23:59:59Z", &t));
    clock_fmt_rfc3339(t, out);
    assert_string_equal(out, "9999-12-31T23:59:59Z");
    assert_true(clock_parse_rfc3339("1970-01-01T00:00:00Z", &t));
    assert_int_equal(t, 0);

    /* year 10000 and 1969 once the offset or leap second is applied */
    assert_false(clock_parse_rfc3339("9999-12-31T23:59:59-01:00", &t));
    assert_false(clock_parse_rfc3339("9999-12-31T23:59:60Z", &t));
    assert_false(clock_parse_rfc3339("1970-01-01T00:00:00.123+02:30", &t));
    assert_true(clock_parse_rfc3339("1970-01-01T02:30:00+02:30", &t));
    assert_int_equal(t, 0);
}

static void test_format_clamps(void **state)
{
    (void)state;
    char out[RFC3339_LEN];
    memset(out, 'x', sizeof out);
    clock_fmt_rfc3339(INT64_C(253402300800), out); /* 10000-01-01T00:00:00Z */
    assert_string_equal(out, "9999-12-31T23:59:59Z");
    clock_fmt_rfc3339(INT64_MAX, out);
    assert_string_equal(out, "9999-12-31T23:59:59Z");
    clock_fmt_rfc3339(-1, out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_range_ends),
        cmocka_unit_test(test_format_clamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
