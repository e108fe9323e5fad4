#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/password.h"

static void test_hash_and_verify(void **state)
{
    (void)state;
    char h[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("correct horse", 13, h), PIORA_OK);
    assert_true(strncmp(h, "$argon2id$", 10) == 0);
    assert_true(strlen(h) < PASSWORD_HASH_MAX);
    /* The password itself never appears in the stored string. */
    assert_null(strstr(h, "correct horse"));

    assert_true(password_verify(h, "correct horse", 13));
    assert_false(password_verify(h, "correct horsf", 13));
    assert_false(password_verify(h, "Correct horse", 13));
    assert_false(password_verify(h, "correct horse ", 14));
    assert_false(password_verify(h, "correct hors", 12));
    assert_false(password_verify(h, "", 0));
    assert_false(password_verify(h, NULL, 0));
}

static void test_salted(void **state)
{
    (void)state;
    char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("same password", 13, a), PIORA_OK);
    assert_int_equal(password_hash("same password", 13, b), PIORA_OK);
    assert_string_not_equal(a, b);
    assert_true(password_verify(a, "same password", 13));
    assert_true(password_verify(b, "same password", 13));
}

static void test_length_bounds(void **state)
{
    (void)state;
    char h[PASSWORD_HASH_MAX];
    static char big[PASSWORD_MAX_LEN + 2];
    memset(big, 'p', sizeof(big));
    assert_int_equal(password_hash("", 0, h), PIORA_EINVALID);
    assert_int_equal(password_hash("1234567", PASSWORD_MIN_LEN - 1, h), PIORA_EINVALID);
    assert_int_equal(password_hash(NULL, 10, h), PIORA_EINVALID);
    assert_int_equal(password_hash(big, PASSWORD_MAX_LEN + 1, h), PIORA_EINVALID);

    assert_int_equal(password_hash(big, PASSWORD_MAX_LEN, h), PIORA_OK);
    assert_true(password_verify(h, big, PASSWORD_MAX_LEN));
    assert_false(password_verify(h, big, PASSWORD_MAX_LEN + 1));

    assert_int_equal(password_hash("12345678", PASSWORD_MIN_LEN, h), PIORA_OK);
    assert_true(password_verify(h, "12345678", PASSWORD_MIN_LEN));
}

/* The password is (pointer, length): a NUL is just a byte, and what
 * follows it counts. */
static void test_embedded_nul(void **state)
{
    (void)state;
    char h[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("abcd\0efgh", 9, h), PIORA_OK);
    assert_true(password_verify(h, "abcd\0efgh", 9));
    assert_false(password_verify(h, "abcd\0efgX", 9));
    assert_false(password_verify(h, "abcd", 4));
}

static void test_garbage_hash(void **state)
{
    (void)state;
    assert_false(password_verify(NULL, "whatever1", 9));
    assert_false(password_verify("", "whatever1", 9));
    assert_false(password_verify("$argon2id$v=19$m=65536,t=2,p=1$garbage", "whatever1", 9));
    /* Not terminated within PASSWORD_HASH_MAX: refused, not over-read. */
    char unterminated[PASSWORD_HASH_MAX];
    memset(unterminated, '$', sizeof(unterminated));
    assert_false(password_verify(unterminated, "whatever1", 9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_verify),
        cmocka_unit_test(test_salted),
        cmocka_unit_test(test_length_bounds),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_garbage_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
