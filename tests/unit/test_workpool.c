/* The bounded worker pool (util/workpool.c): its cap counts jobs running
 * and waiting, a refused reservation is counted, a released one frees its
 * place, freeing the pool runs every job still waiting, and a stopped
 * pool is still safe to call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "util/workpool.h"

/* A job that waits for the test to open a gate, so the test controls
 * exactly how many jobs are running. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static _Atomic int ran;

static void gated(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate_mu);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    atomic_fetch_add(&ran, 1);
}

static void gate_set(bool open)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = open;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

static void test_cap_counts_running_and_waiting(void **state)
{
    (void)state;
    gate_set(false);
    atomic_store(&ran, 0);
    workpool_t *p = workpool_new(1, 3);
    assert_non_null(p);
    for (int i = 0; i < 3; i++) {
        assert_true(workpool_reserve(p));
        workpool_submit(p, gated, NULL);
    }
    assert_int_equal(workpool_busy(p), 3);
    assert_false(workpool_reserve(p));
    assert_false(workpool_reserve(p));
    assert_int_equal(workpool_refused(p), 2);
    gate_set(true);
    workpool_free(p); /* runs what waits, then joins */
    assert_int_equal(atomic_load(&ran), 3);
}

static void test_release_frees_a_place(void **state)
{
    (void)state;
    workpool_t *p = workpool_new(2, 2);
    assert_true(workpool_reserve(p));
    assert_true(workpool_reserve(p));
    assert_false(workpool_reserve(p));
    workpool_release(p);
    assert_int_equal(workpool_busy(p), 1);
    assert_true(workpool_reserve(p));
    workpool_release(p);
    workpool_release(p);
    assert_int_equal(workpool_busy(p), 0);
    workpool_free(p);
}

static void test_cap_at_least_threads(void **state)
{
    (void)state;
    workpool_t *p = workpool_new(0, 0); /* one thread, one place */
    assert_non_null(p);
    assert_true(workpool_reserve(p));
    assert_false(workpool_reserve(p));
    workpool_release(p);
    workpool_free(p);
    workpool_free(NULL);
}

static _Atomic int ran_here;
static pthread_t submitter;

static void note_thread(void *arg)
{
    (void)arg;
    if (pthread_equal(pthread_self(), submitter))
        atomic_fetch_add(&ran_here, 1);
}

/* Stopped, the pool stays usable by threads that still hold it (the HTTP
 * polling threads until the daemon stops): no new place, and a job put
 * into a place reserved before the stop runs in the caller and gives the
 * place back. */
static void test_stop_keeps_the_pool_safe_to_call(void **state)
{
    (void)state;
    workpool_t *p = workpool_new(2, 4);
    assert_non_null(p);
    assert_true(workpool_reserve(p));
    workpool_stop(p);
    assert_false(workpool_reserve(p));
    assert_int_equal(workpool_refused(p), 1);
    submitter = pthread_self();
    atomic_store(&ran_here, 0);
    workpool_submit(p, note_thread, NULL);
    assert_int_equal(atomic_load(&ran_here), 1);
    assert_int_equal(workpool_busy(p), 0);
    workpool_stop(p); /* twice is harmless */
    workpool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_counts_running_and_waiting),
        cmocka_unit_test(test_release_frees_a_place),
        cmocka_unit_test(test_cap_at_least_threads),
        cmocka_unit_test(test_stop_keeps_the_pool_safe_to_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
