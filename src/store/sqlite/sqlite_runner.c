/* Deployments as jobs on SQLite (issue 9): the queue with its per-server
 * bound, the claim under a lease inside BEGIN IMMEDIATE, heartbeats, lost
 * leases, cancel, and the log appended in chunks. Status changes are
 * CHANGE_OBJECTS (the API shows them); heartbeats and log chunks change no
 * object, so they move no generation. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

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

piora_err sq_deploy_queue(store_t *base, int64_t team_id, int64_t application_id, const char *ref,
                          const job_trigger *trig, int64_t max_queued, int64_t now, int64_t *id)
{
    sq_store *s = sq(base);
    *id = 0;
    if (application_id <= 0 || max_queued < 0 || !trig || !trig->type ||
        (ref && !sq_text_ok(ref, DEPLOY_REF_MAX)))
        return PIORA_EINVALID;
    /* The bound counts what waits for the server, whichever application,
     * backups and restores too (server_jobs, migration 0013). */
    sqlite3_stmt *ins = sq_stmt(
        s, ST_DEPLOY_QUEUE,
        "INSERT INTO deployments(id, team_id, application_id, status, log, ref, trigger_type, "
        "trigger_id, trigger_name, created_at, updated_at) "
        "SELECT " SQ_NEXT_ID("deployments") ", a.team_id, a.id, 'queued', '', COALESCE(?3, a.branch), ?4, ?5, ?6, ?7, ?7 "
        "FROM applications a WHERE a.id = ?2 AND a.team_id = ?1 AND "
        "(SELECT COUNT(*) FROM server_jobs q WHERE q.server_id = a.server_id "
        "AND q.status IN ('queued', 'pending')) < ?8 RETURNING id");
    sqlite3_stmt *ex = sq_stmt(s, ST_DEPLOY_APP_EXISTS,
                               "SELECT 1 FROM applications WHERE id = ?2 AND team_id = ?1");
    if (!ins || !ex)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(ins, 1, team_id);
    sqlite3_bind_int64(ins, 2, application_id);
    bind_opt_text(ins, 3, ref);
    sqlite3_bind_text(ins, 4, trig->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 5, trig->id);
    bind_opt_text(ins, 6, trig->name);
    sqlite3_bind_int64(ins, 7, now);
    sqlite3_bind_int64(ins, 8, max_queued);
    int rc = step_id(ins, id);
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "deployment queue");
        sq_rollback(s);
        return e;
    }
    if (*id == 0) {
        sqlite3_bind_int64(ex, 1, team_id);
        sqlite3_bind_int64(ex, 2, application_id);
        e = sq_exists(s, ex, "deployment application");
        sqlite3_clear_bindings(ex);
        sq_rollback(s);
        return e == PIORA_OK ? PIORA_ETOOBIG : e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

static void claim_row(sqlite3_stmt *st, void *out)
{
    deploy_claim *c = out;
    c->id = sq_col_int(st, 0);
    c->team_id = sq_col_int(st, 1);
    c->application_id = sq_col_int(st, 2);
    c->server_id = sq_col_int(st, 3);
    sq_col_copy(st, 4, c->ref, sizeof c->ref);
    sq_col_copy(st, 5, c->repository, sizeof c->repository);
    const unsigned char *script = sqlite3_column_text(st, 6);
    if (script)
        c->script = strdup((const char *)script);
    sq_col_copy(st, 7, c->host, sizeof c->host);
    c->port = (unsigned)sq_col_int(st, 8);
    sq_col_copy(st, 9, c->user, sizeof c->user);
    sq_col_copy(st, 10, c->host_key, sizeof c->host_key);
}

static piora_err set_app_status(sq_store *s, int64_t app_id, const char *status, int64_t now)
{
    sqlite3_stmt *st = sq_stmt(s, ST_DEPLOY_APP_STATUS,
                               "UPDATE applications SET status = ?2, updated_at = ?3 WHERE id = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, app_id);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    int rc = sq_exec_stmt(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? PIORA_OK : sq_fail(s, rc, "application status");
}

piora_err sq_deploy_claim(store_t *base, const char *owner, int64_t now, int64_t lease_until,
                          int64_t per_server, deploy_claim *out)
{
    sq_store *s = sq(base);
    memset(out, 0, sizeof *out);
    if (!sq_text_ok(owner, JOB_OWNER_MAX) || per_server < 1)
        return PIORA_EINVALID;
    /* An application's deployments run one at a time in id order: only its
     * oldest queued one may start, and only while none of it runs. The
     * server's running jobs are of every kind (server_jobs, migration 0013). */
    sqlite3_stmt *claim = sq_stmt(
        s, ST_DEPLOY_CLAIM,
        "UPDATE deployments SET status = 'running', started_at = ?1, updated_at = ?1, "
        "lease_owner = ?2, lease_until = ?3 WHERE id = ("
        "SELECT d.id FROM deployments d JOIN applications a ON a.id = d.application_id "
        "WHERE d.status = 'queued' AND NOT EXISTS (SELECT 1 FROM deployments o "
        "WHERE o.application_id = d.application_id AND (o.status = 'running' OR "
        "(o.status = 'queued' AND o.id < d.id))) AND (SELECT COUNT(*) FROM server_jobs r "
        "WHERE r.server_id = a.server_id AND r.status = 'running') < ?4 "
        "ORDER BY d.id LIMIT 1) AND status = 'queued' "
        "RETURNING id");
    sqlite3_stmt *get = sq_stmt(
        s, ST_DEPLOY_CLAIMED,
        "SELECT d.id, d.team_id, d.application_id, a.server_id, d.ref, a.repository, "
        "a.deploy_script, sv.ip_address, sv.ssh_port, sv.ssh_user, sv.host_key_fingerprint "
        "FROM deployments d JOIN applications a ON a.id = d.application_id "
        "JOIN servers sv ON sv.id = a.server_id WHERE d.id = ?1");
    sqlite3_stmt *any = sq_stmt(s, ST_DEPLOY_ANY_QUEUED,
                                "SELECT 1 FROM deployments WHERE status = 'queued' LIMIT 1");
    if (!claim || !get || !any)
        return PIORA_EDB;
    /* Idle workers ask often: a read first keeps them from taking the write
     * lock when nothing waits. */
    piora_err e = sq_exists(s, any, "queued deployment");
    if (e != PIORA_OK)
        return e;
    e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(claim, 1, now);
    sqlite3_bind_text(claim, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(claim, 3, lease_until);
    sqlite3_bind_int64(claim, 4, per_server);
    int64_t id = 0;
    int rc = step_id(claim, &id);
    if (rc != SQLITE_DONE || id == 0) {
        e = rc != SQLITE_DONE ? sq_fail(s, rc, "deployment claim") : PIORA_ENOTFOUND;
        sq_rollback(s);
        return e;
    }
    sqlite3_bind_int64(get, 1, id);
    e = sq_fetch_row(s, get, claim_row, out, "claimed deployment");
    sqlite3_clear_bindings(get);
    if (e == PIORA_OK)
        e = set_app_status(s, out->application_id, "deploying", now);
    if (e != PIORA_OK) {
        free(out->script);
        out->script = NULL;
        sq_rollback(s);
        return e;
    }
    e = sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    if (e != PIORA_OK) {
        free(out->script);
        out->script = NULL;
    }
    return e;
}

piora_err sq_job_heartbeat(store_t *base, const char *owner, int64_t lease_until)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(owner, JOB_OWNER_MAX))
        return PIORA_EINVALID;
    sqlite3_stmt *st = sq_stmt(s, ST_JOB_HEARTBEAT,
                               "UPDATE deployments SET lease_until = ?2 "
                               "WHERE lease_owner = ?1 AND status = 'running'");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, lease_until);
    int rc = sq_exec_stmt(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? PIORA_OK : sq_fail(s, rc, "job heartbeat");
}

piora_err sq_job_expire(store_t *base, int64_t now, int64_t *n)
{
    sq_store *s = sq(base);
    if (n)
        *n = 0;
    sqlite3_stmt *st = sq_stmt(s, ST_JOB_EXPIRE,
                               "UPDATE deployments SET status = 'failed', error = 'lost', "
                               "finished_at = ?1, updated_at = ?1, lease_owner = NULL "
                               "WHERE status = 'running' AND lease_until < ?1 "
                               "RETURNING application_id");
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(st, 1, now);
    int64_t apps[64];
    size_t k = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (k < sizeof apps / sizeof apps[0])
            apps[k++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "job expire");
        sq_rollback(s);
        return e;
    }
    if (k == 0) {
        sq_rollback(s);
        return PIORA_OK;
    }
    for (size_t i = 0; i < k && e == PIORA_OK; i++)
        e = set_app_status(s, apps[i], "failed", now);
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    e = sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    if (e == PIORA_OK && n)
        *n = (int64_t)k;
    return e;
}

piora_err sq_deploy_cancel_asked(store_t *base, int64_t id, bool *yes)
{
    sq_store *s = sq(base);
    *yes = false;
    sqlite3_stmt *st = sq_stmt(s, ST_DEPLOY_CANCEL_ASKED,
                               "SELECT 1 FROM deployments WHERE id = ?1 AND cancel_requested = 1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    piora_err e = sq_exists(s, st, "deployment cancel asked");
    sqlite3_clear_bindings(st);
    if (e == PIORA_OK)
        *yes = true;
    return e == PIORA_ENOTFOUND ? PIORA_OK : e;
}

piora_err sq_deploy_finish(store_t *base, int64_t id, const char *owner, const char *status,
                           const char *error, const char *commit, int exit_code, int64_t now)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(owner, JOB_OWNER_MAX) || !status ||
        (strcmp(status, "succeeded") != 0 && strcmp(status, "failed") != 0 &&
         strcmp(status, "cancelled") != 0) ||
        (error && !sq_text_ok(error, JOB_ERROR_MAX)) || (commit && !sq_text_ok(commit, 64)))
        return PIORA_EINVALID;
    sqlite3_stmt *st = sq_stmt(s, ST_DEPLOY_FINISH,
                               "UPDATE deployments SET status = ?3, error = ?4, \"commit\" = ?5, "
                               "exit_code = ?6, finished_at = ?7, updated_at = ?7, "
                               "lease_owner = NULL WHERE id = ?1 AND lease_owner = ?2 "
                               "AND status = 'running' RETURNING application_id");
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
    bind_opt_text(st, 4, error);
    bind_opt_text(st, 5, commit);
    if (exit_code >= 0)
        sqlite3_bind_int64(st, 6, exit_code);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, now);
    int64_t app = 0;
    int rc = step_id(st, &app);
    if (rc != SQLITE_DONE || app == 0) {
        e = rc != SQLITE_DONE ? sq_fail(s, rc, "deployment finish") : PIORA_ENOTFOUND;
        sq_rollback(s);
        return e;
    }
    e = set_app_status(s, app, strcmp(status, "succeeded") == 0 ? "running" : "failed", now);
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

piora_err sq_deploy_cancel(store_t *base, int64_t team_id, int64_t id, int64_t now,
                           deploy_cancel_outcome *out)
{
    sq_store *s = sq(base);
    *out = DEPLOY_CANCEL_FINISHED;
    sqlite3_stmt *q = sq_stmt(s, ST_DEPLOY_CANCEL_QUEUED,
                              "UPDATE deployments SET status = 'cancelled', error = 'cancelled', "
                              "finished_at = ?3, updated_at = ?3 WHERE id = ?2 AND team_id = ?1 "
                              "AND status = 'queued' RETURNING id");
    sqlite3_stmt *r = sq_stmt(s, ST_DEPLOY_CANCEL_RUNNING,
                              "UPDATE deployments SET cancel_requested = 1, updated_at = ?3 "
                              "WHERE id = ?2 AND team_id = ?1 AND status = 'running' RETURNING id");
    sqlite3_stmt *ex = sq_stmt(s, ST_DEPLOY_TEAM_EXISTS,
                               "SELECT 1 FROM deployments WHERE id = ?2 AND team_id = ?1");
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
        e = sq_fail(s, rc, "deployment cancel");
        sq_rollback(s);
        return e;
    }
    if (got == 0) {
        sqlite3_bind_int64(ex, 1, team_id);
        sqlite3_bind_int64(ex, 2, id);
        e = sq_exists(s, ex, "deployment");
        sqlite3_clear_bindings(ex);
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

static piora_err log_insert(sq_store *s, int64_t id, int64_t at, const char *data, size_t len)
{
    sqlite3_stmt *st = sq_stmt(s, ST_LOG_INSERT,
                               "INSERT INTO job_log_chunks(job_kind, job_id, start_at, size, data) "
                               "VALUES('deployment', ?1, ?2, ?3, ?4)");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)len);
    sqlite3_bind_blob(st, 4, data, (int)len, SQLITE_STATIC);
    int rc = sq_exec_stmt(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? PIORA_OK : sq_fail(s, rc, "log append");
}

piora_err sq_job_log_append(store_t *base, int64_t id, const char *data, size_t len, int64_t cap,
                            const char *marker)
{
    sq_store *s = sq(base);
    if (len == 0)
        return PIORA_OK;
    if (!data || len > (1u << 24) || cap < 0 || !marker)
        return PIORA_EINVALID;
    sqlite3_stmt *sz = sq_stmt(s, ST_LOG_SIZE, "SELECT log_size FROM deployments WHERE id = ?1");
    sqlite3_stmt *set = sq_stmt(s, ST_LOG_SET_SIZE,
                                "UPDATE deployments SET log_size = ?2 WHERE id = ?1");
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
        e = rc == SQLITE_ROW || rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, "log size");
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
    e = log_insert(s, id, size, data, take);
    size += (int64_t)take;
    if (e == PIORA_OK && take < len) {
        size_t mlen = strlen(marker);
        e = log_insert(s, id, size, marker, mlen);
        size += (int64_t)mlen;
    }
    if (e == PIORA_OK) {
        sqlite3_bind_int64(set, 1, id);
        sqlite3_bind_int64(set, 2, size);
        rc = sq_exec_stmt(set);
        sqlite3_clear_bindings(set);
        if (rc != SQLITE_DONE)
            e = sq_fail(s, rc, "log size set");
    }
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, 0);
}

piora_err sq_job_log_read(store_t *base, int64_t team_id, int64_t id, int64_t offset, size_t max,
                          char **buf, size_t *len, bool *complete)
{
    sq_store *s = sq(base);
    *buf = NULL;
    *len = 0;
    *complete = false;
    if (offset < 0 || max == 0)
        return PIORA_EINVALID;
    sqlite3_stmt *state = sq_stmt(s, ST_LOG_STATE,
                                  "SELECT status, log_size FROM deployments "
                                  "WHERE id = ?2 AND team_id = ?1");
    sqlite3_stmt *chunks = sq_stmt(s, ST_LOG_CHUNKS,
                                   "SELECT start_at, data FROM job_log_chunks "
                                   "WHERE job_kind = 'deployment' AND job_id = ?1 "
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
        ended = st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0;
        size = sqlite3_column_int64(state, 1);
    }
    sqlite3_reset(state);
    sqlite3_clear_bindings(state);
    if (rc != SQLITE_ROW) {
        sq_end_read(s);
        return rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, "log state");
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
