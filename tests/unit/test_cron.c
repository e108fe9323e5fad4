/* util/cron: what a backup_schedule accepts, and when it fires (UTC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/clock.h"
#include "util/cron.h"

static int64_t at(const char *rfc3339)
{
    int64_t t = 0;
    assert_true(clock_parse_rfc3339(rfc3339, &t));
    return t;
}

static void next_is(const char *expr, const char *after, const char *want)
{
    cron_expr c;
    char err[96] = "";
    if (!cron_parse(expr, &c, err, sizeof err))
        fail_msg("%s refused: %s", expr, err);
    int64_t n = cron_next(&c, at(after));
    char got[RFC3339_LEN];
    clock_fmt_rfc3339(n, got);
    if (strcmp(got, want) != 0)
        fail_msg("%s after %s: %s, want %s", expr, after, got, want);
    assert_true(cron_matches(&c, n));
}

static void test_next_slots(void **state)
{
    (void)state;
    next_is("* * * * *", "2026-12-02T14:30:15Z", "2026-12-02T14:31:00Z");
    next_is("* * * * *", "2026-12-02T14:30:00Z", "2026-12-02T14:31:00Z"); /* strictly after */
    next_is("0 3 * * *", "2026-12-02T14:30:00Z", "2026-12-03T03:00:00Z");
    next_is("*/15 * * * *", "2026-12-02T14:31:00Z", "2026-12-02T14:45:00Z");
    next_is("5/20 * * * *", "2026-12-02T14:26:00Z", "2026-12-02T14:45:00Z");
    next_is("0 0 1 * *", "2026-12-02T00:00:00Z", "2027-01-01T00:00:00Z");
    next_is("30 2 * * sun", "2026-12-02T00:00:00Z", "2026-12-06T02:30:00Z"); /* a Wednesday */
    next_is("30 2 * * 7", "2026-12-02T00:00:00Z", "2026-12-06T02:30:00Z");
    next_is("0 12 * * MON-FRI", "2026-12-05T13:00:00Z", "2026-12-07T12:00:00Z");
    next_is("0 0 29 feb *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
    next_is("0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"); /* 2100 is no leap year */
    next_is("0 9 1-7 * 1-5/2,0", "2026-12-02T10:00:00Z", "2026-12-03T09:00:00Z");
    /* both day fields restricted: either matches (the 13th, or any Friday) */
    next_is("0 0 13 * 5", "2026-12-02T00:00:00Z", "2026-12-04T00:00:00Z");
    next_is("0 0 13 * 5", "2026-12-11T00:00:01Z", "2026-12-13T00:00:00Z");
    /* '*' day of month with a restricted weekday: only that weekday */
    next_is("0 0 * * 5", "2026-12-05T00:00:00Z", "2026-12-11T00:00:00Z");
    next_is("59 23 31 dec *", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z");
    next_is(" 1\t2  3 4 5 ", "2026-01-01T00:00:00Z", "2026-04-03T02:01:00Z");
}

static void test_never(void **state)
{
    (void)state;
    cron_expr c;
    assert_true(cron_parse("0 0 30 2 *", &c, NULL, 0));
    assert_int_equal(cron_next(&c, at("2026-01-01T00:00:00Z")), -1);
    assert_true(cron_parse("0 0 31 4,6,9,11 *", &c, NULL, 0));
    assert_int_equal(cron_next(&c, at("2026-01-01T00:00:00Z")), -1);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *",
        "* * * 0 *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "1, * * * *",
        ",1 * * * *", "1-2-3 * * * *", "a * * * *", "* * * foo *", "* * * * mond", "001 * * * *",
        "@daily", "? * * * *", "L * * * *", "* * * * 5#3", "-1 * * * *", "*/61 * * * *",
        "1/ * * * *", "*1 * * * *", "* * * * *\n", "jan * * * *",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cron_expr c;
        char err[96] = "";
        if (cron_parse(bad[i], &c, err, sizeof err))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_true(err[0] != '\0');
    }
    char longer[CRON_MAX_LEN + 8];
    memset(longer, ' ', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    memcpy(longer, "* * * * *", 9);
    cron_expr c;
    assert_false(cron_parse(longer, &c, NULL, 0));
}

static void test_bits(void **state)
{
    (void)state;
    cron_expr c;
    assert_true(cron_parse("0,30 */6 1,15 jan-mar,dec sat,sun", &c, NULL, 0));
    assert_true(c.minutes == ((UINT64_C(1) << 0) | (UINT64_C(1) << 30)));
    assert_true(c.hours == ((1u << 0) | (1u << 6) | (1u << 12) | (1u << 18)));
    assert_true(c.mdays == ((1u << 1) | (1u << 15)));
    assert_true(c.months == ((1u << 1) | (1u << 2) | (1u << 3) | (1u << 12)));
    assert_true(c.wdays == ((1u << 0) | (1u << 6)));
    assert_false(c.mday_any);
    assert_false(c.wday_any);
    assert_true(cron_parse("* * */2 * *", &c, NULL, 0));
    assert_true(c.mday_any); /* a starred step still counts as unrestricted */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_slots),
        cmocka_unit_test(test_never),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
