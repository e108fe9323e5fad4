/* Compact JWS (RFC 7515) as CI systems' OIDC tokens use it: parsing with
 * explicit bounds, signature verification with OpenSSL 3 against a JWK,
 * and the time and audience rules of SPEC 12. Only RS256 and ES256 exist
 * here: `none` and every HMAC are refused by name, and the algorithm must
 * fit the key's type (an RSA key verifies RS256 only, a P-256 key ES256
 * only), so a token cannot choose how it is checked (the flaw measured in
 * Debian's libjwt, DESIGN.md "JWT").
 *
 * Failures name the check that failed in a short static English phrase
 * (never the token): the exchange puts it in its 401 detail and audit. */
#ifndef PIORA_AUTH_JWT_H
#define PIORA_AUTH_JWT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JWT_MAX_BYTES 8192        /* the whole compact token (GitHub's are ~1.3 KB) */
#define JWT_HEADER_MAX_BYTES 1024 /* decoded header */
#define JWT_PAYLOAD_MAX_BYTES 6144 /* decoded claims */
#define JWT_KID_MAX 128
#define JWT_LEEWAY_S 30 /* SPEC 12: exp, nbf, iat */

typedef enum jwt_alg { JWT_RS256 = 1, JWT_ES256 = 2 } jwt_alg;

typedef struct jwt_t {
    jwt_alg alg;
    char kid[JWT_KID_MAX + 1]; /* empty when the header has none */
    json_t *claims;            /* the payload object; owned */
    char *signing_input;       /* "header.payload" as received; owned */
    size_t signing_len;
    unsigned char sig[512];
    size_t sig_len;
} jwt_t;

/* Parses a compact JWS of n bytes (not NUL-terminated necessarily). On
 * failure returns false, leaves *out empty and *why names the check. */
bool jwt_parse(const char *s, size_t n, jwt_t *out, const char **why);
void jwt_clear(jwt_t *t);

/* A verification key from one JWKS entry: RSA (n, e; 2048 to 8192 bits) or
 * EC P-256 (x, y). `use` other than "sig" and `alg` other than the key's
 * own are refused. */
typedef struct jwk_key {
    jwt_alg alg;
    char kid[JWT_KID_MAX + 1];
    void *pkey; /* EVP_PKEY *, owned */
} jwk_key;

bool jwk_from_json(const json_t *jwk, jwk_key *out, const char **why);
void jwk_clear(jwk_key *k);

/* Checks the signature of t with k; false (with *why) when the key's
 * algorithm is not the token's or the signature does not verify. */
bool jwt_verify(const jwt_t *t, const jwk_key *k, const char **why);

/* The registered claims after the signature: iss equal to issuer, aud equal
 * to audience or an array holding it, exp present and not past, nbf and iat
 * (when present; iat is required) not in the future, each with
 * JWT_LEEWAY_S. */
bool jwt_check_claims(const jwt_t *t, const char *issuer, const char *audience, int64_t now,
                      const char **why);

/* The claim as a string: NULL when absent or not a string. Numbers (a
 * GitLab project id) are not strings and answer NULL too. */
const char *jwt_claim_str(const jwt_t *t, const char *name);

/* Strict base64url without padding (RFC 7515 section 2): every character
 * from the alphabet, no '=', unused trailing bits zero. Writes at most cap
 * bytes; false on anything else. */
bool jwt_b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen);

#endif
