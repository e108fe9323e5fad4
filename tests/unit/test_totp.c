/* auth/totp.c against RFC 6238's appendix B vectors (SHA-1 key
 * "12345678901234567890", 8 digits) and RFC 4226's HOTP table; base32 of
 * RFC 4648's examples; the ±1 step window and single use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/totp.h"

static const uint8_t rfc_key[] = "12345678901234567890";

static void test_rfc6238_vectors(void **st)
{
    (void)st;
    static const struct {
        int64_t t;
        uint32_t code;
    } v[] = {
        {59, 94287082},         {1111111109, 7081804}, {1111111111, 14050471},
        {1234567890, 89005924}, {2000000000, 69279037}, {20000000000, 65353130},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(totp_hotp(rfc_key, 20, totp_step(v[i].t), 8), v[i].code);
}

static void test_rfc4226_hotp(void **st)
{
    (void)st;
    static const uint32_t want[] = {755224, 287082, 359152, 969429, 338314,
                                    254676, 287922, 162583, 399871, 520489};
    for (uint64_t c = 0; c < 10; c++)
        assert_int_equal(totp_hotp(rfc_key, 20, c, 6), want[c]);
}

static void test_base32(void **st)
{
    (void)st;
    char out[64];
    assert_true(totp_b32_encode((const uint8_t *)"foobar", 6, out, sizeof out));
    assert_string_equal(out, "MZXW6YTBOI");
    assert_true(totp_b32_encode(rfc_key, 20, out, sizeof out));
    assert_string_equal(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_int_equal(strlen(out), TOTP_B32_LEN);
    assert_false(totp_b32_encode(rfc_key, 20, out, 32)); /* no room for the NUL */
    uint8_t back[32];
    size_t n = 0;
    assert_true(totp_b32_decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", back, sizeof back, &n));
    assert_int_equal(n, 20);
    assert_memory_equal(back, rfc_key, 20);
    assert_false(totp_b32_decode("GEZD1", back, sizeof back, &n)); /* 1 is not base32 */
    assert_false(totp_b32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", back, 4, &n));
}

static void test_verify_window_and_once(void **st)
{
    (void)st;
    /* t = 59: step 1 (6 digits: 287082); steps 0 and 2 are 755224, 359152. */
    uint64_t step = 0;
    assert_true(totp_verify(rfc_key, 20, "287082", 59, 0, &step));
    assert_int_equal(step, 1);
    assert_true(totp_verify(rfc_key, 20, "359152", 59, 0, &step)); /* a step ahead */
    assert_int_equal(step, 2);
    assert_true(totp_verify(rfc_key, 20, "755224", 59, 0, NULL) == false); /* step 0 is not after 0 */
    assert_true(totp_verify(rfc_key, 20, "755224", 40, UINT64_MAX - 1, NULL) == false);
    assert_false(totp_verify(rfc_key, 20, "287082", 59, 1, NULL)); /* used already */
    assert_false(totp_verify(rfc_key, 20, "969429", 59, 0, NULL)); /* two steps ahead */
    assert_false(totp_verify(rfc_key, 20, "28708", 59, 0, NULL));
    assert_false(totp_verify(rfc_key, 20, "2870820", 59, 0, NULL));
    assert_false(totp_verify(rfc_key, 20, NULL, 59, 0, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_vectors),
        cmocka_unit_test(test_rfc4226_hotp),
        cmocka_unit_test(test_base32),
        cmocka_unit_test(test_verify_window_and_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
