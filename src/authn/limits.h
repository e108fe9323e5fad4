/* The limiters authn/ applies (per token, failed authentications per
 * address, token-less routes per address), each either shared by every node
 * through Redis (cluster/redis.h, with --redis) or this node's own
 * (auth/ratelimit.h). The node's own table is always kept: it decides while
 * Redis is unreachable, and since it also counts the requests Redis allowed,
 * a fallback starts from what this node really served rather than from a
 * full quota. */
#ifndef PIORA_AUTHN_LIMITS_H
#define PIORA_AUTHN_LIMITS_H

#include <stdint.h>

#include "auth/ratelimit.h"
#include "core/config.h"

typedef enum limits_kind {
    LIMITS_TOKEN,     /* --rate-limit, key: token id */
    LIMITS_AUTH_FAIL, /* --auth-fail-limit, key: ratelimit_key(address) */
    LIMITS_ADDR,      /* --revoke-limit, key: ratelimit_key(address) */
    LIMITS__COUNT
} limits_kind;

void limits_init(const piora_config *cfg);
void limits_free(void);

/* Spends one request of key's budget. With --redis it may wait on Redis up
 * to --redis-timeout. */
ratelimit_result limits_take(limits_kind kind, uint64_t key);
/* limits_take() for a thread that must not wait (an HTTP polling thread):
 * true with *out when this node's own table decides now (no --redis, or
 * Redis down with no reconnect due); false, nothing spent, when the
 * decision needs Redis: the caller has limits_take() run where waiting is
 * allowed. */
bool limits_take_nowait(limits_kind kind, uint64_t key, ratelimit_result *out);

#endif
