/* A background thread that runs a callback every period_ms, or sooner when
 * kicked: the shape shared by the access log, the usage-log writer and the
 * last-used writer. Each keeps its own buffers and its own last flush on
 * stop (often with more to tear down); this owns only the thread, its
 * wake-up and its shutdown. */
#ifndef PIORA_UTIL_FLUSHER_H
#define PIORA_UTIL_FLUSHER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct flusher {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic bool kicked;
    bool stopping;
    bool started;
    int64_t period_ms;
    void (*run)(void *arg);
    void *arg;
    pthread_t thread;
} flusher_t;

#define FLUSHER_INIT {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER}

/* Starts the thread; run(arg) is called on it without any lock held.
 * false when the thread cannot be created. */
bool flusher_start(flusher_t *f, int64_t period_ms, void (*run)(void *arg), void *arg);
/* Wakes the thread before its period ends. Cheap and lock-free while a
 * wake is already pending, so a hot path may call it on every append. */
void flusher_kick(flusher_t *f);
/* Clears a pending kick: run() calls it when it takes the data the kick
 * was about. */
void flusher_rearm(flusher_t *f);
/* Tells the thread to stop and joins it; a run() in progress finishes
 * first. A no-op when the thread is not running. */
void flusher_stop(flusher_t *f);

#endif
