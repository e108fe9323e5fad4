/* Prometheus metrics (text format 0.0.4) for /metrics. Every update on the
 * request path is a relaxed C11 atomic add on a preallocated counter: no
 * lock, no allocation, no label set built per request. Label values are
 * fixed at start (route patterns, reasons), never taken from a request, so
 * no token, query string or user input can reach a metric. */
#ifndef PIORA_MONITOR_METRICS_H
#define PIORA_MONITOR_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum metrics_auth_reason {
    MR_MISSING,
    MR_INVALID,
    MR_EXPIRED,
    MR_REVOKED,
    MR_INSUFFICIENT_SCOPE,
    MR_IP_NOT_ALLOWED, /* SPEC 11: a token used from outside its allowed_ips */
    MR__COUNT
} metrics_auth_reason;

typedef enum metrics_limiter {
    ML_TOKEN,         /* --rate-limit, per token */
    ML_ADDRESS,       /* token-less routes, per address (--revoke-limit) */
    ML_AUTH_FAILURES, /* --auth-fail-limit, per address */
    ML__COUNT
} metrics_limiter;

typedef enum metrics_db_op {
    MD_TOKEN_LOOKUP, /* a token cache miss */
    MD_HANDLER,      /* an API handler (store calls and JSON) */
    MD_PING,         /* /readyz */
    MD_USAGE_WRITE,  /* one usage-log batch */
    MD__COUNT
} metrics_db_op;

/* Routes: the API table's (method, pattern) pairs, then one "unmatched"
 * and one "dashboard" slot per method. Call once before serving; the
 * strings must outlive the process (they are the static route table). */
void metrics_init(const char *const *methods, const char *const *patterns, int n);
void metrics_set_build(const char *version);

/* The slot of API route i, or of an unmatched / dashboard request. */
int metrics_slot_route(int i);
int metrics_slot_unmatched(int method); /* method: http_method value, 0..7 */
int metrics_slot_dashboard(int method);

void metrics_request(int slot, int status, int64_t duration_ns);
void metrics_auth_failure(metrics_auth_reason r);
void metrics_rate_limited(metrics_limiter l);
void metrics_db(metrics_db_op op, int64_t duration_ns);

/* The response cache (http/respcache.h) reports here as it changes, so a
 * scrape reads its state without taking its locks. Sizes move by signed
 * deltas; budget is set once at start. */
void metrics_cache_budget(uint64_t bytes);
void metrics_cache_size(int64_t dbytes, int64_t dentries);
void metrics_cache_lookup(bool hit);
void metrics_cache_evicted(uint64_t n);

/* Gauges read at scrape time from other modules. */
typedef struct metrics_gauges {
    uint64_t usage_queue_depth;
    uint64_t usage_dropped;
    uint64_t usage_written;
    uint64_t lastused_dropped;
    uint64_t access_log_dropped;
    int64_t inflight;
    uint64_t password_hashes; /* Argon2id runs, made or checked */
    uint64_t hash_busy;       /* deferred hashes running or waiting */
    uint64_t hash_refused;    /* answered 503: the hashing pool was full */
    bool redis_configured;    /* --redis given: the two below are shown */
    bool redis_up;            /* Redis answered the last shared limit */
    uint64_t redis_fallbacks; /* limit decisions taken by this node alone, Redis failing */
    uint64_t store_busy;      /* requests handed to the store pool, running or waiting */
    uint64_t store_refused;   /* answered 503: the store pool was full */
    uint64_t store_handed;    /* requests handed to the store pool since start */
    uint64_t store_late;      /* answered 503: waited too long for a store thread */
    bool feed_running;        /* a change-feed listener runs (PostgreSQL): the three below are shown */
    bool feed_healthy;
    uint64_t feed_reconnects;
    uint64_t feed_notifies;
} metrics_gauges;

/* Appends the whole exposition with the gauges in g. */
void metrics_render(buf_t *b, const metrics_gauges *g);

/* Fills the gauges owned by modules above monitor/ (the HTTP server's
 * in-flight count, authn/'s last-used buffer) and beside it (the usage log,
 * the access log). app/ registers it at start, so /metrics needs nothing
 * but this header and monitor/ knows none of them. */
typedef void (*metrics_gauges_fn)(metrics_gauges *g);
void metrics_set_gauges(metrics_gauges_fn fn);

/* Appends the whole exposition with the gauges as the registered reader
 * says now (all zero when none is registered): the scrape of /metrics. */
void metrics_scrape(buf_t *b);

#endif
