/* The per-token usage log of SPEC 6, read side. The write side is the
 * request path's bounded queue (see the monitoring layer); this is what the
 * CLI (`piora token usage`) and the dashboard show. */
#ifndef PIORA_CORE_USAGE_H
#define PIORA_CORE_USAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

typedef struct usage_filter {
    int64_t since; /* epoch seconds; 0: no bound */
    int status;    /* an HTTP status; 0: any */
} usage_filter;

/* Newest first. The caller checks the token is one the viewer may see.
 * *items: a new JSON array of {time, method, path, status, addr, user_agent,
 * count}: identical requests of one second written in one batch share a
 * row, and count >= 1 says how many (added after the first contract;
 * readers may ignore it). */
piora_err usage_list(store_t *s, int64_t token_id, const usage_filter *f, int64_t offset,
                     int64_t limit, json_t **items, int64_t *total);

/* Parses a --since value: RFC 3339 (or YYYY-MM-DD), or a duration "24h",
 * "7d", "30m", "45s" meaning that long before now. false on anything else. */
bool usage_parse_since(const char *s, int64_t now, int64_t *since);

#endif
