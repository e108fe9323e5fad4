/* Hot tokens never touch the database: a fixed-size table from SHA-256
 * digest to what the store said about that digest (including "no such
 * token", so a repeated unknown token costs no lookup either).
 *
 * Immediate revocation rests on one rule: an entry is trusted only while
 * the tokens generation it was filled under (store/change.h: changes of
 * tokens, users and teams; authn_sync()) is still current. A write in this
 * process moves it as it commits; a write by another process is noticed by
 * change_poll() at the start of each request. The filler reads the
 * generation *before* its database read, so a revocation that lands in
 * between leaves a stale entry already dead. Monitoring writes (usage log,
 * last-used times) and sessions move other generations and leave the
 * cache alone. */
#ifndef PIORA_AUTHN_TOKENCACHE_H
#define PIORA_AUTHN_TOKENCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/token.h"
#include "auth/principal.h"

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
