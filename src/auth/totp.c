/* RFC 6238 TOTP. The comparison of codes runs in constant time: it is a
 * secret-dependent value. */
#include "auth/totp.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void totp_key_new(uint8_t key[TOTP_KEY_LEN]) { randombytes_buf(key, TOTP_KEY_LEN); }

bool totp_b32_encode(const uint8_t *in, size_t n, char *out, size_t outlen)
{
    size_t need = (n * 8 + 4) / 5;
    if (outlen < need + 1)
        return false;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
    out[o] = '\0';
    return true;
}

bool totp_b32_decode(const char *in, uint8_t *out, size_t outlen, size_t *n)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c == ' ' || c == '=')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        const char *at = c ? strchr(b32_alphabet, c) : NULL;
        if (!at)
            return false;
        acc = (acc << 5) | (uint32_t)(at - b32_alphabet);
        bits += 5;
        if (bits >= 8) {
            if (o >= outlen)
                return false;
            out[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    *n = o;
    return true;
}

uint32_t totp_hotp(const uint8_t *key, size_t keylen, uint64_t counter, int digits)
{
    uint8_t msg[8];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (uint8_t)(counter & 0xff);
        counter >>= 8;
    }
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    if (!HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof msg, mac, &maclen) || maclen < 20)
        return UINT32_MAX; /* never a valid code: more than 8 digits */
    int off = mac[maclen - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    uint32_t mod = 1;
    for (int i = 0; i < digits; i++)
        mod *= 10;
    sodium_memzero(mac, sizeof mac);
    return bin % mod;
}

bool totp_verify(const uint8_t *key, size_t keylen, const char *code, int64_t now,
                 uint64_t last_step, uint64_t *step)
{
    if (!code || strlen(code) != TOTP_DIGITS)
        return false;
    char want[TOTP_DIGITS + 1];
    uint64_t s = totp_step(now);
    bool ok = false;
    for (int d = -1; d <= 1; d++) {
        if (d < 0 && s == 0)
            continue;
        uint64_t at = s + (uint64_t)(int64_t)d;
        uint32_t v = totp_hotp(key, keylen, at, TOTP_DIGITS);
        for (int i = TOTP_DIGITS - 1; i >= 0; i--) {
            want[i] = (char)('0' + v % 10);
            v /= 10;
        }
        want[TOTP_DIGITS] = '\0';
        if (sodium_memcmp(want, code, TOTP_DIGITS) == 0 && at > last_step && !ok) {
            ok = true;
            if (step)
                *step = at;
        }
    }
    sodium_memzero(want, sizeof want);
    return ok;
}
