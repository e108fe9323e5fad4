/* Backup schedules and retention on PostgreSQL (issue 11); the twin of
 * sqlite_backups.c: which databases have a schedule, the once-per-slot
 * claim, and pruning old scheduled backups. Backups are objects, so these
 * writes are CHANGE_OBJECTS changes. Each slot runs once across a cluster
 * through backup_slots' primary key: of two nodes claiming one slot, the
 * second's INSERT ... ON CONFLICT DO NOTHING waits for the first's commit
 * and inserts nothing. */
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_internal.h"

static void sched_row(const PGresult *r, int row, void *out)
{
    backup_sched_row *b = out;
    memset(b, 0, sizeof *b);
    b->database_id = pg_col_int(r, row, 0);
    b->team_id = pg_col_int(r, row, 1);
    b->keep = pg_col_int(r, row, 2);
    pg_col_copy(r, row, 3, b->schedule, sizeof b->schedule);
}

piora_err pg_backup_schedules(store_t *base, int64_t after_id, size_t max, backup_sched_row **rows,
                              size_t *n)
{
    pg_store *s = pgs(base);
    *rows = NULL;
    *n = 0;
    if (max == 0 || max > 100000)
        return PIORA_EINVALID;
    static pg_stmt st = PG_STMT("SELECT id, team_id, backup_keep, backup_schedule FROM databases "
                                "WHERE backup_schedule IS NOT NULL AND id > $1 ORDER BY id "
                                "LIMIT $2");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, after_id);
    pg_p_int(&p, (int64_t)max);
    return pg_fetch_rows(s, &st, &p, sizeof(backup_sched_row), sched_row, (void **)rows, n,
                         "backup schedules");
}

piora_err pg_backup_slot_claim(store_t *base, int64_t database_id, int64_t slot_at, int64_t now,
                               int64_t *backup_id)
{
    pg_store *s = pgs(base);
    *backup_id = 0;
    if (database_id <= 0 || slot_at < 0)
        return PIORA_EINVALID;
    /* The casts name the types: in INSERT ... SELECT the parameters are the
     * SELECT's, typed before the target columns are known. */
    static pg_stmt ins = PG_STMT("INSERT INTO backup_slots(database_id, slot_at, created_at) "
                                 "SELECT id, $2::bigint, $3::bigint FROM databases "
                                 "WHERE id = $1::bigint "
                                 "ON CONFLICT (database_id, slot_at) DO NOTHING");
    static pg_stmt bk = PG_STMT("INSERT INTO backups(team_id, database_id, status, created_at, "
                                "updated_at) SELECT team_id, id, 'pending', $2::bigint, "
                                "$2::bigint FROM databases WHERE id = $1::bigint RETURNING id");
    static pg_stmt set = PG_STMT("UPDATE backup_slots SET backup_id = $3 "
                                 "WHERE database_id = $1 AND slot_at = $2");
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, database_id);
    pg_p_int(&p, slot_at);
    pg_p_int(&p, now);
    int64_t rows = 0;
    if ((e = pg_do(s, &ins, &p, &rows, "backup slot claim")) != PIORA_OK)
        goto fail;
    if (rows == 0) {
        /* taken already, or no such database: nothing to run either way */
        e = PIORA_ECONFLICT;
        goto fail;
    }
    pg_params_init(&p);
    pg_p_int(&p, database_id);
    pg_p_int(&p, now);
    int64_t id = 0;
    e = pg_fetch_int(s, &bk, &p, &id, "scheduled backup insert");
    if (e == PIORA_ENOTFOUND || (e == PIORA_OK && id <= 0))
        e = PIORA_ECONFLICT; /* the database went meanwhile */
    if (e != PIORA_OK)
        goto fail;
    pg_params_init(&p);
    pg_p_int(&p, database_id);
    pg_p_int(&p, slot_at);
    pg_p_int(&p, id);
    if ((e = pg_do(s, &set, &p, NULL, "backup slot set")) != PIORA_OK)
        goto fail;
    e = pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    if (e == PIORA_OK)
        *backup_id = id;
    return e;
fail:
    pg_rollback(s);
    return e;
}

static void id_row(const PGresult *r, int row, void *out)
{
    *(int64_t *)out = pg_col_int(r, row, 0);
}

piora_err pg_backup_prune_scheduled(store_t *base, int64_t database_id, int64_t keep, int64_t *ids,
                                    size_t max, size_t *n)
{
    pg_store *s = pgs(base);
    *n = 0;
    if (database_id <= 0 || keep < 1 || max == 0 || !ids)
        return PIORA_EINVALID;
    /* One statement picks and deletes, and answers only the rows it really
     * deleted: when two nodes prune one database at once, the second waits
     * on the first's row locks, then finds those rows gone and does not
     * report them (their files are the first's to remove). NULLS LAST: a
     * completed backup without its time sorts as SQLite sorts NULL, the
     * oldest. The ids come back newest first, as the pick ordered them. */
    static pg_stmt del = PG_STMT(
        "WITH gone AS (DELETE FROM backups WHERE id IN (SELECT b.id FROM backups b "
        "JOIN backup_slots sl ON sl.backup_id = b.id WHERE b.database_id = $1 "
        "AND b.status = 'completed' "
        "ORDER BY b.completed_at DESC NULLS LAST, b.id DESC LIMIT $3 OFFSET $2) "
        "RETURNING id, completed_at) "
        "SELECT id FROM gone ORDER BY completed_at DESC NULLS LAST, id DESC");
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, database_id);
    pg_p_int(&p, keep);
    pg_p_int(&p, (int64_t)max);
    void *v = NULL;
    size_t k = 0;
    e = pg_fetch_rows(s, &del, &p, sizeof(int64_t), id_row, &v, &k, "backup prune");
    if (e != PIORA_OK || k == 0) {
        free(v);
        pg_rollback(s);
        return e;
    }
    if (k > max)
        k = max; /* LIMIT $3 keeps it so; the bound is the caller's array */
    memcpy(ids, v, k * sizeof *ids);
    free(v);
    e = pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    if (e == PIORA_OK)
        *n = k;
    return e;
}
