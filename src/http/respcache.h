/* Replays of cacheable GET answers (route flag ROUTE_CACHEABLE). The key
 * is (team, raw request URI); an entry is good only while the generation
 * it was made under is current: the caller's pages generation, which moves
 * with every change of resource objects and nothing else (authn_sync(),
 * store/change.h; see authn/tokencache.h for why that is enough). So a
 * write of an object drops every page at once, and a usage-log batch or a
 * sign-in drops none. Fixed number of slots and a cap on body size bound
 * the memory. */
#ifndef PIORA_HTTP_RESPCACHE_H
#define PIORA_HTTP_RESPCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"

#define RESPCACHE_BODY_MAX (64 * 1024)

void respcache_init(uint32_t slots);
void respcache_free(void);

/* On a hit, fills r's status, content type, body and extra headers. */
bool respcache_get(int64_t team_id, const char *uri, uint64_t gen, req_t *r);
/* Stores r's answer (status 200 only, body under the cap). */
void respcache_put(int64_t team_id, const char *uri, uint64_t gen, const req_t *r);

#endif
