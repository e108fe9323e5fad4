/* Private to the SQLite backend (the files of store/sqlite/): the
 * connection struct, its statement cache and the small helpers every query
 * uses. */
#ifndef PIORA_STORE_SQLITE_INTERNAL_H
#define PIORA_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <string.h>

#include "store/change.h"
#include "store/store_backend.h"

/* Fixed statements, prepared on first use and kept for the connection's
 * life. The SQL text sits at the call site (sq_stmt's third argument) so a
 * query reads next to the code that binds it. */
typedef enum sq_stmt_id {
    ST_BEGIN_WRITE,
    ST_BEGIN_READ,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_DATA_VERSION,
    ST_CHANGE_BUMP,
    ST_CHANGE_READ,
    ST_PING,
    ST_TEAM_INSERT,
    ST_TEAM_ID,
    ST_USER_INSERT,
    ST_USER_BY_EMAIL,
    ST_USER_BY_ID,
    ST_USER_HASH,
    ST_USER_SET_PASSWORD,
    ST_USER_LIST,
    ST_USER_COUNT,
    ST_TOKEN_INSERT,
    ST_TOKEN_BY_DIGEST,
    ST_TOKEN_BY_ID,
    ST_TOKEN_LIST_ALL,
    ST_TOKEN_LIST_USER,
    ST_TOKEN_REVOKE,
    ST_TOKEN_EXISTS,
    ST_TOKEN_SECRET,
    ST_TOKEN_OLD_INSERT,
    ST_TOKEN_SET_SECRET,
    ST_TOKEN_TOUCH,
    ST_AUDIT_INSERT,
    ST_AUDIT_LIST_ALL,
    ST_AUDIT_COUNT_ALL,
    ST_AUDIT_LIST_TEAM,
    ST_AUDIT_COUNT_TEAM,
    ST_AUDIT_LIST_EMAIL,
    ST_AUDIT_COUNT_EMAIL,
    ST_USAGE_INSERT,
    ST_USAGE_LIST,
    ST_USAGE_COUNT,
    ST_USAGE_PRUNE_AGE,
    ST_USAGE_PRUNE_TOKEN,
    ST_USAGE_OVER_CAP,
    ST_SESSION_INSERT,
    ST_SESSION_BY_DIGEST,
    ST_SESSION_TOUCH,
    ST_SESSION_DELETE,
    ST_SESSION_DELETE_USER,
    ST_SESSION_PRUNE,
    ST_SETUP_CLEAR,
    ST_SETUP_INSERT,
    ST_SETUP_CHECK,
    ST_SETUP_CLAIM,
    /* trusted publishers (sqlite_publishers.c) */
    ST_PUBLISHER_INSERT,
    ST_PUBLISHER_GET,
    ST_PUBLISHER_LIST_TEAM,
    ST_PUBLISHER_LIST_ISSUER,
    ST_PUBLISHER_DELETE,
    ST_OIDC_JTI_PRUNE,
    ST_OIDC_JTI_INSERT,
    ST_BACKUP_SCHEDULES,
    ST_BACKUP_SLOT_INSERT,
    ST_BACKUP_SLOT_BACKUP,
    ST_BACKUP_SLOT_SET,
    ST_BACKUP_PRUNE_PICK,
    ST_BACKUP_PRUNE_DELETE,
    ST_SSHKEY_GET,
    ST_SSHKEY_INSERT,
    ST_SSHKEY_DROP_PREVIOUS,
    ST_SSHKEY_DEMOTE,
    ST_DEPLOY_QUEUE,
    ST_DEPLOY_APP_EXISTS,
    ST_DEPLOY_ANY_QUEUED,
    ST_DEPLOY_CLAIM,
    ST_DEPLOY_CLAIMED,
    ST_DEPLOY_APP_STATUS,
    ST_JOB_HEARTBEAT,
    ST_JOB_EXPIRE,
    ST_DEPLOY_CANCEL_ASKED,
    ST_DEPLOY_FINISH,
    ST_DEPLOY_CANCEL_QUEUED,
    ST_DEPLOY_CANCEL_RUNNING,
    ST_DEPLOY_TEAM_EXISTS,
    ST_LOG_SIZE,
    ST_LOG_INSERT,
    ST_LOG_SET_SIZE,
    ST_LOG_STATE,
    ST_LOG_CHUNKS,
    /* token notes and tidy lists (sqlite_token_notes.c) */
    ST_TOKEN_RENAME,
    ST_TOKEN_SET_NOTE,
    ST_TOKEN_HIDE,
    ST_TOKEN_HIDE_STATE,
    /* backup jobs (sqlite_backup_jobs.c): _B on backups, _R on restores */
    ST_BJ_QUEUE_BACKUP,
    ST_BJ_QUEUE_RESTORE,
    ST_BJ_DB_EXISTS,
    ST_BJ_RESTORE_REFS,
    ST_BJ_ANY_PENDING,
    ST_BJ_PICK,
    ST_BJ_CLAIM_B,
    ST_BJ_CLAIM_R,
    ST_BJ_CLAIMED_B,
    ST_BJ_CLAIMED_R,
    ST_BJ_HEARTBEAT_B,
    ST_BJ_HEARTBEAT_R,
    ST_BJ_EXPIRE_B,
    ST_BJ_EXPIRE_R,
    ST_BJ_CANCEL_ASKED_B,
    ST_BJ_CANCEL_ASKED_R,
    ST_BJ_FINISH_B,
    ST_BJ_FINISH_R,
    ST_BJ_CANCEL_PENDING_B,
    ST_BJ_CANCEL_PENDING_R,
    ST_BJ_CANCEL_RUNNING_B,
    ST_BJ_CANCEL_RUNNING_R,
    ST_BJ_TEAM_EXISTS_B,
    ST_BJ_TEAM_EXISTS_R,
    ST_BJ_LOG_SIZE_B,
    ST_BJ_LOG_SIZE_R,
    ST_BJ_LOG_SET_SIZE_B,
    ST_BJ_LOG_SET_SIZE_R,
    ST_BJ_LOG_INSERT,
    ST_BJ_LOG_STATE_B,
    ST_BJ_LOG_STATE_R,
    ST_BJ_LOG_CHUNKS,
    ST__COUNT
} sq_stmt_id;

/* The id of a new row of table tbl, one past the highest it ever gave:
 * SQLite's INTEGER PRIMARY KEY would give a new row the id of a deleted
 * newest one (a token limited to "servers:7" reaching the next server, a
 * running job writing into a new job's log). The marks are kept by the
 * triggers of migration 0016. For the INSERTs written here; the object
 * INSERTs get it from the dialect (sql_dialect.id_marks). */
#define SQ_NEXT_ID(tbl) "(SELECT last + 1 FROM id_marks WHERE tbl = '" tbl "')"

#define SQ_RES_MAX 16    /* resource descriptors (piora_resources) */
#define SQ_FILTERS_MAX 4 /* list filters per descriptor */

/* Statements of one resource table, built from its descriptor's column
 * list (compile-time names from schema/model.c, never user input). */
typedef struct sq_res_stmts {
    sqlite3_stmt *get, *insert, *update, *del, *exists, *list, *count;
    sqlite3_stmt *list_by[SQ_FILTERS_MAX], *count_by[SQ_FILTERS_MAX];
    sqlite3_stmt *parent; /* sqlite_limits.c */
} sq_res_stmts;

typedef struct sq_store {
    struct store base;
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
    sq_res_stmts res[SQ_RES_MAX];
    int schema_version;
    bool dv_known;     /* sq_change_poll: data_version seen at least once */
    int64_t dv;
    int64_t polled_ns; /* when sq_change_poll last asked (CLOCK_MONOTONIC) */
} sq_store;

static inline sq_store *sq(store_t *s) { return (sq_store *)s; }

/* The cached statement id, prepared from sql on first use; NULL (logged)
 * when preparing fails. */
sqlite3_stmt *sq_stmt(sq_store *s, sq_stmt_id id, const char *sql);
/* Prepares sql once into *slot (a per-resource cache entry). */
sqlite3_stmt *sq_prepare_into(sq_store *s, sqlite3_stmt **slot, const char *sql);

/* Maps a failed SQLite result (extended code) to an outcome and logs what
 * deserves it: busy -> EBUSY, unique -> ECONFLICT, foreign key -> ECONFLICT,
 * other constraints -> EINVALID, anything else -> EDB. what names the
 * operation; the SQLite message never carries bound values. */
piora_err sq_fail(sq_store *s, int rc, const char *what);

/* Write transactions take the write lock up front (BEGIN IMMEDIATE) so the
 * busy timeout applies to it, instead of failing on a lock upgrade.
 * sq_commit() names the kinds of change (CHANGE_BIT mask, change.h) the
 * transaction made: it moves their change_feed counters inside the
 * transaction, commits, then moves this process's generations. A failed
 * commit rolls back. */
piora_err sq_begin(sq_store *s);
piora_err sq_commit(sq_store *s, unsigned kinds);
void sq_rollback(sq_store *s);
/* A read snapshot spanning several statements (a list and its count). */
piora_err sq_begin_read(sq_store *s);
void sq_end_read(sq_store *s);

/* Steps a statement expected to change rows and resets it. */
int sq_exec_stmt(sqlite3_stmt *st);

void sq_col_copy(sqlite3_stmt *st, int col, char *dst, size_t dstlen);

/* Decodes the current row of a statement into the record at out. */
typedef void (*sq_row_fn)(sqlite3_stmt *st, void *out);

/* Steps a one-row lookup into out through row(); ENOTFOUND when there is
 * no row. Resets st. what names the operation for sq_fail. */
piora_err sq_fetch_row(sq_store *s, sqlite3_stmt *st, sq_row_fn row, void *out,
                       const char *what);
/* Steps every row of st through row() into a growing malloc'd array of
 * elem-sized records; the caller frees *out. On failure *out is NULL and
 * *n is 0. Resets st. */
piora_err sq_fetch_rows(sq_store *s, sqlite3_stmt *st, size_t elem, sq_row_fn row, void **out,
                        size_t *n, const char *what);
/* Steps a "SELECT 1 ..." probe: OK when it finds a row, ENOTFOUND when
 * not. Resets st. */
piora_err sq_exists(sq_store *s, sqlite3_stmt *st, const char *what);

/* Non-empty text of at most max bytes: the bound the store keeps on what
 * it writes, whoever the caller. */
static inline bool sq_text_ok(const char *v, size_t max)
{
    return v && *v && strlen(v) <= max;
}
static inline int64_t sq_col_int(sqlite3_stmt *st, int col) { return sqlite3_column_int64(st, col); }

/* Binds v, or NULL when v is 0 ("never"). */
static inline int sq_bind_time0(sqlite3_stmt *st, int idx, int64_t v)
{
    return v ? sqlite3_bind_int64(st, idx, v) : sqlite3_bind_null(st, idx);
}

extern const store_ops sq_ops;

/* The backend's half of every store function: sq_<name>(params), one per
 * entry of store_fns.h, in sqlite.c and sqlite_{users,tokens,obj,monitor,
 * sessions,jobs}.c. */
#define STORE_FN(ret, name, params, args) ret sq_##name params;
#include "store/store_fns.h"

/* Inside the caller's write transaction: finds or creates the team by its
 * exact name, then inserts the user into it; *uid is the new user's id. The
 * caller rolls back on failure. */
piora_err sq_user_insert_tx(sq_store *s, const char *email, const char *team_name, bool is_admin,
                            const char *password_hash, int64_t now, int64_t *uid);

void sq_obj_finalize(sq_store *s);
piora_err sq_obj_rows_read(sq_store *s, sqlite3_stmt *list, const resource_desc *d,
                           obj_row **rows, size_t *n);
/* sqlite_limits.c: sq_obj_list() for a resource-limited token (SPEC 11);
 * filter is the column of f->field or NULL. */
piora_err sq_obj_list_granted(sq_store *s, const resource_desc *d, int64_t team_id,
                              const char *filter, const obj_filter *f, int64_t offset,
                              int64_t limit, obj_row **rows, size_t *n, int64_t *total);

/* the change feed: sqlite_change.c. sq_change_note() moves the counters of
 * kinds inside the open write transaction (counters[k]: the new value, -1
 * for a kind the feed has no row for); sq_change_publish() hands them to
 * change.c once the transaction committed. */
piora_err sq_change_note(sq_store *s, unsigned kinds, int64_t counters[CHANGE__COUNT]);
void sq_change_publish(unsigned kinds, const int64_t counters[CHANGE__COUNT]);
piora_err sq_change_poll(store_t *s, unsigned *moved);
void sq_change_wait_visible(store_t *s);

#endif
