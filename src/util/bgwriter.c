#include "util/bgwriter.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util/log.h"

static _Atomic int fault_at;     /* 0: none armed */
static _Atomic int fault_passed; /* points passed since armed */

void bgwriter_fault_inject(int n)
{
    atomic_store(&fault_passed, 0);
    atomic_store(&fault_at, n);
}

int bgwriter_fault_points(void) { return atomic_load(&fault_passed); }

bool bgwriter_fault(void)
{
    int at = atomic_load(&fault_at);
    int passed = atomic_fetch_add(&fault_passed, 1) + 1;
    if (at > 0 && passed == at) {
        atomic_store(&fault_at, 0);
        return true;
    }
    return false;
}

void *bgwriter_malloc(size_t n) { return bgwriter_fault() ? NULL : malloc(n); }

void *bgwriter_calloc(size_t count, size_t size)
{
    return bgwriter_fault() ? NULL : calloc(count, size);
}

/* The thread: a tick every period or at a kick, until stop. */
static void *bgwriter_main(void *p)
{
    bgwriter *w = p;
    int64_t period_ms = w->conf.period_ms > 0 ? w->conf.period_ms : 1;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        /* CLOCK_REALTIME: the condition variable's default clock. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + period_ms * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        if (!atomic_load(&w->kicked))
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        if (w->stopping)
            break;
        pthread_mutex_unlock(&w->mu);
        w->conf.tick(w->conf.arg, w->conn);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Gives back the connection, if one was opened. */
static void conn_release(bgwriter *w)
{
    if (w->conn && w->conf.conn_close)
        w->conf.conn_close(w->conf.arg, w->conn);
    w->conn = NULL;
}

piora_err bgwriter_start(bgwriter *w, const bgwriter_conf *conf)
{
    if (w->started)
        return PIORA_EINTERNAL;
    w->conf = *conf;
    w->conn = NULL;
    w->stopping = false;
    atomic_store(&w->kicked, false);
    if (conf->conn_open) {
        char msg[256] = "";
        if (bgwriter_fault())
            snprintf(msg, sizeof msg, "injected fault");
        else
            w->conn = conf->conn_open(conf->arg, msg, sizeof msg);
        if (!w->conn) {
            log_error("%s writer cannot open the database: %s", conf->name, msg);
            return PIORA_EDB;
        }
    }
    if (conf->setup) {
        piora_err e = conf->setup(conf->arg, w->conn);
        if (e != PIORA_OK) {
            conn_release(w);
            return e;
        }
    }
    if (bgwriter_fault() || pthread_create(&w->thread, NULL, bgwriter_main, w) != 0) {
        log_error("%s writer cannot start its thread", conf->name);
        if (conf->teardown)
            conf->teardown(conf->arg, w->conn);
        conn_release(w);
        return PIORA_EINTERNAL;
    }
    w->started = true;
    return PIORA_OK;
}

bool bgwriter_started(const bgwriter *w) { return w->started; }

/* The signal is sent under the mutex: the writer checks `kicked` and goes
 * into its wait while holding it, so a kick cannot fall between the two and
 * be lost until the period ends (seen under ThreadSanitizer's scheduling).
 * Only the first kick of a batch pays for the lock. */
void bgwriter_kick(bgwriter *w)
{
    if (!atomic_exchange(&w->kicked, true)) {
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

void bgwriter_rearm(bgwriter *w) { atomic_store(&w->kicked, false); }

void bgwriter_stop(bgwriter *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->started = false;
    if (w->conf.final)
        w->conf.final(w->conf.arg, w->conn);
    if (w->conf.teardown)
        w->conf.teardown(w->conf.arg, w->conn);
    conn_release(w);
}
