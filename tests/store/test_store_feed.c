/* The PostgreSQL change feed across processes (issue 10): the listener
 * (store/postgres/pg_listen.c) and the poll/wait half of pg_change.c,
 * against the real server PIORA_TEST_STORE_URL names (tests/store/run-pg.sh).
 * A raw libpq connection plays another node: it commits counter moves with
 * and without their NOTIFY, terminates the listener's backend, and writes
 * acknowledgements of a node that does not exist. SQLite has no listener:
 * without a postgres:// PIORA_TEST_STORE_URL the binary starts a server of
 * its own (pg_own.h), as test_store_postgres does. */
#include "store_fixture.h"
#include "pg_own.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "store/change_backend.h"
#include "store/postgres/pg_internal.h"
#include "store/postgres/pg_listen.h"
#include "util/num.h"

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Skips on SQLite; else the URL, with the listener started and healthy. */
static const char *feed_up(void)
{
    const char *url = fixture_store_url();
    if (!fixture_url_is_pg(url))
        skip();
    char msg[200] = "";
    assert_true(store_feed_start(url, msg, sizeof msg));
    int64_t end = ms_now() + 5000;
    while (!pg_feed_healthy() && ms_now() < end)
        sleep_ms(5);
    assert_true(pg_feed_healthy());
    return url;
}

static PGconn *pg_raw(const char *url)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    return c;
}

static int64_t pg_int(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    int64_t v = 0;
    assert_true(num_parse_i64(PQgetvalue(r, 0, 0), INT64_MIN, INT64_MAX, &v));
    PQclear(r);
    return v;
}

static void pg_exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

/* Another node's write of the tokens kind: the counter moves, and with
 * `notify` the NOTIFY pg_change_note would queue. Answers the counter. */
static int64_t other_node_write(PGconn *c, bool notify)
{
    pg_exec_ok(c, "BEGIN");
    int64_t n = pg_int(c, "UPDATE change_feed SET n = n + 1 WHERE kind = 'tokens' RETURNING n");
    if (notify) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT pg_notify('" PG_FEED_CHANNEL "', 'tokens %lld')",
                 (long long)n);
        pg_exec_ok(c, sql);
    }
    pg_exec_ok(c, "COMMIT");
    return n;
}

static bool waits_for_move(uint64_t before, int ms)
{
    int64_t end = ms_now() + ms;
    while (change_generation(CHANGE_BIT(CHANGE_TOKENS)) == before && ms_now() < end)
        sleep_ms(1);
    return change_generation(CHANGE_BIT(CHANGE_TOKENS)) != before;
}

static int64_t my_ack(PGconn *c, const char *kind)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(max(n), -1) FROM change_acks WHERE node_id = '%s' AND kind = '%s'",
             pg_feed_node_id(), kind);
    return pg_int(c, sql);
}

/* A NOTIFY moves the generation with no poll at all, and the node then
 * acknowledges the counter; a healthy poll costs no query and reports
 * nothing of its own. */
static void test_notify_moves_generation_then_acks(void **state)
{
    fixture *fx = *state;
    const char *url = feed_up();
    PGconn *c = pg_raw(url);
    uint64_t before = change_generation(CHANGE_BIT(CHANGE_TOKENS));
    int64_t n = other_node_write(c, true);
    assert_true(waits_for_move(before, 300));
    int64_t end = ms_now() + 1000;
    while (my_ack(c, "tokens") < n && ms_now() < end)
        sleep_ms(2);
    assert_int_equal(my_ack(c, "tokens"), n);
    unsigned moved = 99;
    assert_int_equal(change_poll(fx->s, &moved), PIORA_OK);
    assert_int_equal(moved, 0);
    pg_feed_stop();
    assert_int_equal(my_ack(c, "tokens"), -1); /* a stopping node withdraws */
    PQfinish(c);
}

/* A write whose NOTIFY never came (lost in a reconnect) is still seen,
 * within a heartbeat. */
static void test_heartbeat_sees_a_write_without_notify(void **state)
{
    (void)state;
    const char *url = feed_up();
    PGconn *c = pg_raw(url);
    uint64_t before = change_generation(CHANGE_BIT(CHANGE_TOKENS));
    other_node_write(c, false);
    assert_true(waits_for_move(before, PG_FEED_BEAT_MS * 4));
    pg_feed_stop();
    PQfinish(c);
}

/* The listener's backend terminated and a write committed while it was
 * gone (its NOTIFY lost): the listener reconnects by itself and has seen
 * the write by the time it is healthy again. */
static void test_reconnect_rereads_before_healthy(void **state)
{
    (void)state;
    const char *url = feed_up();
    PGconn *c = pg_raw(url);
    pg_feed_stats st0;
    pg_feed_get_stats(&st0);
    uint64_t before = change_generation(CHANGE_BIT(CHANGE_TOKENS));
    assert_int_equal(pg_int(c, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                                "pg_stat_activity WHERE application_name = 'piora-listen' "
                                "AND pid <> pg_backend_pid()) k"),
                     1);
    other_node_write(c, true);
    int64_t end = ms_now() + 5000;
    pg_feed_stats st;
    do {
        sleep_ms(2);
        pg_feed_get_stats(&st);
    } while ((st.reconnects == st0.reconnects || !st.healthy) && ms_now() < end);
    assert_int_equal(st.reconnects, st0.reconnects + 1);
    assert_true(st.healthy);
    assert_int_not_equal(change_generation(CHANGE_BIT(CHANGE_TOKENS)), before);
    pg_feed_stop();
    PQfinish(c);
}

/* No listener (stopped, or the CLI): every poll reads the feed itself. */
static void test_unhealthy_poll_reads_the_feed(void **state)
{
    fixture *fx = *state;
    const char *url = feed_up();
    pg_feed_stop();
    assert_false(pg_feed_healthy());
    PGconn *c = pg_raw(url);
    unsigned moved = 0;
    assert_int_equal(change_poll(fx->s, &moved), PIORA_OK);
    other_node_write(c, false);
    assert_int_equal(change_poll(fx->s, &moved), PIORA_OK);
    assert_int_equal(moved, CHANGE_BIT(CHANGE_TOKENS));
    assert_int_equal(change_poll(fx->s, &moved), PIORA_OK);
    assert_int_equal(moved, 0);
    PQfinish(c);
}

typedef struct late_ack {
    const char *url;
    int64_t n;
    int after_ms;
} late_ack;

static void *ack_later(void *arg)
{
    late_ack *a = arg;
    sleep_ms(a->after_ms);
    PGconn *c = PQconnectdb(a->url);
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE change_acks SET n = %lld, beat_at = now() WHERE node_id = 'ghost'",
             (long long)a->n);
    PQclear(PQexec(c, sql));
    PQfinish(c);
    return NULL;
}

/* The writer's wait: at once when every live node acknowledged (here:
 * none but itself), until the acknowledgement when another live node is
 * behind, the whole bound when it never comes, and not at all for a node
 * whose beat is older than PG_FEED_LIVE_MS. */
static void test_wait_visible_waits_for_live_nodes_only(void **state)
{
    fixture *fx = *state;
    const char *url = feed_up();
    PGconn *c = pg_raw(url);
    int64_t counters[CHANGE__COUNT] = {-1, -1, -1, -1, -1};

    counters[CHANGE_TOKENS] = other_node_write(c, true);
    pg_change_publish(CHANGE_BIT(CHANGE_TOKENS), counters);
    int64_t t0 = ms_now();
    change_wait_visible(fx->s);
    assert_true(ms_now() - t0 < 200);

    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO change_acks VALUES ('ghost', 'tokens', %lld, now())",
             (long long)counters[CHANGE_TOKENS]);
    pg_exec_ok(c, sql);
    counters[CHANGE_TOKENS] = other_node_write(c, true);
    pg_change_publish(CHANGE_BIT(CHANGE_TOKENS), counters);
    t0 = ms_now();
    change_wait_visible(fx->s);
    int64_t took = ms_now() - t0;
    if (took < PG_FEED_WAIT_MS || took > PG_FEED_WAIT_MS + 500)
        fail_msg("a live node that never acknowledges: waited %lld ms", (long long)took);

    counters[CHANGE_TOKENS] = other_node_write(c, true);
    pg_change_publish(CHANGE_BIT(CHANGE_TOKENS), counters);
    late_ack a = {.url = url, .n = counters[CHANGE_TOKENS], .after_ms = 150};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, ack_later, &a), 0);
    t0 = ms_now();
    change_wait_visible(fx->s);
    took = ms_now() - t0;
    pthread_join(th, NULL);
    if (took < 140 || took >= PG_FEED_WAIT_MS)
        fail_msg("a node acknowledging after 150 ms: waited %lld ms", (long long)took);

    pg_exec_ok(c, "UPDATE change_acks SET n = 0, beat_at = now() - interval '10 seconds' "
              "WHERE node_id = 'ghost'");
    counters[CHANGE_TOKENS] = other_node_write(c, true);
    pg_change_publish(CHANGE_BIT(CHANGE_TOKENS), counters);
    t0 = ms_now();
    change_wait_visible(fx->s);
    assert_true(ms_now() - t0 < 200);
    pg_feed_stop();
    PQfinish(c);
}

/* The end of a request (change_settle): it waits only for what this
 * thread committed of the kinds it names, so a read, a session's touch or
 * a monitoring row costs nothing while a live node lags, and a cached
 * kind waits for that node like a revocation does (the whole bound, as
 * this node never acknowledges). */
static void test_settle_waits_for_cached_kinds_only(void **state)
{
    fixture *fx = *state;
    const char *url = feed_up();
    PGconn *c = pg_raw(url);
    int64_t counters[CHANGE__COUNT] = {-1, -1, -1, -1, -1};
    const unsigned cached = CHANGE_BIT(CHANGE_TOKENS) | CHANGE_BIT(CHANGE_USERS) |
                            CHANGE_BIT(CHANGE_OBJECTS);
    change_settle(fx->s, CHANGE_ALL); /* what the fixture's setup committed, no node lagging */
    pg_exec_ok(c, "INSERT INTO change_acks VALUES ('ghost', 'tokens', 0, now()), "
                  "('ghost', 'sessions', 0, now())");

    int64_t t0 = ms_now();
    change_settle(fx->s, cached); /* nothing committed on this thread */
    assert_true(ms_now() - t0 < 200);

    counters[CHANGE_SESSIONS] = 1000000;
    pg_change_publish(CHANGE_BIT(CHANGE_SESSIONS), counters);
    counters[CHANGE_SESSIONS] = -1;
    t0 = ms_now();
    change_settle(fx->s, cached);
    assert_true(ms_now() - t0 < 200);

    counters[CHANGE_TOKENS] = other_node_write(c, true);
    pg_change_publish(CHANGE_BIT(CHANGE_TOKENS), counters);
    t0 = ms_now();
    change_settle(fx->s, CHANGE_BIT(CHANGE_OBJECTS)); /* not a kind it asks for */
    assert_true(ms_now() - t0 < 200);
    t0 = ms_now();
    change_settle(fx->s, cached); /* and the commit was consumed by that call */
    assert_true(ms_now() - t0 < 200);

    pg_exec_ok(c, "UPDATE change_acks SET beat_at = now() WHERE node_id = 'ghost'");
    counters[CHANGE_TOKENS] = other_node_write(c, true);
    pg_change_publish(CHANGE_BIT(CHANGE_TOKENS), counters);
    t0 = ms_now();
    change_settle(fx->s, cached);
    int64_t took = ms_now() - t0;
    if (took < PG_FEED_WAIT_MS || took > PG_FEED_WAIT_MS + 500)
        fail_msg("a tokens write with a live node that never acknowledges: settled in %lld ms",
                 (long long)took);

    late_ack a = {.url = url, .n = 0, .after_ms = 150};
    pg_exec_ok(c, "UPDATE change_acks SET beat_at = now() WHERE node_id = 'ghost'");
    counters[CHANGE_TOKENS] = other_node_write(c, true);
    a.n = counters[CHANGE_TOKENS];
    pg_change_publish(CHANGE_BIT(CHANGE_TOKENS), counters);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, ack_later, &a), 0);
    t0 = ms_now();
    change_settle(fx->s, cached);
    took = ms_now() - t0;
    pthread_join(th, NULL);
    if (took < 140 || took >= PG_FEED_WAIT_MS)
        fail_msg("a node acknowledging after 150 ms: settled in %lld ms", (long long)took);
    pg_feed_stop();
    PQfinish(c);
}

/* The node's own heartbeat keeps its acknowledgements fresh: another
 * writer counts it as live, and its counters of every kind are there. */
static void test_acks_every_kind_and_stays_live(void **state)
{
    (void)state;
    const char *url = feed_up();
    PGconn *c = pg_raw(url);
    sleep_ms(1500);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM change_acks WHERE node_id = '%s' "
             "AND beat_at > now() - interval '1200 milliseconds'",
             pg_feed_node_id());
    assert_int_equal(pg_int(c, sql), pg_int(c, "SELECT count(*) FROM change_feed"));
    pg_feed_stop();
    PQfinish(c);
}

/* A failed test leaves no listener running into the next one. */
static int teardown_feed(void **state)
{
    pg_feed_stop();
    return teardown(state);
}

/* A heartbeat held up (here by a lock on the feed's table; under load by
 * a busy server) makes the node distrust its caches by the clock, and
 * once the answer comes it is healthy again on the same connection: a
 * slow answer is no reason to fork a new backend and redo LISTEN. */
static void test_slow_heartbeat_keeps_the_connection(void **state)
{
    (void)state;
    const char *url = feed_up();
    pg_feed_stats st0;
    pg_feed_get_stats(&st0);
    PGconn *c = pg_raw(url);
    pg_exec_ok(c, "SET idle_in_transaction_session_timeout = '10s'");
    pg_exec_ok(c, "BEGIN");
    pg_exec_ok(c, "LOCK TABLE change_feed IN ACCESS EXCLUSIVE MODE");
    int64_t end = ms_now() + 2000;
    while (pg_feed_healthy() && ms_now() < end)
        sleep_ms(5);
    bool distrusted = !pg_feed_healthy();
    sleep_ms(900); /* well past the old 400 ms deadline, short of 2.5 s */
    distrusted = distrusted && !pg_feed_healthy();
    pg_exec_ok(c, "COMMIT");
    end = ms_now() + 3000;
    while (!pg_feed_healthy() && ms_now() < end)
        sleep_ms(5);
    pg_feed_stats st;
    pg_feed_get_stats(&st);
    PQfinish(c);
    assert_true(distrusted);
    assert_true(st.healthy);
    assert_int_equal(st.reconnects, st0.reconnects);
}

int main(void)
{
    /* PostgreSQL only: on a server of its own unless one is named */
    bool own = false;
    if (!pg_own_start("test_store_feed", &own))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_notify_moves_generation_then_acks, setup, teardown_feed),
        cmocka_unit_test_setup_teardown(test_heartbeat_sees_a_write_without_notify, setup, teardown_feed),
        cmocka_unit_test_setup_teardown(test_reconnect_rereads_before_healthy, setup, teardown_feed),
        cmocka_unit_test_setup_teardown(test_unhealthy_poll_reads_the_feed, setup, teardown_feed),
        cmocka_unit_test_setup_teardown(test_wait_visible_waits_for_live_nodes_only, setup, teardown_feed),
        cmocka_unit_test_setup_teardown(test_settle_waits_for_cached_kinds_only, setup, teardown_feed),
        cmocka_unit_test_setup_teardown(test_acks_every_kind_and_stays_live, setup, teardown_feed),
        cmocka_unit_test_setup_teardown(test_slow_heartbeat_keeps_the_connection, setup, teardown_feed),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (own)
        pg_own_stop("test_store_feed");
    return failed;
}
