/* Backups and restores as jobs on SQLite (issue 11): the queues with their
 * per-server bound, the claim under a lease inside BEGIN IMMEDIATE,
 * heartbeats, lost leases, cancel, the outcome, and the log in chunks
 * (job_log_chunks with job_kind 'backup' or 'restore'). The views db_jobs
 * and server_jobs (migration 0013) count the jobs of every kind on a server,
 * so deployments and backups share --jobs-per-server. Each statement exists
 * once per table: BJ() picks the backups or the restores twin by kind, from
 * compile-time text only. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define BJ(s, kind, id, pre, post)                                                           \
    ((kind) == BJOB_BACKUP ? sq_stmt((s), id##_B, pre "backups" post)                        \
                           : sq_stmt((s), id##_R, pre "restores" post))

static const char *kind_word(bjob_kind k) { return k == BJOB_BACKUP ? "backup" : "restore"; }

static bool kind_ok(bjob_kind k) { return k == BJOB_BACKUP || k == BJOB_RESTORE; }

static void bind_opt_text(sqlite3_stmt *st, int idx, const char *v)
{
    if (v)
        sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, idx);
}

/* Steps a statement that RETURNs one id: *id 0 when it returned none. */
static int step_id(sqlite3_stmt *st, int64_t *id)
{
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static bool trig_ok(const job_trigger *t)
{
    return t && sq_text_ok(t->type, 16) && (!t->name || strlen(t->name) <= 255);
}

static void bind_trig(sqlite3_stmt *st, int first, const job_trigger *t)
{
    sqlite3_bind_text(st, first, t->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, first + 1, t->id);
    bind_opt_text(st, first + 2, t->name);
}

/* After an INSERT ... SELECT that inserted nothing: the bound, or a row
 * that is not the team's. ex is a "SELECT 1" probe already bound. */
static piora_err queue_refused(sq_store *s, sqlite3_stmt *ex, const char *what)
{
    piora_err e = sq_exists(s, ex, what);
    sqlite3_clear_bindings(ex);
    sq_rollback(s);
    return e == PIORA_OK ? PIORA_ETOOBIG : e;
}

#define WAITING_ON(server)                                                                    \
    "(SELECT COUNT(*) FROM server_jobs w WHERE w.server_id = " server                         \
    " AND w.status IN ('queued', 'pending'))"

piora_err sq_bjob_queue_backup(store_t *base, int64_t team_id, int64_t database_id,
                               const job_trigger *trig, int64_t max_queued, int64_t now,
                               int64_t *id)
{
    sq_store *s = sq(base);
    *id = 0;
    if (database_id <= 0 || max_queued < 0 || !trig_ok(trig))
        return PIORA_EINVALID;
    sqlite3_stmt *ins = sq_stmt(
        s, ST_BJ_QUEUE_BACKUP,
        "INSERT INTO backups(id, team_id, database_id, status, trigger_type, trigger_id, "
        "trigger_name, created_at, updated_at) SELECT " SQ_NEXT_ID("backups") ", d.team_id, d.id, 'pending', ?3, ?4, ?5, "
        "?6, ?6 FROM databases d WHERE d.id = ?2 AND d.team_id = ?1 AND " WAITING_ON(
            "d.server_id") " < ?7 RETURNING id");
    sqlite3_stmt *ex = sq_stmt(s, ST_BJ_DB_EXISTS,
                               "SELECT 1 FROM databases WHERE id = ?2 AND team_id = ?1");
    if (!ins || !ex)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(ins, 1, team_id);
    sqlite3_bind_int64(ins, 2, database_id);
    bind_trig(ins, 3, trig);
    sqlite3_bind_int64(ins, 6, now);
    sqlite3_bind_int64(ins, 7, max_queued);
    int rc = step_id(ins, id);
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "backup queue");
        sq_rollback(s);
        return e;
    }
    if (*id == 0) {
        sqlite3_bind_int64(ex, 1, team_id);
        sqlite3_bind_int64(ex, 2, database_id);
        return queue_refused(s, ex, "backup database");
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

piora_err sq_bjob_queue_restore(store_t *base, int64_t team_id, int64_t backup_id,
                                int64_t database_id, const job_trigger *trig, int64_t max_queued,
                                int64_t now, int64_t *id)
{
    sq_store *s = sq(base);
    *id = 0;
    if (backup_id <= 0 || database_id <= 0 || max_queued < 0 || !trig_ok(trig))
        return PIORA_EINVALID;
    sqlite3_stmt *ins = sq_stmt(
        s, ST_BJ_QUEUE_RESTORE,
        "INSERT INTO restores(id, team_id, backup_id, database_id, status, log, trigger_type, "
        "trigger_id, trigger_name, created_at, updated_at) SELECT " SQ_NEXT_ID("restores") ", b.team_id, b.id, d.id, "
        "'pending', '', ?4, ?5, ?6, ?7, ?7 FROM backups b JOIN databases d ON d.id = ?3 "
        "AND d.team_id = b.team_id WHERE b.id = ?2 AND b.team_id = ?1 AND " WAITING_ON(
            "d.server_id") " < ?8 RETURNING id");
    sqlite3_stmt *ex = sq_stmt(s, ST_BJ_RESTORE_REFS,
                               "SELECT 1 FROM backups b JOIN databases d ON d.id = ?3 "
                               "AND d.team_id = b.team_id WHERE b.id = ?2 AND b.team_id = ?1");
    if (!ins || !ex)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(ins, 1, team_id);
    sqlite3_bind_int64(ins, 2, backup_id);
    sqlite3_bind_int64(ins, 3, database_id);
    bind_trig(ins, 4, trig);
    sqlite3_bind_int64(ins, 7, now);
    sqlite3_bind_int64(ins, 8, max_queued);
    int rc = step_id(ins, id);
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "restore queue");
        sq_rollback(s);
        return e;
    }
    if (*id == 0) {
        sqlite3_bind_int64(ex, 1, team_id);
        sqlite3_bind_int64(ex, 2, backup_id);
        sqlite3_bind_int64(ex, 3, database_id);
        return queue_refused(s, ex, "restore backup and target");
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

/* Both claimed-row queries answer these columns in this order. */
static void claim_row(sqlite3_stmt *st, void *out)
{
    bjob_claim *c = out;
    c->id = sq_col_int(st, 0);
    c->team_id = sq_col_int(st, 1);
    c->server_id = sq_col_int(st, 2);
    c->backup_id = sq_col_int(st, 3);
    c->database_id = sq_col_int(st, 4);
    sq_col_copy(st, 5, c->engine, sizeof c->engine);
    sq_col_copy(st, 6, c->name, sizeof c->name);
    sq_col_copy(st, 7, c->db_host, sizeof c->db_host);
    c->db_port = sq_col_int(st, 8);
    sq_col_copy(st, 9, c->db_user, sizeof c->db_user);
    sq_col_copy(st, 10, c->source_name, sizeof c->source_name);
    sq_col_copy(st, 11, c->sha256, sizeof c->sha256);
    sq_col_copy(st, 12, c->host, sizeof c->host);
    c->port = (unsigned)sq_col_int(st, 13);
    sq_col_copy(st, 14, c->user, sizeof c->user);
    sq_col_copy(st, 15, c->host_key, sizeof c->host_key);
    c->scheduled = sq_col_int(st, 16) != 0;
}

piora_err sq_bjob_claim(store_t *base, const char *owner, int64_t now, int64_t lease_until,
                        int64_t per_server, bjob_claim *out)
{
    sq_store *s = sq(base);
    memset(out, 0, sizeof *out);
    if (!sq_text_ok(owner, JOB_OWNER_MAX) || per_server < 1)
        return PIORA_EINVALID;
    sqlite3_stmt *any = sq_stmt(s, ST_BJ_ANY_PENDING,
                                "SELECT 1 WHERE EXISTS (SELECT 1 FROM backups WHERE status = "
                                "'pending') OR EXISTS (SELECT 1 FROM restores WHERE status = "
                                "'pending')");
    /* One job per database at a time: a restore never replaces what a dump
     * is reading, and two restores never interleave. */
    sqlite3_stmt *pick = sq_stmt(
        s, ST_BJ_PICK,
        "SELECT j.kind, j.id FROM db_jobs j WHERE j.status = 'pending' AND NOT EXISTS "
        "(SELECT 1 FROM db_jobs o WHERE o.database_id = j.database_id AND o.status = 'running') "
        "AND (SELECT COUNT(*) FROM server_jobs r WHERE r.server_id = j.server_id "
        "AND r.status = 'running') < ?1 ORDER BY j.created_at, j.id, j.kind LIMIT 1");
    if (!any || !pick)
        return PIORA_EDB;
    /* Idle workers ask often: a read first keeps them from taking the write
     * lock when nothing waits. */
    piora_err e = sq_exists(s, any, "pending backup job");
    if (e != PIORA_OK)
        return e;
    e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(pick, 1, per_server);
    int rc = sqlite3_step(pick);
    bjob_kind kind = BJOB_BACKUP;
    int64_t id = 0;
    if (rc == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(pick, 0);
        kind = k && strcmp(k, "restore") == 0 ? BJOB_RESTORE : BJOB_BACKUP;
        id = sqlite3_column_int64(pick, 1);
        rc = sqlite3_step(pick);
    }
    sqlite3_reset(pick);
    sqlite3_clear_bindings(pick);
    if ((rc != SQLITE_DONE && rc != SQLITE_ROW) || id == 0) {
        e = id == 0 && (rc == SQLITE_DONE || rc == SQLITE_ROW) ? PIORA_ENOTFOUND
                                                               : sq_fail(s, rc, "backup job pick");
        sq_rollback(s);
        return e;
    }
    sqlite3_stmt *claim = BJ(s, kind, ST_BJ_CLAIM, "UPDATE ",
                             " SET status = 'running', started_at = ?2, updated_at = ?2, "
                             "lease_owner = ?3, lease_until = ?4 WHERE id = ?1 AND "
                             "status = 'pending' RETURNING id");
    sqlite3_stmt *get =
        kind == BJOB_BACKUP
            ? sq_stmt(s, ST_BJ_CLAIMED_B,
                      "SELECT b.id, b.team_id, db.server_id, b.id, db.id, db.engine, db.name, "
                      "db.host, db.port, db.username, '', '', sv.ip_address, sv.ssh_port, "
                      "sv.ssh_user, sv.host_key_fingerprint, b.trigger_type = 'schedule' "
                      "FROM backups b JOIN databases db ON db.id = b.database_id "
                      "JOIN servers sv ON sv.id = db.server_id WHERE b.id = ?1")
            : sq_stmt(s, ST_BJ_CLAIMED_R,
                      "SELECT r.id, r.team_id, t.server_id, b.id, t.id, t.engine, t.name, "
                      "t.host, t.port, t.username, src.name, b.sha256, sv.ip_address, "
                      "sv.ssh_port, sv.ssh_user, sv.host_key_fingerprint, 0 "
                      "FROM restores r JOIN backups b ON b.id = r.backup_id "
                      "JOIN databases src ON src.id = b.database_id "
                      "JOIN databases t ON t.id = COALESCE(r.database_id, b.database_id) "
                      "JOIN servers sv ON sv.id = t.server_id WHERE r.id = ?1");
    if (!claim || !get) {
        sq_rollback(s);
        return PIORA_EDB;
    }
    sqlite3_bind_int64(claim, 1, id);
    sqlite3_bind_int64(claim, 2, now);
    sqlite3_bind_text(claim, 3, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(claim, 4, lease_until);
    int64_t got = 0;
    rc = step_id(claim, &got);
    if (rc != SQLITE_DONE || got == 0) {
        e = rc != SQLITE_DONE ? sq_fail(s, rc, "backup job claim") : PIORA_ENOTFOUND;
        sq_rollback(s);
        return e;
    }
    sqlite3_bind_int64(get, 1, id);
    e = sq_fetch_row(s, get, claim_row, out, "claimed backup job");
    sqlite3_clear_bindings(get);
    if (e != PIORA_OK) {
        sq_rollback(s);
        memset(out, 0, sizeof *out);
        return e;
    }
    out->kind = kind;
    e = sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    if (e != PIORA_OK)
        memset(out, 0, sizeof *out);
    return e;
}

piora_err sq_bjob_heartbeat(store_t *base, const char *owner, int64_t lease_until)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(owner, JOB_OWNER_MAX))
        return PIORA_EINVALID;
    for (int k = BJOB_BACKUP; k <= BJOB_RESTORE; k++) {
        sqlite3_stmt *st = BJ(s, k, ST_BJ_HEARTBEAT, "UPDATE ",
                              " SET lease_until = ?2 WHERE lease_owner = ?1 "
                              "AND status = 'running'");
        if (!st)
            return PIORA_EDB;
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, lease_until);
        int rc = sq_exec_stmt(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE)
            return sq_fail(s, rc, "backup job heartbeat");
    }
    return PIORA_OK;
}

piora_err sq_bjob_expire(store_t *base, int64_t now, int64_t *n)
{
    sq_store *s = sq(base);
    if (n)
        *n = 0;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t total = 0;
    for (int k = BJOB_BACKUP; k <= BJOB_RESTORE; k++) {
        sqlite3_stmt *st = BJ(s, k, ST_BJ_EXPIRE, "UPDATE ",
                              " SET status = 'failed', error = 'lost', finished_at = ?1, "
                              "updated_at = ?1, lease_owner = NULL WHERE status = 'running' "
                              "AND lease_until < ?1");
        if (!st) {
            sq_rollback(s);
            return PIORA_EDB;
        }
        sqlite3_bind_int64(st, 1, now);
        int rc = sq_exec_stmt(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE) {
            e = sq_fail(s, rc, "backup job expire");
            sq_rollback(s);
            return e;
        }
        total += sqlite3_changes(s->db);
    }
    if (total == 0) {
        sq_rollback(s);
        return PIORA_OK;
    }
    e = sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    if (e == PIORA_OK && n)
        *n = total;
    return e;
}

piora_err sq_bjob_cancel_asked(store_t *base, bjob_kind kind, int64_t id, bool *yes)
{
    sq_store *s = sq(base);
    *yes = false;
    if (!kind_ok(kind))
        return PIORA_EINVALID;
    sqlite3_stmt *st = BJ(s, kind, ST_BJ_CANCEL_ASKED, "SELECT 1 FROM ",
                          " WHERE id = ?1 AND cancel_requested = 1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    piora_err e = sq_exists(s, st, "backup job cancel asked");
    sqlite3_clear_bindings(st);
    if (e == PIORA_OK)
        *yes = true;
    return e == PIORA_ENOTFOUND ? PIORA_OK : e;
}

static bool sha_ok(const char *v)
{
    if (!v || strlen(v) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return false;
    return true;
}

piora_err sq_bjob_finish(store_t *base, bjob_kind kind, int64_t id, const char *owner,
                         const char *error, const char *sha256, int64_t size, int64_t now)
{
    sq_store *s = sq(base);
    if (!kind_ok(kind) || !sq_text_ok(owner, JOB_OWNER_MAX) ||
        (error && !sq_text_ok(error, JOB_ERROR_MAX)) ||
        /* a completed backup always has its checksum and size */
        (kind == BJOB_BACKUP && !error && (!sha_ok(sha256) || size < 0)))
        return PIORA_EINVALID;
    sqlite3_stmt *st =
        kind == BJOB_BACKUP
            ? sq_stmt(s, ST_BJ_FINISH_B,
                      "UPDATE backups SET status = CASE WHEN ?3 IS NULL THEN 'completed' "
                      "ELSE 'failed' END, error = ?3, sha256 = CASE WHEN ?3 IS NULL THEN ?4 END, "
                      "size_bytes = CASE WHEN ?3 IS NULL THEN ?5 END, completed_at = CASE "
                      "WHEN ?3 IS NULL THEN ?6 END, finished_at = ?6, updated_at = ?6, "
                      "lease_owner = NULL WHERE id = ?1 AND lease_owner = ?2 AND "
                      "status = 'running' RETURNING id")
            : sq_stmt(s, ST_BJ_FINISH_R,
                      "UPDATE restores SET status = CASE WHEN ?3 IS NULL THEN 'completed' "
                      "ELSE 'failed' END, error = ?3, finished_at = ?6, updated_at = ?6, "
                      "lease_owner = NULL WHERE id = ?1 AND lease_owner = ?2 AND "
                      "status = 'running' RETURNING id");
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    bind_opt_text(st, 3, error);
    bind_opt_text(st, 4, error ? NULL : sha256);
    sqlite3_bind_int64(st, 5, size);
    sqlite3_bind_int64(st, 6, now);
    int64_t got = 0;
    int rc = step_id(st, &got);
    if (rc != SQLITE_DONE || got == 0) {
        e = rc != SQLITE_DONE ? sq_fail(s, rc, "backup job finish") : PIORA_ENOTFOUND;
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

piora_err sq_bjob_cancel(store_t *base, bjob_kind kind, int64_t team_id, int64_t id, int64_t now,
                         deploy_cancel_outcome *out)
{
    sq_store *s = sq(base);
    *out = DEPLOY_CANCEL_FINISHED;
    if (!kind_ok(kind))
        return PIORA_EINVALID;
    sqlite3_stmt *q = BJ(s, kind, ST_BJ_CANCEL_PENDING, "UPDATE ",
                         " SET status = 'failed', error = 'cancelled', finished_at = ?3, "
                         "updated_at = ?3 WHERE id = ?2 AND team_id = ?1 AND status = 'pending' "
                         "RETURNING id");
    sqlite3_stmt *r = BJ(s, kind, ST_BJ_CANCEL_RUNNING, "UPDATE ",
                         " SET cancel_requested = 1, updated_at = ?3 WHERE id = ?2 AND "
                         "team_id = ?1 AND status = 'running' RETURNING id");
    sqlite3_stmt *ex = BJ(s, kind, ST_BJ_TEAM_EXISTS, "SELECT 1 FROM ",
                          " WHERE id = ?2 AND team_id = ?1");
    if (!q || !r || !ex)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t got = 0;
    int rc = SQLITE_DONE;
    sqlite3_stmt *steps[2] = {q, r};
    for (int i = 0; i < 2 && got == 0 && rc == SQLITE_DONE; i++) {
        sqlite3_bind_int64(steps[i], 1, team_id);
        sqlite3_bind_int64(steps[i], 2, id);
        sqlite3_bind_int64(steps[i], 3, now);
        rc = step_id(steps[i], &got);
        if (got)
            *out = i == 0 ? DEPLOY_CANCELLED_NOW : DEPLOY_CANCEL_ASKED;
    }
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "backup job cancel");
        sq_rollback(s);
        return e;
    }
    if (got == 0) {
        sqlite3_bind_int64(ex, 1, team_id);
        sqlite3_bind_int64(ex, 2, id);
        e = sq_exists(s, ex, kind_word(kind));
        sqlite3_clear_bindings(ex);
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

static piora_err log_insert(sq_store *s, bjob_kind kind, int64_t id, int64_t at, const char *data,
                            size_t len)
{
    sqlite3_stmt *st = sq_stmt(s, ST_BJ_LOG_INSERT,
                               "INSERT INTO job_log_chunks(job_kind, job_id, start_at, size, data) "
                               "VALUES(?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_text(st, 1, kind_word(kind), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)len);
    sqlite3_bind_blob(st, 5, data, (int)len, SQLITE_STATIC);
    int rc = sq_exec_stmt(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? PIORA_OK : sq_fail(s, rc, "backup job log append");
}

piora_err sq_bjob_log_append(store_t *base, bjob_kind kind, int64_t id, const char *data,
                             size_t len, int64_t cap, const char *marker)
{
    sq_store *s = sq(base);
    if (len == 0)
        return PIORA_OK;
    if (!kind_ok(kind) || !data || len > (1u << 24) || cap < 0 || !marker)
        return PIORA_EINVALID;
    sqlite3_stmt *sz = BJ(s, kind, ST_BJ_LOG_SIZE, "SELECT log_size FROM ", " WHERE id = ?1");
    sqlite3_stmt *set = BJ(s, kind, ST_BJ_LOG_SET_SIZE, "UPDATE ",
                           " SET log_size = ?2 WHERE id = ?1");
    if (!sz || !set)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(sz, 1, id);
    int rc = sqlite3_step(sz);
    int64_t size = rc == SQLITE_ROW ? sqlite3_column_int64(sz, 0) : -1;
    sqlite3_reset(sz);
    sqlite3_clear_bindings(sz);
    if (size < 0) {
        e = rc == SQLITE_ROW || rc == SQLITE_DONE ? PIORA_ENOTFOUND
                                                  : sq_fail(s, rc, "backup job log size");
        sq_rollback(s);
        return e;
    }
    /* log_size past cap means the marker is written: drop quietly. */
    if (size >= cap) {
        sq_rollback(s);
        return PIORA_OK;
    }
    size_t room = (size_t)(cap - size);
    size_t take = len < room ? len : room;
    e = log_insert(s, kind, id, size, data, take);
    size += (int64_t)take;
    if (e == PIORA_OK && take < len) {
        size_t mlen = strlen(marker);
        e = log_insert(s, kind, id, size, marker, mlen);
        size += (int64_t)mlen;
    }
    if (e == PIORA_OK) {
        sqlite3_bind_int64(set, 1, id);
        sqlite3_bind_int64(set, 2, size);
        rc = sq_exec_stmt(set);
        sqlite3_clear_bindings(set);
        if (rc != SQLITE_DONE)
            e = sq_fail(s, rc, "backup job log size set");
    }
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, 0);
}

piora_err sq_bjob_log_read(store_t *base, bjob_kind kind, int64_t team_id, int64_t id,
                           int64_t offset, size_t max, char **buf, size_t *len, bool *complete)
{
    sq_store *s = sq(base);
    *buf = NULL;
    *len = 0;
    *complete = false;
    if (!kind_ok(kind) || offset < 0 || max == 0)
        return PIORA_EINVALID;
    sqlite3_stmt *state = BJ(s, kind, ST_BJ_LOG_STATE, "SELECT status, log_size FROM ",
                             " WHERE id = ?2 AND team_id = ?1");
    sqlite3_stmt *chunks = sq_stmt(s, ST_BJ_LOG_CHUNKS,
                                   "SELECT start_at, data FROM job_log_chunks "
                                   "WHERE job_kind = ?3 AND job_id = ?1 "
                                   "AND start_at + size > ?2 ORDER BY start_at");
    if (!state || !chunks)
        return PIORA_EDB;
    piora_err e = sq_begin_read(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(state, 1, team_id);
    sqlite3_bind_int64(state, 2, id);
    int rc = sqlite3_step(state);
    bool ended = false;
    int64_t size = 0;
    if (rc == SQLITE_ROW) {
        const char *st = (const char *)sqlite3_column_text(state, 0);
        ended = st && strcmp(st, "pending") != 0 && strcmp(st, "running") != 0;
        size = sqlite3_column_int64(state, 1);
    }
    sqlite3_reset(state);
    sqlite3_clear_bindings(state);
    if (rc != SQLITE_ROW) {
        sq_end_read(s);
        return rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, "backup job log state");
    }
    size_t want = offset < size ? (size_t)(size - offset) : 0;
    if (want > max)
        want = max;
    char *out = malloc(want + 1);
    if (!out) {
        sq_end_read(s);
        return PIORA_ENOMEM;
    }
    size_t got = 0;
    sqlite3_bind_int64(chunks, 1, id);
    sqlite3_bind_int64(chunks, 2, offset);
    sqlite3_bind_text(chunks, 3, kind_word(kind), -1, SQLITE_STATIC);
    while (got < want && (rc = sqlite3_step(chunks)) == SQLITE_ROW) {
        int64_t at = sqlite3_column_int64(chunks, 0);
        const char *d = sqlite3_column_blob(chunks, 1);
        int64_t n = sqlite3_column_bytes(chunks, 1);
        int64_t from = offset + (int64_t)got - at; /* chunks are contiguous */
        if (from < 0 || from >= n || !d)
            break;
        size_t take = (size_t)(n - from);
        if (take > want - got)
            take = want - got;
        memcpy(out + got, d + from, take);
        got += take;
    }
    sqlite3_reset(chunks);
    sqlite3_clear_bindings(chunks);
    sq_end_read(s);
    out[got] = '\0';
    *buf = out;
    *len = got;
    *complete = ended && offset + (int64_t)got >= size;
    return PIORA_OK;
}
