/* In-process rate limiting with GCRA (the generic cell rate algorithm): one
 * 64-bit "theoretical arrival time" per key, no timers, no background work.
 * A limiter is a fixed-size, lock-striped hash table: its memory is bounded
 * by construction (old keys are evicted when a bucket is full), so a flood
 * of distinct keys cannot grow it. Used per token (key: token id) and for
 * failed authentication per client address (key: hash of the address). */
#ifndef PIORA_AUTH_RATELIMIT_H
#define PIORA_AUTH_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ratelimit ratelimit_t;

typedef struct ratelimit_result {
    bool allowed;
    int64_t limit;       /* requests per window */
    int64_t remaining;   /* requests left now (>= 0) */
    int64_t reset;       /* epoch seconds when the full quota is back */
    int64_t retry_after; /* seconds to wait when !allowed (>= 1), else 0 */
} ratelimit_result;

/* limit requests per window_s seconds, with a burst of `limit` (a client may
 * spend the whole window's quota at once, as GitHub's do). slots bounds the
 * number of keys tracked. limit == 0 disables the limiter (always allowed). */
ratelimit_t *ratelimit_new(int64_t limit, int64_t window_s, uint32_t slots);
void ratelimit_free(ratelimit_t *rl);

/* Spends one request for key at time now_ns (monotonic nanoseconds). */
ratelimit_result ratelimit_take(ratelimit_t *rl, uint64_t key, int64_t now_ns);
/* Gives back one request taken for key (never below a fresh key's state):
 * a slot is taken before costly work and returned when the outcome should
 * not count, e.g. a sign-in that succeeded. */
void ratelimit_refund(ratelimit_t *rl, uint64_t key, int64_t now_ns);
/* Reports without spending (used to answer a request already refused). */
ratelimit_result ratelimit_peek(ratelimit_t *rl, uint64_t key, int64_t now_ns);

/* The key of a text (a client address, an account's email): FNV-1a, the
 * same for the same text in every limiter. Not a secret: a limiter only
 * needs its keys to spread over the table. */
uint64_t ratelimit_key(const char *text);

#endif
