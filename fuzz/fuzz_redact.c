/* usagelog_redact runs on every logged path and user agent, which a client
 * chooses. It must keep the string's length, change bytes only to '*',
 * never read or write outside the string (the decode map included), and
 * mask a real token planted in the input, plain or percent-encoded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token.h"
#include "monitor/usagelog.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* Only '*' may replace a byte, and the length stays. */
static void check_masked_only(const char *before, const char *after, size_t len)
{
    CHECK(strlen(after) == len);
    for (size_t i = 0; i < len; i++)
        CHECK(after[i] == before[i] || after[i] == '*');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * REDACT_MAX)
        return 0;
    /* The input as a string (cut at its first NUL, as the callers' are). */
    char *s = malloc(size + 1), *orig = malloc(size + 1);
    if (!s || !orig)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s);
    memcpy(orig, s, len + 1);
    usagelog_redact(s);
    check_masked_only(orig, s, len);

    /* A token whose random part comes from the input, planted after the
     * input's first half: plain, without its prefix, and with its first
     * body character percent-encoded. None of its body may survive. */
    if (len >= TOKEN_RANDOM_LEN && len < REDACT_MAX - 200) {
        static const char b62[] =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        char tok[TOKEN_LEN + 1];
        memcpy(tok, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
        for (int i = 0; i < TOKEN_RANDOM_LEN; i++)
            tok[TOKEN_PREFIX_LEN + i] = b62[(unsigned char)orig[i] % 62];
        token_checksum(tok + TOKEN_PREFIX_LEN, tok + TOKEN_PREFIX_LEN + TOKEN_RANDOM_LEN);
        tok[TOKEN_LEN] = '\0';
        const char *body = tok + TOKEN_PREFIX_LEN;
        for (int form = 0; form < 3; form++) {
            char planted[REDACT_MAX], copy[REDACT_MAX];
            size_t half = len / 2;
            int n;
            if (form == 0)
                n = snprintf(planted, sizeof planted, "%.*s/%s/%s", (int)half, orig, tok,
                             orig + half);
            else if (form == 1)
                n = snprintf(planted, sizeof planted, "%.*s/%s/%s", (int)half, orig, body,
                             orig + half);
            else
                n = snprintf(planted, sizeof planted, "%.*s/piora_token_%%%02X%s/%s", (int)half,
                             orig, (unsigned char)body[0], body + 1, orig + half);
            CHECK(n > 0 && (size_t)n < sizeof planted);
            memcpy(copy, planted, (size_t)n + 1);
            usagelog_redact(planted);
            check_masked_only(copy, planted, (size_t)n);
            /* every byte of the planted body (its escape included) is masked */
            size_t start = half + 1 + (form == 1 ? 0 : TOKEN_PREFIX_LEN);
            size_t blen = form == 2 ? 3 + TOKEN_LEN - TOKEN_PREFIX_LEN - 1
                                    : (size_t)(TOKEN_LEN - TOKEN_PREFIX_LEN);
            for (size_t i = start; i < start + blen; i++)
                CHECK(planted[i] == '*');
        }
    }
    free(s);
    free(orig);
    return 0;
}
