#include "auth/session.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void session_secret(char out[SESSION_SECRET_LEN + 1])
{
    unsigned char raw[32];
    if (sodium_init() < 0)
        abort(); /* no CSPRNG: nothing safe to hand out */
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, SESSION_SECRET_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

bool session_secret_valid(const char *s, size_t len)
{
    if (!s || len != SESSION_SECRET_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!b64url_char(s[i]))
            return false;
    return true;
}

void session_digest(const char *secret, size_t len, uint8_t out[SESSION_HASH_LEN])
{
    crypto_hash_sha256(out, (const unsigned char *)secret, len);
}

/* Cookie: a=1; piora_session=XYZ; b=2 (RFC 6265 5.4). The first
 * piora_session wins; whitespace around pairs is skipped. */
bool session_cookie_get(const char *h, char out[SESSION_SECRET_LEN + 1])
{
    if (!h)
        return false;
    const size_t nlen = strlen(SESSION_COOKIE);
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > nlen && strncmp(p, SESSION_COOKIE, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = len - nlen - 1;
            if (!session_secret_valid(v, vlen))
                return false;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

void session_cookie_format(char out[SET_COOKIE_MAX], const char *secret, int64_t max_age,
                           bool secure)
{
    snprintf(out, SET_COOKIE_MAX, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
             SESSION_COOKIE, secret ? secret : "", secret ? (long long)max_age : 0LL,
             secure ? "; Secure" : "");
}

bool csrf_matches(const char *expected, const char *given)
{
    if (!expected || !given || !*expected)
        return false;
    size_t n = strlen(expected);
    if (strlen(given) != n)
        return false;
    return sodium_memcmp(expected, given, n) == 0;
}

bool origin_allowed(const char *origin, const char *sec_fetch_site, const char *host)
{
    if (sec_fetch_site && strcasecmp(sec_fetch_site, "same-origin") != 0)
        return false;
    if (!origin)
        return true;
    const char *sep = strstr(origin, "://");
    if (!sep || !host || !*host)
        return false;
    if (strncasecmp(origin, "http://", 7) != 0 && strncasecmp(origin, "https://", 8) != 0)
        return false;
    return strcasecmp(sep + 3, host) == 0;
}
