/* Backups and restores as jobs on PostgreSQL (issue 11), the twin of
 * sqlite_backup_jobs.c: the queues with their per-server bound, the claim
 * under a lease, heartbeats, lost leases, cancel, the outcome, and the log
 * in chunks (job_log_chunks, job_kind 'backup' or 'restore').
 *
 * SQLite's BEGIN IMMEDIATE serialises claims; here nodes claim at once,
 * as pg_runner.c's deployment claim does: the oldest eligible job is
 * picked, its row locked FOR UPDATE SKIP LOCKED (claimers skip each
 * other's rows), then the transaction-level advisory lock of its server is
 * taken (the same lock class as pg_runner.c's, which queueing takes too,
 * so --jobs-per-server and --queue-per-server hold across job kinds and
 * nodes) and a new statement checks the database and the server again. A
 * server found full is skipped on the next try; a transaction holds one
 * advisory lock at most and never waits on a row lock while holding it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_internal.h"

/* Must equal pg_runner.c's PG_LOCK_SERVER_JOBS: one lock per server for
 * every job kind (two-key form, the server id folded into 31 bits). */
#define PG_LOCK_SERVER_JOBS "1885825537"
#define CLAIM_TRIES 8

static const char *kind_word(bjob_kind k) { return k == BJOB_BACKUP ? "backup" : "restore"; }

static bool kind_ok(bjob_kind k) { return k == BJOB_BACKUP || k == BJOB_RESTORE; }

static bool trig_ok(const job_trigger *t)
{
    return t && pg_text_ok(t->type, 16) && (!t->name || strlen(t->name) <= 255);
}

static piora_err lock_server(pg_store *s, int64_t server_id)
{
    static pg_stmt q = PG_STMT("SELECT pg_advisory_xact_lock(" PG_LOCK_SERVER_JOBS
                               ", ($1::bigint % 2147483647)::int4)");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, server_id);
    return pg_do(s, &q, &p, NULL, "server job lock");
}

/* The server of the team's database: the one whose queue bound applies. */
static piora_err server_of(pg_store *s, int64_t team_id, int64_t database_id, int64_t *server)
{
    static pg_stmt q = PG_STMT("SELECT server_id FROM databases WHERE id = $2 AND team_id = $1");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, database_id);
    return pg_fetch_int(s, &q, &p, server, "job database");
}

#define WAITING_ON(server)                                                                    \
    "(SELECT count(*) FROM server_jobs w WHERE w.server_id = " server                         \
    " AND w.status IN ('queued', 'pending'))"

/* Runs an INSERT ... RETURNING id under the lock of the server of the
 * team's database db; *id 0 when it inserted nothing, then the probe tells
 * a full queue (ETOOBIG) from rows that are not the team's (ENOTFOUND). */
static piora_err queue_one(pg_store *s, int64_t team_id, int64_t db, pg_stmt *ins,
                           const pg_params *p, pg_stmt *probe, const pg_params *pp, int64_t *id,
                           const char *what)
{
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t server = 0;
    if ((e = server_of(s, team_id, db, &server)) != PIORA_OK ||
        (e = lock_server(s, server)) != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    e = pg_fetch_int(s, ins, p, id, what);
    if (e == PIORA_ENOTFOUND) {
        *id = 0;
        e = pg_exists(s, probe, pp, what);
        pg_rollback(s);
        return e == PIORA_OK ? PIORA_ETOOBIG : e;
    }
    if (e != PIORA_OK) {
        pg_rollback(s);
        *id = 0;
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

piora_err pg_bjob_queue_backup(store_t *base, int64_t team_id, int64_t database_id,
                               const job_trigger *trig, int64_t max_queued, int64_t now,
                               int64_t *id)
{
    static pg_stmt ins = PG_STMT(
        "INSERT INTO backups(team_id, database_id, status, trigger_type, trigger_id, "
        "trigger_name, created_at, updated_at) SELECT d.team_id, d.id, 'pending', $3::text, "
        "$4::bigint, $5::text, $6::bigint, $6::bigint FROM databases d WHERE d.id = $2 AND "
        "d.team_id = $1 AND " WAITING_ON("d.server_id") " < $7::bigint RETURNING id");
    static pg_stmt ex = PG_STMT("SELECT 1 FROM databases WHERE id = $2 AND team_id = $1");
    pg_store *s = pgs(base);
    *id = 0;
    if (database_id <= 0 || max_queued < 0 || !trig_ok(trig))
        return PIORA_EINVALID;
    pg_params p, pp;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, database_id);
    pg_p_text(&p, trig->type);
    pg_p_int(&p, trig->id);
    pg_p_text(&p, trig->name);
    pg_p_int(&p, now);
    pg_p_int(&p, max_queued);
    pg_params_init(&pp);
    pg_p_int(&pp, team_id);
    pg_p_int(&pp, database_id);
    return queue_one(s, team_id, database_id, &ins, &p, &ex, &pp, id, "backup queue");
}

piora_err pg_bjob_queue_restore(store_t *base, int64_t team_id, int64_t backup_id,
                                int64_t database_id, const job_trigger *trig, int64_t max_queued,
                                int64_t now, int64_t *id)
{
    static pg_stmt ins = PG_STMT(
        "INSERT INTO restores(team_id, backup_id, database_id, status, log, trigger_type, "
        "trigger_id, trigger_name, created_at, updated_at) SELECT b.team_id, b.id, d.id, "
        "'pending', '', $4::text, $5::bigint, $6::text, $7::bigint, $7::bigint FROM backups b "
        "JOIN databases d ON d.id = $3 AND d.team_id = b.team_id WHERE b.id = $2 AND "
        "b.team_id = $1 AND " WAITING_ON("d.server_id") " < $8::bigint RETURNING id");
    static pg_stmt ex = PG_STMT("SELECT 1 FROM backups b JOIN databases d ON d.id = $3 AND "
                                "d.team_id = b.team_id WHERE b.id = $2 AND b.team_id = $1");
    pg_store *s = pgs(base);
    *id = 0;
    if (backup_id <= 0 || database_id <= 0 || max_queued < 0 || !trig_ok(trig))
        return PIORA_EINVALID;
    pg_params p, pp;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, backup_id);
    pg_p_int(&p, database_id);
    pg_p_text(&p, trig->type);
    pg_p_int(&p, trig->id);
    pg_p_text(&p, trig->name);
    pg_p_int(&p, now);
    pg_p_int(&p, max_queued);
    pg_params_init(&pp);
    pg_p_int(&pp, team_id);
    pg_p_int(&pp, backup_id);
    pg_p_int(&pp, database_id);
    return queue_one(s, team_id, database_id, &ins, &p, &ex, &pp, id, "restore queue");
}

static void claim_row(const PGresult *r, int row, void *out)
{
    bjob_claim *c = out;
    c->id = pg_col_int(r, row, 0);
    c->team_id = pg_col_int(r, row, 1);
    c->server_id = pg_col_int(r, row, 2);
    c->backup_id = pg_col_int(r, row, 3);
    c->database_id = pg_col_int(r, row, 4);
    pg_col_copy(r, row, 5, c->engine, sizeof c->engine);
    pg_col_copy(r, row, 6, c->name, sizeof c->name);
    pg_col_copy(r, row, 7, c->db_host, sizeof c->db_host);
    c->db_port = pg_col_int(r, row, 8);
    pg_col_copy(r, row, 9, c->db_user, sizeof c->db_user);
    pg_col_copy(r, row, 10, c->source_name, sizeof c->source_name);
    pg_col_copy(r, row, 11, c->sha256, sizeof c->sha256);
    pg_col_copy(r, row, 12, c->host, sizeof c->host);
    c->port = (unsigned)pg_col_int(r, row, 13);
    pg_col_copy(r, row, 14, c->user, sizeof c->user);
    pg_col_copy(r, row, 15, c->host_key, sizeof c->host_key);
    c->scheduled = pg_col_int(r, row, 16) != 0;
}

typedef struct pick { char kind[16]; int64_t id, server_id; } pick;

static void pick_row(const PGresult *r, int row, void *out)
{
    pick *k = out;
    pg_col_copy(r, row, 0, k->kind, sizeof k->kind);
    k->id = pg_col_int(r, row, 1);
    k->server_id = pg_col_int(r, row, 2);
}

/* One job per database at a time, as on SQLite; the server's running jobs
 * of every kind below per_server. */
#define DB_IDLE                                                                                \
    "NOT EXISTS (SELECT 1 FROM db_jobs o WHERE o.database_id = j.database_id AND "            \
    "o.status = 'running') "
#define SERVER_RUNNING(server)                                                                 \
    "(SELECT count(*) FROM server_jobs r WHERE r.server_id = " server " AND "                  \
    "r.status = 'running') "

/* One attempt in its own transaction; *full gets the server id when the
 * picked job's server had no slot left once locked. */
static piora_err claim_once(pg_store *s, const char *owner, int64_t now, int64_t lease_until,
                            int64_t per_server, const char *skip, bjob_claim *out, int64_t *full)
{
    static pg_stmt choose = PG_STMT(
        "SELECT j.kind, j.id, j.server_id FROM db_jobs j WHERE j.status = 'pending' AND "
        "NOT (j.server_id = ANY ($2::bigint[])) AND " DB_IDLE "AND " SERVER_RUNNING("j.server_id")
        "< $1::bigint ORDER BY j.created_at, j.id, j.kind LIMIT 1");
    static pg_stmt lock_b = PG_STMT("SELECT id FROM backups WHERE id = $1 AND status = 'pending' "
                                    "FOR UPDATE SKIP LOCKED");
    static pg_stmt lock_r = PG_STMT("SELECT id FROM restores WHERE id = $1 AND status = "
                                    "'pending' FOR UPDATE SKIP LOCKED");
    static pg_stmt recheck = PG_STMT(
        "SELECT 1 FROM db_jobs j WHERE j.kind = $1::text AND j.id = $2 AND j.status = 'pending' "
        "AND " DB_IDLE "AND " SERVER_RUNNING("$3::bigint") "< $4::bigint");
    static pg_stmt claim_b = PG_STMT(
        "UPDATE backups SET status = 'running', started_at = $2::bigint, updated_at = $2::bigint, "
        "lease_owner = $3::text, lease_until = $4::bigint WHERE id = $1 AND status = 'pending'");
    static pg_stmt claim_r = PG_STMT(
        "UPDATE restores SET status = 'running', started_at = $2::bigint, updated_at = $2::bigint, "
        "lease_owner = $3::text, lease_until = $4::bigint WHERE id = $1 AND status = 'pending'");
    static pg_stmt get_b = PG_STMT(
        "SELECT b.id, b.team_id, db.server_id, b.id, db.id, db.engine, db.name, db.host, "
        "db.port, db.username, '', '', sv.ip_address, sv.ssh_port, sv.ssh_user, "
        "sv.host_key_fingerprint, b.trigger_type IS NOT DISTINCT FROM 'schedule' FROM backups b "
        "JOIN databases db ON db.id = b.database_id JOIN servers sv ON sv.id = db.server_id "
        "WHERE b.id = $1");
    static pg_stmt get_r = PG_STMT(
        "SELECT r.id, r.team_id, t.server_id, b.id, t.id, t.engine, t.name, t.host, t.port, "
        "t.username, src.name, b.sha256, sv.ip_address, sv.ssh_port, sv.ssh_user, "
        "sv.host_key_fingerprint, 0 FROM restores r JOIN backups b ON b.id = r.backup_id "
        "JOIN databases src ON src.id = b.database_id "
        "JOIN databases t ON t.id = COALESCE(r.database_id, b.database_id) "
        "JOIN servers sv ON sv.id = t.server_id WHERE r.id = $1");
    *full = 0;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, per_server);
    pg_p_text(&p, skip);
    pick k = {{0}, 0, 0};
    e = pg_fetch_row(s, &choose, &p, pick_row, &k, "backup job pick");
    bjob_kind kind = strcmp(k.kind, "restore") == 0 ? BJOB_RESTORE : BJOB_BACKUP;
    if (e == PIORA_OK) {
        /* ENOTFOUND: another claimer holds or took it; the next ask goes on */
        pg_params_init(&p);
        pg_p_int(&p, k.id);
        e = pg_exists(s, kind == BJOB_BACKUP ? &lock_b : &lock_r, &p, "backup job lock");
    }
    if (e == PIORA_OK)
        e = lock_server(s, k.server_id);
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_text(&p, k.kind);
        pg_p_int(&p, k.id);
        pg_p_int(&p, k.server_id);
        pg_p_int(&p, per_server);
        e = pg_exists(s, &recheck, &p, "backup job recheck");
        if (e == PIORA_ENOTFOUND)
            *full = k.server_id;
    }
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, k.id);
        pg_p_int(&p, now);
        pg_p_text(&p, owner);
        pg_p_int(&p, lease_until);
        int64_t rows = 0;
        e = pg_do(s, kind == BJOB_BACKUP ? &claim_b : &claim_r, &p, &rows, "backup job claim");
        if (e == PIORA_OK && rows != 1)
            e = PIORA_EINTERNAL; /* the row is ours (locked) and was pending */
    }
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, k.id);
        e = pg_fetch_row(s, kind == BJOB_BACKUP ? &get_b : &get_r, &p, claim_row, out,
                         "claimed backup job");
    }
    if (e == PIORA_OK) {
        out->kind = kind;
        e = pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    } else {
        pg_rollback(s);
    }
    if (e != PIORA_OK)
        memset(out, 0, sizeof *out);
    return e;
}

piora_err pg_bjob_claim(store_t *base, const char *owner, int64_t now, int64_t lease_until,
                        int64_t per_server, bjob_claim *out)
{
    static pg_stmt any = PG_STMT("SELECT 1 WHERE EXISTS (SELECT 1 FROM backups WHERE status = "
                                 "'pending') OR EXISTS (SELECT 1 FROM restores WHERE status = "
                                 "'pending')");
    pg_store *s = pgs(base);
    memset(out, 0, sizeof *out);
    if (!pg_text_ok(owner, JOB_OWNER_MAX) || per_server < 1)
        return PIORA_EINVALID;
    /* idle workers ask often: a read first, no transaction when nothing waits */
    piora_err e = pg_exists(s, &any, NULL, "pending backup job");
    if (e != PIORA_OK)
        return e;
    /* "{1,2,...}": the servers found full so far, an array parameter */
    char skip[2 + CLAIM_TRIES * 21] = "{}";
    size_t used = 1;
    for (int i = 0; i < CLAIM_TRIES; i++) {
        int64_t full = 0;
        e = claim_once(s, owner, now, lease_until, per_server, skip, out, &full);
        if (e != PIORA_ENOTFOUND || full == 0)
            return e;
        int w = snprintf(skip + used, sizeof skip - used, "%s%lld}", used > 1 ? "," : "",
                         (long long)full);
        if (w < 0 || (size_t)w >= sizeof skip - used)
            break;
        used += (size_t)w - 1; /* the next one overwrites the closing brace */
    }
    return PIORA_ENOTFOUND;
}

piora_err pg_bjob_heartbeat(store_t *base, const char *owner, int64_t lease_until)
{
    static pg_stmt hb_b = PG_STMT("UPDATE backups SET lease_until = $2::bigint "
                                  "WHERE lease_owner = $1::text AND status = 'running'");
    static pg_stmt hb_r = PG_STMT("UPDATE restores SET lease_until = $2::bigint "
                                  "WHERE lease_owner = $1::text AND status = 'running'");
    pg_store *s = pgs(base);
    if (!pg_text_ok(owner, JOB_OWNER_MAX))
        return PIORA_EINVALID;
    pg_params p;
    pg_params_init(&p);
    pg_p_text(&p, owner);
    pg_p_int(&p, lease_until);
    piora_err e = pg_do(s, &hb_b, &p, NULL, "backup job heartbeat");
    return e != PIORA_OK ? e : pg_do(s, &hb_r, &p, NULL, "restore job heartbeat");
}

piora_err pg_bjob_expire(store_t *base, int64_t now, int64_t *n)
{
    static pg_stmt ex_b = PG_STMT(
        "UPDATE backups SET status = 'failed', error = 'lost', finished_at = $1::bigint, "
        "updated_at = $1::bigint, lease_owner = NULL WHERE status = 'running' AND "
        "lease_until < $1::bigint");
    static pg_stmt ex_r = PG_STMT(
        "UPDATE restores SET status = 'failed', error = 'lost', finished_at = $1::bigint, "
        "updated_at = $1::bigint, lease_owner = NULL WHERE status = 'running' AND "
        "lease_until < $1::bigint");
    pg_store *s = pgs(base);
    if (n)
        *n = 0;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, now);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t a = 0, b = 0;
    if ((e = pg_do(s, &ex_b, &p, &a, "backup job expire")) != PIORA_OK ||
        (e = pg_do(s, &ex_r, &p, &b, "restore job expire")) != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    if (a + b == 0) {
        pg_rollback(s);
        return PIORA_OK;
    }
    e = pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    if (e == PIORA_OK && n)
        *n = a + b;
    return e;
}

piora_err pg_bjob_cancel_asked(store_t *base, bjob_kind kind, int64_t id, bool *yes)
{
    static pg_stmt q_b = PG_STMT("SELECT 1 FROM backups WHERE id = $1 AND cancel_requested = 1");
    static pg_stmt q_r = PG_STMT("SELECT 1 FROM restores WHERE id = $1 AND cancel_requested = 1");
    pg_store *s = pgs(base);
    *yes = false;
    if (!kind_ok(kind))
        return PIORA_EINVALID;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    piora_err e = pg_exists(s, kind == BJOB_BACKUP ? &q_b : &q_r, &p, "backup job cancel asked");
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

piora_err pg_bjob_finish(store_t *base, bjob_kind kind, int64_t id, const char *owner,
                         const char *error, const char *sha256, int64_t size, int64_t now)
{
    static pg_stmt fin_b = PG_STMT(
        "UPDATE backups SET status = CASE WHEN $3::text IS NULL THEN 'completed' ELSE 'failed' "
        "END, error = $3::text, sha256 = CASE WHEN $3::text IS NULL THEN $4::text END, "
        "size_bytes = CASE WHEN $3::text IS NULL THEN $5::bigint END, completed_at = CASE WHEN "
        "$3::text IS NULL THEN $6::bigint END, finished_at = $6::bigint, updated_at = $6::bigint, "
        "lease_owner = NULL WHERE id = $1 AND lease_owner = $2::text AND status = 'running'");
    static pg_stmt fin_r = PG_STMT(
        "UPDATE restores SET status = CASE WHEN $3::text IS NULL THEN 'completed' ELSE 'failed' "
        "END, error = $3::text, finished_at = $4::bigint, updated_at = $4::bigint, "
        "lease_owner = NULL WHERE id = $1 AND lease_owner = $2::text AND status = 'running'");
    pg_store *s = pgs(base);
    if (!kind_ok(kind) || !pg_text_ok(owner, JOB_OWNER_MAX) ||
        (error && !pg_text_ok(error, JOB_ERROR_MAX)) ||
        (kind == BJOB_BACKUP && !error && (!sha_ok(sha256) || size < 0)))
        return PIORA_EINVALID;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    pg_p_text(&p, owner);
    pg_p_text(&p, error);
    if (kind == BJOB_BACKUP) {
        pg_p_text(&p, error ? NULL : sha256);
        pg_p_int(&p, size);
    }
    pg_p_int(&p, now);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t rows = 0;
    if ((e = pg_do(s, kind == BJOB_BACKUP ? &fin_b : &fin_r, &p, &rows, "backup job finish")) !=
            PIORA_OK ||
        rows != 1) {
        pg_rollback(s);
        return e != PIORA_OK ? e : PIORA_ENOTFOUND;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

piora_err pg_bjob_cancel(store_t *base, bjob_kind kind, int64_t team_id, int64_t id, int64_t now,
                         deploy_cancel_outcome *out)
{
    static pg_stmt pend_b = PG_STMT(
        "UPDATE backups SET status = 'failed', error = 'cancelled', finished_at = $3::bigint, "
        "updated_at = $3::bigint WHERE id = $2 AND team_id = $1 AND status = 'pending'");
    static pg_stmt pend_r = PG_STMT(
        "UPDATE restores SET status = 'failed', error = 'cancelled', finished_at = $3::bigint, "
        "updated_at = $3::bigint WHERE id = $2 AND team_id = $1 AND status = 'pending'");
    static pg_stmt run_b = PG_STMT(
        "UPDATE backups SET cancel_requested = 1, updated_at = $3::bigint WHERE id = $2 AND "
        "team_id = $1 AND status = 'running'");
    static pg_stmt run_r = PG_STMT(
        "UPDATE restores SET cancel_requested = 1, updated_at = $3::bigint WHERE id = $2 AND "
        "team_id = $1 AND status = 'running'");
    static pg_stmt ex_b = PG_STMT("SELECT 1 FROM backups WHERE id = $2 AND team_id = $1");
    static pg_stmt ex_r = PG_STMT("SELECT 1 FROM restores WHERE id = $2 AND team_id = $1");
    pg_store *s = pgs(base);
    *out = DEPLOY_CANCEL_FINISHED;
    if (!kind_ok(kind))
        return PIORA_EINVALID;
    const bool b = kind == BJOB_BACKUP;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, id);
    pg_p_int(&p, now);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t rows = 0;
    if ((e = pg_do(s, b ? &pend_b : &pend_r, &p, &rows, "backup job cancel")) == PIORA_OK &&
        rows == 1)
        *out = DEPLOY_CANCELLED_NOW;
    else if (e == PIORA_OK &&
             (e = pg_do(s, b ? &run_b : &run_r, &p, &rows, "backup job cancel")) == PIORA_OK &&
             rows == 1)
        *out = DEPLOY_CANCEL_ASKED;
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    if (*out == DEPLOY_CANCEL_FINISHED) {
        pg_params pp;
        pg_params_init(&pp);
        pg_p_int(&pp, team_id);
        pg_p_int(&pp, id);
        e = pg_exists(s, b ? &ex_b : &ex_r, &pp, kind_word(kind));
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

static piora_err log_insert(pg_store *s, bjob_kind kind, int64_t id, int64_t at, const char *data,
                            size_t len)
{
    static pg_stmt q = PG_STMT("INSERT INTO job_log_chunks(job_kind, job_id, start_at, size, "
                               "data) VALUES($1::text, $2::bigint, $3::bigint, $4::bigint, "
                               "$5::bytea)");
    pg_params p;
    pg_params_init(&p);
    pg_p_text(&p, kind_word(kind));
    pg_p_int(&p, id);
    pg_p_int(&p, at);
    pg_p_int(&p, (int64_t)len);
    pg_p_bytes(&p, data, len);
    return pg_do(s, &q, &p, NULL, "backup job log append");
}

piora_err pg_bjob_log_append(store_t *base, bjob_kind kind, int64_t id, const char *data,
                             size_t len, int64_t cap, const char *marker)
{
    /* FOR UPDATE: one appender at a time per job, as BEGIN IMMEDIATE */
    static pg_stmt sz_b = PG_STMT("SELECT log_size FROM backups WHERE id = $1 FOR UPDATE");
    static pg_stmt sz_r = PG_STMT("SELECT log_size FROM restores WHERE id = $1 FOR UPDATE");
    static pg_stmt set_b = PG_STMT("UPDATE backups SET log_size = $2::bigint WHERE id = $1");
    static pg_stmt set_r = PG_STMT("UPDATE restores SET log_size = $2::bigint WHERE id = $1");
    pg_store *s = pgs(base);
    if (len == 0)
        return PIORA_OK;
    if (!kind_ok(kind) || !data || len > (1u << 24) || cap < 0 || !marker)
        return PIORA_EINVALID;
    const bool b = kind == BJOB_BACKUP;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t size = 0;
    if ((e = pg_fetch_int(s, b ? &sz_b : &sz_r, &p, &size, "backup job log size")) != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    if (size >= cap) { /* the marker is written: drop quietly */
        pg_rollback(s);
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
        pg_params ps;
        pg_params_init(&ps);
        pg_p_int(&ps, id);
        pg_p_int(&ps, size);
        e = pg_do(s, b ? &set_b : &set_r, &ps, NULL, "backup job log size set");
    }
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, 0);
}

typedef struct log_state { char status[16]; int64_t size; } log_state;

static void state_row(const PGresult *r, int row, void *out)
{
    log_state *st = out;
    pg_col_copy(r, row, 0, st->status, sizeof st->status);
    st->size = pg_col_int(r, row, 1);
}

piora_err pg_bjob_log_read(store_t *base, bjob_kind kind, int64_t team_id, int64_t id,
                           int64_t offset, size_t max, char **buf, size_t *len, bool *complete)
{
    static pg_stmt st_b = PG_STMT("SELECT status, log_size FROM backups WHERE id = $2 AND "
                                  "team_id = $1");
    static pg_stmt st_r = PG_STMT("SELECT status, log_size FROM restores WHERE id = $2 AND "
                                  "team_id = $1");
    static pg_stmt chunks = PG_STMT("SELECT start_at, data FROM job_log_chunks WHERE job_kind = "
                                    "$3::text AND job_id = $1 AND start_at + size > $2::bigint "
                                    "ORDER BY start_at");
    pg_store *s = pgs(base);
    *buf = NULL;
    *len = 0;
    *complete = false;
    if (!kind_ok(kind) || offset < 0 || max == 0)
        return PIORA_EINVALID;
    piora_err e = pg_begin_read(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, id);
    log_state st = {{0}, 0};
    if ((e = pg_fetch_row(s, kind == BJOB_BACKUP ? &st_b : &st_r, &p, state_row, &st,
                          "backup job log state")) != PIORA_OK) {
        pg_end_read(s);
        return e;
    }
    bool ended = strcmp(st.status, "pending") != 0 && strcmp(st.status, "running") != 0;
    size_t want = offset < st.size ? (size_t)(st.size - offset) : 0;
    if (want > max)
        want = max;
    char *out = malloc(want + 1);
    if (!out) {
        pg_end_read(s);
        return PIORA_ENOMEM;
    }
    size_t got = 0;
    if (want > 0) {
        pg_params pc;
        pg_params_init(&pc);
        pg_p_int(&pc, id);
        pg_p_int(&pc, offset);
        pg_p_text(&pc, kind_word(kind));
        PGresult *r = pg_run(s, &chunks, &pc);
        e = pg_ok(s, r, "backup job log chunks");
        for (int i = 0; e == PIORA_OK && i < PQntuples(r) && got < want; i++) {
            int64_t at = pg_col_int(r, i, 0);
            size_t n = 0;
            unsigned char *d = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 1), &n);
            int64_t from = offset + (int64_t)got - at; /* chunks are contiguous */
            if (!d || from < 0 || (size_t)from >= n) {
                PQfreemem(d);
                break;
            }
            size_t take = n - (size_t)from;
            if (take > want - got)
                take = want - got;
            memcpy(out + got, d + from, take);
            got += take;
            PQfreemem(d);
        }
        PQclear(r);
    }
    pg_end_read(s);
    if (e != PIORA_OK) {
        free(out);
        return e;
    }
    out[got] = '\0';
    *buf = out;
    *len = got;
    *complete = ended && offset + (int64_t)got >= st.size;
    return PIORA_OK;
}
