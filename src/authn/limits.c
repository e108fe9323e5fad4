#include "authn/limits.h"

#include "cluster/redis.h"
#include "util/clock.h"

#define WINDOW_S 60

typedef struct limiter {
    ratelimit_t *own;
    int64_t limit;
    const char *name; /* the budget's part of the Redis key */
} limiter;

static limiter limiters[LIMITS__COUNT];

void limits_init(const piora_config *cfg)
{
    limiters[LIMITS_TOKEN] = (limiter){ratelimit_new(cfg->rate_limit, WINDOW_S, 1u << 16),
                                       cfg->rate_limit, "token"};
    limiters[LIMITS_AUTH_FAIL] = (limiter){
        ratelimit_new(cfg->auth_fail_limit, WINDOW_S, 1u << 14), cfg->auth_fail_limit,
        "authfail"};
    limiters[LIMITS_ADDR] = (limiter){ratelimit_new(cfg->revoke_limit, WINDOW_S, 1u << 14),
                                      cfg->revoke_limit, "addr"};
}

void limits_free(void)
{
    for (int i = 0; i < LIMITS__COUNT; i++) {
        ratelimit_free(limiters[i].own);
        limiters[i] = (limiter){0};
    }
}

ratelimit_result limits_take(limits_kind kind, uint64_t key)
{
    limiter *l = &limiters[kind];
    redis_gcra g;
    if (l->limit > 0 && redis_gcra_take(l->name, key, l->limit, WINDOW_S, &g)) {
        /* The answer is Redis's; the node's own table only keeps count
         * of what it let through, for a later fallback. */
        if (g.allowed)
            ratelimit_take(l->own, key, clock_mono_ns());
        return (ratelimit_result){.allowed = g.allowed,
                                  .limit = l->limit,
                                  .remaining = g.remaining,
                                  .reset = clock_now() + g.reset_in_s,
                                  .retry_after = g.retry_after};
    }
    return ratelimit_take(l->own, key, clock_mono_ns());
}

bool limits_take_nowait(limits_kind kind, uint64_t key, ratelimit_result *out)
{
    limiter *l = &limiters[kind];
    if (l->limit > 0 && !redis_gcra_local_now())
        return false;
    *out = ratelimit_take(l->own, key, clock_mono_ns());
    return true;
}
