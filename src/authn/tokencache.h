/* Hot tokens never touch the database: a fixed-size table from SHA-256
 * digest to what the store said about that token, and a second one of
 * digests it has no token for, so a repeated unknown token costs no lookup
 * either.
 *
 * Immediate revocation rests on one rule: an entry is trusted only while
 * the tokens generation it was filled under (store/change.h: changes of
 * tokens, users and teams; authn_sync()) is still current. A write in this
 * process moves it as it commits; a write by another process is noticed by
 * change_poll() at the start of each request. The filler reads the
 * generation *before* its database read, so a revocation that lands in
 * between leaves a stale entry already dead. Monitoring writes (usage log,
 * last-used times) and sessions move other generations and leave the
 * cache alone.
 *
 * Digests the store does not know live in a table of their own that no
 * generation ages: a digest becomes known only when a token with that very
 * secret is made, and every secret is 178 random bits from token_generate()
 * (nothing takes a caller's secret), so "unknown" stays true. Apart from the
 * known entries, a flood of made-up tokens cannot push a real one out. */
#ifndef PIORA_AUTHN_TOKENCACHE_H
#define PIORA_AUTHN_TOKENCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/token.h"
#include "auth/principal.h"

typedef struct tokencache_entry {
    principal_t who;
    int64_t revoked_at;  /* 0: not revoked */
} tokencache_entry;

/* slots is rounded up to a power of two; memory is fixed from then on. */
void tokencache_init(uint32_t slots);
void tokencache_free(void);

bool tokencache_get(const uint8_t digest[TOKEN_DIGEST_LEN], uint64_t gen, tokencache_entry *out);
void tokencache_put(const uint8_t digest[TOKEN_DIGEST_LEN], uint64_t gen,
                    const tokencache_entry *e);

/* The table of digests the store has no token for (see above). */
bool tokencache_unknown_has(const uint8_t digest[TOKEN_DIGEST_LEN]);
void tokencache_unknown_add(const uint8_t digest[TOKEN_DIGEST_LEN]);

#endif
