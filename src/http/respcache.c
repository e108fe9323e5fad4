#include "http/respcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http/response.h"

#define STRIPES 64
#define URI_MAX 512

typedef struct centry {
    uint64_t gen; /* pages generation + 1; 0: empty */
    uint64_t hash;
    int64_t team_id;
    char uri[URI_MAX];
    const char *content_type; /* static strings only */
    char *body;
    size_t body_len;
    const char *hname[REQ_MAX_HEADERS];
    char *hvalue[REQ_MAX_HEADERS];
    int nheaders;
} centry;

static centry *table;
static uint32_t nslots;
static pthread_mutex_t locks[STRIPES];

void respcache_init(uint32_t slots)
{
    nslots = 1;
    while (nslots < slots)
        nslots <<= 1;
    table = calloc(nslots, sizeof *table);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&locks[i], NULL);
}

static void entry_clear(centry *e)
{
    free(e->body);
    for (int i = 0; i < e->nheaders; i++)
        free(e->hvalue[i]);
    memset(e, 0, sizeof *e);
}

void respcache_free(void)
{
    for (uint32_t i = 0; table && i < nslots; i++)
        entry_clear(&table[i]);
    free(table);
    table = NULL;
}

static uint64_t key_hash(int64_t team, const char *uri)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)team * 0x9E3779B97F4A7C15ull;
    for (const unsigned char *p = (const unsigned char *)uri; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return h;
}

bool respcache_get(int64_t team_id, const char *uri, uint64_t gen, req_t *r)
{
    if (!table || strlen(uri) >= URI_MAX)
        return false;
    uint64_t h = key_hash(team_id, uri);
    uint32_t i = (uint32_t)h & (nslots - 1);
    pthread_mutex_t *m = &locks[i % STRIPES];
    bool hit = false;
    pthread_mutex_lock(m);
    centry *e = &table[i];
    if (e->gen == gen + 1 && e->hash == h && e->team_id == team_id && strcmp(e->uri, uri) == 0) {
        resp_raw(r, 200, e->content_type, e->body, e->body_len);
        for (int k = 0; k < e->nheaders; k++)
            resp_header(r, e->hname[k], e->hvalue[k]);
        hit = !r->out.failed;
    }
    pthread_mutex_unlock(m);
    return hit;
}

void respcache_put(int64_t team_id, const char *uri, uint64_t gen, const req_t *r)
{
    if (!table || r->status != 200 || r->out.failed || r->out.len > RESPCACHE_BODY_MAX ||
        strlen(uri) >= URI_MAX)
        return;
    centry n;
    memset(&n, 0, sizeof n);
    n.body = malloc(r->out.len + 1);
    if (!n.body)
        return;
    memcpy(n.body, r->out.data ? r->out.data : "", r->out.len);
    n.body_len = r->out.len;
    n.gen = gen + 1;
    n.hash = key_hash(team_id, uri);
    n.team_id = team_id;
    memcpy(n.uri, uri, strlen(uri) + 1); /* shorter than URI_MAX: checked above */
    n.content_type = r->content_type;
    for (int k = 0; k < r->nheaders; k++) {
        n.hname[k] = r->headers[k].name;
        n.hvalue[k] = strdup(r->headers[k].value);
        if (!n.hvalue[k]) {
            entry_clear(&n);
            return;
        }
        n.nheaders = k + 1;
    }
    uint32_t i = (uint32_t)n.hash & (nslots - 1);
    pthread_mutex_t *m = &locks[i % STRIPES];
    pthread_mutex_lock(m);
    /* Never replace a newer answer with an older one. */
    if (table[i].gen > n.gen) {
        pthread_mutex_unlock(m);
        entry_clear(&n);
        return;
    }
    centry old = table[i];
    table[i] = n;
    pthread_mutex_unlock(m);
    entry_clear(&old);
}
