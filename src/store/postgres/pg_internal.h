/* Private to the PostgreSQL backend (the files of store/postgres/): the
 * connection struct, statements prepared once per connection, bound
 * parameters, result decoding and the transaction helpers every query
 * uses. The SQLite backend's twin is store/sqlite/sqlite_internal.h; the
 * files mirror each other (pg_users.c <-> sqlite_users.c, ...).
 *
 * Every value is a bound parameter ($1, $2, ...); parameters go as text
 * except byte strings (digests), which go binary; results come back as
 * text and are decoded by the pg_col_* helpers. */
#ifndef PIORA_STORE_PG_INTERNAL_H
#define PIORA_STORE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/change.h"
#include "store/store_backend.h"

/* ---- statements ----------------------------------------------------------
 * A statement is a static object at its call site:
 *     static pg_stmt q = PG_STMT("SELECT ... WHERE id = $1");
 * The first pg_run() of it anywhere gives it a process-wide number; each
 * connection PQprepare()s it under that number ("p<N>") on first use there
 * and keeps it for the connection's life (a reconnect forgets them all). */
#define PG_STMTS_MAX 512
typedef struct pg_stmt {
    const char *sql;
    atomic_int id; /* 0: not numbered yet; else 1..PG_STMTS_MAX */
} pg_stmt;
#define PG_STMT(text) {.sql = (text)}

/* ---- parameters ---------------------------------------------------------- */
#define PG_PARAMS_MAX 40
typedef struct pg_params {
    int n;
    const char *val[PG_PARAMS_MAX];
    int len[PG_PARAMS_MAX];
    int fmt[PG_PARAMS_MAX]; /* 0 text, 1 binary */
    char num[PG_PARAMS_MAX][24];
    bool overflow; /* more than PG_PARAMS_MAX were added: pg_run refuses */
} pg_params;

static inline void pg_params_init(pg_params *p) { memset(p, 0, sizeof *p); }
void pg_p_int(pg_params *p, int64_t v);
/* v NULL: SQL NULL. The text is not copied: it must outlive pg_run(). */
void pg_p_text(pg_params *p, const char *v);
void pg_p_bool(pg_params *p, bool v);
void pg_p_null(pg_params *p);
/* bytea, sent binary; not copied. */
void pg_p_bytes(pg_params *p, const void *v, size_t n);
/* v, or NULL when v is 0 ("never"), as sq_bind_time0. */
void pg_p_time0(pg_params *p, int64_t v);

/* ---- the connection ------------------------------------------------------ */
typedef struct pg_store {
    struct store base;
    PGconn *conn;
    char *conninfo;           /* the URL it was opened with, for reconnects */
    bool in_tx;               /* between pg_begin*() and commit/rollback */
    bool prepared[PG_STMTS_MAX + 1];
    int schema_version;
    char node_id[64];         /* this process's name in the change feed's acks */
    bool down_logged;         /* reconnects failing: said once, until one works */
    int64_t stalled_ns;       /* last answer timed out or reconnect failed (CLOCK_MONOTONIC) */
} pg_store;

static inline pg_store *pgs(store_t *s) { return (pg_store *)s; }

/* Runs the statement with p (NULL: no parameters). Answers the result
 * (PQclear() it) whatever its status, or NULL when the connection is gone
 * and could not be re-established (then every later call tries again).
 * Outside a transaction a broken connection is reset once and the
 * statement retried; inside one it is not (the transaction is lost: the
 * caller's pg_ok() sees the failure and it rolls back). */
PGresult *pg_run(pg_store *s, pg_stmt *st, const pg_params *p);
/* An unprepared one-off (DDL in migrations, SET, LISTEN): PQexec. */
PGresult *pg_exec_text(pg_store *s, const char *sql);

/* The answer to what was just sent on s->conn (PQsend*), as PQexec would
 * give it, waited for at most PG_ANSWER_MS: a server that stopped
 * answering (frozen, a black-holed network: the kernel still acknowledges,
 * so TCP timeouts never fire) must not hold a request (SPEC 1: 503 within
 * 5 s). On the deadline the connection is shut (it then counts as broken)
 * and NULL answered. For PG_STALL_MS after that (or after a reconnect
 * that failed slowly: a refusal is retried at once) reconnects fail at
 * once, so one request waits out one deadline or one connect_timeout
 * (3 s), never one per statement. Every statement of the backend goes
 * through it. */
#define PG_ANSWER_MS 3500
#define PG_STALL_MS 1000
PGresult *pg_await(pg_store *s);

/* PIORA_OK for PGRES_COMMAND_OK / PGRES_TUPLES_OK, else maps SQLSTATE and
 * logs what deserves it (never a bound value): 23505 unique and 23503
 * foreign key -> ECONFLICT, other 23xxx -> EINVALID, 40001 / 40P01 / 55P03
 * -> EBUSY, a lost connection or class 08 / 57P0x -> EBUSY (answered 503
 * `unavailable`), anything else -> EDB. r NULL -> EBUSY. Does not clear r. */
piora_err pg_ok(pg_store *s, const PGresult *r, const char *what);

/* pg_run + pg_ok + PQclear: for statements whose rows do not matter.
 * *rows (may be NULL) receives PQcmdTuples as a number. */
piora_err pg_do(pg_store *s, pg_stmt *st, const pg_params *p, int64_t *rows, const char *what);

/* Transactions. pg_begin: READ COMMITTED write transaction (row locks
 * taken by the statements; SELECT ... FOR UPDATE where a read decides a
 * write). pg_commit names the change kinds (CHANGE_BIT mask) it made: it
 * moves their change_feed counters inside the transaction (pg_change.c),
 * commits, then moves this process's generations. A failed commit rolls
 * back. pg_begin_read: a REPEATABLE READ READ ONLY snapshot for a list and
 * its count. */
piora_err pg_begin(pg_store *s);
piora_err pg_commit(pg_store *s, unsigned kinds);
void pg_rollback(pg_store *s);
piora_err pg_begin_read(pg_store *s);
void pg_end_read(pg_store *s);

/* ---- results (text format) ----------------------------------------------- */
static inline bool pg_col_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) != 0;
}
/* 0 for NULL; 't' / 'f' (a boolean expression, as the ported SQLite
 * queries select them: `x IS NOT NULL`) read as 1 / 0. */
int64_t pg_col_int(const PGresult *r, int row, int col);
/* 't' -> true; NULL -> false. */
bool pg_col_bool(const PGresult *r, int row, int col);
/* Copies into a fixed buffer, cut, always terminated; NULL -> "". */
void pg_col_copy(const PGresult *r, int row, int col, char *dst, size_t dstlen);
/* The value or NULL for SQL NULL; valid until PQclear. */
static inline const char *pg_col_str(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}
/* A bytea column (text form "\x..."): true when it decodes to exactly n
 * bytes into dst. */
bool pg_col_bytes(const PGresult *r, int row, int col, uint8_t *dst, size_t n);

/* Decodes row `row` of r into the record at out. */
typedef void (*pg_row_fn)(const PGresult *r, int row, void *out);
/* Runs st; its first row through row() into out; ENOTFOUND without rows. */
piora_err pg_fetch_row(pg_store *s, pg_stmt *st, const pg_params *p, pg_row_fn row, void *out,
                       const char *what);
/* Runs st; every row through row() into a malloc'd array of elem-sized
 * records (*out, *n); on failure *out NULL and *n 0. */
piora_err pg_fetch_rows(pg_store *s, pg_stmt *st, const pg_params *p, size_t elem, pg_row_fn row,
                        void **out, size_t *n, const char *what);
/* OK when st returns a row, ENOTFOUND when not. */
piora_err pg_exists(pg_store *s, pg_stmt *st, const pg_params *p, const char *what);
/* The first column of the first row as a number (count(*), RETURNING id). */
piora_err pg_fetch_int(pg_store *s, pg_stmt *st, const pg_params *p, int64_t *v,
                       const char *what);

/* Non-empty text of at most max bytes (the store's own bound). */
static inline bool pg_text_ok(const char *v, size_t max) { return v && *v && strlen(v) <= max; }

/* ---- the change feed (pg_change.c) ---------------------------------------- */
/* Inside the open write transaction: moves the change_feed counters of
 * kinds (counters[k] the new value, -1 for a kind without a row) and, for
 * every kind but CHANGE_MONITOR, queues a NOTIFY on the change channel
 * (sent by PostgreSQL at commit). */
piora_err pg_change_note(pg_store *s, unsigned kinds, int64_t counters[CHANGE__COUNT]);
void pg_change_publish(unsigned kinds, const int64_t counters[CHANGE__COUNT]);
piora_err pg_change_poll(store_t *s, unsigned *moved);
void pg_change_wait_visible(store_t *s);
void pg_change_settle(store_t *s, unsigned kinds);

/* ---- shared between sections ------------------------------------------------ */
/* Inside the caller's write transaction: finds or creates the team by its
 * exact name, then inserts the user into it; *uid is the new user's id
 * (pg_users.c; setup_complete and invite_accept use it too, as
 * sq_user_insert_tx). The caller rolls back on failure. */
piora_err pg_user_insert_tx(pg_store *s, const char *email, const char *team_name, bool is_admin,
                            const char *password_hash, int64_t now, int64_t *uid);

extern const store_ops pg_ops;

/* The backend's half of every store function: pg_<name>(params), one per
 * entry of store_fns.h, in pg_<section>.c (each mirrors sqlite_<section>.c). */
#define STORE_FN(ret, name, params, args) ret pg_##name params;
#include "store/store_fns.h"

#endif
