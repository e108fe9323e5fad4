/* Backup schedules and retention on SQLite (issue 11): which databases have
 * a schedule, the once-per-slot claim, and pruning old scheduled backups.
 * Backups are objects, so these writes are CHANGE_OBJECTS changes. */
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

static void sched_row(sqlite3_stmt *st, void *out)
{
    backup_sched_row *r = out;
    memset(r, 0, sizeof *r);
    r->database_id = sqlite3_column_int64(st, 0);
    r->team_id = sqlite3_column_int64(st, 1);
    r->keep = sqlite3_column_int64(st, 2);
    sq_col_copy(st, 3, r->schedule, sizeof r->schedule);
}

piora_err sq_backup_schedules(store_t *base, int64_t after_id, size_t max, backup_sched_row **rows,
                              size_t *n)
{
    sq_store *s = sq(base);
    *rows = NULL;
    *n = 0;
    if (max == 0 || max > 100000)
        return PIORA_EINVALID;
    sqlite3_stmt *st = sq_stmt(s, ST_BACKUP_SCHEDULES,
                               "SELECT id, team_id, backup_keep, backup_schedule FROM databases "
                               "WHERE backup_schedule IS NOT NULL AND id > ?1 ORDER BY id LIMIT ?2");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    return sq_fetch_rows(s, st, sizeof(backup_sched_row), sched_row, (void **)rows, n,
                         "backup schedules");
}

piora_err sq_backup_slot_claim(store_t *base, int64_t database_id, int64_t slot_at, int64_t now,
                               int64_t *backup_id)
{
    sq_store *s = sq(base);
    *backup_id = 0;
    if (database_id <= 0 || slot_at < 0)
        return PIORA_EINVALID;
    sqlite3_stmt *ins = sq_stmt(s, ST_BACKUP_SLOT_INSERT,
                                "INSERT INTO backup_slots(database_id, slot_at, created_at) "
                                "SELECT id, ?2, ?3 FROM databases WHERE id = ?1 "
                                "ON CONFLICT (database_id, slot_at) DO NOTHING");
    sqlite3_stmt *bk = sq_stmt(s, ST_BACKUP_SLOT_BACKUP,
                               "INSERT INTO backups(id, team_id, database_id, status, trigger_type, "
                               "trigger_id, trigger_name, created_at, updated_at) SELECT "
                               SQ_NEXT_ID("backups") ", team_id, id, 'pending', 'schedule', id, backup_schedule, ?2, ?2 "
                               "FROM databases WHERE id = ?1 RETURNING id");
    sqlite3_stmt *set = sq_stmt(s, ST_BACKUP_SLOT_SET,
                                "UPDATE backup_slots SET backup_id = ?3 "
                                "WHERE database_id = ?1 AND slot_at = ?2");
    if (!ins || !bk || !set)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(ins, 1, database_id);
    sqlite3_bind_int64(ins, 2, slot_at);
    sqlite3_bind_int64(ins, 3, now);
    int rc = sq_exec_stmt(ins);
    sqlite3_clear_bindings(ins);
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "backup slot claim");
        sq_rollback(s);
        return e;
    }
    if (sqlite3_changes(s->db) == 0) {
        /* taken already, or no such database: tell the two apart */
        sq_rollback(s);
        return PIORA_ECONFLICT;
    }
    sqlite3_bind_int64(bk, 1, database_id);
    sqlite3_bind_int64(bk, 2, now);
    rc = sqlite3_step(bk);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(bk, 0) : 0;
    if (rc == SQLITE_ROW)
        rc = sqlite3_step(bk);
    sqlite3_reset(bk);
    sqlite3_clear_bindings(bk);
    if (rc != SQLITE_DONE || id == 0) {
        e = sq_fail(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "scheduled backup insert");
        sq_rollback(s);
        return e;
    }
    sqlite3_bind_int64(set, 1, database_id);
    sqlite3_bind_int64(set, 2, slot_at);
    sqlite3_bind_int64(set, 3, id);
    rc = sq_exec_stmt(set);
    sqlite3_clear_bindings(set);
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "backup slot set");
        sq_rollback(s);
        return e;
    }
    e = sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    if (e == PIORA_OK)
        *backup_id = id;
    return e;
}

piora_err sq_backup_prune_scheduled(store_t *base, int64_t database_id, int64_t keep, int64_t *ids,
                                    size_t max, size_t *n)
{
    sq_store *s = sq(base);
    *n = 0;
    if (database_id <= 0 || keep < 1 || max == 0 || !ids)
        return PIORA_EINVALID;
    sqlite3_stmt *pick = sq_stmt(s, ST_BACKUP_PRUNE_PICK,
                                 "SELECT b.id FROM backups b JOIN backup_slots sl "
                                 "ON sl.backup_id = b.id WHERE b.database_id = ?1 "
                                 "AND b.status = 'completed' "
                                 "ORDER BY b.completed_at DESC, b.id DESC LIMIT ?3 OFFSET ?2");
    sqlite3_stmt *del = sq_stmt(s, ST_BACKUP_PRUNE_DELETE, "DELETE FROM backups WHERE id = ?1");
    if (!pick || !del)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(pick, 1, database_id);
    sqlite3_bind_int64(pick, 2, keep);
    sqlite3_bind_int64(pick, 3, (sqlite3_int64)max);
    size_t k = 0;
    int rc;
    while ((rc = sqlite3_step(pick)) == SQLITE_ROW && k < max)
        ids[k++] = sqlite3_column_int64(pick, 0);
    sqlite3_reset(pick);
    sqlite3_clear_bindings(pick);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        e = sq_fail(s, rc, "backup prune pick");
        sq_rollback(s);
        return e;
    }
    for (size_t i = 0; i < k; i++) {
        sqlite3_bind_int64(del, 1, ids[i]);
        rc = sq_exec_stmt(del);
        sqlite3_clear_bindings(del);
        if (rc != SQLITE_DONE) {
            e = sq_fail(s, rc, "backup prune delete");
            sq_rollback(s);
            return e;
        }
    }
    if (k == 0) {
        sq_rollback(s);
        return PIORA_OK;
    }
    e = sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    if (e == PIORA_OK)
        *n = k;
    return e;
}
