/* The SQLite backend: opening a connection (WAL, pragmas, busy timeout),
 * forward migrations, the statement cache and the transaction helpers.
 * Users, tokens and objects live in sqlite_users.c, sqlite_tokens.c and
 * sqlite_obj.c; the change feed that sq_commit() moves in sqlite_change.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/change_backend.h"
#include "store/migrate.h"
#include "store/sqlite/sqlite_internal.h"
#include "util/clock.h"
#include "util/log.h"

#define BUSY_TIMEOUT_MS 5000

/* ---- statements and errors --------------------------------------------- */

sqlite3_stmt *sq_prepare_into(sq_store *s, sqlite3_stmt **slot, const char *sql)
{
    if (*slot)
        return *slot;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        log_error("store: prepare failed: %s", sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return NULL;
    }
    *slot = st;
    return st;
}

sqlite3_stmt *sq_stmt(sq_store *s, sq_stmt_id id, const char *sql)
{
    return sq_prepare_into(s, &s->st[id], sql);
}

piora_err sq_fail(sq_store *s, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        log_warn("store: %s: database busy: %s", what, sqlite3_errmsg(s->db));
        return PIORA_EBUSY;
    case SQLITE_CONSTRAINT:
        switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            return PIORA_ECONFLICT;
        default:
            return PIORA_EINVALID;
        }
    case SQLITE_NOMEM:
        log_error("store: %s: out of memory", what);
        return PIORA_ENOMEM;
    default:
        log_error("store: %s: %s (%d)", what, sqlite3_errmsg(s->db), rc);
        return PIORA_EDB;
    }
}

int sq_exec_stmt(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

void sq_col_copy(sqlite3_stmt *st, int col, char *dst, size_t dstlen)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    store_copy(dst, dstlen, v);
}

piora_err sq_fetch_row(sq_store *s, sqlite3_stmt *st, sq_row_fn row, void *out,
                       const char *what)
{
    int rc = sqlite3_step(st);
    piora_err e = PIORA_OK;
    if (rc == SQLITE_ROW)
        row(st, out);
    else if (rc == SQLITE_DONE)
        e = PIORA_ENOTFOUND;
    else
        e = sq_fail(s, rc, what);
    sqlite3_reset(st);
    return e;
}

piora_err sq_fetch_rows(sq_store *s, sqlite3_stmt *st, size_t elem, sq_row_fn row, void **out,
                        size_t *n, const char *what)
{
    *out = NULL;
    *n = 0;
    char *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    piora_err e = PIORA_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char *nv = ncap <= SIZE_MAX / elem ? realloc(v, ncap * elem) : NULL;
            if (!nv) {
                e = PIORA_ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        row(st, v + len++ * elem);
    }
    if (e == PIORA_OK && rc != SQLITE_DONE)
        e = sq_fail(s, rc, what);
    sqlite3_reset(st);
    if (e != PIORA_OK) {
        free(v);
        return e;
    }
    *out = v;
    *n = len;
    return PIORA_OK;
}

piora_err sq_exists(sq_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return PIORA_OK;
    return rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, what);
}

/* ---- transactions ------------------------------------------------------- */

static piora_err tx_run(sq_store *s, sq_stmt_id id, const char *sql, const char *what)
{
    sqlite3_stmt *st = sq_stmt(s, id, sql);
    if (!st)
        return PIORA_EDB;
    int rc = sq_exec_stmt(st);
    return rc == SQLITE_DONE ? PIORA_OK : sq_fail(s, rc, what);
}

piora_err sq_begin(sq_store *s)
{
    return tx_run(s, ST_BEGIN_WRITE, "BEGIN IMMEDIATE", "begin");
}

piora_err sq_commit(sq_store *s, unsigned kinds)
{
    int64_t counters[CHANGE__COUNT];
    piora_err e = sq_change_note(s, kinds, counters);
    if (e == PIORA_OK)
        e = tx_run(s, ST_COMMIT, "COMMIT", "commit");
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    sq_change_publish(kinds, counters);
    return PIORA_OK;
}

void sq_rollback(sq_store *s)
{
    if (sqlite3_get_autocommit(s->db))
        return; /* SQLite already rolled back (e.g. after SQLITE_FULL) */
    tx_run(s, ST_ROLLBACK, "ROLLBACK", "rollback");
}

piora_err sq_begin_read(sq_store *s)
{
    return tx_run(s, ST_BEGIN_READ, "BEGIN", "begin");
}

void sq_end_read(sq_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        tx_run(s, ST_COMMIT, "COMMIT", "commit");
}

/* ---- migrations --------------------------------------------------------- */

static int migrations_latest(void)
{
    int v = 0;
    for (int i = 0; i < piora_migrations_count; i++)
        if (piora_migrations[i].version > v)
            v = piora_migrations[i].version;
    return v;
}

/* The highest applied version, 0 for a new file. -1 on error (msg set). */
static int schema_current(sq_store *s, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    bool exists = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(msg, msglen, "cannot read the database: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    if (!exists)
        return 0;
    rc = sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                            &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (v < 0)
        snprintf(msg, msglen, "cannot read the schema version: %s", sqlite3_errmsg(s->db));
    return v;
}

/* 1 when version is in schema_migrations, 0 when not, -1 on error. */
static int migration_recorded(sq_store *s, int version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1,
                                &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, version);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* One migration in its own write transaction. The version is checked again
 * under the write lock: two processes opening a new file at once must not
 * both apply it. */
static int migration_apply(sq_store *s, const migration_t *m, char *msg, size_t msglen)
{
    char *err = NULL;
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &err);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db,
                          "CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                          " applied_at INTEGER NOT NULL)",
                          NULL, NULL, &err);
    bool applied = false;
    if (rc == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1,
                                &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(st, 1, m->version);
            rc = sqlite3_step(st);
            applied = rc == SQLITE_ROW;
            rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SQLITE_OK : rc;
        }
        sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK && !applied) {
        rc = sqlite3_exec(s->db, m->sql, NULL, NULL, &err);
        if (rc == SQLITE_OK) {
            sqlite3_stmt *st = NULL;
            rc = sqlite3_prepare_v2(
                s->db,
                "INSERT INTO schema_migrations(version, name, applied_at) VALUES(?1, ?2, ?3)", -1,
                &st, NULL);
            if (rc == SQLITE_OK) {
                sqlite3_bind_int(st, 1, m->version);
                sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, clock_now());
                rc = sqlite3_step(st);
                rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
            }
            sqlite3_finalize(st);
        }
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        snprintf(msg, msglen, "migration %s failed: %s", m->name,
                 err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (!applied) {
        change_bump(CHANGE_ALL); /* a new schema: nothing cached before it holds */
        log_info("store: applied migration %s", m->name);
    }
    return 0;
}

static int migrations_run(sq_store *s, char *msg, size_t msglen)
{
    int latest = migrations_latest();
    int cur = schema_current(s, msg, msglen);
    if (cur < 0)
        return -1;
    if (cur > latest) {
        snprintf(msg, msglen,
                 "the database schema (version %d) is newer than this piora supports (%d); "
                 "use a newer piora",
                 cur, latest);
        return -1;
    }
    /* Migrations are ordered by file name, i.e. by their zero-padded number.
     * One numbered below the newest applied is still applied when it is
     * missing (a branch merged after a later one ran); that check is a read,
     * so opening an up-to-date file writes nothing. */
    for (int i = 0; i < piora_migrations_count; i++) {
        const migration_t *m = &piora_migrations[i];
        if (m->version <= cur) {
            int applied = migration_recorded(s, m->version);
            if (applied < 0) {
                snprintf(msg, msglen, "cannot read the schema version: %s", sqlite3_errmsg(s->db));
                return -1;
            }
            if (applied)
                continue;
        }
        if (migration_apply(s, m, msg, msglen) != 0)
            return -1;
    }
    s->schema_version = schema_current(s, msg, msglen);
    return s->schema_version < 0 ? -1 : 0;
}

/* ---- open and close ------------------------------------------------------ */

static void sq_close(store_t *base)
{
    sq_store *s = sq(base);
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sq_obj_finalize(s);
    sqlite3_close_v2(s->db);
    free(s);
}

static int pragma(sq_store *s, const char *path, const char *sql, char *msg, size_t msglen)
{
    char *err = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        snprintf(msg, msglen, "cannot use %s: %s", path, err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

store_t *sqlite_store_open(const char *path, char *msg, size_t msglen)
{
    char dummy[8];
    if (!msg || !msglen) {
        msg = dummy;
        msglen = sizeof dummy;
    }
    sq_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    s->base.ops = &sq_ops;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(msg, msglen, "cannot open %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    if (pragma(s, path, "PRAGMA journal_mode=WAL", msg, msglen) ||
        pragma(s, path, "PRAGMA synchronous=NORMAL", msg, msglen) ||
        pragma(s, path, "PRAGMA foreign_keys=ON", msg, msglen) ||
        pragma(s, path, "PRAGMA busy_timeout=5000", msg, msglen))
        goto fail;
    if (migrations_run(s, msg, msglen) != 0)
        goto fail;
    return &s->base;
fail:
    sq_close(&s->base);
    return NULL;
}

void sqlite_store_set_busy_timeout(store_t *s, int ms)
{
    sqlite3_busy_timeout(sq(s)->db, ms);
}

/* ---- small queries -------------------------------------------------------- */

/* Readiness: a read of a real table (it takes the shared lock and reads a
 * page, so I/O errors and corruption show), and the file still being where
 * it was opened: a connection to a deleted or replaced file would keep
 * "working" on a copy nobody else sees. */
piora_err sq_ping(store_t *base)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_PING, "SELECT 1 FROM schema_migrations LIMIT 1");
    if (!st)
        return PIORA_EDB;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return sq_fail(s, rc, "ping");
    int moved = 0;
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK &&
        moved) {
        log_error("store: the database file was deleted, renamed or replaced");
        return PIORA_EDB;
    }
    return PIORA_OK;
}

int sq_schema_version(store_t *base) { return sq(base)->schema_version; }

const store_ops sq_ops = {
    .close = sq_close,
    .change_poll = sq_change_poll,
    .change_wait_visible = sq_change_wait_visible,
#define STORE_FN(ret, name, params, args) .name = sq_##name,
#include "store/store_fns.h"
};
