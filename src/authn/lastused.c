#include "authn/lastused.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/bgwriter.h"
#include "util/log.h"

#define STRIPES 32

typedef struct note {
    int64_t token_id; /* 0: empty */
    int64_t used_at;
    char addr[ADDR_MAX];
} note_t;

static note_t *table;
static uint32_t nslots; /* power of two */
/* Statically initialised: notes may race a start or stop, and a lock must
 * never be re-initialised under a thread holding it. */
#define L PTHREAD_MUTEX_INITIALIZER
static pthread_mutex_t locks[STRIPES] = {L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
                                         L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L};
#undef L
static _Atomic uint64_t dropped;

static bgwriter writer = BGWRITER_INIT;
static store_t *wstore;
static pthread_mutex_t flush_mu = PTHREAD_MUTEX_INITIALIZER;

static uint32_t slot_of(int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32) & (nslots - 1);
}

void lastused_note(int64_t token_id, int64_t now, const char *addr)
{
    if (!table || token_id <= 0)
        return;
    uint32_t i = slot_of(token_id);
    /* Linear probing within a short window; a stripe lock guards each slot
     * by index so probing neighbours may take another stripe's lock. */
    for (uint32_t probe = 0; probe < 8; probe++) {
        uint32_t j = (i + probe) & (nslots - 1);
        pthread_mutex_t *m = &locks[j % STRIPES];
        pthread_mutex_lock(m);
        note_t *n = &table[j];
        if (n->token_id == 0 || n->token_id == token_id) {
            n->token_id = token_id;
            if (now >= n->used_at) {
                n->used_at = now;
                if (addr && strcmp(n->addr, addr) != 0) {
                    size_t len = strnlen(addr, ADDR_MAX - 1);
                    memcpy(n->addr, addr, len);
                    n->addr[len] = '\0';
                }
            }
            pthread_mutex_unlock(m);
            return;
        }
        pthread_mutex_unlock(m);
    }
    atomic_fetch_add(&dropped, 1);
}

bool lastused_lookup(int64_t token_id, int64_t *used_at, char *addr, size_t addrlen)
{
    if (!table || token_id <= 0)
        return false;
    uint32_t i = slot_of(token_id);
    /* The same probe window lastused_note uses: a note is never further. */
    for (uint32_t probe = 0; probe < 8; probe++) {
        uint32_t j = (i + probe) & (nslots - 1);
        pthread_mutex_t *m = &locks[j % STRIPES];
        pthread_mutex_lock(m);
        const note_t *n = &table[j];
        if (n->token_id == token_id) {
            *used_at = n->used_at;
            if (addr && addrlen) {
                size_t len = strnlen(n->addr, addrlen - 1);
                memcpy(addr, n->addr, len);
                addr[len] = '\0';
            }
            pthread_mutex_unlock(m);
            return true;
        }
        pthread_mutex_unlock(m);
    }
    return false;
}

uint64_t lastused_dropped(void) { return atomic_load(&dropped); }

/* Moves the table's notes into a batch (emptying their slots) and writes
 * them. On a failed write the notes are put back, so a locked database
 * delays last_used_at instead of losing it. */
piora_err lastused_flush(void)
{
    if (!table || !wstore)
        return PIORA_OK;
    pthread_mutex_lock(&flush_mu);
    size_t cap = 256, n = 0;
    token_touch *batch = malloc(cap * sizeof *batch);
    if (!batch) {
        pthread_mutex_unlock(&flush_mu);
        return PIORA_ENOMEM;
    }
    for (uint32_t j = 0; j < nslots; j++) {
        pthread_mutex_t *m = &locks[j % STRIPES];
        pthread_mutex_lock(m);
        if (table[j].token_id) {
            if (n == cap) {
                token_touch *nb = realloc(batch, cap * 2 * sizeof *batch);
                if (!nb) {
                    pthread_mutex_unlock(m);
                    break;
                }
                batch = nb;
                cap *= 2;
            }
            batch[n].token_id = table[j].token_id;
            batch[n].used_at = table[j].used_at;
            memcpy(batch[n].addr, table[j].addr, ADDR_MAX);
            n++;
            memset(&table[j], 0, sizeof table[j]);
        }
        pthread_mutex_unlock(m);
    }
    piora_err e = PIORA_OK;
    if (n) {
        e = store_token_touch(wstore, batch, n);
        if (e != PIORA_OK) {
            log_warn("last-used write of %zu tokens failed (%s); will retry", n,
                     piora_strerror(e));
            for (size_t k = 0; k < n; k++)
                lastused_note(batch[k].token_id, batch[k].used_at, batch[k].addr);
        }
    }
    free(batch);
    pthread_mutex_unlock(&flush_mu);
    return e;
}

static void writer_tick(void *arg, void *conn)
{
    (void)arg, (void)conn;
    lastused_flush();
}

static void *writer_open(void *arg, char *msg, size_t msglen)
{
    return store_open(arg, msg, msglen);
}

static void writer_close(void *arg, void *conn)
{
    (void)arg;
    store_close(conn);
}

/* The note table, sized by lastused_start (nslots). */
static piora_err writer_setup(void *arg, void *conn)
{
    (void)arg;
    table = bgwriter_calloc(nslots, sizeof *table);
    if (!table)
        return PIORA_ENOMEM;
    wstore = conn;
    return PIORA_OK;
}

static void writer_teardown(void *arg, void *conn)
{
    (void)arg, (void)conn;
    wstore = NULL;
    free(table);
    table = NULL;
}

piora_err lastused_start(const char *db_url, unsigned interval_s, uint32_t slots)
{
    if (bgwriter_started(&writer))
        return PIORA_EINTERNAL; /* nslots is read by the running writer */
    nslots = 1;
    while (nslots < slots)
        nslots <<= 1;
    const bgwriter_conf conf = {
        .name = "last-used",
        .period_ms = (int64_t)(interval_s ? interval_s : 15) * 1000,
        .arg = (void *)db_url,
        .conn_open = writer_open,
        .conn_close = writer_close,
        .setup = writer_setup,
        .teardown = writer_teardown,
        .tick = writer_tick,
        .final = writer_tick,
    };
    return bgwriter_start(&writer, &conf);
}

void lastused_stop(void) { bgwriter_stop(&writer); }
