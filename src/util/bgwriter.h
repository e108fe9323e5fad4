/* The one shape of a background writer: last-used times, the usage log and
 * the access log today; a job runner's worker with its lease heartbeat
 * later. A writer owns what it needs (its own database connection, opened
 * through a callback since util/ knows no store, and its buffers), runs a
 * tick every period or sooner when kicked, runs a final flush after its
 * thread has stopped (a graceful stop loses nothing, SPEC 7), and on a
 * start that fails at any step gives back everything it had acquired, in
 * reverse order.
 *
 *   start: conn_open -> setup -> thread      (each may fail; unwound)
 *   stop:  thread joined -> final -> teardown -> conn_close
 *
 * Each acquisition is a fault point (SQLite's fault injection is the
 * model): bgwriter_fault_inject(n) makes the n-th point from then on fail,
 * so a test can walk every start-failure path of a writer. */
#ifndef PIORA_UTIL_BGWRITER_H
#define PIORA_UTIL_BGWRITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct bgwriter_conf {
    const char *name;  /* for log lines: "usage log" -> "usage log writer ..." */
    int64_t period_ms; /* tick at least this often (values < 1 mean 1) */
    void *arg;         /* handed to every callback */
    /* Its own connection, or NULL callbacks for a writer without one.
     * conn_open returns NULL with a reason in msg on failure. */
    void *(*conn_open)(void *arg, char *msg, size_t msglen);
    void (*conn_close)(void *arg, void *conn);
    /* Buffers and state, once the connection is open. On failure setup has
     * released what it took itself (teardown is not called). NULL: none. */
    piora_err (*setup)(void *arg, void *conn);
    void (*teardown)(void *arg, void *conn);
    /* On the writer's thread, without any lock of the writer held. */
    void (*tick)(void *arg, void *conn);
    /* After the thread has stopped: what is still buffered. NULL: none. */
    void (*final)(void *arg, void *conn);
} bgwriter_conf;

typedef struct bgwriter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic bool kicked;
    bool stopping;
    bool started;
    bgwriter_conf conf;
    void *conn;
    pthread_t thread;
} bgwriter;

#define BGWRITER_INIT {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER}

/* Opens, sets up and starts the writer. PIORA_EDB when the connection
 * cannot be opened (logged), setup's error, or PIORA_EINTERNAL when the
 * thread cannot be created; every failure leaves nothing acquired, and a
 * later start may succeed. Starting a started writer is PIORA_EINTERNAL. */
piora_err bgwriter_start(bgwriter *w, const bgwriter_conf *conf);
/* True between a successful start and stop. */
bool bgwriter_started(const bgwriter *w);
/* Wakes the thread before its period ends. Cheap and lock-free while a
 * wake is already pending, so a hot path may call it on every append. */
void bgwriter_kick(bgwriter *w);
/* Clears a pending kick: tick calls it when it takes the data the kick was
 * about. */
void bgwriter_rearm(bgwriter *w);
/* Stops and joins the thread (a tick in progress finishes first), then
 * final, teardown, conn_close. A no-op when the writer is not started. */
void bgwriter_stop(bgwriter *w);

/* Start-time allocations of a writer's setup: malloc and calloc, and fault
 * points. */
void *bgwriter_malloc(size_t n);
void *bgwriter_calloc(size_t count, size_t size);

/* Tests only: the n-th fault point from now on fails (once); 0 disarms.
 * Fault points are the connection open, each bgwriter_malloc/calloc and
 * the thread creation. */
void bgwriter_fault_inject(int n);
/* Fault points passed since the last bgwriter_fault_inject. */
int bgwriter_fault_points(void);
/* True when this fault point is the one to fail (counts it). */
bool bgwriter_fault(void);

#endif
