/* Rate limits shared by every node through Redis (SPEC 1, `--redis`): GCRA
 * as one Lua script that reads Redis's own clock (TIME), so the nodes'
 * clocks may differ. The only file that includes hiredis.
 *
 * Never slow for long: each calling thread keeps its own connection, with
 * one timeout (--redis-timeout) to connect and for each call. Any failure
 * makes that one call
 * answer "not shared" (the caller limits with its own table) and marks Redis
 * down for every thread; while down no thread waits on it, and at most one
 * reconnect is tried per second. Both transitions are logged once. */
#ifndef PIORA_CLUSTER_REDIS_H
#define PIORA_CLUSTER_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REDIS_HOST_MAX 256

/* redis://HOST[:PORT][/N]: HOST a name, an IPv4 address or [IPv6]; PORT
 * 1-65535 (6379); N the database number (0). */
typedef struct redis_url {
    char host[REDIS_HOST_MAX];
    int port;
    int db;
} redis_url;

/* True and *out set when url is well formed; else why says what is wrong
 * in a few words. */
bool redis_url_parse(const char *url, redis_url *out, char *why, size_t whylen);

/* Starts using Redis at url (already checked by redis_url_parse; a bad one
 * returns false) with timeout_ms (1-60000) to connect and per call.
 * Connects once from the calling thread and logs whether the limits are
 * shared or, Redis not answering yet, local for now. */
bool redis_limits_start(const char *url, int timeout_ms);
/* Stops: later calls answer "not shared". Connections of other threads are
 * closed as those threads exit. */
void redis_limits_stop(void);
bool redis_limits_configured(void);

/* One GCRA decision for the shared key (limiter, key): `limit` requests per
 * `window_s` seconds with a burst of `limit`, the semantics of
 * auth/ratelimit.h. reset_in_s: seconds until the full quota is back. */
typedef struct redis_gcra {
    bool allowed;
    int64_t remaining;
    int64_t reset_in_s;
    int64_t retry_after; /* >= 1 when !allowed, else 0 */
} redis_gcra;

/* Spends one request. limiter names the budget in the key ("token",
 * "authfail", "addr": lower-case letters); key is a token id or a hash of
 * an address, never a secret. True with *out filled when Redis decided;
 * false (counted as a fallback when configured) when the caller must decide
 * with its own limiter. limit must be > 0. */
bool redis_gcra_take(const char *limiter, uint64_t key, int64_t limit, int64_t window_s,
                     redis_gcra *out);

/* For a thread that must never wait (an HTTP polling thread): true when
 * redis_gcra_take() would now answer "not shared" at once, because Redis is
 * not configured, or is down with no reconnect due (then counted as a
 * fallback, as redis_gcra_take() counts it); the caller limits with its own
 * table. false when deciding means a call to Redis, which may wait up to
 * the timeout: the caller hands the decision to a thread that may wait
 * (which then calls redis_gcra_take(); nothing was counted). Never claims
 * the reconnect, so the thread that tries it is one that may wait. */
bool redis_gcra_local_now(void);

/* For /metrics: whether the last word from Redis was an answer (1) or a
 * failure (0), and how many decisions fell back to this node's limiter. */
bool redis_limits_up(void);
uint64_t redis_limits_fallbacks(void);

/* The Lua script's text, for tests that run it directly. */
extern const char redis_gcra_script[];

#endif
