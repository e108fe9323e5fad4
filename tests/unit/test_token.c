#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/token.h"

static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void test_crc32_check_value(void **state)
{
    (void)state;
    assert_int_equal(token_crc32("123456789", 9), 0xCBF43926u);
    assert_int_equal(token_crc32("", 0), 0);
    assert_int_equal(token_crc32("a", 1), 0xE8B7BE43u);
}

/* Decodes the 6-character checksum independently of the library. */
static uint64_t b62_decode(const char *s, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v * 62 + (uint64_t)(strchr(B62, s[i]) - B62);
    return v;
}

static void test_checksum_is_padded_big_endian_base62(void **state)
{
    (void)state;
    char r[TOKEN_RANDOM_LEN + 1] = "abcdefghijklmnopqrstuvwxyzABCD";
    char c[TOKEN_CHECK_LEN];
    token_checksum(r, c);
    /* Reference values from Python: zlib.crc32 rendered in base62. */
    assert_memory_equal(c, "4dNndU", TOKEN_CHECK_LEN);
    token_checksum("000000000000000000000000000000", c);
    assert_memory_equal(c, "2C8GjS", TOKEN_CHECK_LEN);
    token_checksum("02AAAAAAAAAAAAAAAAAAAAAAAAAAAA", c);
    assert_memory_equal(c, "08UrgP", TOKEN_CHECK_LEN);

    /* A CRC below 62^5 keeps its leading '0' (padding). */
    assert_true(token_crc32("02AAAAAAAAAAAAAAAAAAAAAAAAAAAA", TOKEN_RANDOM_LEN) < 916132832u);
    assert_int_equal(b62_decode(c, TOKEN_CHECK_LEN),
                     token_crc32("02AAAAAAAAAAAAAAAAAAAAAAAAAAAA", TOKEN_RANDOM_LEN));
}

static void test_generated_tokens_match_spec_regex(void **state)
{
    (void)state;
    regex_t re;
    assert_int_equal(regcomp(&re, "^piora_token_[0-9A-Za-z]{36}$", REG_EXTENDED | REG_NOSUB), 0);
    for (int i = 0; i < 200; i++) {
        char t[TOKEN_LEN + 1];
        assert_int_equal(token_generate(t), PIORA_OK);
        assert_int_equal(strlen(t), TOKEN_LEN);
        assert_int_equal(regexec(&re, t, 0, NULL, 0), 0);
        assert_true(token_well_formed(t, TOKEN_LEN));
        char c[TOKEN_CHECK_LEN];
        token_checksum(t + TOKEN_PREFIX_LEN, c);
        assert_memory_equal(c, t + TOKEN_PREFIX_LEN + TOKEN_RANDOM_LEN, TOKEN_CHECK_LEN);
    }
    regfree(&re);
}

static void test_flipped_character_fails(void **state)
{
    (void)state;
    char t[TOKEN_LEN + 1];
    assert_int_equal(token_generate(t), PIORA_OK);
    /* Every position after the prefix, replaced by every other base62
     * character: CRC-32 detects all single-character changes. */
    for (int i = TOKEN_PREFIX_LEN; i < TOKEN_LEN; i++) {
        char orig = t[i];
        for (int k = 0; k < 62; k++) {
            if (B62[k] == orig)
                continue;
            t[i] = B62[k];
            assert_false(token_well_formed(t, TOKEN_LEN));
        }
        t[i] = orig;
    }
    assert_true(token_well_formed(t, TOKEN_LEN));
}

static void test_prefix_is_exact(void **state)
{
    (void)state;
    char t[TOKEN_LEN + 1];
    assert_int_equal(token_generate(t), PIORA_OK);
    char u[TOKEN_LEN + 1];
    memcpy(u, t, sizeof(u));
    u[0] = 'P';
    assert_false(token_well_formed(u, TOKEN_LEN));
    memcpy(u, t, sizeof(u));
    u[5] = '-';
    assert_false(token_well_formed(u, TOKEN_LEN));
    memcpy(u, t, sizeof(u));
    memcpy(u, "ghp_token_xx", TOKEN_PREFIX_LEN);
    assert_false(token_well_formed(u, TOKEN_LEN));
}

static void test_bad_shapes_rejected(void **state)
{
    (void)state;
    char t[TOKEN_LEN + 2];
    assert_int_equal(token_generate(t), PIORA_OK);
    assert_false(token_well_formed(t, 0));
    assert_false(token_well_formed("", 0));
    assert_false(token_well_formed(NULL, TOKEN_LEN));
    assert_false(token_well_formed(t, TOKEN_LEN - 1));
    t[TOKEN_LEN] = 'x';
    t[TOKEN_LEN + 1] = '\0';
    assert_false(token_well_formed(t, TOKEN_LEN + 1));
    t[TOKEN_LEN] = '\0';
    assert_true(token_well_formed(t, TOKEN_LEN));

    /* A NUL inside, and non-ASCII bytes, in the random part and checksum. */
    const int positions[] = {TOKEN_PREFIX_LEN, TOKEN_PREFIX_LEN + 17, TOKEN_LEN - 1};
    const char bytes[] = {'\0', (char)0xC3, (char)0xFF, (char)0x80, '_', '-', ' '};
    for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
        for (size_t j = 0; j < sizeof(bytes); j++) {
            char u[TOKEN_LEN + 1];
            memcpy(u, t, sizeof(u));
            u[positions[i]] = bytes[j];
            assert_false(token_well_formed(u, TOKEN_LEN));
        }
    }
}

/* A forged token whose checksum is right but whose random part has a
 * character outside base62 must still be rejected. */
static void test_valid_crc_with_bad_character_rejected(void **state)
{
    (void)state;
    char u[TOKEN_LEN + 1];
    memcpy(u, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    memset(u + TOKEN_PREFIX_LEN, 'a', TOKEN_RANDOM_LEN);
    u[TOKEN_PREFIX_LEN + 3] = '!';
    token_checksum(u + TOKEN_PREFIX_LEN, u + TOKEN_PREFIX_LEN + TOKEN_RANDOM_LEN);
    u[TOKEN_LEN] = '\0';
    assert_false(token_well_formed(u, TOKEN_LEN));
    u[TOKEN_PREFIX_LEN + 3] = 'a';
    token_checksum(u + TOKEN_PREFIX_LEN, u + TOKEN_PREFIX_LEN + TOKEN_RANDOM_LEN);
    assert_true(token_well_formed(u, TOKEN_LEN));
}

static int cmp_tok(const void *a, const void *b) { return memcmp(a, b, TOKEN_LEN); }

static void test_tokens_are_distinct_and_use_the_alphabet(void **state)
{
    (void)state;
    enum { N = 10000 };
    char(*t)[TOKEN_LEN + 1] = calloc(N, sizeof(*t));
    assert_non_null(t);
    int seen[256] = {0};
    for (int i = 0; i < N; i++) {
        assert_int_equal(token_generate(t[i]), PIORA_OK);
        for (int j = TOKEN_PREFIX_LEN; j < TOKEN_PREFIX_LEN + TOKEN_RANDOM_LEN; j++)
            seen[(unsigned char)t[i][j]]++;
    }
    qsort(t, N, sizeof(*t), cmp_tok);
    for (int i = 1; i < N; i++)
        assert_int_not_equal(memcmp(t[i - 1], t[i], TOKEN_LEN), 0);
    /* 300000 draws: each of the 62 characters expected ~4839 times; a
     * biased or truncated alphabet would leave some far off. */
    for (int k = 0; k < 62; k++) {
        assert_true(seen[(unsigned char)B62[k]] > 4000);
        assert_true(seen[(unsigned char)B62[k]] < 5700);
    }
    free(t);
}

static void test_digest_known_vector(void **state)
{
    (void)state;
    static const uint8_t abc[TOKEN_DIGEST_LEN] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    uint8_t d[TOKEN_DIGEST_LEN];
    token_digest("abc", 3, d);
    assert_memory_equal(d, abc, TOKEN_DIGEST_LEN);

    static const uint8_t empty[TOKEN_DIGEST_LEN] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    token_digest("", 0, d);
    assert_memory_equal(d, empty, TOKEN_DIGEST_LEN);

    /* The digest covers the whole token: one changed character changes it. */
    char t[TOKEN_LEN + 1];
    uint8_t d1[TOKEN_DIGEST_LEN], d2[TOKEN_DIGEST_LEN];
    assert_int_equal(token_generate(t), PIORA_OK);
    token_digest(t, TOKEN_LEN, d1);
    token_digest(t, TOKEN_LEN, d2);
    assert_memory_equal(d1, d2, TOKEN_DIGEST_LEN);
    t[0] = 'q';
    token_digest(t, TOKEN_LEN, d2);
    assert_memory_not_equal(d1, d2, TOKEN_DIGEST_LEN);
}

static void test_hint_format(void **state)
{
    (void)state;
    const char *t = "piora_token_abcdEFGHIJKLMNOPQRSTUVWXYZ0123wxyz12";
    assert_int_equal(strlen(t), TOKEN_LEN);
    char h[TOKEN_HINT_MAX];
    token_hint(t, h);
    assert_string_equal(h, "piora_token_abcd\xE2\x80\xA6yz12");
    assert_int_equal(strlen(h), 12 + 4 + 3 + 4);

    char g[TOKEN_LEN + 1];
    assert_int_equal(token_generate(g), PIORA_OK);
    token_hint(g, h);
    assert_memory_equal(h, g, TOKEN_PREFIX_LEN + 4);
    assert_string_equal(h + TOKEN_PREFIX_LEN + 4 + 3, g + TOKEN_LEN - 4);

    token_hint("piora_token_short", h);
    assert_string_equal(h, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_checksum_is_padded_big_endian_base62),
        cmocka_unit_test(test_generated_tokens_match_spec_regex),
        cmocka_unit_test(test_flipped_character_fails),
        cmocka_unit_test(test_prefix_is_exact),
        cmocka_unit_test(test_bad_shapes_rejected),
        cmocka_unit_test(test_valid_crc_with_bad_character_rejected),
        cmocka_unit_test(test_tokens_are_distinct_and_use_the_alphabet),
        cmocka_unit_test(test_digest_known_vector),
        cmocka_unit_test(test_hint_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
