#include "http/respcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http/response.h"
#include "monitor/metrics.h"

#define URI_MAX 512
#define SHARDS_MAX 16
/* A shard below this share of the budget would hold too few full-size
 * pages to be worth its own lock: small budgets get fewer shards. */
#define SHARD_MIN_BYTES (1024 * 1024)
/* One hash bucket per this many bytes of budget: the smallest entry costs
 * a few hundred bytes, so chains stay a few entries long when full. */
#define BYTES_PER_BUCKET 1024

/* One cached answer in one allocation: the struct, then the URI, the body
 * and the header values (entry_data()). cost is that allocation's size,
 * which is what the budget is charged. No flexible array member: a shard
 * embeds an rentry as its list sentinel, which standard C forbids for a
 * struct ending in one. */
typedef struct rentry {
    struct rentry *hnext;       /* hash chain; also the free list after unlink */
    struct rentry *prev, *next; /* the shard's recency list, most recent first */
    uint64_t gen;               /* pages generation + 1 */
    uint64_t hash;
    int64_t team_id;
    size_t cost;
    const char *uri;
    const char *content_type; /* static strings only */
    const char *body;
    size_t body_len;
    const char *hname[REQ_MAX_HEADERS]; /* static strings */
    const char *hvalue[REQ_MAX_HEADERS];
    int nheaders;
} rentry;

/* The bytes after the struct in the entry's allocation (malloc's alignment
 * covers the struct, and what follows is chars). */
static char *entry_data(rentry *e) { return (char *)(e + 1); }

typedef struct shard {
    pthread_mutex_t lock;
    rentry **buckets;
    uint32_t mask;
    rentry lru; /* sentinel: lru.next is the most recent, lru.prev the oldest */
    size_t budget;
    size_t bytes;
    size_t entries;
    uint64_t evictions;
} shard;

static shard *shards;
static uint32_t nshards;

static uint32_t pow2_floor(size_t n)
{
    uint32_t p = 1;
    while (p <= n / 2 && p < (1u << 30))
        p <<= 1;
    return p;
}

/* Splits the budget over a power-of-two number of shards, one per MiB up
 * to SHARDS_MAX. The hash index (8 bytes per BYTES_PER_BUCKET of budget,
 * under 1%) is fixed here and not charged to the budget. */
void respcache_init(size_t budget_bytes)
{
    shards = NULL;
    nshards = 0;
    metrics_cache_budget(budget_bytes);
    if (budget_bytes == 0)
        return;
    uint32_t n = pow2_floor(budget_bytes / SHARD_MIN_BYTES);
    if (n > SHARDS_MAX)
        n = SHARDS_MAX;
    shards = calloc(n, sizeof *shards);
    if (!shards)
        return;
    size_t share = budget_bytes / n;
    uint32_t nb = pow2_floor(share / BYTES_PER_BUCKET);
    if (nb < 16)
        nb = 16;
    for (uint32_t i = 0; i < n; i++) {
        shard *s = &shards[i];
        s->buckets = calloc(nb, sizeof *s->buckets);
        if (!s->buckets) {
            while (i--)
                free(shards[i].buckets);
            free(shards);
            shards = NULL;
            return;
        }
        pthread_mutex_init(&s->lock, NULL);
        s->mask = nb - 1;
        s->lru.next = s->lru.prev = &s->lru;
        s->budget = share;
    }
    nshards = n;
}

void respcache_free(void)
{
    for (uint32_t i = 0; i < nshards; i++) {
        shard *s = &shards[i];
        rentry *e = s->lru.next;
        while (e != &s->lru) {
            rentry *next = e->next;
            free(e);
            e = next;
        }
        metrics_cache_size(-(int64_t)s->bytes, -(int64_t)s->entries);
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    free(shards);
    shards = NULL;
    nshards = 0;
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

/* The bucket index takes the low bits, the shard the high ones, so the two
 * choices are independent. */
static shard *shard_of(uint64_t h)
{
    return &shards[(uint32_t)(h >> 40) & (nshards - 1)];
}

static rentry **chain_find(shard *s, uint64_t h, int64_t team, const char *uri)
{
    rentry **p = &s->buckets[(uint32_t)h & s->mask];
    for (; *p; p = &(*p)->hnext) {
        const rentry *e = *p;
        if (e->hash == h && e->team_id == team && strcmp(e->uri, uri) == 0)
            return p;
    }
    return p;
}

static void lru_unlink(rentry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void lru_push_front(shard *s, rentry *e)
{
    e->prev = &s->lru;
    e->next = s->lru.next;
    s->lru.next->prev = e;
    s->lru.next = e;
}

/* Takes e (found at *link) out of the shard and onto *dead, to be freed
 * once the lock is released. */
static void shard_remove(shard *s, rentry **link, rentry *e, rentry **dead)
{
    *link = e->hnext;
    lru_unlink(e);
    s->bytes -= e->cost;
    s->entries--;
    metrics_cache_size(-(int64_t)e->cost, -1);
    e->hnext = *dead;
    *dead = e;
}

static void free_list(rentry *e)
{
    while (e) {
        rentry *next = e->hnext;
        free(e);
        e = next;
    }
}

bool respcache_get(int64_t team_id, const char *uri, uint64_t gen, req_t *r)
{
    if (!nshards || strlen(uri) >= URI_MAX)
        return false;
    uint64_t h = key_hash(team_id, uri);
    shard *s = shard_of(h);
    rentry *dead = NULL;
    bool hit = false;
    pthread_mutex_lock(&s->lock);
    rentry **link = chain_find(s, h, team_id, uri);
    rentry *e = *link;
    if (e && e->gen == gen + 1) {
        resp_raw(r, 200, e->content_type, e->body, e->body_len);
        for (int k = 0; k < e->nheaders; k++)
            resp_header(r, e->hname[k], e->hvalue[k]);
        hit = !r->out.failed;
        lru_unlink(e);
        lru_push_front(s, e);
    } else if (e && e->gen < gen + 1) {
        /* made under a generation that is gone: it can never be served */
        shard_remove(s, link, e, &dead);
    }
    pthread_mutex_unlock(&s->lock);
    free_list(dead);
    metrics_cache_lookup(hit);
    return hit;
}

/* A new entry holding a copy of r's answer, or NULL when out of memory. */
static rentry *entry_new(int64_t team_id, const char *uri, uint64_t gen, const req_t *r)
{
    size_t ulen = strlen(uri) + 1;
    size_t need = sizeof(rentry) + ulen + r->out.len + 1;
    for (int k = 0; k < r->nheaders; k++)
        need += strlen(r->headers[k].value) + 1;
    rentry *e = malloc(need);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->cost = need;
    e->gen = gen + 1;
    e->hash = key_hash(team_id, uri);
    e->team_id = team_id;
    e->content_type = r->content_type;
    char *p = entry_data(e);
    memcpy(p, uri, ulen);
    e->uri = p;
    p += ulen;
    if (r->out.len)
        memcpy(p, r->out.data, r->out.len);
    p[r->out.len] = '\0';
    e->body = p;
    e->body_len = r->out.len;
    p += r->out.len + 1;
    for (int k = 0; k < r->nheaders; k++) {
        size_t vlen = strlen(r->headers[k].value) + 1;
        memcpy(p, r->headers[k].value, vlen);
        e->hname[k] = r->headers[k].name;
        e->hvalue[k] = p;
        p += vlen;
    }
    e->nheaders = r->nheaders;
    return e;
}

/* Replaces any older answer for the key, then evicts the least recently
 * used entries of the shard until the new one fits its share. */
void respcache_put(int64_t team_id, const char *uri, uint64_t gen, const req_t *r)
{
    if (!nshards || r->status != 200 || r->out.failed || r->out.len > RESPCACHE_BODY_MAX ||
        strlen(uri) >= URI_MAX)
        return;
    rentry *n = entry_new(team_id, uri, gen, r);
    if (!n)
        return;
    shard *s = shard_of(n->hash);
    if (n->cost > s->budget) {
        free(n);
        return;
    }
    rentry *dead = NULL;
    uint64_t evicted = 0;
    pthread_mutex_lock(&s->lock);
    rentry **link = chain_find(s, n->hash, team_id, uri);
    rentry *old = *link;
    /* Never replace a newer answer with an older one. */
    if (old && old->gen > n->gen) {
        pthread_mutex_unlock(&s->lock);
        free(n);
        return;
    }
    if (old)
        shard_remove(s, link, old, &dead);
    while (s->bytes + n->cost > s->budget) {
        rentry *victim = s->lru.prev;
        shard_remove(s, chain_find(s, victim->hash, victim->team_id, victim->uri), victim,
                     &dead);
        evicted++;
    }
    rentry **head = &s->buckets[(uint32_t)n->hash & s->mask];
    n->hnext = *head;
    *head = n;
    lru_push_front(s, n);
    s->bytes += n->cost;
    s->entries++;
    s->evictions += evicted;
    metrics_cache_size((int64_t)n->cost, 1);
    pthread_mutex_unlock(&s->lock);
    free_list(dead);
    if (evicted)
        metrics_cache_evicted(evicted);
}

void respcache_stats_read(respcache_stats *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < nshards; i++) {
        shard *s = &shards[i];
        pthread_mutex_lock(&s->lock);
        out->bytes += s->bytes;
        out->entries += s->entries;
        out->evictions += s->evictions;
        pthread_mutex_unlock(&s->lock);
    }
}
