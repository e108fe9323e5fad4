/* The authentication pipeline of SPEC 3, steps 1-4, for one request:
 * header -> scheme -> token shape and checksum -> digest -> cached or
 * stored record -> revoked / expired -> principal, with the failed-attempt
 * limiter per client address and the per-token rate limiter. It knows no
 * HTTP library: http/server.c hands it header values and maps outcomes. */
#ifndef PIORA_AUTHN_AUTHN_H
#define PIORA_AUTHN_AUTHN_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/ratelimit.h"
#include "auth/principal.h"
#include "core/config.h"
#include "store/change.h"
#include "store/store.h"

typedef enum authn_outcome {
    AUTHN_OK,
    AUTHN_MISSING,     /* 401 missing_token */
    AUTHN_URL_TOKEN,   /* 400 invalid_request: access_token in the URL */
    AUTHN_INVALID,     /* 401 invalid_token: scheme, shape, checksum, unknown */
    AUTHN_EXPIRED,     /* 401 token_expired */
    AUTHN_REVOKED,     /* 401 token_revoked */
    AUTHN_THROTTLED,   /* 429: too many failed attempts from this address */
    AUTHN_UNAVAILABLE, /* 503: the store could not answer */
    AUTHN_NEED_STORE,  /* authn_authenticate_cached only: the answer needs a store lookup */
    AUTHN_NEED_LIMIT   /* the _cached and _nowait forms: the failure count needs Redis */
} authn_outcome;

void authn_init(const piora_config *cfg);
void authn_shutdown(void);

/* What each cache of a request depends on (store/change.h): a cached
 * token on tokens and on their owners (user, team); a cached page
 * (ROUTE_CACHEABLE) on resource objects only. Monitoring and session
 * writes are in neither. */
#define AUTHN_TOKENS_DEPEND (CHANGE_BIT(CHANGE_TOKENS) | CHANGE_BIT(CHANGE_USERS))
#define AUTHN_PAGES_DEPEND CHANGE_BIT(CHANGE_OBJECTS)

/* The generations a request's cached decisions must match. */
typedef struct authn_gens {
    uint64_t tokens; /* the token cache (tokencache.h) */
    uint64_t pages;  /* the response cache (http/respcache.h) */
} authn_gens;

/* Brings the caches up to date with the store: called once per request
 * before any cached decision. */
authn_gens authn_sync(store_t *s);
/* authn_sync() without a connection, for a thread that must not wait on
 * the network (store_change_poll_nowait()): false when the generations
 * cannot be known current here; then no cached decision may be trusted. */
bool authn_sync_nowait(authn_gens *out);
/* Called after a request's handler: what it wrote that any node's caches
 * hold (tokens, their owners, resource pages) is seen by every node before
 * the answer leaves (change_settle()). Costs nothing after a read. */
void authn_settle(store_t *s);


/* Steps 1-3. authorization: the header value or NULL; url_token: the
 * query carries access_token; addr_key: ratelimit_key() of the client address
 * (for the failure limiter). On AUTHN_THROTTLED *retry_after is set. On
 * AUTHN_REVOKED and AUTHN_EXPIRED (and AUTHN_THROTTLED reached through
 * them) who->token_id names the refused token and the rest of *who is zero;
 * on other failures *who is untouched. When the cache missed and the store
 * was asked, *lookup_ns is set to how long that took (for the caller's
 * metrics: authn/ knows no monitor/), else it is untouched. */
authn_outcome authn_authenticate(store_t *s, uint64_t tokens_gen, const char *authorization,
                                 bool url_token, uint64_t addr_key, principal_t *who,
                                 int64_t *retry_after, int64_t *lookup_ns);

/* authn_authenticate() for an HTTP polling thread with a local store: the
 * same answers, except AUTHN_NEED_LIMIT (nothing counted) where counting a
 * failure would wait on Redis (limits_take_nowait()); the caller then runs
 * authn_authenticate() on a thread that may wait. */
authn_outcome authn_authenticate_nowait(store_t *s, uint64_t tokens_gen,
                                        const char *authorization, bool url_token,
                                        uint64_t addr_key, principal_t *who,
                                        int64_t *retry_after, int64_t *lookup_ns);

/* authn_authenticate() with no store, for an HTTP polling thread: the same
 * answers wherever they need no lookup (no header, a token in the URL, a
 * malformed token, a digest known unknown, a cached entry while cache_ok),
 * and AUTHN_NEED_STORE (nothing counted, *who untouched) where
 * authn_authenticate() would ask the store, AUTHN_NEED_LIMIT (nothing
 * counted) where counting a failure would wait on Redis. */
authn_outcome authn_authenticate_cached(uint64_t tokens_gen, bool cache_ok,
                                        const char *authorization, bool url_token,
                                        uint64_t addr_key, principal_t *who,
                                        int64_t *retry_after);

/* Step 4: spends one request of the token's quota. */
ratelimit_result authn_rate_take(const principal_t *who);
/* Rate limit for routes without a token (per address). */
ratelimit_result authn_addr_take(uint64_t addr_key);
/* Both for a thread that must not wait: false, nothing spent, when the
 * decision needs Redis (authn/limits.h: limits_take_nowait). */
bool authn_rate_take_nowait(const principal_t *who, ratelimit_result *out);
bool authn_addr_take_nowait(uint64_t addr_key, ratelimit_result *out);

#endif
