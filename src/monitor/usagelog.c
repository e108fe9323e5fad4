/* The usage queue: a few shards, each a pair of byte arenas (one taking
 * entries, one being written), so a request copies ~150 bytes under a lock
 * that is only ever held for a copy or a pointer swap. Entries are packed
 * (header + strings) rather than fixed usage_entry slots: the same memory
 * holds ~6x more requests, which is what absorbs a burst between flushes. */
#include "monitor/usagelog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/metrics.h"
#include "util/clock.h"
#include "util/bgwriter.h"
#include "util/log.h"

#define SHARDS 8
#define BATCH_MAX 2048    /* rows per transaction */
#define PRUNE_SET 2048    /* distinct tokens remembered between prunes (power of 2) */

typedef struct rec_hdr {
    uint64_t seq; /* arrival order across shards: rows are written in it */
    int64_t token_id;
    int64_t time;
    int32_t status;
    uint16_t path_len, ua_len;
    uint8_t method_len, addr_len;
} rec_hdr;

typedef struct shard {
    pthread_mutex_t mu;
    char *active, *spare;
    size_t used; /* bytes used in active */
    size_t count;
} shard_t;

/* Locks statically initialised: a note may race a start or stop, and a
 * lock must never be re-initialised under a thread holding it. */
#define S {.mu = PTHREAD_MUTEX_INITIALIZER}
static shard_t shards[SHARDS] = {S, S, S, S, S, S, S, S};
#undef S
static size_t shard_cap;
static _Atomic bool running;
static _Atomic uint64_t dropped, written, depth, next_seq;
static _Atomic unsigned next_shard;

static store_t *wstore;
static usagelog_opts opts;
static bgwriter writer = BGWRITER_INIT;
static int64_t last_prune; /* clock_mono_ns() of the last retention run (writer only) */
static pthread_mutex_t flush_mu = PTHREAD_MUTEX_INITIALIZER;
static usage_entry *batch; /* BATCH_MAX, used under flush_mu */

/* Tokens written since the last prune (writer only, under flush_mu). */
static int64_t seen[PRUNE_SET];
static size_t nseen;
static bool seen_overflow;

static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t l;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        l = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        l = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        l = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < l)
        return 0;
    for (size_t i = 1; i < l; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((l == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (l == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return l;
}

size_t usagelog_clean(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    size_t o = 0, i = 0;
    const unsigned char *s = (const unsigned char *)src;
    while (src && i < srclen && s[i]) {
        size_t l = utf8_len(s + i, srclen - i);
        bool bad = l == 0 || (l == 1 && (s[i] < 0x20 || s[i] == 0x7F)) ||
                   (l == 2 && s[i] == 0xC2 && s[i + 1] < 0xA0); /* C1 controls */
        size_t out = bad ? 1 : l;
        if (o + out >= dstlen)
            break;
        if (bad) {
            dst[o++] = '?';
            i += l ? l : 1;
        } else {
            memcpy(dst + o, s + i, l);
            o += l;
            i += l;
        }
    }
    if (dstlen)
        dst[o] = '\0';
    return o;
}

bool usagelog_running(void) { return atomic_load_explicit(&running, memory_order_relaxed); }
uint64_t usagelog_dropped(void) { return atomic_load(&dropped); }
uint64_t usagelog_written(void) { return atomic_load(&written); }
uint64_t usagelog_depth(void) { return atomic_load(&depth); }

static size_t rec_size(const rec_hdr *h)
{
    size_t n = sizeof *h + h->method_len + h->path_len + h->addr_len + h->ua_len;
    return (n + 7) & ~(size_t)7;
}

void usagelog_note(int64_t token_id, int64_t time, const char *method, const char *raw_uri,
                   int status, const char *addr, const char *user_agent)
{
    if (!usagelog_running() || token_id <= 0)
        return;
    char m[USAGE_METHOD_MAX], p[USAGE_PATH_MAX], a[ADDR_MAX], ua[USAGE_UA_MAX];
    const char *q = raw_uri ? strchr(raw_uri, '?') : NULL;
    size_t plen = raw_uri ? (q ? (size_t)(q - raw_uri) : strlen(raw_uri)) : 0;
    rec_hdr h = {
        .seq = atomic_fetch_add_explicit(&next_seq, 1, memory_order_relaxed),
        .token_id = token_id,
        .time = time,
        .status = status,
        .method_len = (uint8_t)usagelog_clean(m, sizeof m, method, method ? strlen(method) : 0),
        .path_len = (uint16_t)usagelog_clean(p, sizeof p, raw_uri, plen),
        .addr_len = (uint8_t)usagelog_clean(a, sizeof a, addr, addr ? strlen(addr) : 0),
        .ua_len = (uint16_t)usagelog_clean(ua, sizeof ua, user_agent,
                                           user_agent ? strnlen(user_agent, 4096) : 0),
    };
    usagelog_redact(p);
    usagelog_redact(ua);
    size_t need = rec_size(&h);

    static _Thread_local int my_shard = -1;
    if (my_shard < 0)
        my_shard = (int)(atomic_fetch_add(&next_shard, 1) % SHARDS);
    /* This thread's shard first; when it is full, the others (fewer
     * serving threads than shards must not leave capacity unused). */
    shard_t *sh = NULL;
    bool half = false;
    for (int k = 0; k < SHARDS && !sh; k++) {
        shard_t *c = &shards[(my_shard + k) % SHARDS];
        pthread_mutex_lock(&c->mu);
        if (c->active && c->used + need <= shard_cap) {
            sh = c;
            break;
        }
        pthread_mutex_unlock(&c->mu);
    }
    if (!sh) {
        atomic_fetch_add(&dropped, 1);
        return;
    }
    char *d = sh->active + sh->used;
    memcpy(d, &h, sizeof h);
    d += sizeof h;
    memcpy(d, m, h.method_len);
    d += h.method_len;
    memcpy(d, p, h.path_len);
    d += h.path_len;
    memcpy(d, a, h.addr_len);
    d += h.addr_len;
    memcpy(d, ua, h.ua_len);
    sh->used += need;
    sh->count++;
    half = sh->used > shard_cap / 2;
    pthread_mutex_unlock(&sh->mu);
    atomic_fetch_add_explicit(&depth, 1, memory_order_relaxed);
    /* Past half full, wake the writer early (once per flush). */
    if (half)
        bgwriter_kick(&writer);
}

static void seen_add(int64_t id)
{
    if (seen_overflow)
        return;
    uint64_t hsh = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    for (size_t probe = 0; probe < PRUNE_SET; probe++) {
        size_t j = (size_t)((hsh >> 40) + probe) & (PRUNE_SET - 1);
        if (seen[j] == id)
            return;
        if (seen[j] == 0) {
            if (nseen >= PRUNE_SET / 2) {
                seen_overflow = true; /* prune every token instead */
                return;
            }
            seen[j] = id;
            nseen++;
            return;
        }
    }
    seen_overflow = true;
}

/* Writes n entries; one retry after a short pause rides out a writer in
 * another process holding the lock past busy_timeout. */
static void write_batch(size_t n)
{
    if (!n)
        return;
    int64_t t0 = clock_mono_ns();
    piora_err e = store_usage_insert(wstore, batch, n);
    metrics_db(MD_USAGE_WRITE, clock_mono_ns() - t0);
    if (e == PIORA_EBUSY) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        e = store_usage_insert(wstore, batch, n);
    }
    uint64_t requests = 0;
    for (size_t i = 0; i < n; i++)
        requests += (uint64_t)batch[i].count;
    if (e != PIORA_OK) {
        log_warn("usage log: %llu entries not written (%s)", (unsigned long long)requests,
                 piora_strerror(e));
        atomic_fetch_add(&dropped, requests);
        return;
    }
    atomic_fetch_add(&written, requests);
    for (size_t i = 0; i < n; i++)
        seen_add(batch[i].token_id);
}

static void unpack(const char *p, usage_entry *u)
{
    rec_hdr h;
    memcpy(&h, p, sizeof h);
    p += sizeof h;
    u->token_id = h.token_id;
    u->time = h.time;
    u->status = h.status;
    memcpy(u->method, p, h.method_len);
    u->method[h.method_len] = '\0';
    p += h.method_len;
    memcpy(u->path, p, h.path_len);
    u->path[h.path_len] = '\0';
    p += h.path_len;
    memcpy(u->addr, p, h.addr_len);
    u->addr[h.addr_len] = '\0';
    p += h.addr_len;
    memcpy(u->user_agent, p, h.ua_len);
    u->user_agent[h.ua_len] = '\0';
    u->count = 1;
}

/* Rows of the batch being built, by content: identical requests of one
 * token in one second become one row with a count. AGG_SLOTS > 2 x
 * BATCH_MAX keeps probes short. */
#define AGG_SLOTS 8192
static int32_t agg[AGG_SLOTS]; /* index into batch, -1 empty (under flush_mu) */

static uint64_t entry_hash(const usage_entry *u)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const int64_t nums[3] = {u->token_id, u->time, u->status};
    const unsigned char *b = (const unsigned char *)nums;
    for (size_t i = 0; i < sizeof nums; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    const char *strs[4] = {u->method, u->path, u->addr, u->user_agent};
    for (int k = 0; k < 4; k++) {
        for (const unsigned char *p = (const unsigned char *)strs[k]; *p; p++)
            h = (h ^ *p) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull; /* field separator */
    }
    return h;
}

static bool entry_same(const usage_entry *a, const usage_entry *b)
{
    return a->token_id == b->token_id && a->time == b->time && a->status == b->status &&
           !strcmp(a->method, b->method) && !strcmp(a->path, b->path) &&
           !strcmp(a->addr, b->addr) && !strcmp(a->user_agent, b->user_agent);
}

/* Adds batch[m] (just unpacked) to the batch, or to the count of an equal
 * row already there. Returns the new row count. */
static size_t batch_add(size_t m)
{
    uint64_t h = entry_hash(&batch[m]);
    for (size_t probe = 0; probe < AGG_SLOTS; probe++) {
        size_t j = (size_t)(h + probe) & (AGG_SLOTS - 1);
        if (agg[j] < 0) {
            agg[j] = (int32_t)m;
            return m + 1;
        }
        if (entry_same(&batch[agg[j]], &batch[m])) {
            batch[agg[j]].count++;
            return m;
        }
    }
    return m + 1; /* cannot happen: the table is never more than a quarter full */
}

typedef struct rec_ref {
    uint64_t seq;
    const char *p;
} rec_ref;

static int ref_cmp(const void *a, const void *b)
{
    uint64_t x = ((const rec_ref *)a)->seq, y = ((const rec_ref *)b)->seq;
    return x < y ? -1 : x > y;
}

/* Takes every shard's arena at once, then writes their entries in arrival
 * order, so that ids (the tie-break within a second) follow the requests. */
piora_err usagelog_flush(void)
{
    if (!wstore || !batch)
        return PIORA_OK;
    pthread_mutex_lock(&flush_mu);
    bgwriter_rearm(&writer);
    char *full[SHARDS];
    size_t used[SHARDS], total = 0;
    for (int k = 0; k < SHARDS; k++) {
        shard_t *sh = &shards[k];
        pthread_mutex_lock(&sh->mu);
        full[k] = sh->active;
        used[k] = sh->used;
        total += sh->count;
        sh->active = sh->spare;
        sh->spare = full[k];
        sh->used = 0;
        sh->count = 0;
        pthread_mutex_unlock(&sh->mu);
    }
    atomic_fetch_sub(&depth, total);
    rec_ref *refs = total ? malloc(total * sizeof *refs) : NULL;
    size_t n = 0;
    for (int k = 0; k < SHARDS && (refs || !total); k++) {
        for (size_t off = 0; off < used[k] && n < total;) {
            rec_hdr h;
            memcpy(&h, full[k] + off, sizeof h);
            refs[n].seq = h.seq;
            refs[n++].p = full[k] + off;
            off += rec_size(&h);
        }
    }
    if (total && !refs) {
        log_warn("usage log: out of memory; %zu entries not written", total);
        atomic_fetch_add(&dropped, total);
    } else if (n) {
        qsort(refs, n, sizeof *refs, ref_cmp);
        size_t m = 0;
        memset(agg, 0xff, sizeof agg);
        for (size_t i = 0; i < n; i++) {
            unpack(refs[i].p, &batch[m]);
            m = batch_add(m);
            if (m == BATCH_MAX) {
                write_batch(m);
                m = 0;
                memset(agg, 0xff, sizeof agg);
            }
        }
        write_batch(m);
    }
    free(refs);
    pthread_mutex_unlock(&flush_mu);
    return PIORA_OK;
}

/* Retention: age for every row, the row cap for the tokens written since
 * the last run (all tokens at start, or when too many were seen). */
static void prune(bool all)
{
    pthread_mutex_lock(&flush_mu);
    int64_t before = opts.retention_s > 0 ? clock_now() - opts.retention_s : 0;
    int64_t *ids = NULL;
    size_t n = 0;
    bool every = all || seen_overflow || opts.max_rows <= 0;
    if (!every && (ids = malloc((nseen ? nseen : 1) * sizeof *ids)) != NULL) {
        for (size_t j = 0; j < PRUNE_SET; j++)
            if (seen[j])
                ids[n++] = seen[j];
    }
    /* ids NULL: every token (also the fallback when malloc failed) */
    bool work = before > 0 || (opts.max_rows > 0 && (!ids || n > 0));
    if (work) {
        int64_t gone = 0;
        piora_err e = store_usage_prune(wstore, before, opts.max_rows, ids, n, &gone);
        if (e != PIORA_OK)
            log_warn("usage log: retention failed (%s)", piora_strerror(e));
        else if (gone)
            log_info("usage log: retention removed %lld rows", (long long)gone);
    }
    free(ids);
    memset(seen, 0, sizeof seen);
    nseen = 0;
    seen_overflow = false;
    pthread_mutex_unlock(&flush_mu);
}

/* One writer tick: the queue every flush_ms, retention every
 * prune_interval_s. */
static void writer_tick(void *arg, void *conn)
{
    (void)arg, (void)conn;
    usagelog_flush();
    if (clock_mono_ns() - last_prune >= (int64_t)opts.prune_interval_s * 1000000000) {
        prune(false);
        last_prune = clock_mono_ns();
    }
}

static void writer_final(void *arg, void *conn)
{
    (void)arg, (void)conn;
    usagelog_flush();
}

static void *writer_open(void *arg, char *msg, size_t msglen)
{
    (void)arg;
    return store_open(opts.db_url, msg, msglen);
}

static void writer_close(void *arg, void *conn)
{
    (void)arg;
    store_close(conn);
}

static void free_shards(void)
{
    for (int k = 0; k < SHARDS; k++) {
        pthread_mutex_lock(&shards[k].mu);
        free(shards[k].active);
        free(shards[k].spare);
        shards[k].active = shards[k].spare = NULL;
        shards[k].used = shards[k].count = 0;
        pthread_mutex_unlock(&shards[k].mu);
    }
    free(batch);
    batch = NULL;
}

/* The batch and each shard's two arenas (together queue_bytes), then the
 * first retention run on the new connection. */
static piora_err writer_setup(void *arg, void *conn)
{
    (void)arg;
    shard_cap = opts.queue_bytes / (2 * SHARDS);
    if (shard_cap < 4096)
        shard_cap = 4096;
    batch = bgwriter_malloc(BATCH_MAX * sizeof *batch);
    bool ok = batch != NULL;
    for (int k = 0; k < SHARDS && ok; k++) {
        char *a = bgwriter_malloc(shard_cap);
        char *b = a ? bgwriter_malloc(shard_cap) : NULL;
        pthread_mutex_lock(&shards[k].mu);
        shards[k].active = a;
        shards[k].spare = b;
        shards[k].used = shards[k].count = 0;
        pthread_mutex_unlock(&shards[k].mu);
        ok = b != NULL;
    }
    if (!ok) {
        free_shards();
        return PIORA_ENOMEM;
    }
    wstore = conn;
    memset(seen, 0, sizeof seen);
    nseen = 0;
    seen_overflow = false;
    prune(true);
    last_prune = clock_mono_ns();
    return PIORA_OK;
}

static void writer_teardown(void *arg, void *conn)
{
    (void)arg, (void)conn;
    wstore = NULL;
    free_shards();
}

piora_err usagelog_start(const usagelog_opts *o)
{
    if (bgwriter_started(&writer))
        return PIORA_EINTERNAL; /* opts is read by the running writer */
    opts = *o;
    if (!opts.flush_ms)
        opts.flush_ms = 1000;
    if (!opts.queue_bytes)
        opts.queue_bytes = 16u << 20;
    if (!opts.prune_interval_s)
        opts.prune_interval_s = 60;
    const bgwriter_conf conf = {
        .name = "usage log",
        .period_ms = opts.flush_ms,
        .conn_open = writer_open,
        .conn_close = writer_close,
        .setup = writer_setup,
        .teardown = writer_teardown,
        .tick = writer_tick,
        .final = writer_final,
    };
    piora_err e = bgwriter_start(&writer, &conf);
    if (e == PIORA_OK)
        atomic_store(&running, true);
    return e;
}

void usagelog_stop(void)
{
    atomic_store(&running, false);
    bgwriter_stop(&writer);
}
