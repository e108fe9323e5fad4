#include "authn/lastused.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/flusher.h"
#include "util/log.h"

#define STRIPES 32

typedef struct note {
    int64_t token_id; /* 0: empty */
    int64_t used_at;
    char addr[ADDR_MAX];
} note_t;

static note_t *table;
static uint32_t nslots; /* power of two */
static pthread_mutex_t locks[STRIPES];
static _Atomic uint64_t dropped;

static flusher_t writer = FLUSHER_INIT;
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
                    snprintf(n->addr, sizeof n->addr, "%s", addr);
                }
            }
            pthread_mutex_unlock(m);
            return;
        }
        pthread_mutex_unlock(m);
    }
    atomic_fetch_add(&dropped, 1);
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

static void writer_run(void *arg)
{
    (void)arg;
    lastused_flush();
}

piora_err lastused_start(const char *db_url, unsigned interval_s, uint32_t slots)
{
    char msg[256] = "";
    wstore = store_open(db_url, msg, sizeof msg);
    if (!wstore) {
        log_error("last-used writer cannot open the database: %s", msg);
        return PIORA_EDB;
    }
    nslots = 1;
    while (nslots < slots)
        nslots <<= 1;
    table = calloc(nslots, sizeof *table);
    if (!table)
        return PIORA_ENOMEM;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&locks[i], NULL);
    int64_t interval_ms = (int64_t)(interval_s ? interval_s : 15) * 1000;
    if (!flusher_start(&writer, interval_ms, writer_run, NULL))
        return PIORA_EINTERNAL;
    return PIORA_OK;
}

void lastused_stop(void)
{
    flusher_stop(&writer);
    lastused_flush();
    if (wstore)
        store_close(wstore);
    wstore = NULL;
    free(table);
    table = NULL;
}
