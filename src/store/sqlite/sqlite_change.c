/* The SQLite half of change.h. Each kind's counter is a row of change_feed
 * (migration 0005), moved inside the write transaction that changes that
 * kind. A connection learns that *anyone else* committed from PRAGMA
 * data_version (its own commits leave it alone), and only then reads the
 * feed's few rows to learn which kinds moved.
 *
 * A connection asks data_version at most once per SQ_POLL_NS: the question
 * costs a read transaction and a handful of fcntl() calls, and was ~20% of
 * a rejected request when asked every time. So a write that every reader
 * must see at once (a revocation) is reported visible only once every
 * connection is due to ask again: sq_change_wait_visible() sleeps 1.5
 * intervals after the commit. Both sides read CLOCK_MONOTONIC, which all
 * processes on a machine share (never the tests' offset clock). */
#include <time.h>

#include "store/change_backend.h"
#include "store/sqlite/sqlite_internal.h"

#define SQ_POLL_NS 1000000

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

piora_err sq_change_note(sq_store *s, unsigned kinds, int64_t counters[CHANGE__COUNT])
{
    for (int k = 0; k < CHANGE__COUNT; k++) {
        counters[k] = -1;
        if (!(kinds & CHANGE_BIT(k)))
            continue;
        sqlite3_stmt *st = sq_stmt(s, ST_CHANGE_BUMP,
                                   "UPDATE change_feed SET n = n + 1 WHERE kind = ?1 RETURNING n");
        if (!st)
            return PIORA_EDB;
        sqlite3_bind_text(st, 1, change_kind_name((change_kind)k), -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            counters[k] = sqlite3_column_int64(st, 0);
            rc = sqlite3_step(st);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return sq_fail(s, rc, "change feed");
    }
    return PIORA_OK;
}

void sq_change_publish(unsigned kinds, const int64_t counters[CHANGE__COUNT])
{
    for (int k = 0; k < CHANGE__COUNT; k++) {
        if (!(kinds & CHANGE_BIT(k)))
            continue;
        if (counters[k] >= 0)
            change_committed((change_kind)k, counters[k]);
        else
            change_bump(CHANGE_BIT(k)); /* no row for the kind: still a change */
    }
}

/* Reads every counter of the feed and lets change_observe() decide what
 * moved. */
static piora_err feed_read(sq_store *s, unsigned *moved)
{
    sqlite3_stmt *st = sq_stmt(s, ST_CHANGE_READ, "SELECT kind, n FROM change_feed");
    if (!st)
        return PIORA_EDB;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        change_kind k;
        if (change_kind_parse((const char *)sqlite3_column_text(st, 0), &k) &&
            change_observe(k, sqlite3_column_int64(st, 1)))
            *moved |= CHANGE_BIT(k);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? PIORA_OK : sq_fail(s, rc, "change feed");
}

piora_err sq_change_poll(store_t *base, unsigned *moved)
{
    sq_store *s = sq(base);
    *moved = 0;
    int64_t now = mono_ns();
    if (s->polled_ns != 0 && now - s->polled_ns < SQ_POLL_NS)
        return PIORA_OK;
    s->polled_ns = now;
    sqlite3_stmt *st = sq_stmt(s, ST_DATA_VERSION, "PRAGMA data_version");
    if (!st)
        return PIORA_EDB;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return sq_fail(s, rc, "data_version");
    }
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (s->dv_known && v == s->dv)
        return PIORA_OK;
    piora_err e = feed_read(s, moved);
    if (e == PIORA_OK) {
        s->dv_known = true;
        s->dv = v;
    }
    return e;
}

void sq_change_wait_visible(store_t *base)
{
    (void)base;
    struct timespec step = {0, 200000};
    int64_t until = mono_ns() + SQ_POLL_NS * 3 / 2;
    while (mono_ns() < until)
        nanosleep(&step, NULL);
}
