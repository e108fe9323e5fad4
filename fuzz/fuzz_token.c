/* token_well_formed runs on every Authorization header before any lookup,
 * so it sees whatever a client sends. Arbitrary bytes must never be
 * accepted unless they have the exact shape of SPEC 2, and a real token
 * with one character changed must always be refused (CRC-32 catches every
 * single-byte change). token_hint must never read past a short string. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int is_b62(unsigned char c) { return c != '\0' && memchr(b62, c, 62) != NULL; }

/* What well-formedness promises about s[0..48). */
static void check_accepted(const char *s, size_t len)
{
    CHECK(len == TOKEN_LEN);
    CHECK(memcmp(s, TOKEN_PREFIX, TOKEN_PREFIX_LEN) == 0);
    for (size_t i = TOKEN_PREFIX_LEN; i < TOKEN_LEN; i++)
        CHECK(is_b62((unsigned char)s[i]));
    char sum[TOKEN_CHECK_LEN];
    token_checksum(s + TOKEN_PREFIX_LEN, sum);
    CHECK(memcmp(sum, s + TOKEN_PREFIX_LEN + TOKEN_RANDOM_LEN, TOKEN_CHECK_LEN) == 0);

    char tok[TOKEN_LEN + 1], hint[TOKEN_HINT_MAX];
    memcpy(tok, s, TOKEN_LEN);
    tok[TOKEN_LEN] = '\0';
    token_hint(tok, hint);
    /* prefix + first 4 + U+2026 + last 4 */
    CHECK(strlen(hint) == TOKEN_PREFIX_LEN + 4 + 3 + 4);
    CHECK(memcmp(hint, tok, TOKEN_PREFIX_LEN + 4) == 0);
    CHECK(memcmp(hint + TOKEN_PREFIX_LEN + 4, "\xE2\x80\xA6", 3) == 0);
    CHECK(memcmp(hint + TOKEN_PREFIX_LEN + 7, tok + TOKEN_LEN - 4, 4) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The raw bytes, in an exactly sized heap copy so ASan sees any overread. */
    char *raw = malloc(size ? size : 1);
    if (!raw)
        return 0;
    memcpy(raw, data, size);
    if (token_well_formed(raw, size))
        check_accepted(raw, size);

    /* token_hint on the same bytes as a C string: empty unless 48 long. */
    char *str = malloc(size + 1);
    if (str) {
        memcpy(str, data, size);
        str[size] = '\0';
        char hint[TOKEN_HINT_MAX];
        token_hint(str, hint);
        CHECK(strlen(hint) < TOKEN_HINT_MAX);
        if (strlen(str) < TOKEN_LEN)
            CHECK(hint[0] == '\0');
        free(str);
    }

    /* Arbitrary bytes almost never carry a valid CRC, so also build a real
     * token from the first 30 bytes, check it is accepted, then check that
     * changing any one character (chosen by the next two bytes) is refused. */
    if (size >= TOKEN_RANDOM_LEN + 2) {
        char tok[TOKEN_LEN + 1];
        memcpy(tok, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
        for (size_t i = 0; i < TOKEN_RANDOM_LEN; i++)
            tok[TOKEN_PREFIX_LEN + i] = b62[data[i] % 62];
        token_checksum(tok + TOKEN_PREFIX_LEN, tok + TOKEN_PREFIX_LEN + TOKEN_RANDOM_LEN);
        tok[TOKEN_LEN] = '\0';
        CHECK(token_well_formed(tok, TOKEN_LEN));
        check_accepted(tok, TOKEN_LEN);
        CHECK(!token_well_formed(tok, TOKEN_LEN - 1));

        size_t at = data[TOKEN_RANDOM_LEN] % TOKEN_LEN;
        unsigned char c = data[TOKEN_RANDOM_LEN + 1];
        if ((unsigned char)tok[at] != c) {
            tok[at] = (char)c;
            CHECK(!token_well_formed(tok, TOKEN_LEN));
        }
    }
    free(raw);
    return 0;
}
