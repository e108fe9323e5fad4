/* OIDC issuers' signing keys (SPEC 12): discovery
 * (`/.well-known/openid-configuration`) and the JWKS it names, fetched over
 * HTTPS with libcurl and cached per issuer in this process. A key id the
 * cache lacks refetches, at most once per --oidc-refresh-interval per
 * issuer; while an issuer is unreachable its cached keys go on working.
 *
 * Fetches block (up to OIDC_FETCH_TIMEOUT_MS): call this from a worker
 * thread (the API defers the exchange to the slow-work pool), never from
 * an HTTP polling thread. */
#ifndef PIORA_CORE_OIDC_H
#define PIORA_CORE_OIDC_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/jwt.h"
#include "core/config.h"

#define OIDC_FETCH_TIMEOUT_MS 5000  /* a whole fetch, connect included */
#define OIDC_CONNECT_TIMEOUT_MS 3000
#define OIDC_DOC_MAX_BYTES 65536    /* discovery document, JWKS: larger ones are refused */
#define OIDC_KEYS_MAX 16            /* keys kept per issuer */
#define OIDC_ISSUERS_MAX 64         /* issuers cached; the least recently fetched goes */

/* Reads --oidc-ca-file and --oidc-refresh-interval; initialises libcurl.
 * Before any thread calls oidc_key. */
void oidc_init(const piora_config *cfg);
/* Forgets every cached key (tests, shutdown). */
void oidc_shutdown(void);

/* The key that verifies a token from issuer with this kid and algorithm
 * (kid empty: the issuer's only key of that algorithm). *out holds its own
 * reference (jwk_clear it). false with *why: unknown key id (after the
 * refresh allowed), or the issuer's keys cannot be had. */
bool oidc_key(const char *issuer, const char *kid, jwt_alg alg, jwk_key *out, const char **why);

#endif
