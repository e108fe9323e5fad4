#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__)
/* ASan's own count; mallinfo2 does not see its heap. (GCC does not ship
 * sanitizer/allocator_interface.h, so declare it.) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "auth/ratelimit.h"
#include "util/clock.h"

#define S 1000000000LL
/* An arbitrary monotonic instant; the limiter never reads the clock for
 * its decisions, only for the epoch-seconds reset. */
#define T0 (1000 * S)

static void test_burst_of_limit_then_refused(void **state)
{
    (void)state;
    ratelimit_t *rl = ratelimit_new(5, 60, 1024); /* T = 12 s */
    assert_non_null(rl);
    for (int i = 0; i < 5; i++) {
        ratelimit_result r = ratelimit_take(rl, 42, T0);
        assert_true(r.allowed);
        assert_int_equal(r.limit, 5);
        assert_int_equal(r.remaining, 4 - i);
        assert_int_equal(r.retry_after, 0);
    }
    ratelimit_result r = ratelimit_take(rl, 42, T0);
    assert_false(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.limit, 5);
    assert_true(r.retry_after >= 1);
    assert_int_equal(r.retry_after, 12);
    /* A refusal spends nothing: still refused, same wait. */
    r = ratelimit_take(rl, 42, T0);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 12);
    ratelimit_free(rl);
}

static void test_one_more_after_interval(void **state)
{
    (void)state;
    ratelimit_t *rl = ratelimit_new(5, 60, 1024);
    for (int i = 0; i < 5; i++)
        assert_true(ratelimit_take(rl, 7, T0).allowed);
    ratelimit_result r = ratelimit_take(rl, 7, T0 + 12 * S - 1);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 1); /* 1 ns left rounds up to a second */

    r = ratelimit_take(rl, 7, T0 + 12 * S);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_false(ratelimit_take(rl, 7, T0 + 12 * S).allowed);

    /* A full window later the whole quota is back. */
    int64_t later = T0 + 12 * S + 60 * S;
    for (int i = 0; i < 5; i++) {
        r = ratelimit_take(rl, 7, later);
        assert_true(r.allowed);
        assert_int_equal(r.remaining, 4 - i);
    }
    assert_false(ratelimit_take(rl, 7, later).allowed);
    ratelimit_free(rl);
}

static void test_sustained_rate(void **state)
{
    (void)state;
    ratelimit_t *rl = ratelimit_new(10, 10, 1024); /* T = 1 s */
    for (int i = 0; i < 10; i++)
        assert_true(ratelimit_take(rl, 1, T0).allowed);
    /* Then one per second forever, and no more. */
    int allowed = 0;
    for (int i = 1; i <= 100; i++) {
        allowed += ratelimit_take(rl, 1, T0 + i * S).allowed;
        allowed += ratelimit_take(rl, 1, T0 + i * S + S / 2).allowed;
    }
    assert_int_equal(allowed, 100);
    ratelimit_free(rl);
}

static void test_reset_in_future(void **state)
{
    (void)state;
    ratelimit_t *rl = ratelimit_new(5, 60, 1024);
    int64_t before = clock_now();
    ratelimit_result r = ratelimit_take(rl, 9, T0);
    int64_t after = clock_now();
    /* One request spent: the quota is whole again after T = 12 s. */
    assert_true(r.reset >= before + 12);
    assert_true(r.reset <= after + 12);
    for (int i = 0; i < 4; i++)
        r = ratelimit_take(rl, 9, T0);
    assert_true(r.reset >= before + 60);
    assert_true(r.reset <= clock_now() + 60);
    r = ratelimit_take(rl, 9, T0);
    assert_false(r.allowed);
    assert_true(r.reset >= before + 60);
    assert_true(r.reset <= clock_now() + 60);
    ratelimit_free(rl);
}

static void test_peek_does_not_spend(void **state)
{
    (void)state;
    ratelimit_t *rl = ratelimit_new(3, 30, 1024);
    ratelimit_result r = ratelimit_peek(rl, 5, T0);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 3);
    for (int i = 0; i < 10; i++)
        assert_true(ratelimit_peek(rl, 5, T0).allowed);
    assert_int_equal(ratelimit_take(rl, 5, T0).remaining, 2);
    r = ratelimit_peek(rl, 5, T0);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 2);
    assert_true(ratelimit_take(rl, 5, T0).allowed);
    assert_true(ratelimit_take(rl, 5, T0).allowed);
    r = ratelimit_peek(rl, 5, T0);
    assert_false(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after, 10);
    ratelimit_free(rl);
}

/* A refund returns exactly one taken request and never banks credit. */
static void test_refund(void **state)
{
    (void)state;
    ratelimit_t *rl = ratelimit_new(2, 60, 1024);
    assert_true(ratelimit_take(rl, 4, T0).allowed);
    assert_true(ratelimit_take(rl, 4, T0).allowed);
    assert_false(ratelimit_peek(rl, 4, T0).allowed);
    ratelimit_refund(rl, 4, T0);
    assert_true(ratelimit_take(rl, 4, T0).allowed);
    assert_false(ratelimit_take(rl, 4, T0).allowed);
    for (int i = 0; i < 5; i++)
        ratelimit_refund(rl, 4, T0);
    assert_int_equal(ratelimit_peek(rl, 4, T0).remaining, 2);
    ratelimit_refund(rl, 77, T0); /* an unknown key: nothing to give back */
    assert_int_equal(ratelimit_peek(rl, 77, T0).remaining, 2);
    ratelimit_free(rl);
}

static void test_disabled(void **state)
{
    (void)state;
    ratelimit_t *rl = ratelimit_new(0, 60, 16);
    assert_non_null(rl);
    for (int i = 0; i < 1000; i++) {
        ratelimit_result r = ratelimit_take(rl, 1, T0);
        assert_true(r.allowed);
        assert_int_equal(r.limit, 0);
        assert_int_equal(r.remaining, 0);
        assert_int_equal(r.retry_after, 0);
    }
    assert_true(ratelimit_peek(rl, 1, T0).allowed);
    ratelimit_free(rl);
}

static void test_invalid_parameters(void **state)
{
    (void)state;
    assert_null(ratelimit_new(-1, 60, 16));
    assert_null(ratelimit_new(5, 0, 16));
    assert_null(ratelimit_new(5, -60, 16));
    /* slots 0 still gives a working (tiny) table. */
    ratelimit_t *rl = ratelimit_new(2, 60, 0);
    assert_non_null(rl);
    assert_true(ratelimit_take(rl, 1, T0).allowed);
    assert_true(ratelimit_take(rl, 1, T0).allowed);
    assert_false(ratelimit_take(rl, 1, T0).allowed);
    ratelimit_free(rl);
    ratelimit_free(NULL);
}

static void test_keys_are_independent(void **state)
{
    (void)state;
    ratelimit_t *rl = ratelimit_new(3, 60, 1024);
    for (int i = 0; i < 3; i++)
        assert_true(ratelimit_take(rl, 0, T0).allowed); /* key 0 is a real key */
    assert_false(ratelimit_take(rl, 0, T0).allowed);
    ratelimit_result r = ratelimit_take(rl, 1, T0);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 2);
    r = ratelimit_take(rl, UINT64_MAX, T0);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 2);
    assert_false(ratelimit_take(rl, 0, T0).allowed);
    ratelimit_free(rl);
}

static size_t heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

static void test_flood_keeps_memory_and_hot_key(void **state)
{
    (void)state;
    ratelimit_t *rl = ratelimit_new(10, 60, 64); /* 16 buckets of 4 */
    assert_non_null(rl);
    /* The hot key spends its whole quota. */
    for (int i = 0; i < 10; i++)
        assert_true(ratelimit_take(rl, 0, T0).allowed);
    assert_false(ratelimit_take(rl, 0, T0).allowed);

    size_t before = heap_in_use();
    for (uint64_t k = 1; k <= 100000; k++)
        assert_true(ratelimit_take(rl, k, T0).allowed);
    size_t after = heap_in_use();
    assert_int_equal(before, after);

    /* The flood's keys have spent one request each; the hot key, the one
     * nearest its limit, is the last to be evicted: it is still limited. */
    ratelimit_result r = ratelimit_take(rl, 0, T0 + S);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 5);
    r = ratelimit_take(rl, 0, T0 + 6 * S);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_false(ratelimit_take(rl, 0, T0 + 6 * S).allowed);

    /* A flooded key, evicted or not, has its quota back once T = 6 s has
     * passed since its one request. */
    r = ratelimit_take(rl, 12345, T0 + 6 * S);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 9);
    ratelimit_free(rl);
}

struct hammer {
    ratelimit_t *rl;
    int id;
    int allowed;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < 5000; i++) {
        h->allowed += ratelimit_take(h->rl, 99, T0).allowed;
        /* Churn other keys in the same table (and stripes) meanwhile. */
        (void)ratelimit_take(h->rl, 1000000 + (uint64_t)h->id * 100000 + (uint64_t)i, T0);
        (void)ratelimit_peek(h->rl, 99, T0);
    }
    return NULL;
}

static void test_threads_share_one_quota(void **state)
{
    (void)state;
    enum { NT = 4, LIMIT = 1000 };
    ratelimit_t *rl = ratelimit_new(LIMIT, 60, 1 << 16);
    pthread_t th[NT];
    struct hammer h[NT];
    for (int i = 0; i < NT; i++) {
        h[i] = (struct hammer){.rl = rl, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        total += h[i].allowed;
    }
    assert_int_equal(total, LIMIT);
    ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_of_limit_then_refused),
        cmocka_unit_test(test_one_more_after_interval),
        cmocka_unit_test(test_sustained_rate),
        cmocka_unit_test(test_reset_in_future),
        cmocka_unit_test(test_peek_does_not_spend),
        cmocka_unit_test(test_refund),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_invalid_parameters),
        cmocka_unit_test(test_keys_are_independent),
        cmocka_unit_test(test_flood_keeps_memory_and_hot_key),
        cmocka_unit_test(test_threads_share_one_quota),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
