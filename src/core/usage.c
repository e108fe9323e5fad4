/* The per-token usage log, read side (SPEC 6): what `piora token usage`
 * and the dashboard's usage page show. */
#include "core/usage.h"

#include <string.h>

#include <stdlib.h>

#include "core/tokens.h"
#include "util/clock.h"

/* {time, method, path, status, addr, user_agent, count}, time RFC 3339. */
static json_t *usage_render(const usage_entry *u)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    char t[RFC3339_LEN];
    clock_fmt_rfc3339(u->time, t);
    json_object_set_new(o, "time", json_string(t));
    json_object_set_new(o, "method", json_string(u->method));
    json_object_set_new(o, "path", json_string(u->path));
    json_object_set_new(o, "status", json_integer(u->status));
    json_object_set_new(o, "addr", json_string(u->addr));
    json_object_set_new(o, "user_agent", json_string(u->user_agent));
    json_object_set_new(o, "count", json_integer(u->count));
    return o;
}

piora_err usage_list(store_t *s, int64_t token_id, const usage_filter *f, int64_t offset,
                     int64_t limit, json_t **items, int64_t *total)
{
    usage_filter none = {0, 0};
    if (!f)
        f = &none;
    *items = NULL;
    if (token_id <= 0 || f->status < 0 || f->status > 999 || f->since < 0)
        return PIORA_EINVALID;
    usage_entry *rows = NULL;
    size_t n = 0;
    piora_err e = store_usage_list(s, token_id, f->since, f->status, offset, limit, &rows, &n,
                                   total);
    if (e != PIORA_OK)
        return e;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, usage_render(&rows[i]));
    free(rows);
    if (!arr) {
        *total = 0;
        return PIORA_ENOMEM;
    }
    *items = arr;
    return PIORA_OK;
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
