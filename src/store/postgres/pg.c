/* The PostgreSQL backend: opening a connection (libpq, any URI it reads,
 * with short timeouts so a dead server is noticed in seconds), forward
 * migrations under an advisory lock, statements prepared once per
 * connection, parameters, result decoding, transactions and the one
 * reconnect outside a transaction. The store functions live in
 * pg_<section>.c, each the twin of sqlite_<section>.c. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "store/change_backend.h"
#include "store/migrate.h"
#include "store/postgres/pg_internal.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/num.h"

/* The advisory lock every migration transaction takes: one number for all
 * piora nodes of a database ("piora" in ASCII), so nodes starting at once
 * apply each migration exactly once, one after the other. */
#define PG_MIGRATION_LOCK 0x70696f7261LL

/* ---- statements ----------------------------------------------------------- */

static atomic_int stmt_count;

/* The statement's process-wide number, given on its first use anywhere. */
static int stmt_number(pg_stmt *st)
{
    int id = atomic_load(&st->id);
    if (id)
        return id;
    int mine = atomic_fetch_add(&stmt_count, 1) + 1;
    if (mine > PG_STMTS_MAX)
        return -1;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&st->id, &expected, mine))
        return expected; /* another thread numbered it first; `mine` stays unused */
    return mine;
}

static bool conn_broken(const pg_store *s) { return !s->conn || PQstatus(s->conn) == CONNECTION_BAD; }

/* Re-establishes a broken connection: prepared statements died with it.
 * Answers true when the connection works afterwards. */
static bool reconnect(pg_store *s)
{
    memset(s->prepared, 0, sizeof s->prepared);
    s->in_tx = false;
    if (!s->conn)
        return false;
    if (s->stalled_ns && clock_mono_ns() - s->stalled_ns < (int64_t)PG_STALL_MS * 1000000)
        return false; /* it just failed: one wait per request, not one per statement */
    int64_t t0 = clock_mono_ns();
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        /* A refusal is instant and may be retried at once (the server may be
         * back on the next call); an attempt that waited is not repeated by
         * the same request's next statement. */
        if (clock_mono_ns() - t0 > 500000000)
            s->stalled_ns = clock_mono_ns();
        /* once per outage and connection: a down server must not flood the log */
        if (!s->down_logged) {
            char m[256];
            store_copy(m, sizeof m, PQerrorMessage(s->conn));
            m[strcspn(m, "\n")] = '\0';
            log_warn("store: PostgreSQL unreachable: %s", m);
            s->down_logged = true;
        }
        return false;
    }
    if (s->down_logged)
        log_info("store: reconnected to PostgreSQL");
    s->down_logged = false;
    return true;
}

/* The deadline passed with no whole answer: the connection's state is
 * unknown, so it is shut; libpq then sees it closed and calls it broken. */
static void stalled(pg_store *s)
{
    int fd = PQsocket(s->conn);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    PQconsumeInput(s->conn);
    s->stalled_ns = clock_mono_ns();
    if (!s->down_logged) {
        log_warn("store: PostgreSQL did not answer within %d ms; the connection is dropped",
                 PG_ANSWER_MS);
        s->down_logged = true;
    }
}

PGresult *pg_await(pg_store *s)
{
    int64_t end = clock_mono_ns() + (int64_t)PG_ANSWER_MS * 1000000;
    PGresult *keep = NULL;
    for (;;) {
        if (PQisBusy(s->conn)) {
            int fd = PQsocket(s->conn);
            int64_t left = end - clock_mono_ns();
            if (fd < 0 || left <= 0) {
                PQclear(keep);
                stalled(s);
                return NULL;
            }
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            int n = poll(&pf, 1, (int)((left + 999999) / 1000000));
            if (n < 0 && errno == EINTR)
                continue;
            if (n > 0 && !PQconsumeInput(s->conn) && PQstatus(s->conn) == CONNECTION_BAD &&
                PQisBusy(s->conn)) {
                PQclear(keep);
                return NULL; /* the connection died: no answer will come */
            }
            continue;
        }
        PGresult *r = PQgetResult(s->conn);
        if (!r)
            return keep;
        /* as PQexec: the last result, unless an earlier one failed */
        if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
            PQclear(r);
        } else {
            PQclear(keep);
            keep = r;
        }
    }
}

/* PQexec's one-off with the deadline of pg_await(). */
static PGresult *exec_bounded(pg_store *s, const char *sql)
{
    if (!PQsendQuery(s->conn, sql))
        return NULL;
    return pg_await(s);
}

static PGresult *run_once(pg_store *s, pg_stmt *st, int id, const pg_params *p)
{
    char name[16];
    snprintf(name, sizeof name, "p%d", id);
    if (!s->prepared[id]) {
        PGresult *r = PQsendPrepare(s->conn, name, st->sql, 0, NULL) ? pg_await(s) : NULL;
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
            return r;
        PQclear(r);
        s->prepared[id] = true;
    }
    if (!PQsendQueryPrepared(s->conn, name, p ? p->n : 0, p ? p->val : NULL, p ? p->len : NULL,
                             p ? p->fmt : NULL, 0))
        return NULL;
    return pg_await(s);
}

PGresult *pg_run(pg_store *s, pg_stmt *st, const pg_params *p)
{
    int id = stmt_number(st);
    if (id < 0) {
        log_error("store: more than %d PostgreSQL statements (raise PG_STMTS_MAX)", PG_STMTS_MAX);
        return PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    }
    if (p && p->overflow) {
        log_error("store: more than %d parameters for one statement", PG_PARAMS_MAX);
        return PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    }
    if (conn_broken(s) && (s->in_tx || !reconnect(s)))
        return NULL;
    PGresult *r = run_once(s, st, id, p);
    if (conn_broken(s) && !s->in_tx) {
        PQclear(r);
        if (!reconnect(s))
            return NULL;
        r = run_once(s, st, id, p);
    }
    if (!r && conn_broken(s))
        return NULL;
    return r;
}

PGresult *pg_exec_text(pg_store *s, const char *sql)
{
    if (conn_broken(s) && (s->in_tx || !reconnect(s)))
        return NULL;
    PGresult *r = exec_bounded(s, sql);
    if (conn_broken(s) && !s->in_tx) {
        PQclear(r);
        if (!reconnect(s))
            return NULL;
        r = exec_bounded(s, sql);
    }
    return r;
}

/* ---- parameters ------------------------------------------------------------ */

static bool param_slot(pg_params *p)
{
    if (p->n >= PG_PARAMS_MAX) {
        p->overflow = true;
        return false;
    }
    return true;
}

void pg_p_int(pg_params *p, int64_t v)
{
    if (!param_slot(p))
        return;
    snprintf(p->num[p->n], sizeof p->num[p->n], "%" PRId64, v);
    p->val[p->n] = p->num[p->n];
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

void pg_p_text(pg_params *p, const char *v)
{
    if (!param_slot(p))
        return;
    p->val[p->n] = v;
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

/* "1"/"0": boolean's input reads them as true/false, and the integer flag
 * columns ported from SQLite read them as numbers, so one spelling binds
 * to either. */
void pg_p_bool(pg_params *p, bool v) { pg_p_text(p, v ? "1" : "0"); }

void pg_p_null(pg_params *p) { pg_p_text(p, NULL); }

void pg_p_bytes(pg_params *p, const void *v, size_t n)
{
    if (!param_slot(p))
        return;
    if (n > INT32_MAX) {
        p->overflow = true;
        return;
    }
    p->val[p->n] = v;
    p->len[p->n] = (int)n;
    p->fmt[p->n] = 1;
    p->n++;
}

void pg_p_time0(pg_params *p, int64_t v)
{
    if (v)
        pg_p_int(p, v);
    else
        pg_p_null(p);
}

/* ---- errors ------------------------------------------------------------------ */

piora_err pg_ok(pg_store *s, const PGresult *r, const char *what)
{
    if (!r) {
        if (!s->down_logged)
            log_warn("store: %s: PostgreSQL unavailable", what);
        return PIORA_EBUSY;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return PIORA_OK;
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (!code)
        code = "";
    if (strcmp(code, "23505") == 0 || strcmp(code, "23503") == 0)
        return PIORA_ECONFLICT;
    if (strncmp(code, "23", 2) == 0)
        return PIORA_EINVALID;
    if (strcmp(code, "40001") == 0 || strcmp(code, "40P01") == 0 || strcmp(code, "55P03") == 0) {
        log_warn("store: %s: PostgreSQL busy (%s)", what, code);
        return PIORA_EBUSY;
    }
    if (conn_broken(s) || strncmp(code, "08", 2) == 0 || strncmp(code, "57P0", 4) == 0) {
        log_warn("store: %s: PostgreSQL connection lost (%s)", what, *code ? code : "no SQLSTATE");
        return PIORA_EBUSY;
    }
    /* The primary message names the failure, never a bound value (those
     * only appear in DETAIL, which is not logged). */
    const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    log_error("store: %s: %s (%s)", what, m ? m : PQresStatus(st), code);
    return PIORA_EDB;
}

piora_err pg_do(pg_store *s, pg_stmt *st, const pg_params *p, int64_t *rows, const char *what)
{
    PGresult *r = pg_run(s, st, p);
    piora_err e = pg_ok(s, r, what);
    if (e == PIORA_OK && rows) {
        const char *t = PQcmdTuples(r);
        int64_t v = 0;
        *rows = t && *t && num_parse_i64(t, 0, INT64_MAX, &v) ? v : 0;
    }
    PQclear(r);
    return e;
}

/* ---- transactions ---------------------------------------------------------- */

static piora_err tx_exec(pg_store *s, const char *sql, const char *what)
{
    PGresult *r = pg_exec_text(s, sql);
    piora_err e = pg_ok(s, r, what);
    PQclear(r);
    return e;
}

piora_err pg_begin(pg_store *s)
{
    piora_err e = tx_exec(s, "BEGIN ISOLATION LEVEL READ COMMITTED", "begin");
    if (e == PIORA_OK)
        s->in_tx = true;
    return e;
}

piora_err pg_begin_read(pg_store *s)
{
    piora_err e = tx_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin");
    if (e == PIORA_OK)
        s->in_tx = true;
    return e;
}

void pg_rollback(pg_store *s)
{
    if (!s->in_tx)
        return;
    if (!conn_broken(s) && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PGresult *r = exec_bounded(s, "ROLLBACK");
        PQclear(r);
    }
    s->in_tx = false;
}

void pg_end_read(pg_store *s) { pg_rollback(s); }

piora_err pg_commit(pg_store *s, unsigned kinds)
{
    if (!s->in_tx)
        return PIORA_EINTERNAL;
    int64_t counters[CHANGE__COUNT];
    piora_err e = PIORA_OK;
    if (conn_broken(s))
        e = PIORA_EBUSY;
    else if (PQtransactionStatus(s->conn) != PQTRANS_INTRANS)
        e = PIORA_EDB; /* a statement failed: the transaction is aborted */
    if (e == PIORA_OK)
        e = pg_change_note(s, kinds, counters);
    if (e == PIORA_OK) {
        PGresult *r = exec_bounded(s, "COMMIT");
        e = pg_ok(s, r, "commit");
        /* COMMIT of an aborted transaction "succeeds" as ROLLBACK. */
        if (e == PIORA_OK && strcmp(PQcmdStatus(r), "COMMIT") != 0)
            e = PIORA_EDB;
        PQclear(r);
        if (e == PIORA_OK)
            s->in_tx = false;
    }
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    pg_change_publish(kinds, counters);
    return PIORA_OK;
}

/* ---- results ------------------------------------------------------------------ */

int64_t pg_col_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const char *v = PQgetvalue(r, row, col);
    /* boolean expressions ported from SQLite's integer ones come back 't'/'f' */
    if (v[0] == 't' && v[1] == '\0')
        return 1;
    if (v[0] == 'f' && v[1] == '\0')
        return 0;
    int64_t n = 0;
    return num_parse_i64(v, INT64_MIN, INT64_MAX, &n) ? n : 0;
}

bool pg_col_bool(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return false;
    const char *v = PQgetvalue(r, row, col);
    return (v[0] == 't' && v[1] == '\0') || (v[0] == '1' && v[1] == '\0');
}

void pg_col_copy(const PGresult *r, int row, int col, char *dst, size_t dstlen)
{
    store_copy(dst, dstlen, PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool pg_col_bytes(const PGresult *r, int row, int col, uint8_t *dst, size_t n)
{
    if (PQgetisnull(r, row, col))
        return false;
    const char *v = PQgetvalue(r, row, col);
    size_t len = (size_t)PQgetlength(r, row, col);
    if (len != 2 + 2 * n || v[0] != '\\' || v[1] != 'x')
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        dst[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

piora_err pg_fetch_row(pg_store *s, pg_stmt *st, const pg_params *p, pg_row_fn row, void *out,
                       const char *what)
{
    PGresult *r = pg_run(s, st, p);
    piora_err e = pg_ok(s, r, what);
    if (e == PIORA_OK) {
        if (PQntuples(r) > 0)
            row(r, 0, out);
        else
            e = PIORA_ENOTFOUND;
    }
    PQclear(r);
    return e;
}

piora_err pg_fetch_rows(pg_store *s, pg_stmt *st, const pg_params *p, size_t elem, pg_row_fn row,
                        void **out, size_t *n, const char *what)
{
    *out = NULL;
    *n = 0;
    PGresult *r = pg_run(s, st, p);
    piora_err e = pg_ok(s, r, what);
    if (e != PIORA_OK) {
        PQclear(r);
        return e;
    }
    size_t rows = (size_t)PQntuples(r);
    char *v = NULL;
    if (rows) {
        v = rows <= SIZE_MAX / elem ? calloc(rows, elem) : NULL;
        if (!v) {
            PQclear(r);
            return PIORA_ENOMEM;
        }
        for (size_t i = 0; i < rows; i++)
            row(r, (int)i, v + i * elem);
    }
    PQclear(r);
    *out = v;
    *n = rows;
    return PIORA_OK;
}

piora_err pg_exists(pg_store *s, pg_stmt *st, const pg_params *p, const char *what)
{
    PGresult *r = pg_run(s, st, p);
    piora_err e = pg_ok(s, r, what);
    if (e == PIORA_OK && PQntuples(r) == 0)
        e = PIORA_ENOTFOUND;
    PQclear(r);
    return e;
}

piora_err pg_fetch_int(pg_store *s, pg_stmt *st, const pg_params *p, int64_t *v,
                       const char *what)
{
    PGresult *r = pg_run(s, st, p);
    piora_err e = pg_ok(s, r, what);
    if (e == PIORA_OK) {
        if (PQntuples(r) > 0 && PQnfields(r) > 0)
            *v = pg_col_int(r, 0, 0);
        else
            e = PIORA_ENOTFOUND;
    }
    PQclear(r);
    return e;
}

/* ---- migrations -------------------------------------------------------------- */

static int migrations_latest(void)
{
    int v = 0;
    for (int i = 0; i < piora_pg_migrations_count; i++)
        if (piora_pg_migrations[i].version > v)
            v = piora_pg_migrations[i].version;
    return v;
}

static void fail_msg(char *msg, size_t msglen, const char *what, const PGresult *r, PGconn *c)
{
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(msg, msglen, "%s: %s", what, m ? m : PQerrorMessage(c));
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
}

/* The applied versions, as a set: applied[v] for 0 < v <= latest. Answers
 * the highest applied version (0 for a database never migrated), -1 on
 * error (msg set). */
static int schema_read(pg_store *s, bool *applied, int latest, char *msg, size_t msglen)
{
    PGresult *r = PQexec(s->conn, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        fail_msg(msg, msglen, "cannot read the database", r, s->conn);
        PQclear(r);
        return -1;
    }
    bool exists = pg_col_bool(r, 0, 0);
    PQclear(r);
    if (!exists)
        return 0;
    r = PQexec(s->conn, "SELECT version FROM schema_migrations");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fail_msg(msg, msglen, "cannot read the schema version", r, s->conn);
        PQclear(r);
        return -1;
    }
    int max = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t v = pg_col_int(r, i, 0);
        if (v > max && v <= INT32_MAX)
            max = (int)v;
        if (applied && v > 0 && v <= latest)
            applied[v] = true;
    }
    PQclear(r);
    return max;
}

/* One migration in its own transaction, under the advisory lock, checked
 * again once the lock is held: another node may have applied it while
 * this one waited. */
static int migration_apply(pg_store *s, const migration_t *m, char *msg, size_t msglen)
{
    static const char *const pre[] = {
        "BEGIN ISOLATION LEVEL READ COMMITTED",
        "SELECT pg_advisory_xact_lock(482805248609)",
        /* one literal per element: clang's -Wstring-concatenation (the fuzz build) */
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    };
    _Static_assert(PG_MIGRATION_LOCK == 482805248609LL, "the lock number in the SQL text");
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        PGresult *r = PQexec(s->conn, pre[i]);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            fail_msg(msg, msglen, "cannot migrate the database", r, s->conn);
            PQclear(r);
            goto fail;
        }
        PQclear(r);
    }
    char vtext[16];
    snprintf(vtext, sizeof vtext, "%d", m->version);
    const char *chk[1] = {vtext};
    PGresult *r = PQexecParams(s->conn, "SELECT 1 FROM schema_migrations WHERE version = $1::bigint",
                               1, NULL, chk, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fail_msg(msg, msglen, "cannot read the schema version", r, s->conn);
        PQclear(r);
        goto fail;
    }
    bool applied = PQntuples(r) > 0;
    PQclear(r);
    if (!applied) {
        r = PQexec(s->conn, m->sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            char what[128];
            snprintf(what, sizeof what, "migration %s failed", m->name);
            fail_msg(msg, msglen, what, r, s->conn);
            PQclear(r);
            goto fail;
        }
        PQclear(r);
        char now[24];
        snprintf(now, sizeof now, "%" PRId64, clock_now());
        const char *vals[3] = {vtext, m->name, now};
        r = PQexecParams(s->conn,
                         "INSERT INTO schema_migrations(version, name, applied_at)"
                         " VALUES($1::bigint, $2, $3::bigint)",
                         3, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fail_msg(msg, msglen, "cannot record the migration", r, s->conn);
            PQclear(r);
            goto fail;
        }
        PQclear(r);
    }
    r = PQexec(s->conn, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        fail_msg(msg, msglen, "cannot commit the migration", r, s->conn);
        PQclear(r);
        goto fail;
    }
    PQclear(r);
    if (!applied) {
        change_bump(CHANGE_ALL); /* a new schema: nothing cached before it holds */
        log_info("store: applied migration %s", m->name);
    }
    return 0;
fail:
    if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        PQclear(PQexec(s->conn, "ROLLBACK"));
    return -1;
}

static int migrations_run(pg_store *s, bool create, char *msg, size_t msglen)
{
    int latest = migrations_latest();
    bool applied[latest + 1];
    memset(applied, 0, sizeof applied);
    int cur = schema_read(s, applied, latest, msg, msglen);
    if (cur < 0)
        return -1;
    if (cur > latest) {
        snprintf(msg, msglen,
                 "the database schema (version %d) is newer than this piora supports (%d); "
                 "use a newer piora",
                 cur, latest);
        return -1;
    }
    if (cur == 0 && !create) {
        snprintf(msg, msglen,
                 "the database has no piora schema (run `piora serve` or `piora user add` "
                 "against it first)");
        return -1;
    }
    /* A migration numbered below the newest applied one is still applied
     * when missing (a branch merged after a later one ran); checking is a
     * read, so opening an up-to-date database writes nothing. */
    for (int i = 0; i < piora_pg_migrations_count; i++) {
        const migration_t *m = &piora_pg_migrations[i];
        if (m->version > 0 && m->version <= latest && applied[m->version])
            continue;
        if (migration_apply(s, m, msg, msglen) != 0)
            return -1;
    }
    s->schema_version = schema_read(s, NULL, latest, msg, msglen);
    return s->schema_version < 0 ? -1 : 0;
}

/* ---- open and close ---------------------------------------------------------- */

static void pg_close(store_t *base)
{
    pg_store *s = pgs(base);
    if (!s)
        return;
    PQfinish(s->conn);
    free(s->conninfo);
    free(s);
}

/* Whether the URL itself names libpq parameter `key` (then it wins). */
static bool url_sets(const PQconninfoOption *opts, const char *key)
{
    for (const PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0)
            return o->val != NULL;
    return false;
}

static PGconn *connect_url(const char *url, char *msg, size_t msglen)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &err);
    if (!opts) {
        /* libpq's message quotes no part of the URL's password */
        snprintf(msg, msglen, "invalid PostgreSQL URL: %s", err ? err : "out of memory");
        PQfreemem(err);
        return NULL;
    }
    /* Defaults first, the URL last: with expand_dbname the last value of a
     * keyword wins, so whatever the URL sets overrides these. The timeouts
     * bound how long a dead server holds a request (SPEC 1: 503 within 5 s).
     * The check interval is the other direction: when pg_await() gives up
     * on a statement (a lock held elsewhere, say) it drops the connection,
     * and the server ends that statement and its transaction within a
     * second rather than run it, holding its locks, whenever the lock
     * comes free (PostgreSQL 14 and later). */
    static const char *const defaults[][2] = {
        {"connect_timeout", "3"}, {"keepalives", "1"}, {"keepalives_idle", "5"},
        {"keepalives_interval", "2"}, {"keepalives_count", "2"}, {"tcp_user_timeout", "4000"},
        {"application_name", "piora"}, {"options", "-c client_connection_check_interval=1000"},
    };
    enum { NDEFAULTS = sizeof defaults / sizeof defaults[0] };
    const char *keys[NDEFAULTS + 2], *vals[NDEFAULTS + 2]; /* + dbname + the NULL end */
    int n = 0;
    for (size_t i = 0; i < NDEFAULTS; i++) {
        if (url_sets(opts, defaults[i][0]))
            continue;
        keys[n] = defaults[i][0];
        vals[n] = defaults[i][1];
        n++;
    }
    PQconninfoFree(opts);
    keys[n] = "dbname";
    vals[n] = url;
    n++;
    keys[n] = NULL;
    vals[n] = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        fail_msg(msg, msglen, "cannot connect to PostgreSQL", NULL, c);
        PQfinish(c);
        return NULL;
    }
    return c;
}

static store_t *open_impl(const char *url, bool create, char *msg, size_t msglen)
{
    char dummy[8];
    if (!msg || !msglen) {
        msg = dummy;
        msglen = sizeof dummy;
    }
    pg_store *s = calloc(1, sizeof *s);
    if (!s || !(s->conninfo = strdup(url))) {
        free(s);
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    s->base.ops = &pg_ops;
    char host[32] = "";
    gethostname(host, sizeof host - 1);
    snprintf(s->node_id, sizeof s->node_id, "%s-%ld", host, (long)getpid());
    s->conn = connect_url(url, msg, msglen);
    if (!s->conn)
        goto fail;
    /* Quiet NOTICEs ("relation exists, skipping"): they would go to stderr. */
    PQclear(PQexec(s->conn, "SET client_min_messages = warning"));
    if (migrations_run(s, create, msg, msglen) != 0)
        goto fail;
    return &s->base;
fail:
    pg_close(&s->base);
    return NULL;
}

store_t *pg_store_open(const char *url, char *msg, size_t msglen)
{
    return open_impl(url, true, msg, msglen);
}

store_t *pg_store_open_existing(const char *url, char *msg, size_t msglen)
{
    return open_impl(url, false, msg, msglen);
}

/* ---- small queries ------------------------------------------------------------ */

piora_err pg_ping(store_t *base)
{
    static pg_stmt q = PG_STMT("SELECT 1 FROM schema_migrations LIMIT 1");
    piora_err e = pg_exists(pgs(base), &q, NULL, "ping");
    return e == PIORA_ENOTFOUND ? PIORA_OK : e; /* an empty table still answered */
}

int pg_schema_version(store_t *base) { return pgs(base)->schema_version; }

const store_ops pg_ops = {
    .close = pg_close,
    .change_poll = pg_change_poll,
    .change_wait_visible = pg_change_wait_visible,
    .change_settle = pg_change_settle,
#define STORE_FN(ret, name, params, args) .name = pg_##name,
#include "store/store_fns.h"
};
