/* A small bounded pool of worker threads for slow work that must not run
 * on the HTTP polling threads (Argon2id today; later the job runner and
 * JWKS fetches). Its bound is on jobs running plus waiting, fixed at
 * creation: a caller first reserves a place (refused when the pool is
 * full, so it can answer "busy" at once), then submits into it, which
 * cannot fail. The queue is one array allocated up front. */
#ifndef PIORA_UTIL_WORKPOOL_H
#define PIORA_UTIL_WORKPOOL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct workpool workpool_t;
typedef void (*workpool_fn)(void *arg);

/* threads workers (>= 1) and at most cap jobs running or waiting (>= threads).
 * NULL when out of memory or a thread cannot start. */
workpool_t *workpool_new(unsigned threads, unsigned cap);
/* Refuses new places, runs every job still waiting and joins the workers;
 * p stays valid (reserve answers false, submit into a place reserved before
 * runs the job in the caller), so threads that may still call it can be
 * stopped before p is freed. */
void workpool_stop(workpool_t *p);
/* workpool_stop() if not done, then frees p. */
void workpool_free(workpool_t *p);

/* Takes one place for a job; false when cap jobs are running or waiting. */
bool workpool_reserve(workpool_t *p);
/* Gives back a place reserved but not used. */
void workpool_release(workpool_t *p);
/* Queues fn(arg) into a place taken with workpool_reserve. */
void workpool_submit(workpool_t *p, workpool_fn fn, void *arg);

/* Jobs running or waiting now, and reservations refused since start. */
unsigned workpool_busy(workpool_t *p);
uint64_t workpool_refused(workpool_t *p);

#endif
