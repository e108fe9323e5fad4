#include "util/workpool.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    workpool_fn fn;
    void *arg;
} job;

struct workpool {
    pthread_mutex_t mu;
    pthread_cond_t ready; /* a job was queued, or the pool is stopping */
    job *ring;            /* cap entries: every reserved place fits */
    unsigned cap, head, queued;
    unsigned places; /* reserved: running + waiting + about to be submitted */
    uint64_t refused;
    bool stopping;
    bool joined; /* workpool_stop() joined the workers: submit runs the job itself */
    unsigned nthreads;
    pthread_t *threads;
};

/* A worker takes jobs in order until the pool stops and nothing waits: a
 * stop never drops a job (each holds a suspended connection). */
static void *worker(void *arg)
{
    workpool_t *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->queued && !p->stopping)
            pthread_cond_wait(&p->ready, &p->mu);
        if (!p->queued)
            break;
        job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&p->mu);
        p->places--;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

workpool_t *workpool_new(unsigned threads, unsigned cap)
{
    if (threads < 1)
        threads = 1;
    if (cap < threads)
        cap = threads;
    workpool_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->ring = calloc(cap, sizeof *p->ring);
    p->threads = calloc(threads, sizeof *p->threads);
    if (!p->ring || !p->threads) {
        free(p->ring);
        free(p->threads);
        free(p);
        return NULL;
    }
    p->cap = cap;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->ready, NULL);
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            p->nthreads = i;
            workpool_free(p);
            return NULL;
        }
    }
    p->nthreads = threads;
    return p;
}

void workpool_stop(workpool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    if (p->joined) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    p->stopping = true;
    pthread_cond_broadcast(&p->ready);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_lock(&p->mu);
    p->joined = true;
    /* Workers leave only with the queue empty; a job queued between the
     * last one's exit and here still runs. */
    while (p->queued) {
        job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&p->mu);
        p->places--;
    }
    pthread_mutex_unlock(&p->mu);
}

void workpool_free(workpool_t *p)
{
    if (!p)
        return;
    workpool_stop(p);
    pthread_cond_destroy(&p->ready);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p->ring);
    free(p);
}

bool workpool_reserve(workpool_t *p)
{
    pthread_mutex_lock(&p->mu);
    bool ok = p->places < p->cap && !p->stopping;
    if (ok)
        p->places++;
    else
        p->refused++;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

void workpool_release(workpool_t *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->places)
        p->places--;
    pthread_mutex_unlock(&p->mu);
}

void workpool_submit(workpool_t *p, workpool_fn fn, void *arg)
{
    pthread_mutex_lock(&p->mu);
    if (p->joined) {
        /* Reserved just before the stop: no worker is left to run it. */
        pthread_mutex_unlock(&p->mu);
        fn(arg);
        workpool_release(p);
        return;
    }
    p->ring[(p->head + p->queued) % p->cap] = (job){fn, arg};
    p->queued++;
    pthread_cond_signal(&p->ready);
    pthread_mutex_unlock(&p->mu);
}

unsigned workpool_busy(workpool_t *p)
{
    pthread_mutex_lock(&p->mu);
    unsigned n = p->places;
    pthread_mutex_unlock(&p->mu);
    return n;
}

uint64_t workpool_refused(workpool_t *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t n = p->refused;
    pthread_mutex_unlock(&p->mu);
    return n;
}
