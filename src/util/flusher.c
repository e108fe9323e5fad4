#include "util/flusher.h"

#include <time.h>

static void *flusher_main(void *p)
{
    flusher_t *f = p;
    pthread_mutex_lock(&f->mu);
    while (!f->stopping) {
        /* CLOCK_REALTIME: the condition variable's default clock. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + f->period_ms * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        if (!atomic_load(&f->kicked))
            pthread_cond_timedwait(&f->cv, &f->mu, &ts);
        if (f->stopping)
            break;
        pthread_mutex_unlock(&f->mu);
        f->run(f->arg);
        pthread_mutex_lock(&f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

bool flusher_start(flusher_t *f, int64_t period_ms, void (*run)(void *arg), void *arg)
{
    f->period_ms = period_ms > 0 ? period_ms : 1;
    f->run = run;
    f->arg = arg;
    f->stopping = false;
    atomic_store(&f->kicked, false);
    if (pthread_create(&f->thread, NULL, flusher_main, f) != 0)
        return false;
    f->started = true;
    return true;
}

void flusher_kick(flusher_t *f)
{
    if (!atomic_exchange(&f->kicked, true))
        pthread_cond_signal(&f->cv);
}

void flusher_rearm(flusher_t *f) { atomic_store(&f->kicked, false); }

void flusher_stop(flusher_t *f)
{
    if (!f->started)
        return;
    pthread_mutex_lock(&f->mu);
    f->stopping = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    f->started = false;
}
