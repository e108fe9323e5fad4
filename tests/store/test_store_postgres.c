/* The PostgreSQL backend beneath the interface: its migrations against
 * SQLite's (same numbers, same tables, same columns in the same order),
 * several nodes opening a new database at once, a database never migrated
 * refused by store_open_existing(), the reconnect after the server dropped
 * the connection, and the connection parameters the URL may override.
 * Runs on the postgres:// PIORA_TEST_STORE_URL (tests/store/run-pg.sh sets
 * one); without one it starts its own throwaway cluster with
 * tests/lib/pgserver.sh and stops it at the end, so a plain ctest runs it
 * too (it never passes without a server). */
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store_fixture.h"
#include "pg_own.h"
#include "store/change.h"
#include "util/num.h"

static const char *pg_url(void) { return fixture_store_url(); }

static PGconn *raw_pg(void)
{
    PGconn *c = PQconnectdb(pg_url());
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

/* A connection to template1 on the same server: ALTER DATABASE cannot
 * refuse connections to the database it runs in. */
static PGconn *raw_pg_template1(void)
{
    const char *keys[] = {"dbname", "dbname", NULL};
    const char *vals[] = {pg_url(), "template1", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    return c;
}

static int64_t pg_int(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    int64_t v = 0;
    assert_true(num_parse_i64(PQgetvalue(r, 0, 0), INT64_MIN, INT64_MAX, &v));
    PQclear(r);
    return v;
}

static void pg_exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    assert_true(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
    PQclear(r);
}

/* ---- migrations ----------------------------------------------------------- */

/* Migrations PostgreSQL has and SQLite has not: the revocation acks of the
 * change feed (several nodes; SQLite has one machine). Anything else
 * missing a twin is a mistake. */
static const char *const PG_ONLY[] = {"0014_change_acks.sql"};

static bool listed(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}
#define LISTED(list, name) listed(list, sizeof list / sizeof list[0], name)

static bool pg_only(const char *name) { return LISTED(PG_ONLY, name); }

/* And the other way: ids never given twice (0016), which PostgreSQL's
 * identity sequences are already, with its table id_marks. */
static const char *const SQLITE_ONLY[] = {"0016_ids_never_reused.sql"};
static const char *const SQLITE_ONLY_TABLES[] = {"id_marks"};

static bool sqlite_only(const char *name) { return LISTED(SQLITE_ONLY, name); }
static bool sqlite_only_table(const char *name) { return LISTED(SQLITE_ONLY_TABLES, name); }

static int pg_latest_migration(void)
{
    int v = 0;
    for (int i = 0; i < piora_pg_migrations_count; i++)
        if (piora_pg_migrations[i].version > v)
            v = piora_pg_migrations[i].version;
    return v;
}

static void test_migrations_match_sqlite(void **state)
{
    fixture *fx = *state;
    assert_int_equal(store_schema_version(fx->s), pg_latest_migration());
    assert_int_equal(store_ping(fx->s), PIORA_OK);
    /* one PostgreSQL migration per SQLite one, with the same number, and
     * only the listed PostgreSQL-only ones besides */
    int twins = 0, lite_only = 0;
    for (int i = 0; i < piora_pg_migrations_count; i++) {
        const migration_t *m = &piora_pg_migrations[i];
        if (pg_only(m->name))
            continue;
        while (twins + lite_only < piora_migrations_count &&
               sqlite_only(piora_migrations[twins + lite_only].name))
            lite_only++;
        assert_true(twins + lite_only < piora_migrations_count);
        assert_int_equal(m->version, piora_migrations[twins + lite_only].version);
        assert_string_equal(m->name, piora_migrations[twins + lite_only].name);
        twins++;
    }
    while (twins + lite_only < piora_migrations_count &&
           sqlite_only(piora_migrations[twins + lite_only].name))
        lite_only++;
    assert_int_equal(twins + lite_only, piora_migrations_count);

    /* every SQLite table has its PostgreSQL twin with the same columns in
     * the same order: the SQL builder and the descriptors name them */
    char dir[FIXTURE_DIR_MAX], path[FIXTURE_PATH_MAX];
    store_t *lite = fixture_db_open(dir, path, "pgcmp");
    assert_non_null(lite);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    PGconn *c = raw_pg();
    sqlite3_stmt *tables = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%' ORDER BY name",
                                        -1, &tables, NULL),
                     SQLITE_OK);
    int ntables = 0;
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(tables, 0);
        if (sqlite_only_table(t))
            continue;
        ntables++;
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s') ORDER BY cid", t);
        sqlite3_stmt *cols = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &cols, NULL), SQLITE_OK);
        const char *pv[1] = {t};
        PGresult *r = PQexecParams(c,
                                   "SELECT column_name FROM information_schema.columns "
                                   "WHERE table_schema = current_schema() AND table_name = $1 "
                                   "ORDER BY ordinal_position",
                                   1, NULL, pv, NULL, NULL, 0);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        int i = 0;
        while (sqlite3_step(cols) == SQLITE_ROW) {
            const char *want = (const char *)sqlite3_column_text(cols, 0);
            if (i >= PQntuples(r) || strcmp(PQgetvalue(r, i, 0), want) != 0)
                fail_msg("table %s: column %d is %s in SQLite, %s in PostgreSQL", t, i, want,
                         i < PQntuples(r) ? PQgetvalue(r, i, 0) : "(none)");
            i++;
        }
        if (i != PQntuples(r))
            fail_msg("table %s: %d columns in SQLite, %d in PostgreSQL", t, i, PQntuples(r));
        PQclear(r);
        sqlite3_finalize(cols);
    }
    sqlite3_finalize(tables);
    assert_true(ntables >= 20);
    /* and no table besides, but the PostgreSQL-only migrations' (change_acks) */
    assert_int_equal(pg_int(c, "SELECT count(*) FROM information_schema.tables "
                               "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
                               "AND table_name <> 'change_acks'"),
                     ntables); /* views (migration 0013's db_jobs, server_jobs) are not tables;
                                  change_acks is PostgreSQL's own (0014) */
    PQfinish(c);
    sqlite3_close(db);
    store_close(lite);
    fixture_db_remove(dir, path);
}

/* ---- nodes starting together ------------------------------------------------ */

#define OPENERS 8
#define OPENER_PROCS 3

typedef struct opener {
    pthread_barrier_t *go;
    int ok;
    char msg[256];
} opener;

static void *open_one(void *arg)
{
    opener *o = arg;
    pthread_barrier_wait(o->go);
    store_t *s = store_open(pg_url(), o->msg, sizeof o->msg);
    o->ok = s && store_schema_version(s) == pg_latest_migration();
    store_close(s);
    return NULL;
}

static void test_concurrent_first_open(void **state)
{
    fixture *fx = *state;
    store_close(fx->s); /* the fixture's own open migrated already: start again */
    fx->s = NULL;
    assert_true(fixture_pg_reset(pg_url()));

    /* processes (nodes) and threads, released together */
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t kids[OPENER_PROCS];
    for (int i = 0; i < OPENER_PROCS; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            char b;
            close(ready[1]);
            ssize_t n = read(ready[0], &b, 1); /* EOF: everyone is released */
            (void)n;
            char msg[256];
            store_t *s = store_open(pg_url(), msg, sizeof msg);
            int code = s && store_schema_version(s) == pg_latest_migration() ? 0 : 1;
            if (code)
                fprintf(stderr, "child open: %s\n", msg);
            store_close(s);
            _exit(code);
        }
    }
    close(ready[0]);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, OPENERS + 1);
    opener o[OPENERS];
    pthread_t th[OPENERS];
    for (int i = 0; i < OPENERS; i++) {
        o[i] = (opener){.go = &go};
        assert_int_equal(pthread_create(&th[i], NULL, open_one, &o[i]), 0);
    }
    close(ready[1]);
    pthread_barrier_wait(&go);
    for (int i = 0; i < OPENERS; i++) {
        pthread_join(th[i], NULL);
        if (!o[i].ok)
            fail_msg("opener %d: %s", i, o[i].msg);
    }
    pthread_barrier_destroy(&go);
    for (int i = 0; i < OPENER_PROCS; i++) {
        int st = 0;
        assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    /* each migration recorded once, and the feed seeded once */
    PGconn *c = raw_pg();
    assert_int_equal(pg_int(c, "SELECT count(*) FROM schema_migrations"), piora_pg_migrations_count);
    assert_int_equal(pg_int(c, "SELECT count(DISTINCT version) FROM schema_migrations"),
                     piora_pg_migrations_count);
    assert_int_equal(pg_int(c, "SELECT count(*) FROM change_feed"), CHANGE__COUNT);
    PQfinish(c);

    char msg[256];
    fx->s = store_open(pg_url(), msg, sizeof msg);
    assert_non_null(fx->s);
}

/* ---- a database never migrated ------------------------------------------------ */

static void test_open_existing_refuses_empty(void **state)
{
    fixture *fx = *state;
    store_close(fx->s);
    fx->s = NULL;
    assert_true(fixture_pg_reset(pg_url()));
    char msg[256] = "";
    assert_null(store_open_existing(pg_url(), msg, sizeof msg));
    assert_non_null(strstr(msg, "no piora schema"));
    PGconn *c = raw_pg();
    /* nothing was made */
    assert_int_equal(pg_int(c, "SELECT count(*) FROM information_schema.tables "
                               "WHERE table_schema = current_schema()"),
                     0);
    PQfinish(c);
    /* once migrated, it opens */
    fx->s = store_open(pg_url(), msg, sizeof msg);
    assert_non_null(fx->s);
    store_t *again = store_open_existing(pg_url(), msg, sizeof msg);
    assert_non_null(again);
    assert_int_equal(store_schema_version(again), pg_latest_migration());
    store_close(again);
}

/* ---- reconnect ------------------------------------------------------------------ */

static void test_reconnect_after_terminate(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    PGconn *c = raw_pg();
    /* the server drops every piora connection (a restart, a failover) */
    assert_true(pg_int(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                          "WHERE application_name = 'piora' AND pid <> pg_backend_pid()") >= 1);
    /* the next call reconnects once, prepares again, and answers */
    user_rec u;
    assert_int_equal(store_user_by_id(fx->s, a.id, &u), PIORA_OK);
    assert_string_equal(u.email, "alice@example.com");
    assert_int_equal(store_ping(fx->s), PIORA_OK);
    /* and writes work on the new connection (transactions, change feed) */
    user_rec b = make_user(fx->s, "bob@example.com", "acme");
    assert_int_equal(b.team_id, a.team_id);
    PQfinish(c);
}

/* The server refuses the node for a while (down, failing over): calls
 * answer EBUSY (503 `unavailable`) within seconds, and the first call once
 * the server takes connections again reconnects, without a restart. */
static void test_unavailable_then_recovers(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    PGconn *mine = raw_pg();
    char db[128];
    snprintf(db, sizeof db, "%s", PQdb(mine));
    PQfinish(mine);
    PGconn *c = raw_pg_template1();
    char sql[256];
    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS false", db);
    pg_exec_ok(c, sql);
    pg_int(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
              "WHERE application_name = 'piora' AND pid <> pg_backend_pid()");
    user_rec u;
    token_rec t;
    int64_t t0 = clock_mono_ns();
    assert_int_equal(store_user_by_id(fx->s, a.id, &u), PIORA_EBUSY);
    assert_int_equal(store_ping(fx->s), PIORA_EBUSY);
    token_new tn = {.user_id = a.id, .name = "ci", .scopes = SCOPE_SERVERS_READ, .hint = "h"};
    assert_int_equal(store_token_insert(fx->s, &tn, &t), PIORA_EBUSY); /* a write, too */
    assert_true(clock_mono_ns() - t0 < 5000000000LL);
    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS true", db);
    pg_exec_ok(c, sql);
    assert_int_equal(store_user_by_id(fx->s, a.id, &u), PIORA_OK);
    assert_int_equal(store_ping(fx->s), PIORA_OK);
    assert_int_equal(store_token_insert(fx->s, &tn, &t), PIORA_OK);
    PQfinish(c);
}

/* ---- lock order of the job runner ---------------------------------------------- */

static const job_trigger TRIG = {.type = "token", .id = 1, .name = "ci"};

/* An application with one deployment queued; its ids. */
static void app_with_deployment(fixture *fx, int64_t team, const char *name, int64_t *app,
                                int64_t *dep)
{
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"ip_address\":\"10.9.0.1\"}", name);
    json_t *sv = create(fx->s, &RES_SERVERS, team, body);
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"server_id\":%lld,\"repository\":\"r/%s\"}",
             name, (long long)id_of(sv), name);
    json_t *ao = create(fx->s, &RES_APPLICATIONS, team, body);
    *app = id_of(ao);
    assert_int_equal(store_deploy_queue(fx->s, team, *app, NULL, &TRIG, 10, 100, dep), PIORA_OK);
    json_decref(ao);
    json_decref(sv);
}

/* Takes the application's row as a DELETE of it does (FOR UPDATE), in
 * an open transaction on a connection of its own. */
static PGconn *hold_application(int64_t app)
{
    PGconn *c = raw_pg();
    /* a failed assertion leaves this transaction open: the server ends it */
    pg_exec_ok(c, "SET idle_in_transaction_session_timeout = '10s'");
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT id FROM applications WHERE id = %lld FOR UPDATE",
             (long long)app);
    pg_exec_ok(c, "BEGIN");
    pg_exec_ok(c, sql);
    return c;
}

typedef struct finisher {
    store_t *s;
    int64_t dep;
    piora_err got;
} finisher;

static void *finish_now(void *arg)
{
    finisher *f = arg;
    f->got = store_deploy_finish(f->s, f->dep, "node-a", "succeeded", NULL, NULL, 0, 300);
    return NULL;
}

/* Polls (every 10 ms, at most `tries` times) until `some` connections of
 * this database wait for a lock (some) or none does (!some); answers how
 * many wait at the last look. */
static int64_t lock_waiters_until(PGconn *c, bool some, int tries)
{
    int64_t n = 0;
    for (int i = 0; i < tries; i++) {
        n = pg_int(c, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND wait_event_type = 'Lock'");
        if ((n >= 1) == some)
            break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    return n;
}

/* A DELETE of an application locks its row, then its deployments (the
 * cascade). The runner keeps that order, so a DELETE while a deployment
 * is claimed, finishes or expires ends at once instead of in a deadlock
 * (PostgreSQL then fails one side after a second: a DELETE answered 503
 * `unavailable`, or a finished deployment left running until its lease
 * lapsed). */
static void test_runner_locks_application_first(void **state)
{
    fixture *fx = *state;
    user_rec u = make_user(fx->s, "locks@example.com", "locks");
    int64_t app = 0, dep = 0;
    app_with_deployment(fx, u.team_id, "one", &app, &dep);

    /* a claim skips a deployment whose application is being deleted, at
     * once, rather than lock the deployment and wait */
    PGconn *del = hold_application(app);
    deploy_claim c;
    int64_t t0 = clock_mono_ns();
    assert_int_equal(store_deploy_claim(fx->s, "node-a", 200, 260, 4, &c), PIORA_ENOTFOUND);
    assert_true(clock_mono_ns() - t0 < 1000000000LL);
    pg_exec_ok(del, "ROLLBACK");
    PQfinish(del);
    assert_int_equal(store_deploy_claim(fx->s, "node-a", 200, 260, 4, &c), PIORA_OK);
    assert_int_equal(c.id, dep);
    free(c.script);

    /* the deployment finishes while its application is deleted: the
     * finish waits for the application without holding the deployment,
     * the DELETE completes, and the finish finds nothing to finish */
    char msg[256] = "";
    store_t *node = store_open(pg_url(), msg, sizeof msg);
    assert_non_null(node);
    del = hold_application(app);
    finisher f = {.s = node, .dep = dep, .got = PIORA_EINTERNAL};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, finish_now, &f), 0);
    assert_true(lock_waiters_until(del, true, 500) >= 1); /* the finisher waits on the application */
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM applications WHERE id = %lld", (long long)app);
    /* checked after the clean-up: a failed DELETE (the deadlock) must not
     * leave its transaction open and the finisher waiting behind it */
    PGresult *r = PQexec(del, sql);
    ExecStatusType deleted = PQresultStatus(r);
    if (deleted != PGRES_COMMAND_OK)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(del));
    PQclear(r);
    PQclear(PQexec(del, deleted == PGRES_COMMAND_OK ? "COMMIT" : "ROLLBACK"));
    pthread_join(th, NULL);
    assert_int_equal(deleted, PGRES_COMMAND_OK);
    assert_int_equal(f.got, PIORA_ENOTFOUND);
    json_t *o = NULL;
    assert_int_equal(objects_get(fx->s, &RES_DEPLOYMENTS, u.team_id, dep, &o), PIORA_ENOTFOUND);
    PQfinish(del);

    /* an expired lease on an application being deleted is left for the
     * next round, at once; it is counted once the application is free */
    int64_t app2 = 0, dep2 = 0;
    app_with_deployment(fx, u.team_id, "two", &app2, &dep2);
    assert_int_equal(store_deploy_claim(fx->s, "node-gone", 200, 260, 4, &c), PIORA_OK);
    assert_int_equal(c.id, dep2);
    free(c.script);
    del = hold_application(app2);
    int64_t n = -1;
    t0 = clock_mono_ns();
    assert_int_equal(store_job_expire(node, 1000, &n), PIORA_OK);
    assert_true(clock_mono_ns() - t0 < 1000000000LL);
    assert_int_equal(n, 0);
    pg_exec_ok(del, "ROLLBACK");
    assert_int_equal(store_job_expire(node, 1000, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(objects_get(fx->s, &RES_DEPLOYMENTS, u.team_id, dep2, &o), PIORA_OK);
    assert_string_equal(str_of(o, "error"), "lost");
    json_decref(o);
    PQfinish(del);
    store_close(node);
}

/* A statement the node gave up on (no answer within PG_ANSWER_MS: here a
 * lock another connection keeps) does not stay behind on the server: the
 * dropped connection ends it within about a second, so it holds no lock
 * and changes nothing when the other transaction finally lets go. */
static void test_abandoned_statement_ends_on_server(void **state)
{
    fixture *fx = *state;
    user_rec u = make_user(fx->s, "stall@example.com", "stall");
    int64_t app = 0, dep = 0;
    app_with_deployment(fx, u.team_id, "slow", &app, &dep);
    PGconn *c = hold_application(app);
    char body[64];
    snprintf(body, sizeof body, "{\"branch\":\"next\"}");
    int64_t t0 = clock_mono_ns();
    assert_int_equal(try_update(fx->s, &RES_APPLICATIONS, u.team_id, app, body, NULL), PIORA_EBUSY);
    assert_true(clock_mono_ns() - t0 < 5000000000LL);
    int64_t waiting = lock_waiters_until(c, false, 300);
    pg_exec_ok(c, "COMMIT");
    assert_int_equal(waiting, 0);
    /* read on another connection: this one waits PG_STALL_MS before it
     * tries the server again */
    char msg[256] = "";
    store_t *other = store_open(pg_url(), msg, sizeof msg);
    assert_non_null(other);
    json_t *o = NULL;
    assert_int_equal(objects_get(other, &RES_APPLICATIONS, u.team_id, app, &o), PIORA_OK);
    assert_string_equal(str_of(o, "branch"), "main"); /* the given-up UPDATE never ran */
    json_decref(o);
    store_close(other);
    PQfinish(c);
}

/* ---- connection parameters --------------------------------------------------------- */

static void test_url_parameters(void **state)
{
    fixture *fx = *state;
    PGconn *c = raw_pg();
    /* the defaults piora adds */
    assert_true(pg_int(c, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'piora'") >= 1);
    /* a URL's own value wins over them */
    char url[512];
    snprintf(url, sizeof url, "%s%sapplication_name=piora-node-7", pg_url(),
             strchr(pg_url(), '?') ? "&" : "?");
    char msg[256];
    store_t *s = store_open(url, msg, sizeof msg);
    assert_non_null(s);
    assert_int_equal(pg_int(c, "SELECT count(*) FROM pg_stat_activity "
                               "WHERE application_name = 'piora-node-7'"),
                     1);
    store_close(s);
    /* a URL libpq cannot read is refused with its reason, no connection tried */
    assert_null(store_open("postgresql://[::1", msg, sizeof msg));
    assert_non_null(strstr(msg, "invalid PostgreSQL URL"));
    (void)fx;
    pg_exec_ok(c, "SELECT 1");
    PQfinish(c);
}

/* ---- the change feed ---------------------------------------------------------------- */

/* The notifications that arrived on c within ms milliseconds, joined by
 * ';' into buf. */
static void notifications(PGconn *c, int ms, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int waited = 0; waited <= ms; waited += 10) {
        assert_int_equal(PQconsumeInput(c), 1);
        PGnotify *n;
        while ((n = PQnotifies(c)) != NULL) {
            size_t used = strlen(buf);
            snprintf(buf + used, len - used, "%s%s:%s", used ? ";" : "", n->relname, n->extra);
            PQfreemem(n);
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
}

static void test_change_feed_notifies(void **state)
{
    fixture *fx = *state;
    PGconn *c = raw_pg();
    pg_exec_ok(c, "LISTEN piora_change");
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    token_rec t = make_token(fx->s, a.id, 1, 0);
    char got[512];
    notifications(c, 200, got, sizeof got);
    /* each committed kind, with its counter as the feed holds it */
    char want[128];
    snprintf(want, sizeof want, "piora_change:users %lld;piora_change:tokens %lld",
             (long long)pg_int(c, "SELECT n FROM change_feed WHERE kind = 'users'"),
             (long long)pg_int(c, "SELECT n FROM change_feed WHERE kind = 'tokens'"));
    assert_string_equal(got, want);
    /* monitor writes (last-used times) move their counter, silently */
    int64_t mon = pg_int(c, "SELECT n FROM change_feed WHERE kind = 'monitor'");
    token_touch tt = {.token_id = t.id, .used_at = clock_now(), .addr = "192.0.2.1"};
    assert_int_equal(store_token_touch(fx->s, &tt, 1), PIORA_OK);
    assert_int_equal(pg_int(c, "SELECT n FROM change_feed WHERE kind = 'monitor'"), mon + 1);
    notifications(c, 200, got, sizeof got);
    assert_string_equal(got, "");
    /* a failed write notifies nothing (the transaction rolled back) */
    user_rec u;
    assert_int_equal(store_user_create(fx->s, "ALICE@example.com", "x", false, "h", &u),
                     PIORA_ECONFLICT);
    notifications(c, 200, got, sizeof got);
    assert_string_equal(got, "");

    /* another node's write (the raw connection stands for it) is seen by
     * this one's poll, by kind */
    unsigned moved = 0;
    assert_int_equal(change_poll(fx->s, &moved), PIORA_OK); /* catch up */
    uint64_t gen = change_generation(CHANGE_BIT(CHANGE_TOKENS));
    pg_exec_ok(c, "UPDATE change_feed SET n = n + 1 WHERE kind = 'tokens'");
    assert_int_equal(change_poll(fx->s, &moved), PIORA_OK);
    assert_int_equal(moved, CHANGE_BIT(CHANGE_TOKENS));
    assert_true(change_generation(CHANGE_BIT(CHANGE_TOKENS)) != gen);
    PQfinish(c);
}

int main(void)
{
    bool own = false;
    if (!pg_own_start("test_store_postgres", &own))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_match_sqlite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_first_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_existing_refuses_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_after_terminate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unavailable_then_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runner_locks_application_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_statement_ends_on_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_feed_notifies, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (own)
        pg_own_stop("test_store_postgres");
    return failed;
}
