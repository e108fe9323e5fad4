/* The PostgreSQL half of change.h. Each kind's counter is a row of
 * change_feed (migration 0005), moved inside the write transaction that
 * changes that kind; the same transaction queues a NOTIFY on the channel
 * piora_change ("<kind> <counter>"), which PostgreSQL delivers only if it
 * commits. Monitor writes (usage batches every second, last-used times)
 * send none: no cache depends on them, and they would wake every node.
 *
 * The listener (pg_listen.c) turns the NOTIFYs into generation moves and
 * proves itself with a heartbeat; while it is healthy a poll costs
 * nothing, while it is not each poll reads the feed on its own connection.
 * A revoking writer, and every request that wrote what a cache holds,
 * waits until every live node has acknowledged the counters it committed
 * (change_acks), at most PG_FEED_WAIT_MS. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/change_backend.h"
#include "store/postgres/pg_internal.h"
#include "store/postgres/pg_listen.h"
#include "util/log.h"

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* What this thread committed since its last wait: the counters a revoking
 * writer waits for every node to acknowledge. A store is used by one
 * thread at a time and waits right after its commit, on that thread. */
static _Thread_local unsigned wait_kinds;
static _Thread_local int64_t wait_counters[CHANGE__COUNT];

static void note_for_wait(change_kind k, int64_t counter)
{
    if (k == CHANGE_MONITOR || counter < 0)
        return; /* never notified, never acknowledged at once */
    if (!(wait_kinds & CHANGE_BIT(k)) || counter > wait_counters[k])
        wait_counters[k] = counter;
    wait_kinds |= CHANGE_BIT(k);
}

piora_err pg_change_note(pg_store *s, unsigned kinds, int64_t counters[CHANGE__COUNT])
{
    /* One round trip per kind: the counter moves and its notification is
     * queued by the same statement. */
    static pg_stmt bump_notify = PG_STMT(
        "WITH b AS (UPDATE change_feed SET n = n + 1 WHERE kind = $1::text RETURNING n) "
        "SELECT n, pg_notify('piora_change', $1::text || ' ' || n) FROM b");
    static pg_stmt bump = PG_STMT("UPDATE change_feed SET n = n + 1 WHERE kind = $1 RETURNING n");
    for (int k = 0; k < CHANGE__COUNT; k++) {
        counters[k] = -1;
        if (!(kinds & CHANGE_BIT(k)))
            continue;
        pg_params p;
        pg_params_init(&p);
        pg_p_text(&p, change_kind_name((change_kind)k));
        PGresult *r = pg_run(s, k == CHANGE_MONITOR ? &bump : &bump_notify, &p);
        piora_err e = pg_ok(s, r, "change feed");
        if (e == PIORA_OK && PQntuples(r) > 0)
            counters[k] = pg_col_int(r, 0, 0);
        PQclear(r);
        if (e != PIORA_OK)
            return e;
    }
    return PIORA_OK;
}

void pg_change_publish(unsigned kinds, const int64_t counters[CHANGE__COUNT])
{
    for (int k = 0; k < CHANGE__COUNT; k++) {
        if (!(kinds & CHANGE_BIT(k)))
            continue;
        if (counters[k] >= 0) {
            change_committed((change_kind)k, counters[k]);
            note_for_wait((change_kind)k, counters[k]);
        } else
            change_bump(CHANGE_BIT(k)); /* no row for the kind: still a change */
    }
}

/* Reads every counter on this connection and lets change_observe() say
 * what moved. */
static piora_err feed_read(pg_store *s, unsigned *moved)
{
    static pg_stmt q = PG_STMT("SELECT kind, n FROM change_feed");
    PGresult *r = pg_run(s, &q, NULL);
    piora_err e = pg_ok(s, r, "change feed");
    if (e == PIORA_OK) {
        for (int i = 0; i < PQntuples(r); i++) {
            change_kind k;
            if (change_kind_parse(PQgetvalue(r, i, 0), &k) && change_observe(k, pg_col_int(r, i, 1)))
                *moved |= CHANGE_BIT(k);
        }
    }
    PQclear(r);
    return e;
}

/* ---- polling and waiting: the listener's half (pg_listen.c) -------------
 * A healthy listener has already moved this process's generations for
 * every commit up to PG_FEED_HEALTH_MS ago, so a poll costs nothing then;
 * while it is unhealthy each poll reads the counters on its own connection
 * (and a poll that fails moves every generation: change.c). */

piora_err pg_change_poll(store_t *base, unsigned *moved)
{
    *moved = 0;
    if (pg_feed_healthy())
        return PIORA_OK;
    return feed_read(pgs(base), moved);
}

/* "{a,b}" and "{1,2}": the kinds and counters as array parameters. */
static bool wait_arrays(unsigned kinds, char *names, size_t nlen, char *nums, size_t numlen)
{
    size_t a = 0, b = 0;
    bool first = true;
    for (int k = 0; k < CHANGE__COUNT; k++) {
        if (!(kinds & CHANGE_BIT(k)))
            continue;
        int x = snprintf(names + a, nlen - a, "%s%s", first ? "{" : ",",
                         change_kind_name((change_kind)k));
        int y = snprintf(nums + b, numlen - b, "%s%lld", first ? "{" : ",",
                         (long long)wait_counters[k]);
        if (x < 0 || y < 0 || (size_t)x >= nlen - a || (size_t)y >= numlen - b)
            return false;
        a += (size_t)x;
        b += (size_t)y;
        first = false;
    }
    if (first || a + 2 > nlen || b + 2 > numlen)
        return false;
    memcpy(names + a, "}", 2);
    memcpy(nums + b, "}", 2);
    return true;
}

static void sleep_until(int64_t end)
{
    int64_t left = end - mono_ns();
    if (left > 0) {
        struct timespec ts = {left / 1000000000, left % 1000000000};
        nanosleep(&ts, NULL);
    }
}

/* A writer that waited out the bound: said at most every 10 s (a node
 * that is down but not yet past PG_FEED_LIVE_MS costs every revoke 1 s). */
static void wait_timeout_note(int64_t pending)
{
    static atomic_int_fast64_t last_ns;
    int64_t now = mono_ns(), last = atomic_load(&last_ns);
    if (last && now - last < INT64_C(10000000000))
        return;
    if (!atomic_compare_exchange_strong(&last_ns, &last, now))
        return;
    log_warn("change feed: %lld node acknowledgement(s) missing after %d ms; those nodes "
             "stopped trusting their caches by themselves",
             (long long)pending, PG_FEED_WAIT_MS);
}

/* Returns once every live node has acknowledged this thread's counters of
 * `kinds` (never CHANGE_MONITOR), or PG_FEED_WAIT_MS has passed, after
 * which a node that did not acknowledge distrusts its caches by itself.
 * With no counter to wait for (nothing came back from the commit) the only
 * safe answer is the whole bound. */
static void wait_for_acks(pg_store *s, unsigned kinds)
{
    int64_t end = mono_ns() + (int64_t)PG_FEED_WAIT_MS * 1000000;
    char names[160], nums[CHANGE__COUNT * 24 + 4];
    if (!kinds || !wait_arrays(kinds, names, sizeof names, nums, sizeof nums)) {
        sleep_until(end);
        return;
    }
    static pg_stmt q = PG_STMT(
        "SELECT count(*) FROM change_acks a "
        "JOIN unnest($2::text[], $3::bigint[]) AS w(kind, n) ON a.kind = w.kind "
        "WHERE a.node_id <> $1 AND a.n < w.n "
        "AND a.beat_at > now() - $4::int * interval '1 millisecond'");
    pg_params p;
    pg_params_init(&p);
    pg_p_text(&p, pg_feed_node_id());
    pg_p_text(&p, names);
    pg_p_text(&p, nums);
    pg_p_int(&p, PG_FEED_LIVE_MS);
    for (int i = 0;; i++) {
        int64_t pending = 1;
        piora_err e = pg_fetch_int(s, &q, &p, &pending, "change acks");
        if (e == PIORA_OK && pending == 0)
            return;
        if (e != PIORA_OK) {
            /* Cannot tell who has seen it: wait out the bound, after which
             * every node that did not acknowledge distrusts its cache. */
            sleep_until(end);
            return;
        }
        if (mono_ns() >= end) {
            wait_timeout_note(pending);
            return;
        }
        struct timespec step = {0, i < 50 ? 200000 : 1000000};
        nanosleep(&step, NULL);
    }
}

void pg_change_wait_visible(store_t *base)
{
    unsigned kinds = wait_kinds & ~CHANGE_BIT(CHANGE_MONITOR);
    wait_kinds = 0;
    wait_for_acks(pgs(base), kinds);
}

/* The end of a request (change_settle): the other nodes acknowledge what
 * its handler committed of the cached kinds before the answer leaves, so
 * a client that writes on one node and reads on another through a load
 * balancer never reads the page it had before its write. A request that
 * committed none of them (every read, a session's touch) costs nothing. */
void pg_change_settle(store_t *base, unsigned kinds)
{
    unsigned due = wait_kinds & kinds & ~CHANGE_BIT(CHANGE_MONITOR);
    wait_kinds = 0;
    if (due)
        wait_for_acks(pgs(base), due);
}
