/* Private to the SQLite backend (store/sqlite*.c): the connection struct,
 * its statement cache and the small helpers every query uses. */
#ifndef PIORA_STORE_SQLITE_INTERNAL_H
#define PIORA_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <string.h>

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
    ST__COUNT
} sq_stmt_id;

#define SQ_RES_MAX 16    /* resource descriptors (piora_resources) */
#define SQ_FILTERS_MAX 4 /* list filters per descriptor */

/* Statements of one resource table, built from its descriptor's column
 * list (compile-time names from core/model.c, never user input). */
typedef struct sq_res_stmts {
    sqlite3_stmt *get, *insert, *update, *del, *exists, *list, *count;
    sqlite3_stmt *list_by[SQ_FILTERS_MAX], *count_by[SQ_FILTERS_MAX];
} sq_res_stmts;

typedef struct sq_store {
    struct store base;
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
    sq_res_stmts res[SQ_RES_MAX];
    int schema_version;
    bool dv_known; /* store_changed: data_version seen at least once */
    int64_t dv;
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
 * busy timeout applies to it, instead of failing on a lock upgrade. A
 * successful sq_commit() bumps store_generation(). */
piora_err sq_begin(sq_store *s);
piora_err sq_commit(sq_store *s);
void sq_rollback(sq_store *s);
/* A read snapshot spanning several statements (a list and its count). */
piora_err sq_begin_read(sq_store *s);
void sq_end_read(sq_store *s);

/* Steps a statement expected to change rows and resets it. */
int sq_exec_stmt(sqlite3_stmt *st);

void sq_col_copy(sqlite3_stmt *st, int col, char *dst, size_t dstlen);
/* A time column as RFC 3339 text; JSON null for SQL NULL ("never"). */
json_t *sq_col_json_time(sqlite3_stmt *st, int col);

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

/* users, tokens, objects: sqlite_users.c, sqlite_tokens.c, sqlite_obj.c */
piora_err sq_user_create(store_t *s, const char *email, const char *team_name, bool is_admin,
                         const char *password_hash, user_rec *out);
piora_err sq_user_by_email(store_t *s, const char *email, user_rec *out);
piora_err sq_user_by_id(store_t *s, int64_t id, user_rec *out);
piora_err sq_user_password_hash(store_t *s, int64_t user_id, char *out, size_t outlen);
piora_err sq_user_set_password(store_t *s, int64_t user_id, const char *password_hash);
piora_err sq_user_list(store_t *s, user_rec **out, size_t *n);
piora_err sq_user_count(store_t *s, int64_t *n);
/* Inside the caller's write transaction: finds or creates the team by its
 * exact name, then inserts the user into it; *uid is the new user's id. The
 * caller rolls back on failure. */
piora_err sq_user_insert_tx(sq_store *s, const char *email, const char *team_name, bool is_admin,
                            const char *password_hash, int64_t now, int64_t *uid);

piora_err sq_token_insert(store_t *s, const token_new *t, token_rec *out);
piora_err sq_token_by_digest(store_t *s, const uint8_t digest[TOKEN_DIGEST_LEN], token_rec *out);
piora_err sq_token_by_id(store_t *s, int64_t id, token_rec *out);
piora_err sq_token_list(store_t *s, int64_t user_id, token_rec **out, size_t *n);
piora_err sq_token_revoke(store_t *s, int64_t id, int64_t now);
piora_err sq_token_regenerate(store_t *s, int64_t id, const uint8_t digest[TOKEN_DIGEST_LEN],
                              const char *hint, int64_t new_expires_at, int64_t now,
                              token_rec *out);
piora_err sq_token_touch(store_t *s, const token_touch *v, size_t n);

piora_err sq_obj_list(store_t *s, const resource_desc *d, int64_t team_id, const obj_filter *f,
                      int64_t offset, int64_t limit, json_t **items, int64_t *total);
piora_err sq_obj_get(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                     json_t **obj);
piora_err sq_obj_create(store_t *s, const resource_desc *d, int64_t team_id,
                        const json_t *values, json_t **obj);
piora_err sq_obj_update(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                        const json_t *values, json_t **obj);
piora_err sq_obj_delete(store_t *s, const resource_desc *d, int64_t team_id, int64_t id);
void sq_obj_finalize(sq_store *s);

/* COMMIT without bumping store_generation(): for writes no cache depends
 * on (other connections still see data_version move). */
piora_err sq_commit_quiet(sq_store *s);

/* the audit and usage logs: sqlite_monitor.c */
piora_err sq_audit_insert(store_t *s, const audit_new *e);
piora_err sq_audit_list(store_t *s, int64_t team_id, const char *email, int64_t offset,
                        int64_t limit, audit_row **rows, size_t *n, int64_t *total);
piora_err sq_usage_insert(store_t *s, const usage_entry *v, size_t n);
piora_err sq_usage_list(store_t *s, int64_t token_id, int64_t since, int status, int64_t offset,
                        int64_t limit, json_t **items, int64_t *total);
piora_err sq_usage_prune(store_t *s, int64_t before, int64_t max_rows, const int64_t *token_ids,
                         size_t n, int64_t *deleted);

/* dashboard sessions and the setup secret: sqlite_sessions.c */
piora_err sq_session_insert(store_t *s, const uint8_t *digest, int64_t user_id, const char *csrf,
                            int64_t now, int64_t expires_at, const char *addr, session_rec *out);
piora_err sq_session_by_digest(store_t *s, const uint8_t *digest, session_rec *out);
piora_err sq_session_touch(store_t *s, int64_t id, int64_t now);
piora_err sq_session_delete(store_t *s, int64_t id);
piora_err sq_session_delete_user(store_t *s, int64_t user_id, int64_t keep_id);
piora_err sq_session_prune(store_t *s, int64_t now, int64_t idle_before);
piora_err sq_setup_put(store_t *s, const uint8_t *digest, int64_t now);
piora_err sq_setup_check(store_t *s, const uint8_t *digest);
piora_err sq_setup_complete(store_t *s, const uint8_t *digest, const char *email,
                            const char *team_name, const char *password_hash, int64_t now,
                            user_rec *out);

#endif
