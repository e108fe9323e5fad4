/* auth/jwt.c: the compact JWS parser's bounds, strict base64url, RS256 and
 * ES256 verification from JWKs made here with OpenSSL, the refusal of
 * every other algorithm (and of an algorithm the key does not have), and
 * the claim rules with their 30 s leeway. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/jwt.h"

static const char B64U[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64u(const unsigned char *p, size_t n)
{
    char *out = malloc(n / 3 * 4 + 5);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = B64U[(v >> 18) & 63];
        out[o++] = B64U[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = B64U[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = B64U[v & 63];
    }
    out[o] = '\0';
    return out;
}

static char *b64u_str(const char *s) { return b64u((const unsigned char *)s, strlen(s)); }

typedef struct test_key {
    EVP_PKEY *pkey;
    json_t *jwk;
    const char *alg;
} test_key;

static char *bn_b64u(const BIGNUM *bn, int len)
{
    unsigned char buf[1024];
    int n = len ? len : BN_num_bytes(bn);
    BN_bn2binpad(bn, buf, n);
    return b64u(buf, (size_t)n);
}

static test_key make_rsa(const char *kid)
{
    test_key k = {.alg = "RS256"};
    k.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    assert_non_null(k.pkey);
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY_get_bn_param(k.pkey, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(k.pkey, OSSL_PKEY_PARAM_RSA_E, &e);
    char *ns = bn_b64u(n, 0), *es = bn_b64u(e, 0);
    k.jwk = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "RSA", "kid", kid, "use", "sig", "n", ns,
                      "e", es);
    free(ns);
    free(es);
    BN_free(n);
    BN_free(e);
    return k;
}

static test_key make_ec(const char *kid)
{
    test_key k = {.alg = "ES256"};
    k.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k.pkey);
    BIGNUM *x = NULL, *y = NULL;
    EVP_PKEY_get_bn_param(k.pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x);
    EVP_PKEY_get_bn_param(k.pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
    char *xs = bn_b64u(x, 32), *ys = bn_b64u(y, 32);
    k.jwk = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "kid", kid, "crv", "P-256", "x", xs,
                      "y", ys);
    free(xs);
    free(ys);
    BN_free(x);
    BN_free(y);
    return k;
}

static void key_free(test_key *k)
{
    EVP_PKEY_free(k->pkey);
    json_decref(k->jwk);
}

/* header.payload.signature signed with k (ES256 as raw r||s). */
static char *sign(const test_key *k, const char *header, const char *payload)
{
    char *h = b64u_str(header), *p = b64u_str(payload);
    size_t in_len = strlen(h) + 1 + strlen(p);
    char *input = malloc(in_len + 1);
    snprintf(input, in_len + 1, "%s.%s", h, p);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[600];
    size_t sl = sizeof sig;
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sl, (unsigned char *)input, in_len), 1);
    EVP_MD_CTX_free(ctx);
    unsigned char raw[64];
    const unsigned char *s = sig;
    if (strcmp(k->alg, "ES256") == 0) {
        const unsigned char *d = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)sl);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
        ECDSA_SIG_free(es);
        s = raw;
        sl = 64;
    }
    char *sg = b64u(s, sl);
    size_t len = in_len + 2 + strlen(sg);
    char *out = malloc(len);
    snprintf(out, len, "%s.%s", input, sg);
    free(h);
    free(p);
    free(input);
    free(sg);
    return out;
}

static const char *CLAIMS_FMT =
    "{\"iss\":\"https://issuer.test\",\"aud\":%s,\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld,"
    "\"repository\":\"acme/web\",\"jti\":\"j1\"}";

static char *claims(const char *aud, long long exp, long long nbf, long long iat)
{
    char *out = malloc(512);
    snprintf(out, 512, CLAIMS_FMT, aud, exp, nbf, iat);
    return out;
}

static bool verify_with(const char *tok, const test_key *k, const char **why)
{
    jwt_t t;
    jwk_key key;
    if (!jwt_parse(tok, strlen(tok), &t, why))
        return false;
    bool ok = jwk_from_json(k->jwk, &key, why) && jwt_verify(&t, &key, why);
    jwk_clear(&key);
    jwt_clear(&t);
    return ok;
}

static void test_base64url_strict(void **st)
{
    (void)st;
    unsigned char out[16];
    size_t n;
    assert_true(jwt_b64url_decode("aGk", 3, out, sizeof out, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(out, "hi", 2);
    assert_false(jwt_b64url_decode("aGk=", 4, out, sizeof out, &n));  /* padding */
    assert_false(jwt_b64url_decode("aGl", 3, out, sizeof out, &n));   /* trailing bits */
    assert_false(jwt_b64url_decode("a+k", 3, out, sizeof out, &n));   /* base64, not url */
    assert_false(jwt_b64url_decode("a", 1, out, sizeof out, &n));     /* 6 bits */
    assert_false(jwt_b64url_decode("aGVsbG8gd29ybGQhISE", 19, out, 4, &n)); /* cap */
}

static void test_rs256_and_es256_verify(void **st)
{
    (void)st;
    test_key rsa = make_rsa("r1"), ec = make_ec("e1");
    char *c = claims("\"piora\"", 2000000000, 1, 1);
    char *tr = sign(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", c);
    char *te = sign(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", c);
    const char *why = NULL;
    assert_true(verify_with(tr, &rsa, &why));
    assert_true(verify_with(te, &ec, &why));
    /* another key of the right type does not verify */
    test_key rsa2 = make_rsa("r2");
    assert_false(verify_with(tr, &rsa2, &why));
    assert_string_equal(why, "signature does not verify");
    /* the header's algorithm must be the key's */
    assert_false(verify_with(tr, &ec, &why));
    assert_string_equal(why, "token algorithm does not match the key");
    /* a flipped payload byte */
    char *dot = strchr(tr, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    assert_false(verify_with(tr, &rsa, &why));
    free(c);
    free(tr);
    free(te);
    key_free(&rsa);
    key_free(&rsa2);
    key_free(&ec);
}

/* Why jwt_parse refuses base64url(header).base64url(payload).sig, or NULL
 * when it accepts (the token is cleared either way). */
static const char *refusal(const char *header, const char *payload, const char *sig)
{
    char *h = b64u_str(header), *p = b64u_str(payload);
    char tok[512];
    snprintf(tok, sizeof tok, "%s.%s.%s", h, p, sig);
    free(h);
    free(p);
    jwt_t t;
    const char *why = NULL;
    bool ok = jwt_parse(tok, strlen(tok), &t, &why);
    jwt_clear(&t);
    return ok ? NULL : why;
}

/* What libjwt accepted (DESIGN.md): HS256 keyed with the public key. */
static void test_none_and_hmac_refused(void **st)
{
    (void)st;
    assert_string_equal(refusal("{\"alg\":\"none\"}", "{\"iss\":\"x\"}", ""),
                        "token algorithm is not RS256 or ES256");
    static const char *const algs[] = {"HS256", "HS384", "RS384", "PS256", "EdDSA", "rs256"};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        char hdr[64];
        snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\"}", algs[i]);
        assert_string_equal(refusal(hdr, "{\"iss\":\"x\"}", "c2ln"),
                            "token algorithm is not RS256 or ES256");
    }
    assert_null(refusal("{\"alg\":\"RS256\"}", "{\"iss\":\"x\"}", "c2ln"));
}

static void test_parser_bounds(void **st)
{
    (void)st;
    const char *why = NULL;
    jwt_t t;
    assert_false(jwt_parse("", 0, &t, &why));
    assert_false(jwt_parse("a.b", 3, &t, &why));
    assert_false(jwt_parse("a.b.c.d.e", 9, &t, &why)); /* JWE */
    char *big = malloc(JWT_MAX_BYTES + 2);
    memset(big, 'A', JWT_MAX_BYTES + 1);
    big[10] = '.';
    big[20] = '.';
    assert_false(jwt_parse(big, JWT_MAX_BYTES + 1, &t, &why));
    assert_string_equal(why, "token is too large");
    free(big);
    /* duplicate keys: two readers must not disagree on the algorithm */
    assert_non_null(refusal("{\"alg\":\"RS256\",\"alg\":\"none\"}", "{}", "c2ln"));
    assert_non_null(refusal("{\"alg\":\"RS256\",\"crit\":[\"exp\"]}", "{}", "c2ln"));
    assert_non_null(refusal("{\"alg\":\"RS256\"}", "[1]", "c2ln")); /* payload not an object */
    assert_non_null(refusal("{\"alg\":\"RS256\"}", "{}", "c2ln=")); /* padding */
    assert_non_null(refusal("{\"alg\":\"RS256\",\"kid\":7}", "{}", "c2ln"));
}

static void test_jwk_rules(void **st)
{
    (void)st;
    const char *why = NULL;
    jwk_key k;
    test_key rsa = make_rsa("r1");
    json_t *j = json_deep_copy(rsa.jwk);
    json_object_set_new(j, "use", json_string("enc"));
    assert_false(jwk_from_json(j, &k, &why));
    json_object_set_new(j, "use", json_string("sig"));
    json_object_set_new(j, "alg", json_string("RS512"));
    assert_false(jwk_from_json(j, &k, &why));
    json_decref(j);
    json_t *oct = json_pack("{s:s,s:s}", "kty", "oct", "k", "c2VjcmV0");
    assert_false(jwk_from_json(oct, &k, &why));
    json_decref(oct);
    /* a point off the curve */
    json_t *bad = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x",
                            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE", "y",
                            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE");
    assert_false(jwk_from_json(bad, &k, &why));
    json_decref(bad);
    key_free(&rsa);
}

static void test_claims_rules(void **st)
{
    (void)st;
    const char *why = NULL;
    test_key ec = make_ec("e1");
    long long now = 1800000000;
    struct {
        const char *aud;
        long long exp, nbf, iat;
        const char *want; /* NULL: accepted */
    } cases[] = {
        {"\"piora\"", now + 60, now, now, NULL},
        {"[\"x\",\"piora\"]", now + 60, now, now, NULL},
        {"[\"x\",\"y\"]", now + 60, now, now, "aud does not include the publisher's audience"},
        {"\"pioraa\"", now + 60, now, now, "aud does not include the publisher's audience"},
        {"\"piora\"", now - 29, now - 90, now - 90, NULL}, /* leeway */
        {"\"piora\"", now - 31, now - 90, now - 90, "token has expired (exp)"},
        {"\"piora\"", now + 60, now + 29, now, NULL},
        {"\"piora\"", now + 60, now + 31, now, "token is not valid yet (nbf)"},
        {"\"piora\"", now + 60, now, now + 31, "token was issued in the future (iat)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *c = claims(cases[i].aud, cases[i].exp, cases[i].nbf, cases[i].iat);
        char *tok = sign(&ec, "{\"alg\":\"ES256\"}", c);
        jwt_t t;
        assert_true(jwt_parse(tok, strlen(tok), &t, &why));
        bool ok = jwt_check_claims(&t, "https://issuer.test", "piora", now, &why);
        if (cases[i].want) {
            assert_false(ok);
            assert_string_equal(why, cases[i].want);
        } else {
            assert_true(ok);
        }
        assert_false(jwt_check_claims(&t, "https://issuer.test/", "piora", now, &why));
        jwt_clear(&t);
        free(c);
        free(tok);
    }
    key_free(&ec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64url_strict),  cmocka_unit_test(test_rs256_and_es256_verify),
        cmocka_unit_test(test_none_and_hmac_refused), cmocka_unit_test(test_parser_bounds),
        cmocka_unit_test(test_jwk_rules),         cmocka_unit_test(test_claims_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
