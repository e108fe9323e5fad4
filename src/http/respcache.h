/* Replays of cacheable GET answers (route flag ROUTE_CACHEABLE). The key
 * is (team, raw request URI); an entry is good only while the generation
 * it was made under is current: the caller's pages generation, which moves
 * with every change of resource objects and nothing else (authn_sync(),
 * store/change.h; see authn/tokencache.h for why that is enough). So a
 * write of an object drops every page at once, and a usage-log batch or a
 * sign-in drops none.
 *
 * Memory is bounded by bytes, not by entries: every entry is charged for
 * its key, body, headers and bookkeeping, and the sum never passes the
 * budget (--response-cache-bytes). The cache is split into shards, each
 * with its own lock, hash table and least-recently-used list and an equal
 * share of the budget; a put evicts from the cold end of its shard until
 * the new entry fits, so each put and get costs O(1) whatever a client
 * sends (distinct query strings only push older pages out). Sizes, hits,
 * misses and evictions go to monitor/metrics.h for /metrics. */
#ifndef PIORA_HTTP_RESPCACHE_H
#define PIORA_HTTP_RESPCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"

#define RESPCACHE_BODY_MAX (64 * 1024)

/* budget_bytes: the most the cached entries may take together; 0 turns the
 * cache off (every get misses, every put is dropped). */
void respcache_init(size_t budget_bytes);
void respcache_free(void);

/* On a hit, fills r's status, content type, body and extra headers. */
bool respcache_get(int64_t team_id, const char *uri, uint64_t gen, req_t *r);
/* Stores r's answer (status 200 only, body under the cap). */
void respcache_put(int64_t team_id, const char *uri, uint64_t gen, const req_t *r);

/* What the cache holds now, summed over the shards (each read under its
 * lock). evictions counts entries pushed out to make room since init. */
typedef struct respcache_stats {
    size_t bytes;
    size_t entries;
    uint64_t evictions;
} respcache_stats;

void respcache_stats_read(respcache_stats *out);

#endif
