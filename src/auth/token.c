#include "auth/token.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "util/crc32.h"

static const char b62[62] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* One plus the value of each byte as a base62 digit; 0 for any other byte.
 * A table, not ranges, because token_well_formed runs on every request. */
static const unsigned char b62_val[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     1,  2,  3,  4,  5,  6,  7,  8,  9, 10,  0,  0,  0,  0,  0,  0,
     0, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,  0,  0,  0,  0,  0,
     0, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;

static void sodium_setup(void) { sodium_status = sodium_init() < 0 ? -1 : 0; }

/* sodium_init() must precede randombytes_*; pthread_once makes every later
 * call a single load instead of libsodium's own locking. */
static bool sodium_ready(void)
{
    pthread_once(&sodium_once, sodium_setup);
    return sodium_status == 0;
}

uint32_t token_crc32(const void *p, size_t n) { return crc32_ieee(p, n); }

void token_checksum(const char *random30, char out[TOKEN_CHECK_LEN])
{
    uint32_t v = token_crc32(random30, TOKEN_RANDOM_LEN);
    /* Big-endian base62; 62^6 > 2^32, so six digits always suffice and the
     * leading ones are '0' for small values. */
    for (int i = TOKEN_CHECK_LEN - 1; i >= 0; i--) {
        out[i] = b62[v % 62];
        v /= 62;
    }
}

piora_err token_generate(char out[TOKEN_LEN + 1])
{
    if (!sodium_ready())
        return PIORA_EINTERNAL;
    memcpy(out, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    char *r = out + TOKEN_PREFIX_LEN;
    /* randombytes_uniform rejects out-of-range draws itself: no modulo bias. */
    for (int i = 0; i < TOKEN_RANDOM_LEN; i++)
        r[i] = b62[randombytes_uniform(62)];
    token_checksum(r, r + TOKEN_RANDOM_LEN);
    out[TOKEN_LEN] = '\0';
    return PIORA_OK;
}

bool token_well_formed(const char *s, size_t len)
{
    if (s == NULL || len != TOKEN_LEN || memcmp(s, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
        return false;
    const unsigned char *r = (const unsigned char *)s + TOKEN_PREFIX_LEN;
    unsigned char ok = 1;
    for (int i = 0; i < TOKEN_RANDOM_LEN; i++)
        ok &= b62_val[r[i]] != 0;
    /* Decode the checksum rather than re-encode the CRC: each value below
     * 62^6 has exactly one six-digit form, so equality of values is
     * equality of strings. */
    uint64_t sum = 0;
    for (int i = 0; i < TOKEN_CHECK_LEN; i++) {
        unsigned d = b62_val[r[TOKEN_RANDOM_LEN + i]];
        ok &= d != 0;
        sum = sum * 62 + (d - 1);
    }
    if (!ok)
        return false;
    return sum == token_crc32(r, TOKEN_RANDOM_LEN);
}

void token_digest(const char *s, size_t len, uint8_t out[TOKEN_DIGEST_LEN])
{
    (void)sodium_ready(); /* SHA-256 needs no setup, but stay uniform */
    crypto_hash_sha256(out, (const unsigned char *)s, (unsigned long long)len);
}

void token_hint(const char *token, char out[TOKEN_HINT_MAX])
{
    /* Only a full-length token has a meaningful hint; anything else gets an
     * empty one rather than a read past its end. */
    if (token == NULL || strnlen(token, TOKEN_LEN) != TOKEN_LEN) {
        out[0] = '\0';
        return;
    }
    char *p = out;
    memcpy(p, token, TOKEN_PREFIX_LEN + 4);
    p += TOKEN_PREFIX_LEN + 4;
    memcpy(p, "\xE2\x80\xA6", 3);
    p += 3;
    memcpy(p, token + TOKEN_LEN - 4, 4);
    p += 4;
    *p = '\0';
}

_Static_assert(TOKEN_PREFIX_LEN + 4 + 3 + 4 + 1 <= TOKEN_HINT_MAX, "hint buffer too small");
_Static_assert(sizeof(TOKEN_PREFIX) - 1 == TOKEN_PREFIX_LEN, "prefix length");
