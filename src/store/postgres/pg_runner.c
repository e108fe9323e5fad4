/* Deployments as jobs on PostgreSQL (issue 9, issue 10); the twin of
 * sqlite_runner.c, same semantics. Status changes are CHANGE_OBJECTS;
 * heartbeats and log chunks change no object and move no generation.
 *
 * SQLite claims inside BEGIN IMMEDIATE: one writer at a time, so "fewer
 * than per_server run on the server" stays true until the claim commits.
 * Here several nodes claim at once, each in its own READ COMMITTED
 * transaction:
 *  1. the oldest eligible queued deployment is picked and its row locked
 *     with FOR UPDATE SKIP LOCKED (claimers in flight skip each other's
 *     rows; a row another claimer committed as running is re-checked by
 *     PostgreSQL and no longer matches): each job is claimed exactly once;
 *  2. a transaction-level advisory lock on its server is taken (queueing
 *     takes it too), and the application's serial order and the server's
 *     limit are checked again by a new statement, whose snapshot sees every
 *     claim committed before the lock was granted;
 *  3. if the server turned out full, the transaction rolls back and the
 *     claim starts over without that server, so a transaction never holds
 *     more than one advisory lock and never waits on a row lock while
 *     holding one: claimers cannot deadlock one another.
 * Row locks go application first, then its deployments, the order of a
 * DELETE of the application (its row, then the cascade to deployments):
 * the pick takes both rows or skips them, the finish locks the
 * application before it touches the deployment, and the expiry takes
 * the applications it may fail before their deployments. A runner that
 * held a deployment while it waited for the application would deadlock
 * with that DELETE, and PostgreSQL would fail one of the two after a
 * second (seen as a 503 on a DELETE of an application whose deployment
 * was finishing).
 * Lease times are the caller's clock (`now`, `lease_until`) compared as
 * SQLite's code does, never the database server's clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_internal.h"

/* Advisory lock class (two-key form) for a server's job slots, keyed by
 * the server id folded into 31 bits (a collision only serializes two
 * servers' claims, it never admits one too many). */
#define PG_LOCK_SERVER_JOBS "1885825537"
#define SERVER_LOCK_SQL                                                                          \
    "SELECT pg_advisory_xact_lock(" PG_LOCK_SERVER_JOBS ", ($1::bigint % 2147483647)::int4)"

/* Servers a claim may find full before it gives up for this call (the
 * runner asks again on its next poll). */
#define CLAIM_TRIES 8

static piora_err finish(pg_store *s, piora_err e, unsigned kinds)
{
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, kinds);
}

static piora_err lock_server(pg_store *s, int64_t server_id)
{
    static pg_stmt st = PG_STMT(SERVER_LOCK_SQL);
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, server_id);
    return pg_do(s, &st, &p, NULL, "server job lock");
}

static piora_err set_app_status(pg_store *s, int64_t app_id, const char *status, int64_t now)
{
    static pg_stmt st =
        PG_STMT("UPDATE applications SET status = $2, updated_at = $3 WHERE id = $1");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, app_id);
    pg_p_text(&p, status);
    pg_p_int(&p, now);
    return pg_do(s, &st, &p, NULL, "application status");
}

piora_err pg_deploy_queue(store_t *base, int64_t team_id, int64_t application_id, const char *ref,
                          const job_trigger *trig, int64_t max_queued, int64_t now, int64_t *id)
{
    static pg_stmt app = PG_STMT("SELECT server_id FROM applications WHERE id = $2 AND team_id = $1");
    /* The bound counts what waits for the server, whichever application;
     * the server's lock keeps two nodes from both passing it. */
    static pg_stmt ins = PG_STMT(
        "INSERT INTO deployments(team_id, application_id, status, log, ref, trigger_type, "
        "trigger_id, trigger_name, created_at, updated_at) "
        "SELECT a.team_id, a.id, 'queued', '', COALESCE($3::text, a.branch), $4::text, "
        "$5::bigint, $6::text, $7::bigint, $7::bigint "
        "FROM applications a WHERE a.id = $2 AND a.team_id = $1 AND "
        "(SELECT count(*) FROM server_jobs q WHERE q.server_id = a.server_id "
        "AND q.status IN ('queued', 'pending')) < $8::bigint RETURNING id");
    pg_store *s = pgs(base);
    *id = 0;
    if (application_id <= 0 || max_queued < 0 || !trig || !trig->type ||
        (ref && !pg_text_ok(ref, DEPLOY_REF_MAX)))
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, application_id);
    int64_t server_id = 0;
    e = pg_fetch_int(s, &app, &p, &server_id, "deployment application");
    if (e == PIORA_OK)
        e = lock_server(s, server_id);
    if (e == PIORA_OK) {
        pg_p_text(&p, ref);
        pg_p_text(&p, trig->type);
        pg_p_int(&p, trig->id);
        pg_p_text(&p, trig->name);
        pg_p_int(&p, now);
        pg_p_int(&p, max_queued);
        PGresult *r = pg_run(s, &ins, &p);
        e = pg_ok(s, r, "deployment queue");
        if (e == PIORA_OK && PQntuples(r) == 0)
            e = PIORA_ETOOBIG;
        else if (e == PIORA_OK)
            *id = pg_col_int(r, 0, 0);
        PQclear(r);
    }
    e = finish(s, e, CHANGE_BIT(CHANGE_OBJECTS));
    if (e != PIORA_OK)
        *id = 0;
    return e;
}

static void claim_row(const PGresult *r, int row, void *out)
{
    deploy_claim *c = out;
    c->id = pg_col_int(r, row, 0);
    c->team_id = pg_col_int(r, row, 1);
    c->application_id = pg_col_int(r, row, 2);
    c->server_id = pg_col_int(r, row, 3);
    pg_col_copy(r, row, 4, c->ref, sizeof c->ref);
    pg_col_copy(r, row, 5, c->repository, sizeof c->repository);
    const char *script = pg_col_str(r, row, 6);
    if (script)
        c->script = strdup(script);
    pg_col_copy(r, row, 7, c->host, sizeof c->host);
    c->port = (unsigned)pg_col_int(r, row, 8);
    pg_col_copy(r, row, 9, c->user, sizeof c->user);
    pg_col_copy(r, row, 10, c->host_key, sizeof c->host_key);
}

/* An application's deployments run one at a time in id order: only its
 * oldest queued one may start, and only while none of it runs. */
#define APP_IDLE                                                                                 \
    "NOT EXISTS (SELECT 1 FROM deployments o WHERE o.application_id = d.application_id AND "      \
    "(o.status = 'running' OR (o.status = 'queued' AND o.id < d.id))) "
#define SERVER_RUNNING(server)                                                                   \
    "(SELECT count(*) FROM server_jobs r WHERE r.server_id = " server " AND r.status = 'running') "

typedef struct pick {
    int64_t id, server_id;
} pick;

static void pick_row(const PGresult *r, int row, void *out)
{
    pick *k = out;
    k->id = pg_col_int(r, row, 0);
    k->server_id = pg_col_int(r, row, 1);
}

/* One attempt in its own transaction. *full gets the server id when the
 * picked deployment's server had no slot left once locked (the caller
 * tries again without it); ENOTFOUND with *full 0: nothing to claim. */
static piora_err claim_once(pg_store *s, const char *owner, int64_t now, int64_t lease_until,
                            int64_t per_server, const char *skip, deploy_claim *out,
                            int64_t *full)
{
    static pg_stmt pick_st = PG_STMT(
        "SELECT d.id, a.server_id FROM deployments d JOIN applications a ON a.id = d.application_id "
        "WHERE d.status = 'queued' AND NOT (a.server_id = ANY ($2::bigint[])) AND " APP_IDLE
        "AND " SERVER_RUNNING("a.server_id") "< $1::bigint "
        "ORDER BY d.id LIMIT 1 FOR UPDATE OF d SKIP LOCKED FOR NO KEY UPDATE OF a SKIP LOCKED");
    static pg_stmt recheck = PG_STMT(
        "SELECT 1 FROM deployments d WHERE d.id = $1 AND d.status = 'queued' AND " APP_IDLE
        "AND " SERVER_RUNNING("$2::bigint") "< $3::bigint");
    static pg_stmt claim = PG_STMT(
        "UPDATE deployments SET status = 'running', started_at = $1, updated_at = $1, "
        "lease_owner = $2, lease_until = $3 WHERE id = $4 AND status = 'queued'");
    static pg_stmt get = PG_STMT(
        "SELECT d.id, d.team_id, d.application_id, a.server_id, d.ref, a.repository, "
        "a.deploy_script, sv.ip_address, sv.ssh_port, sv.ssh_user, sv.host_key_fingerprint "
        "FROM deployments d JOIN applications a ON a.id = d.application_id "
        "JOIN servers sv ON sv.id = a.server_id WHERE d.id = $1");
    *full = 0;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, per_server);
    pg_p_text(&p, skip);
    pick k = {0};
    e = pg_fetch_row(s, &pick_st, &p, pick_row, &k, "deployment pick");
    if (e == PIORA_OK)
        e = lock_server(s, k.server_id);
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, k.id);
        pg_p_int(&p, k.server_id);
        pg_p_int(&p, per_server);
        e = pg_exists(s, &recheck, &p, "deployment recheck");
        if (e == PIORA_ENOTFOUND)
            *full = k.server_id;
    }
    int64_t n = 0;
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, now);
        pg_p_text(&p, owner);
        pg_p_int(&p, lease_until);
        pg_p_int(&p, k.id);
        e = pg_do(s, &claim, &p, &n, "deployment claim");
        if (e == PIORA_OK && n != 1)
            e = PIORA_EINTERNAL; /* the row is ours (locked) and was queued */
    }
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, k.id);
        e = pg_fetch_row(s, &get, &p, claim_row, out, "claimed deployment");
    }
    if (e == PIORA_OK)
        e = set_app_status(s, out->application_id, "deploying", now);
    if (e == PIORA_OK)
        e = pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
    else
        pg_rollback(s);
    if (e != PIORA_OK) {
        free(out->script);
        memset(out, 0, sizeof *out);
    }
    return e;
}

piora_err pg_deploy_claim(store_t *base, const char *owner, int64_t now, int64_t lease_until,
                          int64_t per_server, deploy_claim *out)
{
    static pg_stmt any = PG_STMT("SELECT 1 FROM deployments WHERE status = 'queued' LIMIT 1");
    pg_store *s = pgs(base);
    memset(out, 0, sizeof *out);
    if (!pg_text_ok(owner, JOB_OWNER_MAX) || per_server < 1)
        return PIORA_EINVALID;
    /* Idle workers ask often: a read first keeps them from opening a write
     * transaction when nothing waits. */
    piora_err e = pg_exists(s, &any, NULL, "queued deployment");
    if (e != PIORA_OK)
        return e;
    /* "{1,2,...}": the servers found full so far, an array parameter. */
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

piora_err pg_job_heartbeat(store_t *base, const char *owner, int64_t lease_until)
{
    static pg_stmt st = PG_STMT("UPDATE deployments SET lease_until = $2 "
                                "WHERE lease_owner = $1 AND status = 'running'");
    if (!pg_text_ok(owner, JOB_OWNER_MAX))
        return PIORA_EINVALID;
    pg_params p;
    pg_params_init(&p);
    pg_p_text(&p, owner);
    pg_p_int(&p, lease_until);
    return pg_do(pgs(base), &st, &p, NULL, "job heartbeat");
}

piora_err pg_job_expire(store_t *base, int64_t now, int64_t *n)
{
    /* One statement: nodes expiring at once each lock the rows they change,
     * and the second re-checks status = 'running' on the committed row, so
     * a lost job is counted and its application failed once. */
    /* The applications first (SKIP LOCKED: one another node holds, or a
     * DELETE, is left for the next second); a deployment is failed only
     * once its application is locked. */
    static pg_stmt st = PG_STMT(
        "WITH held AS (SELECT a.id FROM applications a WHERE a.id IN (SELECT application_id "
        "FROM deployments WHERE status = 'running' AND lease_until < $1) "
        "FOR NO KEY UPDATE SKIP LOCKED), "
        "lost AS (UPDATE deployments SET status = 'failed', error = 'lost', "
        "finished_at = $1, updated_at = $1, lease_owner = NULL "
        "WHERE status = 'running' AND lease_until < $1 "
        "AND application_id IN (SELECT id FROM held) RETURNING application_id), "
        "apps AS (UPDATE applications SET status = 'failed', updated_at = $1 "
        "WHERE id IN (SELECT application_id FROM lost) RETURNING id) "
        "SELECT count(*) FROM lost");
    pg_store *s = pgs(base);
    if (n)
        *n = 0;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, now);
    int64_t k = 0;
    e = pg_fetch_int(s, &st, &p, &k, "job expire");
    if (e == PIORA_OK && k == 0) {
        pg_rollback(s);
        return PIORA_OK;
    }
    e = finish(s, e, CHANGE_BIT(CHANGE_OBJECTS));
    if (e == PIORA_OK && n)
        *n = k;
    return e;
}

piora_err pg_deploy_cancel_asked(store_t *base, int64_t id, bool *yes)
{
    static pg_stmt st =
        PG_STMT("SELECT 1 FROM deployments WHERE id = $1 AND cancel_requested = $2");
    *yes = false;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    pg_p_int(&p, 1);
    piora_err e = pg_exists(pgs(base), &st, &p, "deployment cancel asked");
    if (e == PIORA_OK)
        *yes = true;
    return e == PIORA_ENOTFOUND ? PIORA_OK : e;
}

piora_err pg_deploy_finish(store_t *base, int64_t id, const char *owner, const char *status,
                           const char *error, const char *commit, int exit_code, int64_t now)
{
    /* the deployment's application, locked (only its row: OF a) */
    static pg_stmt lock_app = PG_STMT("SELECT a.id FROM deployments d JOIN applications a "
                                      "ON a.id = d.application_id WHERE d.id = $1 "
                                      "FOR NO KEY UPDATE OF a");
    static pg_stmt st = PG_STMT("UPDATE deployments SET status = $3, error = $4, \"commit\" = $5, "
                                "exit_code = $6, finished_at = $7, updated_at = $7, "
                                "lease_owner = NULL WHERE id = $1 AND lease_owner = $2 "
                                "AND status = 'running' RETURNING application_id");
    pg_store *s = pgs(base);
    if (!pg_text_ok(owner, JOB_OWNER_MAX) || !status ||
        (strcmp(status, "succeeded") != 0 && strcmp(status, "failed") != 0 &&
         strcmp(status, "cancelled") != 0) ||
        (error && !pg_text_ok(error, JOB_ERROR_MAX)) || (commit && !pg_text_ok(commit, 64)))
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    int64_t app = 0;
    /* gone (deleted with its deployments while we waited): ENOTFOUND */
    e = pg_fetch_int(s, &lock_app, &p, &app, "application lock");
    if (e != PIORA_OK)
        return finish(s, e, 0);
    pg_p_text(&p, owner);
    pg_p_text(&p, status);
    pg_p_text(&p, error);
    pg_p_text(&p, commit);
    if (exit_code >= 0)
        pg_p_int(&p, exit_code);
    else
        pg_p_null(&p);
    pg_p_int(&p, now);
    PGresult *r = pg_run(s, &st, &p);
    e = pg_ok(s, r, "deployment finish");
    if (e == PIORA_OK && PQntuples(r) == 0)
        e = PIORA_ENOTFOUND;
    else if (e == PIORA_OK)
        app = pg_col_int(r, 0, 0);
    PQclear(r);
    if (e == PIORA_OK)
        e = set_app_status(s, app, strcmp(status, "succeeded") == 0 ? "running" : "failed", now);
    return finish(s, e, CHANGE_BIT(CHANGE_OBJECTS));
}

piora_err pg_deploy_cancel(store_t *base, int64_t team_id, int64_t id, int64_t now,
                           deploy_cancel_outcome *out)
{
    /* A claim holds the queued row's lock until it commits; the cancel
     * waits for it and then finds the row running: it asks instead. */
    static pg_stmt queued = PG_STMT("UPDATE deployments SET status = 'cancelled', "
                                    "error = 'cancelled', finished_at = $3, updated_at = $3 "
                                    "WHERE id = $2 AND team_id = $1 AND status = 'queued'");
    static pg_stmt running = PG_STMT("UPDATE deployments SET cancel_requested = $4, "
                                     "updated_at = $3 WHERE id = $2 AND team_id = $1 "
                                     "AND status = 'running'");
    static pg_stmt exists = PG_STMT("SELECT 1 FROM deployments WHERE id = $2 AND team_id = $1");
    pg_store *s = pgs(base);
    *out = DEPLOY_CANCEL_FINISHED;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, id);
    pg_p_int(&p, now);
    int64_t n = 0;
    e = pg_do(s, &queued, &p, &n, "deployment cancel");
    if (e == PIORA_OK && n > 0) {
        *out = DEPLOY_CANCELLED_NOW;
        return finish(s, e, CHANGE_BIT(CHANGE_OBJECTS));
    }
    if (e == PIORA_OK) {
        pg_p_int(&p, 1);
        e = pg_do(s, &running, &p, &n, "deployment cancel");
        if (e == PIORA_OK && n > 0) {
            *out = DEPLOY_CANCEL_ASKED;
            return finish(s, e, CHANGE_BIT(CHANGE_OBJECTS));
        }
    }
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, team_id);
        pg_p_int(&p, id);
        e = pg_exists(s, &exists, &p, "deployment");
    }
    pg_rollback(s); /* nothing changed */
    return e;
}

piora_err pg_job_log_append(store_t *base, int64_t id, const char *data, size_t len, int64_t cap,
                            const char *marker)
{
    /* The row lock orders appends to one log, from whichever node. */
    static pg_stmt size_st =
        PG_STMT("SELECT log_size FROM deployments WHERE id = $1 FOR NO KEY UPDATE");
    static pg_stmt ins = PG_STMT("INSERT INTO job_log_chunks(job_kind, job_id, start_at, size, "
                                 "data) VALUES('deployment', $1, $2, $3, $4)");
    static pg_stmt set = PG_STMT("UPDATE deployments SET log_size = $2 WHERE id = $1");
    pg_store *s = pgs(base);
    if (len == 0)
        return PIORA_OK;
    if (!data || len > (1u << 24) || cap < 0 || !marker)
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    int64_t size = 0;
    e = pg_fetch_int(s, &size_st, &p, &size, "log size");
    /* log_size past cap means the marker is written: drop quietly. */
    if (e != PIORA_OK || size >= cap) {
        pg_rollback(s);
        return e;
    }
    size_t room = (size_t)(cap - size);
    size_t take = len < room ? len : room;
    const char *parts[2] = {data, marker};
    size_t lens[2] = {take, take < len ? strlen(marker) : 0};
    for (int i = 0; i < 2 && e == PIORA_OK; i++) {
        if (lens[i] == 0)
            continue;
        pg_params_init(&p);
        pg_p_int(&p, id);
        pg_p_int(&p, size);
        pg_p_int(&p, (int64_t)lens[i]);
        pg_p_bytes(&p, parts[i], lens[i]);
        e = pg_do(s, &ins, &p, NULL, "log append");
        size += (int64_t)lens[i];
    }
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, id);
        pg_p_int(&p, size);
        e = pg_do(s, &set, &p, NULL, "log size set");
    }
    return finish(s, e, 0);
}

piora_err pg_job_log_read(store_t *base, int64_t team_id, int64_t id, int64_t offset, size_t max,
                          char **buf, size_t *len, bool *complete)
{
    static pg_stmt state = PG_STMT("SELECT status, log_size FROM deployments "
                                   "WHERE id = $2 AND team_id = $1");
    /* Only the chunks that overlap [offset, offset + want): a long log is
     * not sent whole for one page of it. */
    static pg_stmt chunks = PG_STMT("SELECT start_at, data FROM job_log_chunks "
                                    "WHERE job_kind = 'deployment' AND job_id = $1 "
                                    "AND start_at + size > $2 AND start_at < $3 "
                                    "ORDER BY start_at");
    pg_store *s = pgs(base);
    *buf = NULL;
    *len = 0;
    *complete = false;
    if (offset < 0 || max == 0)
        return PIORA_EINVALID;
    piora_err e = pg_begin_read(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, id);
    PGresult *r = pg_run(s, &state, &p);
    e = pg_ok(s, r, "log state");
    if (e == PIORA_OK && PQntuples(r) == 0)
        e = PIORA_ENOTFOUND;
    bool ended = false;
    int64_t size = 0;
    if (e == PIORA_OK) {
        const char *st = pg_col_str(r, 0, 0);
        ended = st && strcmp(st, "queued") != 0 && strcmp(st, "running") != 0;
        size = pg_col_int(r, 0, 1);
    }
    PQclear(r);
    if (e != PIORA_OK) {
        pg_end_read(s);
        return e;
    }
    size_t want = offset < size ? (size_t)(size - offset) : 0;
    if (want > max)
        want = max;
    char *out = malloc(want + 1);
    if (!out) {
        pg_end_read(s);
        return PIORA_ENOMEM;
    }
    size_t got = 0;
    if (want > 0) {
        pg_params_init(&p);
        pg_p_int(&p, id);
        pg_p_int(&p, offset);
        pg_p_int(&p, offset + (int64_t)want);
        r = pg_run(s, &chunks, &p);
        e = pg_ok(s, r, "log chunks");
        int rows = e == PIORA_OK ? PQntuples(r) : 0;
        for (int i = 0; i < rows && got < want; i++) {
            int64_t at = pg_col_int(r, i, 0);
            size_t n = 0;
            unsigned char *d = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 1), &n);
            if (!d) {
                e = PIORA_ENOMEM;
                break;
            }
            int64_t from = offset + (int64_t)got - at; /* chunks are contiguous */
            if (from < 0 || (size_t)from >= n) {
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
    *complete = ended && offset + (int64_t)got >= size;
    return PIORA_OK;
}
