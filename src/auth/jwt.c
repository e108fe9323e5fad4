/* JWT verification without libjwt (DESIGN.md "JWT"): the algorithm comes
 * from our key, never from the token alone; OpenSSL 3 checks signatures;
 * jansson parses header and claims, refusing duplicate keys so that two
 * readers of one token cannot disagree on what it says. */
#include "auth/jwt.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

bool jwt_b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    if (n % 4 == 1) /* no whole byte fits in 6 bits */
        return false;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > cap)
        return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value((unsigned char)s[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical: two spellings of one value */
        return false;
    *outlen = o;
    return true;
}

/* Decodes one segment and parses it as a JSON object of at most cap bytes. */
static json_t *segment_json(const char *s, size_t n, size_t cap)
{
    if (n == 0 || n > (cap / 3 + 1) * 4)
        return NULL;
    unsigned char buf[JWT_PAYLOAD_MAX_BYTES > JWT_HEADER_MAX_BYTES ? JWT_PAYLOAD_MAX_BYTES
                                                                   : JWT_HEADER_MAX_BYTES];
    size_t len = 0;
    if (!jwt_b64url_decode(s, n, buf, cap, &len) || len == 0)
        return NULL;
    json_error_t jerr;
    json_t *v = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

void jwt_clear(jwt_t *t)
{
    if (!t)
        return;
    json_decref(t->claims);
    free(t->signing_input);
    memset(t, 0, sizeof *t);
}

static bool fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return false;
}

bool jwt_parse(const char *s, size_t n, jwt_t *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (!s || n == 0)
        return fail(why, "token is empty");
    if (n > JWT_MAX_BYTES)
        return fail(why, "token is too large");
    const char *dot1 = memchr(s, '.', n);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - s)) : NULL;
    if (!dot1 || !dot2)
        return fail(why, "token is not a compact JWS");
    const char *sig = dot2 + 1;
    size_t sig_n = n - (size_t)(sig - s);
    if (memchr(sig, '.', sig_n))
        return fail(why, "token is not a compact JWS (encrypted tokens are not accepted)");

    json_t *hdr = segment_json(s, (size_t)(dot1 - s), JWT_HEADER_MAX_BYTES);
    if (!hdr)
        return fail(why, "token header is not base64url JSON");
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const json_t *kid = json_object_get(hdr, "kid");
    const char *msg = NULL;
    if (!alg)
        msg = "token header has no alg";
    else if (strcmp(alg, "RS256") == 0)
        out->alg = JWT_RS256;
    else if (strcmp(alg, "ES256") == 0)
        out->alg = JWT_ES256;
    else
        msg = "token algorithm is not RS256 or ES256";
    if (!msg && json_object_get(hdr, "crit"))
        msg = "token header has critical extensions";
    if (!msg && kid) {
        const char *k = json_string_value(kid);
        if (!k || strlen(k) > JWT_KID_MAX || !*k)
            msg = "token kid is not a short string";
        else
            memcpy(out->kid, k, strlen(k) + 1);
    }
    json_decref(hdr);
    if (msg) {
        memset(out, 0, sizeof *out);
        return fail(why, msg);
    }

    out->claims = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), JWT_PAYLOAD_MAX_BYTES);
    if (!out->claims) {
        jwt_clear(out);
        return fail(why, "token payload is not base64url JSON");
    }
    if (sig_n == 0 || !jwt_b64url_decode(sig, sig_n, out->sig, sizeof out->sig, &out->sig_len)) {
        jwt_clear(out);
        return fail(why, "token signature is not base64url");
    }
    out->signing_len = (size_t)(dot2 - s);
    out->signing_input = malloc(out->signing_len + 1);
    if (!out->signing_input) {
        jwt_clear(out);
        return fail(why, "out of memory");
    }
    memcpy(out->signing_input, s, out->signing_len);
    out->signing_input[out->signing_len] = '\0';
    return true;
}

/* ---- keys ---------------------------------------------------------------- */

void jwk_clear(jwk_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof *k);
}

/* A base64url member of the JWK, decoded into buf. */
static bool jwk_bytes(const json_t *jwk, const char *name, unsigned char *buf, size_t cap,
                      size_t *len)
{
    const char *v = json_string_value(json_object_get(jwk, name));
    return v && *v && jwt_b64url_decode(v, strlen(v), buf, cap, len) && *len > 0;
}

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1)
        if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
            pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_key(const json_t *jwk, const char **why)
{
    unsigned char n[1024], e[8];
    size_t nl, el;
    if (!jwk_bytes(jwk, "n", n, sizeof n, &nl) || !jwk_bytes(jwk, "e", e, sizeof e, &el)) {
        fail(why, "RSA key lacks n or e");
        return NULL;
    }
    BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bn && be && bld && BN_num_bits(bn) >= 2048 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
        pkey = pkey_fromdata("RSA", bld);
    if (!pkey)
        fail(why, bn && BN_num_bits(bn) < 2048 ? "RSA key is shorter than 2048 bits"
                                               : "RSA key is invalid");
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

static EVP_PKEY *ec_key(const json_t *jwk, const char **why)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (!crv || strcmp(crv, "P-256") != 0) {
        fail(why, "EC key is not on P-256");
        return NULL;
    }
    unsigned char point[65], x[33], y[33];
    size_t xl, yl;
    if (!jwk_bytes(jwk, "x", x, sizeof x, &xl) || !jwk_bytes(jwk, "y", y, sizeof y, &yl) ||
        xl != 32 || yl != 32) {
        fail(why, "EC key lacks 32-byte x and y");
        return NULL;
    }
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    /* fromdata checks the point lies on the curve */
    if (bld &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) == 1)
        pkey = pkey_fromdata("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    if (!pkey)
        fail(why, "EC key is invalid");
    return pkey;
}

bool jwk_from_json(const json_t *jwk, jwk_key *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(jwk))
        return fail(why, "key is not an object");
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *use = json_string_value(json_object_get(jwk, "use"));
    const char *alg = json_string_value(json_object_get(jwk, "alg"));
    const char *kid = json_string_value(json_object_get(jwk, "kid"));
    if (json_object_get(jwk, "use") && (!use || strcmp(use, "sig") != 0))
        return fail(why, "key is not for signatures");
    if (kid && strlen(kid) > JWT_KID_MAX)
        return fail(why, "key id is too long");
    EVP_PKEY *pkey = NULL;
    jwt_alg a;
    if (kty && strcmp(kty, "RSA") == 0) {
        a = JWT_RS256;
        if (alg && strcmp(alg, "RS256") != 0)
            return fail(why, "RSA key is for another algorithm");
        pkey = rsa_key(jwk, why);
    } else if (kty && strcmp(kty, "EC") == 0) {
        a = JWT_ES256;
        if (alg && strcmp(alg, "ES256") != 0)
            return fail(why, "EC key is for another algorithm");
        pkey = ec_key(jwk, why);
    } else {
        return fail(why, "key type is not RSA or EC");
    }
    if (!pkey)
        return false;
    out->alg = a;
    out->pkey = pkey;
    if (kid)
        memcpy(out->kid, kid, strlen(kid) + 1);
    return true;
}

/* JWS carries ECDSA as r||s (RFC 7518 3.4); OpenSSL verifies DER. */
static unsigned char *es256_der(const unsigned char *sig, size_t len, size_t *der_len)
{
    if (len != 64)
        return NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* es owns them now */
        int n = i2d_ECDSA_SIG(es, &der);
        if (n <= 0)
            der = NULL;
        else
            *der_len = (size_t)n;
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return der;
}

bool jwt_verify(const jwt_t *t, const jwk_key *k, const char **why)
{
    if (!t->signing_input || !k->pkey)
        return fail(why, "no key");
    if (t->alg != k->alg)
        return fail(why, "token algorithm does not match the key");
    const unsigned char *sig = t->sig;
    size_t sig_len = t->sig_len;
    unsigned char *der = NULL;
    if (t->alg == JWT_ES256) {
        der = es256_der(t->sig, t->sig_len, &sig_len);
        if (!der)
            return fail(why, "signature does not verify");
        sig = der;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
              EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)t->signing_input,
                               t->signing_len) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok ? true : fail(why, "signature does not verify");
}

/* ---- claims -------------------------------------------------------------- */

const char *jwt_claim_str(const jwt_t *t, const char *name)
{
    return t->claims ? json_string_value(json_object_get(t->claims, name)) : NULL;
}

/* A NumericDate: an integer (a real with no fraction is accepted too, as
 * RFC 7519 allows). */
static bool claim_time(const jwt_t *t, const char *name, bool *present, int64_t *out)
{
    const json_t *v = json_object_get(t->claims, name);
    *present = v != NULL;
    if (!v)
        return true;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d < 0 || d > 1e13)
            return false;
        *out = (int64_t)d;
        return true;
    }
    return false;
}

bool jwt_check_claims(const jwt_t *t, const char *issuer, const char *audience, int64_t now,
                      const char **why)
{
    const char *iss = jwt_claim_str(t, "iss");
    if (!iss || strcmp(iss, issuer) != 0)
        return fail(why, "iss does not match the publisher's issuer");
    const json_t *aud = json_object_get(t->claims, "aud");
    bool aud_ok = false;
    if (json_is_string(aud)) {
        aud_ok = strcmp(json_string_value(aud), audience) == 0;
    } else if (json_is_array(aud)) {
        for (size_t i = 0; i < json_array_size(aud) && !aud_ok; i++) {
            const char *a = json_string_value(json_array_get(aud, i));
            aud_ok = a && strcmp(a, audience) == 0;
        }
    }
    if (!aud_ok)
        return fail(why, "aud does not include the publisher's audience");
    bool has;
    int64_t v = 0;
    if (!claim_time(t, "exp", &has, &v) || !has)
        return fail(why, "exp is missing");
    if (v + JWT_LEEWAY_S < now)
        return fail(why, "token has expired (exp)");
    if (!claim_time(t, "nbf", &has, &v))
        return fail(why, "nbf is not a time");
    if (has && v - JWT_LEEWAY_S > now)
        return fail(why, "token is not valid yet (nbf)");
    if (!claim_time(t, "iat", &has, &v) || !has)
        return fail(why, "iat is missing");
    if (v - JWT_LEEWAY_S > now)
        return fail(why, "token was issued in the future (iat)");
    return true;
}
