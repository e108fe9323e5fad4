/* The PostgreSQL half of change.h. Each kind's counter is a row of
 * change_feed (migration 0005), moved inside the write transaction that
 * changes that kind; the same transaction queues a NOTIFY on the channel
 * piora_change ("<kind> <counter>"), which PostgreSQL delivers only if it
 * commits. Monitor writes (usage batches every second, last-used times)
 * send none: no cache depends on them, and they would wake every node.
 *
 * pg_change_poll() reads the feed's few rows on each call, so a committed
 * write is visible to the next poll on any node and wait_visible has
 * nothing to wait for. (A LISTEN thread replaces both later; they stay in
 * this file alone for that.) */
#include <stdio.h>

#include "store/change_backend.h"
#include "store/postgres/pg_internal.h"

piora_err pg_change_note(pg_store *s, unsigned kinds, int64_t counters[CHANGE__COUNT])
{
    static pg_stmt bump = PG_STMT("UPDATE change_feed SET n = n + 1 WHERE kind = $1 RETURNING n");
    static pg_stmt notify = PG_STMT("SELECT pg_notify('piora_change', $1)");
    for (int k = 0; k < CHANGE__COUNT; k++) {
        counters[k] = -1;
        if (!(kinds & CHANGE_BIT(k)))
            continue;
        pg_params p;
        pg_params_init(&p);
        pg_p_text(&p, change_kind_name((change_kind)k));
        PGresult *r = pg_run(s, &bump, &p);
        piora_err e = pg_ok(s, r, "change feed");
        if (e == PIORA_OK && PQntuples(r) > 0)
            counters[k] = pg_col_int(r, 0, 0);
        PQclear(r);
        if (e != PIORA_OK)
            return e;
        if (k == CHANGE_MONITOR)
            continue;
        char payload[64];
        snprintf(payload, sizeof payload, "%s %lld", change_kind_name((change_kind)k),
                 (long long)counters[k]);
        pg_params_init(&p);
        pg_p_text(&p, payload);
        e = pg_do(s, &notify, &p, NULL, "change notify");
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
        if (counters[k] >= 0)
            change_committed((change_kind)k, counters[k]);
        else
            change_bump(CHANGE_BIT(k)); /* no row for the kind: still a change */
    }
}

piora_err pg_change_poll(store_t *base, unsigned *moved)
{
    static pg_stmt q = PG_STMT("SELECT kind, n FROM change_feed");
    pg_store *s = pgs(base);
    *moved = 0;
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

void pg_change_wait_visible(store_t *base)
{
    (void)base; /* every poll reads the committed feed itself */
}
