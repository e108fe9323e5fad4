/* The audit log and the per-token usage log on SQLite (SPEC 6). Both are
 * append-mostly tables read newest first. Their writes are changes of kind
 * CHANGE_MONITOR only: the serving threads see data_version move, read the
 * change feed once, and keep their cached tokens and pages. Both lists
 * return typed rows (audit_row, usage_entry) that core/ renders. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"
#include "util/clock.h"

/* ---- helpers ------------------------------------------------------------- */

static int bind_text0(sqlite3_stmt *st, int idx, const char *v)
{
    return v && *v ? sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
}

static piora_err count_of(sq_store *s, sqlite3_stmt *st, int64_t *total)
{
    int rc = sqlite3_step(st);
    piora_err e = PIORA_OK;
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    else
        e = sq_fail(s, rc, "count");
    sqlite3_reset(st);
    return e;
}

/* ---- audit --------------------------------------------------------------- */

piora_err sq_audit_insert(store_t *base, const audit_new *e)
{
    sq_store *s = sq(base);
    if (!e || !e->action || !*e->action || !e->via || !*e->via)
        return PIORA_EINVALID;
    sqlite3_stmt *st = sq_stmt(s, ST_AUDIT_INSERT,
                               "INSERT INTO audit_log(time, action, via, team_id, actor_user_id, "
                               "token_id, subject_user_id, email, addr, token_name, detail, object_kind, object_id) "
                               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, e->time > 0 ? e->time : clock_now());
    sqlite3_bind_text(st, 2, e->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->via, -1, SQLITE_STATIC);
    sq_bind_time0(st, 4, e->team_id);
    sq_bind_time0(st, 5, e->actor_user_id);
    sq_bind_time0(st, 6, e->token_id);
    sq_bind_time0(st, 7, e->subject_user_id);
    bind_text0(st, 8, e->email);
    bind_text0(st, 9, e->addr);
    bind_text0(st, 10, e->token_name);
    bind_text0(st, 11, e->detail);
    bind_text0(st, 12, e->object_kind);
    sq_bind_time0(st, 13, e->object_kind ? e->object_id : 0);
    /* Its own transaction, so that the change feed moves with it. */
    piora_err err = sq_begin(s);
    if (err != PIORA_OK) {
        sqlite3_clear_bindings(st);
        return err;
    }
    int rc = sq_exec_stmt(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        err = sq_fail(s, rc, "audit insert");
        sq_rollback(s);
        return err;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_MONITOR));
}

#define AUDIT_COLS                                                                              \
    "SELECT a.id, a.time, a.action, a.via, a.team_id, a.actor_user_id, act.email, a.token_id, " \
    "a.subject_user_id, a.email, a.addr, a.token_name, a.detail, a.object_kind, a.object_id "  \
    "FROM audit_log a "                                                                         \
    "LEFT JOIN users act ON act.id = a.actor_user_id "
#define AUDIT_EMAIL_WHERE                                                                       \
    "WHERE (?1 = 0 OR a.team_id = ?1) AND (a.email = ?2 COLLATE NOCASE "                        \
    "OR a.actor_user_id IN (SELECT id FROM users WHERE email = ?2) "                           \
    "OR a.subject_user_id IN (SELECT id FROM users WHERE email = ?2)) "

static void audit_read(sqlite3_stmt *st, audit_row *o)
{
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(st, 0);
    o->time = sqlite3_column_int64(st, 1);
    sq_col_copy(st, 2, o->action, sizeof o->action);
    sq_col_copy(st, 3, o->via, sizeof o->via);
    o->team_id = sqlite3_column_int64(st, 4);
    o->actor_user_id = sqlite3_column_int64(st, 5);
    sq_col_copy(st, 6, o->actor_email, sizeof o->actor_email);
    o->token_id = sqlite3_column_int64(st, 7);
    sq_col_copy(st, 11, o->token_name, sizeof o->token_name);
    o->subject_user_id = sqlite3_column_int64(st, 8);
    sq_col_copy(st, 9, o->email, sizeof o->email);
    sq_col_copy(st, 10, o->addr, sizeof o->addr);
    sq_col_copy(st, 12, o->detail, sizeof o->detail);
    sq_col_copy(st, 13, o->object_kind, sizeof o->object_kind);
    o->object_id = sqlite3_column_int64(st, 14);
}

piora_err sq_audit_list(store_t *base, int64_t team_id, const char *email, int64_t offset,
                        int64_t limit, audit_row **rows, size_t *n, int64_t *total)
{
    sq_store *s = sq(base);
    *rows = NULL;
    *n = 0;
    *total = 0;
    if (offset < 0 || limit < 0)
        return PIORA_EINVALID;
    sqlite3_stmt *list, *count;
    if (email && *email) {
        list = sq_stmt(s, ST_AUDIT_LIST_EMAIL,
                       AUDIT_COLS AUDIT_EMAIL_WHERE "ORDER BY a.id DESC LIMIT ?3 OFFSET ?4");
        count = sq_stmt(s, ST_AUDIT_COUNT_EMAIL,
                        "SELECT count(*) FROM audit_log a " AUDIT_EMAIL_WHERE);
    } else if (team_id > 0) {
        list = sq_stmt(s, ST_AUDIT_LIST_TEAM,
                       AUDIT_COLS "WHERE a.team_id = ?1 ORDER BY a.id DESC LIMIT ?3 OFFSET ?4");
        count = sq_stmt(s, ST_AUDIT_COUNT_TEAM,
                        "SELECT count(*) FROM audit_log WHERE team_id = ?1");
    } else {
        list = sq_stmt(s, ST_AUDIT_LIST_ALL,
                       AUDIT_COLS "WHERE ?1 = ?1 ORDER BY a.id DESC LIMIT ?3 OFFSET ?4");
        count = sq_stmt(s, ST_AUDIT_COUNT_ALL, "SELECT count(*) FROM audit_log WHERE ?1 = ?1");
    }
    if (!list || !count)
        return PIORA_EDB;
    piora_err e = sq_begin_read(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(list, 1, team_id > 0 ? team_id : 0);
    sqlite3_bind_int64(count, 1, team_id > 0 ? team_id : 0);
    if (email && *email) {
        sqlite3_bind_text(list, 2, email, -1, SQLITE_STATIC);
        sqlite3_bind_text(count, 2, email, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(list, 3, limit);
    sqlite3_bind_int64(list, 4, offset);
    audit_row *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(list)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            audit_row *nv = realloc(v, ncap * sizeof *v);
            if (!nv) {
                e = PIORA_ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        audit_read(list, &v[len++]);
    }
    if (e == PIORA_OK && rc != SQLITE_DONE)
        e = sq_fail(s, rc, "audit list");
    sqlite3_reset(list);
    sqlite3_clear_bindings(list);
    if (e == PIORA_OK)
        e = count_of(s, count, total);
    sqlite3_clear_bindings(count);
    sq_end_read(s);
    if (e != PIORA_OK) {
        free(v);
        *total = 0;
        return e;
    }
    *rows = v;
    *n = len;
    return PIORA_OK;
}

/* ---- usage ---------------------------------------------------------------- */

piora_err sq_usage_insert(store_t *base, const usage_entry *v, size_t n)
{
    sq_store *s = sq(base);
    if (n == 0)
        return PIORA_OK;
    sqlite3_stmt *st = sq_stmt(s, ST_USAGE_INSERT,
                               "INSERT INTO usage_log(token_id, time, method, path, status, addr, "
                               "user_agent, count) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    for (size_t i = 0; i < n; i++) {
        const usage_entry *u = &v[i];
        if (u->token_id <= 0)
            continue;
        sqlite3_bind_int64(st, 1, u->token_id);
        sqlite3_bind_int64(st, 2, u->time);
        sqlite3_bind_text(st, 3, u->method, (int)strnlen(u->method, USAGE_METHOD_MAX - 1),
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 4, u->path, (int)strnlen(u->path, USAGE_PATH_MAX - 1),
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 5, u->status);
        sqlite3_bind_text(st, 6, u->addr, (int)strnlen(u->addr, ADDR_MAX - 1), SQLITE_STATIC);
        sqlite3_bind_text(st, 7, u->user_agent, (int)strnlen(u->user_agent, USAGE_UA_MAX - 1),
                          SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, u->count > 0 ? u->count : 1);
        int rc = sq_exec_stmt(st);
        if (rc != SQLITE_DONE) {
            e = sq_fail(s, rc, "usage insert");
            sqlite3_clear_bindings(st);
            sq_rollback(s);
            return e;
        }
    }
    sqlite3_clear_bindings(st);
    return sq_commit(s, CHANGE_BIT(CHANGE_MONITOR));
}

#define USAGE_WHERE "WHERE token_id = ?1 AND time >= ?2 AND (?3 = 0 OR status = ?3) "

static void usage_row(sqlite3_stmt *st, void *out)
{
    usage_entry *u = out;
    memset(u, 0, sizeof *u);
    u->time = sqlite3_column_int64(st, 0);
    sq_col_copy(st, 1, u->method, sizeof u->method);
    sq_col_copy(st, 2, u->path, sizeof u->path);
    u->status = sqlite3_column_int(st, 3);
    sq_col_copy(st, 4, u->addr, sizeof u->addr);
    sq_col_copy(st, 5, u->user_agent, sizeof u->user_agent);
    u->count = sqlite3_column_int64(st, 6);
}

piora_err sq_usage_list(store_t *base, int64_t token_id, int64_t since, int status, int64_t offset,
                        int64_t limit, usage_entry **rows, size_t *n, int64_t *total)
{
    sq_store *s = sq(base);
    *rows = NULL;
    *n = 0;
    *total = 0;
    if (offset < 0 || limit < 0 || status < 0)
        return PIORA_EINVALID;
    sqlite3_stmt *list = sq_stmt(s, ST_USAGE_LIST,
                                 "SELECT time, method, path, status, addr, user_agent, count "
                                 "FROM usage_log " USAGE_WHERE
                                 "ORDER BY time DESC, id DESC LIMIT ?4 OFFSET ?5");
    sqlite3_stmt *count =
        sq_stmt(s, ST_USAGE_COUNT, "SELECT count(*) FROM usage_log " USAGE_WHERE);
    if (!list || !count)
        return PIORA_EDB;
    piora_err e = sq_begin_read(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_stmt *both[2] = {list, count};
    for (int i = 0; i < 2; i++) {
        sqlite3_bind_int64(both[i], 1, token_id);
        sqlite3_bind_int64(both[i], 2, since > 0 ? since : 0);
        sqlite3_bind_int(both[i], 3, status);
    }
    sqlite3_bind_int64(list, 4, limit);
    sqlite3_bind_int64(list, 5, offset);
    void *v = NULL;
    size_t len = 0;
    e = sq_fetch_rows(s, list, sizeof(usage_entry), usage_row, &v, &len, "usage list");
    if (e == PIORA_OK)
        e = count_of(s, count, total);
    sq_end_read(s);
    if (e != PIORA_OK) {
        free(v);
        *total = 0;
        return e;
    }
    usage_entry *u = v;
    for (size_t i = 0; i < len; i++)
        u[i].token_id = token_id;
    *rows = u;
    *n = len;
    return PIORA_OK;
}

static void id_row(sqlite3_stmt *st, void *out)
{
    *(int64_t *)out = sqlite3_column_int64(st, 0);
}

/* Keeps the newest max_rows rows of one token: the index on (token_id,
 * time) finds the cut-off row without sorting. */
/* The requests the usage log keeps apart from the rest (store_fns.h:
 * usage_prune): refused ones, a known token's 401, 403 and 429. */
#define DENIED "(status IN (401, 403, 429))"

/* Keeps the token's newest max_rows allowed rows and, counted apart, its
 * newest max_rows denied ones: a token cannot push the traces of its own
 * misuse out by making many good requests. */
static piora_err prune_token(sq_store *s, int64_t token_id, int64_t max_rows, int64_t *deleted)
{
    sqlite3_stmt *st = sq_stmt(s, ST_USAGE_PRUNE_TOKEN,
                               "DELETE FROM usage_log WHERE token_id = ?1 AND id IN ("
                               "SELECT id FROM usage_log WHERE token_id = ?1 AND " DENIED " = ?3 "
                               "ORDER BY time DESC, id DESC LIMIT -1 OFFSET ?2)");
    if (!st)
        return PIORA_EDB;
    for (int denied = 0; denied <= 1; denied++) {
        sqlite3_bind_int64(st, 1, token_id);
        sqlite3_bind_int64(st, 2, max_rows);
        sqlite3_bind_int(st, 3, denied);
        int rc = sq_exec_stmt(st);
        if (rc != SQLITE_DONE)
            return sq_fail(s, rc, "usage prune");
        *deleted += sqlite3_changes(s->db);
    }
    return PIORA_OK;
}

piora_err sq_usage_prune(store_t *base, int64_t before, int64_t max_rows,
                         const int64_t *token_ids, size_t n, int64_t *deleted)
{
    sq_store *s = sq(base);
    if (deleted)
        *deleted = 0;
    int64_t gone = 0;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    if (before > 0) {
        sqlite3_stmt *st =
            sq_stmt(s, ST_USAGE_PRUNE_AGE, "DELETE FROM usage_log WHERE time < ?1");
        if (!st) {
            e = PIORA_EDB;
            goto fail;
        }
        sqlite3_bind_int64(st, 1, before);
        int rc = sq_exec_stmt(st);
        if (rc != SQLITE_DONE) {
            e = sq_fail(s, rc, "usage prune");
            goto fail;
        }
        gone += sqlite3_changes(s->db);
    }
    if (max_rows > 0 && token_ids) {
        for (size_t i = 0; i < n && e == PIORA_OK; i++)
            e = prune_token(s, token_ids[i], max_rows, &gone);
    } else if (max_rows > 0) {
        /* Every token over either cap: one pass over the table. */
        sqlite3_stmt *over = sq_stmt(s, ST_USAGE_OVER_CAP,
                                     "SELECT DISTINCT token_id FROM (SELECT token_id FROM usage_log "
                                     "GROUP BY token_id, " DENIED " HAVING count(*) > ?1)");
        if (!over) {
            e = PIORA_EDB;
            goto fail;
        }
        sqlite3_bind_int64(over, 1, max_rows);
        void *v;
        size_t len;
        e = sq_fetch_rows(s, over, sizeof(int64_t), id_row, &v, &len, "usage prune");
        int64_t *ids = v;
        for (size_t i = 0; i < len && e == PIORA_OK; i++)
            e = prune_token(s, ids[i], max_rows, &gone);
        free(ids);
    }
    if (e != PIORA_OK)
        goto fail;
    if ((e = sq_commit(s, CHANGE_BIT(CHANGE_MONITOR))) != PIORA_OK)
        return e;
    if (deleted)
        *deleted = gone;
    return PIORA_OK;
fail:
    sq_rollback(s);
    return e;
}
