/* Hot tokens never touch the database: a fixed-size table from SHA-256
 * digest to what the store said about that digest (including "no such
 * token", so a repeated unknown token costs no lookup either).
 *
 * Immediate revocation rests on one rule: an entry is trusted only while
 * the store generation it was filled under is still current. Every write in
 * this process bumps the generation after commit; a write by another process
 * is noticed through store_changed() at the start of each request, which
 * bumps it too. The filler reads the generation *before* its database read,
 * so a revocation that lands in between leaves a stale entry already dead. */
#ifndef PIORA_AUTHN_TOKENCACHE_H
#define PIORA_AUTHN_TOKENCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/token.h"
#include "authn/principal.h"

typedef struct tokencache_entry {
    bool known;          /* false: the store has no token with this digest */
    principal_t who;     /* when known */
    int64_t revoked_at;  /* 0: not revoked */
} tokencache_entry;

/* slots is rounded up to a power of two; memory is fixed from then on. */
void tokencache_init(uint32_t slots);
void tokencache_free(void);

bool tokencache_get(const uint8_t digest[TOKEN_DIGEST_LEN], uint64_t gen, tokencache_entry *out);
void tokencache_put(const uint8_t digest[TOKEN_DIGEST_LEN], uint64_t gen,
                    const tokencache_entry *e);

#endif
