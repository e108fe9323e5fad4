/* Counters as flat arrays of relaxed atomics, allocated once at start:
 * requests by (route slot, status), histograms as per-bucket counts. A
 * scrape reads them without stopping writers, so one scrape may see a
 * request in a histogram and not yet in its counter; Prometheus tolerates
 * that and no counter here ever goes backwards (the response cache's size
 * gauges do, by the deltas http/respcache.c reports). */
#include "monitor/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

#define METHODS 8
#define STATUS_MIN 100
#define STATUS_SPAN 500 /* 100..599; anything else counts as 599's neighbour "other" */
#define MAX_ROUTES 256

static const char *const method_names[METHODS] = {"GET",    "POST", "PUT",     "PATCH",
                                                  "DELETE", "HEAD", "OPTIONS", "OTHER"};

/* Latency buckets in seconds (upper bounds), from a cached GET to a slow
 * write under lock contention. */
static const double lat_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                    0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
#define LAT_BUCKETS (sizeof lat_bounds / sizeof lat_bounds[0])

typedef struct histo {
    _Atomic uint64_t bucket[LAT_BUCKETS + 1]; /* the last one: +Inf only */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_ns;
} histo;

static int nroutes;
static const char *const *route_methods;
static const char *const *route_patterns;
static _Atomic uint64_t (*requests)[STATUS_SPAN + 1]; /* [slot][status - 100], last: other */
static int nslots;
static histo latency;
static histo db[MD__COUNT];
static _Atomic uint64_t auth_fail[MR__COUNT];
static _Atomic uint64_t limited[ML__COUNT];
static _Atomic uint64_t cache_budget;
static _Atomic int64_t cache_bytes, cache_entries;
static _Atomic uint64_t cache_hits, cache_misses, cache_evictions;
static char build_version[64] = "unknown";
static int64_t start_time;
static _Atomic(metrics_gauges_fn) gauges_reader;

void metrics_init(const char *const *methods, const char *const *patterns, int n)
{
    if (n > MAX_ROUTES)
        n = MAX_ROUTES;
    nroutes = n;
    route_methods = methods;
    route_patterns = patterns;
    nslots = n + 2 * METHODS;
    free(requests);
    requests = calloc((size_t)nslots, sizeof *requests);
    if (!requests)
        nslots = 0;
    memset(&latency, 0, sizeof latency);
    memset(db, 0, sizeof db);
    memset(auth_fail, 0, sizeof auth_fail);
    memset(limited, 0, sizeof limited);
    start_time = clock_now();
}

void metrics_set_build(const char *version)
{
    size_t n = 0;
    /* A version is [0-9A-Za-z.+-]; anything else is not put in a label. */
    for (; version && version[n] && n < sizeof build_version - 1; n++) {
        char c = version[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '-' || c == '+'))
            return;
    }
    if (n) {
        memcpy(build_version, version, n);
        build_version[n] = '\0';
    }
}

int metrics_slot_route(int i) { return i >= 0 && i < nroutes ? i : -1; }

int metrics_slot_unmatched(int method)
{
    return nroutes + (method >= 0 && method < METHODS ? method : METHODS - 1);
}

int metrics_slot_dashboard(int method)
{
    return nroutes + METHODS + (method >= 0 && method < METHODS ? method : METHODS - 1);
}

static void histo_observe(histo *h, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    double s = (double)ns / 1e9;
    size_t i = 0;
    while (i < LAT_BUCKETS && s > lat_bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)ns, memory_order_relaxed);
}

void metrics_request(int slot, int status, int64_t duration_ns)
{
    if (requests && slot >= 0 && slot < nslots) {
        int k = status >= STATUS_MIN && status < STATUS_MIN + STATUS_SPAN ? status - STATUS_MIN
                                                                          : STATUS_SPAN;
        atomic_fetch_add_explicit(&requests[slot][k], 1, memory_order_relaxed);
    }
    histo_observe(&latency, duration_ns);
}

void metrics_auth_failure(metrics_auth_reason r)
{
    if ((unsigned)r < MR__COUNT)
        atomic_fetch_add_explicit(&auth_fail[r], 1, memory_order_relaxed);
}

void metrics_rate_limited(metrics_limiter l)
{
    if ((unsigned)l < ML__COUNT)
        atomic_fetch_add_explicit(&limited[l], 1, memory_order_relaxed);
}

void metrics_cache_budget(uint64_t bytes)
{
    atomic_store_explicit(&cache_budget, bytes, memory_order_relaxed);
}

void metrics_cache_size(int64_t dbytes, int64_t dentries)
{
    atomic_fetch_add_explicit(&cache_bytes, dbytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&cache_entries, dentries, memory_order_relaxed);
}

void metrics_cache_lookup(bool hit)
{
    atomic_fetch_add_explicit(hit ? &cache_hits : &cache_misses, 1, memory_order_relaxed);
}

void metrics_cache_evicted(uint64_t n)
{
    atomic_fetch_add_explicit(&cache_evictions, n, memory_order_relaxed);
}

void metrics_db(metrics_db_op op, int64_t duration_ns)
{
    if ((unsigned)op < MD__COUNT)
        histo_observe(&db[op], duration_ns);
}

/* ---- exposition ------------------------------------------------------------ */

static void slot_labels(int slot, const char **method, const char **route)
{
    if (slot < nroutes) {
        *method = route_methods[slot];
        *route = route_patterns[slot];
    } else if (slot < nroutes + METHODS) {
        *method = method_names[slot - nroutes];
        *route = "unmatched";
    } else {
        *method = method_names[slot - nroutes - METHODS];
        *route = "dashboard";
    }
}

/* Label values come from the route table and fixed names, but escape
 * them anyway as the format requires. */
static void put_label(buf_t *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            buf_putc(b, '\\');
        if (*v == '\n') {
            buf_puts(b, "\\n");
            continue;
        }
        buf_putc(b, *v);
    }
}

static void histo_render(buf_t *b, const char *name, const char *labels, const histo *h)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= LAT_BUCKETS; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        buf_printf(b, "%s_bucket{%s%sle=\"", name, labels, *labels ? "," : "");
        if (i < LAT_BUCKETS)
            buf_printf(b, "%g", lat_bounds[i]);
        else
            buf_puts(b, "+Inf");
        buf_printf(b, "\"} %llu\n", (unsigned long long)cum);
    }
    /* The count is the +Inf bucket, so the two always agree in one scrape. */
    buf_printf(b, "%s_sum%s%s%s %.9f\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
               (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9);
    buf_printf(b, "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels,
               *labels ? "}" : "", (unsigned long long)cum);
}

static void counter_header(buf_t *b, const char *name, const char *help, const char *type)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_render(buf_t *b, const metrics_gauges *g)
{
    counter_header(b, "piora_http_requests_total",
                   "HTTP requests answered, by method, route pattern and status.", "counter");
    for (int s = 0; s < nslots && requests; s++) {
        const char *method, *route;
        slot_labels(s, &method, &route);
        for (int k = 0; k <= STATUS_SPAN; k++) {
            uint64_t v = atomic_load_explicit(&requests[s][k], memory_order_relaxed);
            if (!v)
                continue;
            buf_puts(b, "piora_http_requests_total{method=\"");
            put_label(b, method);
            buf_puts(b, "\",route=\"");
            put_label(b, route);
            if (k < STATUS_SPAN)
                buf_printf(b, "\",status=\"%d\"} %llu\n", k + STATUS_MIN, (unsigned long long)v);
            else
                buf_printf(b, "\",status=\"other\"} %llu\n", (unsigned long long)v);
        }
    }

    counter_header(b, "piora_http_request_duration_seconds",
                   "Time from dispatch to a queued response.", "histogram");
    histo_render(b, "piora_http_request_duration_seconds", "", &latency);

    static const char *const reasons[MR__COUNT] = {"missing", "invalid", "expired", "revoked",
                                                   "insufficient_scope", "ip_not_allowed"};
    counter_header(b, "piora_auth_failures_total",
                   "Requests refused by authentication or authorization, by reason.", "counter");
    for (int i = 0; i < MR__COUNT; i++)
        buf_printf(b, "piora_auth_failures_total{reason=\"%s\"} %llu\n", reasons[i],
                   (unsigned long long)atomic_load(&auth_fail[i]));

    static const char *const limiters[ML__COUNT] = {"token", "address", "auth_failures"};
    counter_header(b, "piora_rate_limited_total", "Requests answered 429, by limiter.",
                   "counter");
    for (int i = 0; i < ML__COUNT; i++)
        buf_printf(b, "piora_rate_limited_total{limiter=\"%s\"} %llu\n", limiters[i],
                   (unsigned long long)atomic_load(&limited[i]));

    static const char *const ops[MD__COUNT] = {"token_lookup", "handler", "ping", "usage_write"};
    counter_header(b, "piora_db_duration_seconds",
                   "Time spent in database work, by operation.", "histogram");
    for (int i = 0; i < MD__COUNT; i++) {
        char l[48];
        snprintf(l, sizeof l, "op=\"%s\"", ops[i]);
        histo_render(b, "piora_db_duration_seconds", l, &db[i]);
    }

    counter_header(b, "piora_response_cache_bytes",
                   "Memory held by cached API answers (keys, bodies, headers).", "gauge");
    buf_printf(b, "piora_response_cache_bytes %lld\n", (long long)atomic_load(&cache_bytes));
    counter_header(b, "piora_response_cache_budget_bytes",
                   "The most the response cache may hold (--response-cache-bytes).", "gauge");
    buf_printf(b, "piora_response_cache_budget_bytes %llu\n",
               (unsigned long long)atomic_load_explicit(&cache_budget, memory_order_relaxed));
    counter_header(b, "piora_response_cache_entries", "Cached API answers.", "gauge");
    buf_printf(b, "piora_response_cache_entries %lld\n", (long long)atomic_load(&cache_entries));
    counter_header(b, "piora_response_cache_hits_total",
                   "Cacheable GETs answered from the response cache.", "counter");
    buf_printf(b, "piora_response_cache_hits_total %llu\n",
               (unsigned long long)atomic_load(&cache_hits));
    counter_header(b, "piora_response_cache_misses_total",
                   "Cacheable GETs the response cache could not answer.", "counter");
    buf_printf(b, "piora_response_cache_misses_total %llu\n",
               (unsigned long long)atomic_load(&cache_misses));
    counter_header(b, "piora_response_cache_evictions_total",
                   "Cached answers pushed out to stay within the budget.", "counter");
    buf_printf(b, "piora_response_cache_evictions_total %llu\n",
               (unsigned long long)atomic_load(&cache_evictions));

    counter_header(b, "piora_usage_log_queue_depth", "Usage-log entries waiting to be written.",
                   "gauge");
    buf_printf(b, "piora_usage_log_queue_depth %llu\n",
               (unsigned long long)g->usage_queue_depth);
    counter_header(b, "piora_usage_log_dropped_total",
                   "Usage-log entries lost to a full queue or a failed write.", "counter");
    buf_printf(b, "piora_usage_log_dropped_total %llu\n", (unsigned long long)g->usage_dropped);
    counter_header(b, "piora_usage_log_written_total", "Usage-log entries written.", "counter");
    buf_printf(b, "piora_usage_log_written_total %llu\n", (unsigned long long)g->usage_written);
    counter_header(b, "piora_last_used_dropped_total",
                   "Last-used notes lost because the table was full.", "counter");
    buf_printf(b, "piora_last_used_dropped_total %llu\n",
               (unsigned long long)g->lastused_dropped);
    counter_header(b, "piora_access_log_dropped_total",
                   "Access-log lines lost because standard output did not keep up.", "counter");
    buf_printf(b, "piora_access_log_dropped_total %llu\n",
               (unsigned long long)g->access_log_dropped);
    counter_header(b, "piora_http_requests_in_flight", "Requests being served now.", "gauge");
    buf_printf(b, "piora_http_requests_in_flight %lld\n", (long long)g->inflight);
    counter_header(b, "piora_password_hashes_total",
                   "Argon2id runs (passwords hashed or checked).", "counter");
    buf_printf(b, "piora_password_hashes_total %llu\n", (unsigned long long)g->password_hashes);
    counter_header(b, "piora_password_hash_jobs", "Password hashes running or waiting now.",
                   "gauge");
    buf_printf(b, "piora_password_hash_jobs %llu\n", (unsigned long long)g->hash_busy);
    counter_header(b, "piora_password_hash_refused_total",
                   "Requests answered 503 because the password-hashing pool was full.",
                   "counter");
    buf_printf(b, "piora_password_hash_refused_total %llu\n",
               (unsigned long long)g->hash_refused);
    if (g->redis_configured) {
        counter_header(b, "piora_ratelimit_redis_up",
                       "1 while Redis answers the shared rate limits, 0 while this node limits "
                       "alone.",
                       "gauge");
        buf_printf(b, "piora_ratelimit_redis_up %d\n", g->redis_up ? 1 : 0);
        counter_header(b, "piora_ratelimit_redis_fallbacks_total",
                       "Rate-limit decisions this node took alone because Redis did not answer.",
                       "counter");
        buf_printf(b, "piora_ratelimit_redis_fallbacks_total %llu\n",
                   (unsigned long long)g->redis_fallbacks);
    }
    counter_header(b, "piora_store_pool_jobs",
                   "Requests waiting on a remote database in the store pool, running or queued.",
                   "gauge");
    buf_printf(b, "piora_store_pool_jobs %llu\n", (unsigned long long)g->store_busy);
    counter_header(b, "piora_store_pool_handed_total",
                   "Requests handed from the HTTP threads to the store pool.", "counter");
    buf_printf(b, "piora_store_pool_handed_total %llu\n", (unsigned long long)g->store_handed);
    counter_header(b, "piora_store_pool_refused_total",
                   "Requests answered 503 because the store pool was full.", "counter");
    buf_printf(b, "piora_store_pool_refused_total %llu\n",
               (unsigned long long)g->store_refused);
    counter_header(b, "piora_store_pool_late_total",
                   "Requests answered 503 because they waited over 2 s for a store thread.",
                   "counter");
    buf_printf(b, "piora_store_pool_late_total %llu\n", (unsigned long long)g->store_late);
    if (g->feed_running) {
        counter_header(b, "piora_change_feed_healthy",
                       "1 while the change-feed listener has confirmed its view within 500 ms; "
                       "0 while this node reads the feed from the database on every request.",
                       "gauge");
        buf_printf(b, "piora_change_feed_healthy %d\n", g->feed_healthy ? 1 : 0);
        counter_header(b, "piora_change_feed_reconnects_total",
                       "Times the change-feed listener re-established its connection.",
                       "counter");
        buf_printf(b, "piora_change_feed_reconnects_total %llu\n",
                   (unsigned long long)g->feed_reconnects);
        counter_header(b, "piora_change_feed_notifications_total",
                       "Change notifications the listener received.", "counter");
        buf_printf(b, "piora_change_feed_notifications_total %llu\n",
                   (unsigned long long)g->feed_notifies);
    }
    counter_header(b, "piora_start_time_seconds", "When the server started (epoch seconds).",
                   "gauge");
    buf_printf(b, "piora_start_time_seconds %lld\n", (long long)start_time);
    counter_header(b, "piora_build_info", "The running build.", "gauge");
    buf_printf(b, "piora_build_info{version=\"%s\"} 1\n", build_version);
}

void metrics_set_gauges(metrics_gauges_fn fn) { atomic_store(&gauges_reader, fn); }

void metrics_scrape(buf_t *b)
{
    metrics_gauges g = {0};
    metrics_gauges_fn fn = atomic_load(&gauges_reader);
    if (fn)
        fn(&g);
    metrics_render(b, &g);
}
