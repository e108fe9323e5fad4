/* Token masking for the logs (usagelog_redact, declared in usagelog.h).
 * Detection runs on a percent-decoded copy and the masking on the raw
 * string, through a map from each decoded byte back to its raw bytes, so
 * the log keeps the path as it was sent while no encoding hides a token. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "monitor/usagelog.h"
#include "util/crc32.h"

#define PREFIX "piora_token_"
#define PREFIX_LEN (sizeof PREFIX - 1)
#define RANDOM_LEN 30 /* auth/token.h: TOKEN_RANDOM_LEN */
#define CHECK_LEN 6   /* auth/token.h: TOKEN_CHECK_LEN */
#define BODY_LEN (RANDOM_LEN + CHECK_LEN)

/* The value of c as a base62 digit (0-9, A-Z, a-z), or -1. */
static int b62_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 36;
    return -1;
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* d holds BODY_LEN base62 characters: true when the last six are the
 * checksum of the first 30, as auth/token.c makes it (big-endian base62 of
 * the CRC-32). A first checksum digit above 4 is already more than 2^32:
 * most windows end there, before the CRC. */
static bool checksum_ok(const unsigned char *d)
{
    const unsigned char *c = d + RANDOM_LEN;
    if (b62_digit(c[0]) > 4)
        return false;
    uint64_t sum = 0;
    for (int i = 0; i < CHECK_LEN; i++)
        sum = sum * 62 + (uint64_t)b62_digit(c[i]);
    return sum == crc32_ieee(d, RANDOM_LEN);
}

typedef struct decoded {
    unsigned char b[REDACT_MAX];
    uint16_t from[REDACT_MAX + 1]; /* raw offset of each decoded byte; [n] = raw length */
    size_t n;
} decoded;

static void mask(char *raw, const decoded *d, size_t start, size_t end)
{
    for (size_t k = start; k < end; k++)
        memset(raw + d->from[k], '*', (size_t)(d->from[k + 1] - d->from[k]));
}

void usagelog_redact(char *s)
{
    size_t len = strlen(s);
    if (len > REDACT_MAX) {
        memset(s + REDACT_MAX, '*', len - REDACT_MAX);
        len = REDACT_MAX;
    }
    decoded d;
    d.n = 0;
    for (size_t i = 0; i < len;) {
        const unsigned char *r = (const unsigned char *)s + i;
        d.from[d.n] = (uint16_t)i;
        bool escape = r[0] == '%' && i + 2 < len && hex_digit(r[1]) >= 0 && hex_digit(r[2]) >= 0;
        if (escape) {
            d.b[d.n++] = (unsigned char)(hex_digit(r[1]) * 16 + hex_digit(r[2]));
            i += 3;
        } else {
            d.b[d.n++] = r[0];
            i++;
        }
    }
    d.from[d.n] = (uint16_t)len;

    /* Maximal base62 runs: a prefixed token's body is the run after the
     * prefix; an unprefixed one is any BODY_LEN window of a run. */
    for (size_t k = 0; k < d.n;) {
        if (b62_digit(d.b[k]) < 0) {
            k++;
            continue;
        }
        size_t end = k;
        while (end < d.n && b62_digit(d.b[end]) >= 0)
            end++;
        if (k >= PREFIX_LEN && memcmp(d.b + k - PREFIX_LEN, PREFIX, PREFIX_LEN) == 0) {
            mask(s, &d, k, end);
        } else {
            for (size_t w = k; w + BODY_LEN <= end; w++) {
                if (checksum_ok(d.b + w)) {
                    mask(s, &d, w, w + BODY_LEN);
                    w += BODY_LEN - 1;
                }
            }
        }
        k = end;
    }
}
