/* num_parse_u64: the strict parser that reads Content-Length (it replaced
 * strtoull, which takes spaces, signs and trailing junk, and saturates on
 * overflow). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>

#include "util/num.h"

static void test_accepts_plain_decimals(void **st)
{
    (void)st;
    uint64_t v = 7;
    assert_true(num_parse_u64("0", UINT64_MAX, &v));
    assert_int_equal(v, 0);
    assert_true(num_parse_u64("1048576", UINT64_MAX, &v));
    assert_int_equal(v, 1048576);
    assert_true(num_parse_u64("18446744073709551615", UINT64_MAX, &v));
    assert_true(v == UINT64_MAX);
    assert_true(num_parse_u64("007", 10, &v));
    assert_int_equal(v, 7);
}

static void test_refuses_everything_else(void **st)
{
    (void)st;
    uint64_t v = 42;
    const char *bad[] = {"", " 1", "1 ", "+1", "-1", "1x", "0x10", "1e3",
                         "18446744073709551616", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(num_parse_u64(bad[i], UINT64_MAX, &v));
    assert_false(num_parse_u64(NULL, UINT64_MAX, &v));
    assert_false(num_parse_u64("11", 10, &v)); /* over max */
    assert_int_equal(v, 42);                   /* untouched on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_plain_decimals),
        cmocka_unit_test(test_refuses_everything_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
