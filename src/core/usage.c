/* The per-token usage log, read side (SPEC 6): what `piora token usage`
 * and the dashboard's usage page show. */
#include "core/usage.h"

#include <string.h>

#include "core/tokens.h"
#include "util/clock.h"

piora_err usage_list(store_t *s, int64_t token_id, const usage_filter *f, int64_t offset,
                     int64_t limit, json_t **items, int64_t *total)
{
    usage_filter none = {0, 0};
    if (!f)
        f = &none;
    if (token_id <= 0 || f->status < 0 || f->status > 999 || f->since < 0)
        return PIORA_EINVALID;
    return store_usage_list(s, token_id, f->since, f->status, offset, limit, items, total);
}

/* A duration reads as "that long ago", so `--since 24h` is the last day. */
bool usage_parse_since(const char *s, int64_t now, int64_t *since)
{
    if (!s || !*s || strlen(s) > 64)
        return false;
    int64_t secs = 0;
    if (strcmp(s, "never") != 0 && tokens_parse_duration(s, &secs) && secs > 0) {
        *since = now - secs > 0 ? now - secs : 0;
        return true;
    }
    int64_t t = 0;
    if (clock_parse_rfc3339(s, &t) && t >= 0) {
        *since = t;
        return true;
    }
    return false;
}
