/* jwt_parse sees whatever a CI job (or anyone) posts to /api/v1/oidc/token,
 * before any key is fetched. On any bytes it must stay inside its bounds
 * and either refuse with a reason or hand back a token whose parts are
 * what was sent: an algorithm of the two allowed, a short kid, a claims
 * object, and a signing input that is a prefix of the input. Verification
 * with fixed RSA and P-256 keys (the seeds are signed by them) and the
 * claim checks must never crash, and a signature that verifies must stop
 * verifying when one byte of the signed part changes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

static const char RSA_JWK[] =
    "{\"kty\":\"RSA\",\"kid\":\"r\",\"e\":\"AQAB\",\"n\":\"lhGayoozm4dFPZMSACu_61Kr-Bo6WfzuPTJCX0tt"
    "5ny0u0b-CBpjCguO4Ljkzvd3jpIk08Rm-lLDkQ0Ldev6RHGkTqsBobV1cUBEiNJGsTnjjOJt7vQasnZ46ulxpaMgDl9L"
    "oV3R23wgBgY_BVJM5SbvjDEl-dckcrtfFA4ghNd6bdPEvmW2tJSI1DofQpmrEbOttu_Ikfh5R-2S8ol0IZIzLdH-R7Xw6"
    "bZ7728YsenY0mwesNoR-qlIr2qbMnWvG5UDQSKIbhdbDU5fzeqZM9BBwsdiTfeHuAiZ2A0Qq5VhOdTyL_JqoP0VwUHbw"
    "699nUI_t9F_Qc03OvpFmlA0YQ\"}";
static const char EC_JWK[] = "{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-256\","
                             "\"x\":\"gx6DNCcbS8AxjKEBguRYyoT1ndMrBrdiIxBnt0z3wto\","
                             "\"y\":\"1KXQRS5uU-Hf-yyZQdWEEGQPrrnmeu0pRzvavUWckOE\"}";

static jwk_key rsa, ec;

static void keys_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    const char *why;
    json_t *r = json_loads(RSA_JWK, 0, NULL), *e = json_loads(EC_JWK, 0, NULL);
    CHECK(jwk_from_json(r, &rsa, &why));
    CHECK(jwk_from_json(e, &ec, &why));
    json_decref(r);
    json_decref(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    keys_once();
    /* An exactly sized heap copy, so ASan sees any overread. */
    char *raw = malloc(size ? size : 1);
    if (!raw)
        return 0;
    memcpy(raw, data, size);
    jwt_t t;
    const char *why = NULL;
    if (!jwt_parse(raw, size, &t, &why)) {
        CHECK(why != NULL && *why);
        free(raw);
        return 0;
    }
    CHECK(t.alg == JWT_RS256 || t.alg == JWT_ES256);
    CHECK(strlen(t.kid) <= JWT_KID_MAX);
    CHECK(json_is_object(t.claims));
    CHECK(t.signing_len < size && memcmp(t.signing_input, raw, t.signing_len) == 0);
    CHECK(raw[t.signing_len] == '.');

    const jwk_key *k = t.alg == JWT_RS256 ? &rsa : &ec;
    bool ok = jwt_verify(&t, k, &why);
    CHECK(!jwt_verify(&t, t.alg == JWT_RS256 ? &ec : &rsa, &why)); /* never across types */
    if (ok && t.signing_len > 0) {
        t.signing_input[size % t.signing_len] ^= 1;
        CHECK(!jwt_verify(&t, k, &why));
    }
    (void)jwt_check_claims(&t, "https://issuer.test", "piora", 1800000000, &why);
    (void)jwt_claim_str(&t, "repository");
    jwt_clear(&t);
    free(raw);
    return 0;
}
