/* The audit log and the per-token usage log on PostgreSQL (SPEC 6); the
 * twin of sqlite_monitor.c. Both are append-mostly tables read newest
 * first. Their writes are changes of kind CHANGE_MONITOR only, which sends
 * no NOTIFY (pg_change.c): the usage writer's batch every second must not
 * wake every node's listener nor empty a cache. A batch of usage rows goes
 * in as a few INSERT ... SELECT FROM unnest(arrays) statements inside one
 * transaction, not one round trip per row. Retention deletes skip rows
 * another node's retention holds (SKIP LOCKED): two nodes pruning at once
 * neither wait for nor deadlock on each other, and the rows go either way. */
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"

/* ---- helpers ------------------------------------------------------------- */

/* NULL for NULL or "", as SQLite's bind_text0. */
static void p_text0(pg_params *p, const char *v) { pg_p_text(p, v && *v ? v : NULL); }

/* ---- audit --------------------------------------------------------------- */

piora_err pg_audit_insert(store_t *base, const audit_new *e)
{
    pg_store *s = pgs(base);
    if (!e || !e->action || !*e->action || !e->via || !*e->via)
        return PIORA_EINVALID;
    static pg_stmt ins = PG_STMT(
        "INSERT INTO audit_log(time, action, via, team_id, actor_user_id, token_id, "
        "subject_user_id, email, addr, token_name, detail, object_kind, object_id) "
        "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, e->time > 0 ? e->time : clock_now());
    pg_p_text(&p, e->action);
    pg_p_text(&p, e->via);
    pg_p_time0(&p, e->team_id);
    pg_p_time0(&p, e->actor_user_id);
    pg_p_time0(&p, e->token_id);
    pg_p_time0(&p, e->subject_user_id);
    p_text0(&p, e->email);
    p_text0(&p, e->addr);
    p_text0(&p, e->token_name);
    p_text0(&p, e->detail);
    p_text0(&p, e->object_kind);
    pg_p_time0(&p, e->object_kind ? e->object_id : 0);
    /* Its own transaction, so that the change feed moves with it. */
    piora_err err = pg_begin(s);
    if (err != PIORA_OK)
        return err;
    if ((err = pg_do(s, &ins, &p, NULL, "audit insert")) != PIORA_OK) {
        pg_rollback(s);
        return err;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_MONITOR));
}

#define AUDIT_COLS                                                                              \
    "SELECT a.id, a.time, a.action, a.via, a.team_id, a.actor_user_id, act.email, a.token_id, " \
    "a.subject_user_id, a.email, a.addr, a.token_name, a.detail, a.object_kind, a.object_id "  \
    "FROM audit_log a "                                                                         \
    "LEFT JOIN users act ON act.id = a.actor_user_id "
/* Case-insensitive as SQLite's NOCASE: lower() under the "C" collation
 * folds ASCII letters only, exactly what NOCASE folds. */
#define AUDIT_EMAIL_WHERE                                                                       \
    "WHERE ($1::bigint = 0 OR a.team_id = $1::bigint) "                                         \
    "AND (lower(a.email COLLATE \"C\") = lower($2::text COLLATE \"C\") "                        \
    "OR a.actor_user_id IN (SELECT id FROM users "                                              \
    "WHERE lower(email COLLATE \"C\") = lower($2::text COLLATE \"C\")) "                        \
    "OR a.subject_user_id IN (SELECT id FROM users "                                            \
    "WHERE lower(email COLLATE \"C\") = lower($2::text COLLATE \"C\"))) "

static void audit_row_read(const PGresult *r, int row, void *out)
{
    audit_row *o = out;
    memset(o, 0, sizeof *o);
    o->id = pg_col_int(r, row, 0);
    o->time = pg_col_int(r, row, 1);
    pg_col_copy(r, row, 2, o->action, sizeof o->action);
    pg_col_copy(r, row, 3, o->via, sizeof o->via);
    o->team_id = pg_col_int(r, row, 4);
    o->actor_user_id = pg_col_int(r, row, 5);
    pg_col_copy(r, row, 6, o->actor_email, sizeof o->actor_email);
    o->token_id = pg_col_int(r, row, 7);
    o->subject_user_id = pg_col_int(r, row, 8);
    pg_col_copy(r, row, 9, o->email, sizeof o->email);
    pg_col_copy(r, row, 10, o->addr, sizeof o->addr);
    pg_col_copy(r, row, 11, o->token_name, sizeof o->token_name);
    pg_col_copy(r, row, 12, o->detail, sizeof o->detail);
    pg_col_copy(r, row, 13, o->object_kind, sizeof o->object_kind);
    o->object_id = pg_col_int(r, row, 14);
}

piora_err pg_audit_list(store_t *base, int64_t team_id, const char *email, int64_t offset,
                        int64_t limit, audit_row **rows, size_t *n, int64_t *total)
{
    pg_store *s = pgs(base);
    *rows = NULL;
    *n = 0;
    *total = 0;
    if (offset < 0 || limit < 0)
        return PIORA_EINVALID;
    static pg_stmt list_email = PG_STMT(
        AUDIT_COLS AUDIT_EMAIL_WHERE "ORDER BY a.id DESC LIMIT $3 OFFSET $4");
    static pg_stmt count_email =
        PG_STMT("SELECT count(*) FROM audit_log a " AUDIT_EMAIL_WHERE);
    static pg_stmt list_team =
        PG_STMT(AUDIT_COLS "WHERE a.team_id = $1 ORDER BY a.id DESC LIMIT $2 OFFSET $3");
    static pg_stmt count_team = PG_STMT("SELECT count(*) FROM audit_log WHERE team_id = $1");
    static pg_stmt list_all = PG_STMT(AUDIT_COLS "ORDER BY a.id DESC LIMIT $1 OFFSET $2");
    static pg_stmt count_all = PG_STMT("SELECT count(*) FROM audit_log");

    /* Each statement binds exactly its own placeholders (PostgreSQL refuses
     * a parameter a statement does not name). */
    pg_params pl, pc;
    pg_params_init(&pl);
    pg_params_init(&pc);
    pg_stmt *list, *count;
    bool by_email = email && *email;
    if (by_email) {
        list = &list_email;
        count = &count_email;
        pg_p_int(&pl, team_id > 0 ? team_id : 0);
        pg_p_text(&pl, email);
        pg_p_int(&pc, team_id > 0 ? team_id : 0);
        pg_p_text(&pc, email);
    } else if (team_id > 0) {
        list = &list_team;
        count = &count_team;
        pg_p_int(&pl, team_id);
        pg_p_int(&pc, team_id);
    } else {
        list = &list_all;
        count = &count_all;
    }
    pg_p_int(&pl, limit);
    pg_p_int(&pl, offset);
    piora_err e = pg_begin_read(s);
    if (e != PIORA_OK)
        return e;
    void *v = NULL;
    e = pg_fetch_rows(s, list, &pl, sizeof(audit_row), audit_row_read, &v, n, "audit list");
    if (e == PIORA_OK)
        e = pg_fetch_int(s, count, pc.n ? &pc : NULL, total, "audit count");
    pg_end_read(s);
    if (e != PIORA_OK) {
        free(v);
        *n = 0;
        *total = 0;
        return e;
    }
    *rows = v;
    return PIORA_OK;
}

/* ---- usage ---------------------------------------------------------------- */

/* Rows per INSERT statement of a batch: bounds each statement's arrays
 * (a row's text is under 1 KiB) while keeping a full batch (the writer's
 * BATCH_MAX, 2048) to a handful of round trips. */
#define USAGE_CHUNK 512
#define USAGE_ARRAY_MAX (USAGE_CHUNK * (USAGE_PATH_MAX + USAGE_UA_MAX) * 2 + 65536)

/* Appends one element of a text array literal: quoted, with '"' and '\'
 * escaped. PostgreSQL refuses text that is not UTF-8, and one bad row must
 * not lose the whole batch: such a value goes with its non-ASCII bytes as
 * '?' (the usage writer cleans what it records; this is the store's own
 * bound for any other caller). */
static void array_text(buf_t *b, const char *v, size_t max)
{
    size_t n = strnlen(v, max);
    bool valid = utf8_valid(v, n);
    if (b->len > 1)
        buf_putc(b, ',');
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!valid && (unsigned char)c >= 0x80)
            c = '?';
        if (c == '"' || c == '\\')
            buf_putc(b, '\\');
        buf_putc(b, c);
    }
    buf_putc(b, '"');
}

static void array_int(buf_t *b, int64_t v)
{
    if (b->len > 1)
        buf_putc(b, ',');
    buf_printf(b, "%lld", (long long)v);
}

enum { UA_TOKEN, UA_TIME, UA_METHOD, UA_PATH, UA_STATUS, UA_ADDR, UA_AGENT, UA_COUNT, UA__N };

/* Inserts v[0..n) (rows without a token skipped) with one statement. */
static piora_err usage_chunk(pg_store *s, const usage_entry *v, size_t n)
{
    static pg_stmt ins = PG_STMT(
        "INSERT INTO usage_log(token_id, time, method, path, status, addr, user_agent, count) "
        "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], "
        "$5::bigint[], $6::text[], $7::text[], $8::bigint[])");
    buf_t a[UA__N];
    for (int k = 0; k < UA__N; k++) {
        buf_init(&a[k], USAGE_ARRAY_MAX);
        buf_putc(&a[k], '{');
    }
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        const usage_entry *u = &v[i];
        if (u->token_id <= 0)
            continue;
        array_int(&a[UA_TOKEN], u->token_id);
        array_int(&a[UA_TIME], u->time);
        array_text(&a[UA_METHOD], u->method, USAGE_METHOD_MAX - 1);
        array_text(&a[UA_PATH], u->path, USAGE_PATH_MAX - 1);
        array_int(&a[UA_STATUS], u->status);
        array_text(&a[UA_ADDR], u->addr, ADDR_MAX - 1);
        array_text(&a[UA_AGENT], u->user_agent, USAGE_UA_MAX - 1);
        array_int(&a[UA_COUNT], u->count > 0 ? u->count : 1);
        rows++;
    }
    piora_err e = PIORA_OK;
    pg_params p;
    pg_params_init(&p);
    for (int k = 0; k < UA__N; k++) {
        buf_putc(&a[k], '}');
        if (a[k].failed)
            e = PIORA_ENOMEM;
        pg_p_text(&p, a[k].data);
    }
    if (e == PIORA_OK && rows > 0)
        e = pg_do(s, &ins, &p, NULL, "usage insert");
    for (int k = 0; k < UA__N; k++)
        buf_free(&a[k]);
    return e;
}

piora_err pg_usage_insert(store_t *base, const usage_entry *v, size_t n)
{
    pg_store *s = pgs(base);
    if (n == 0)
        return PIORA_OK;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    for (size_t i = 0; i < n && e == PIORA_OK; i += USAGE_CHUNK)
        e = usage_chunk(s, v + i, n - i < USAGE_CHUNK ? n - i : USAGE_CHUNK);
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_MONITOR));
}

#define USAGE_WHERE                                                                             \
    "WHERE token_id = $1 AND time >= $2 AND ($3::bigint = 0 OR status = $3::bigint) "

static void usage_row(const PGresult *r, int row, void *out)
{
    usage_entry *u = out;
    memset(u, 0, sizeof *u);
    u->time = pg_col_int(r, row, 0);
    pg_col_copy(r, row, 1, u->method, sizeof u->method);
    pg_col_copy(r, row, 2, u->path, sizeof u->path);
    u->status = (int)pg_col_int(r, row, 3);
    pg_col_copy(r, row, 4, u->addr, sizeof u->addr);
    pg_col_copy(r, row, 5, u->user_agent, sizeof u->user_agent);
    u->count = pg_col_int(r, row, 6);
}

piora_err pg_usage_list(store_t *base, int64_t token_id, int64_t since, int status, int64_t offset,
                        int64_t limit, usage_entry **rows, size_t *n, int64_t *total)
{
    pg_store *s = pgs(base);
    *rows = NULL;
    *n = 0;
    *total = 0;
    if (offset < 0 || limit < 0 || status < 0)
        return PIORA_EINVALID;
    static pg_stmt list = PG_STMT("SELECT time, method, path, status, addr, user_agent, count "
                                  "FROM usage_log " USAGE_WHERE
                                  "ORDER BY time DESC, id DESC LIMIT $4 OFFSET $5");
    static pg_stmt count = PG_STMT("SELECT count(*) FROM usage_log " USAGE_WHERE);
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, token_id);
    pg_p_int(&p, since > 0 ? since : 0);
    pg_p_int(&p, status);
    piora_err e = pg_begin_read(s);
    if (e != PIORA_OK)
        return e;
    e = pg_fetch_int(s, &count, &p, total, "usage count");
    void *v = NULL;
    size_t len = 0;
    if (e == PIORA_OK) {
        pg_p_int(&p, limit);
        pg_p_int(&p, offset);
        e = pg_fetch_rows(s, &list, &p, sizeof(usage_entry), usage_row, &v, &len, "usage list");
    }
    pg_end_read(s);
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

/* The requests the usage log keeps apart from the rest (store_fns.h:
 * usage_prune): refused ones, a known token's 401, 403 and 429. */
#define DENIED "(status IN (401, 403, 429))"

/* Keeps the token's newest max_rows allowed rows and, counted apart, its
 * newest max_rows denied ones: a token cannot push the traces of its own
 * misuse out by making many good requests. The cut-off (the max_rows-th
 * newest row) is read without a lock and everything older goes; rows
 * another node's pruning holds are skipped, as that transaction deletes
 * them itself (pruning locks only the rows it deletes). Locking the kept window
 * too would let two nodes each skip the rows the other keeps and leave
 * them both; plain locks would deadlock two nodes taking two tokens in
 * opposite orders. */
static piora_err prune_token(pg_store *s, int64_t token_id, int64_t max_rows, int64_t *deleted)
{
    static pg_stmt del = PG_STMT(
        "DELETE FROM usage_log WHERE id IN (SELECT id FROM usage_log WHERE token_id = $1 AND "
        DENIED " = $3 AND (time, id) < (SELECT time, id FROM usage_log WHERE token_id = $1 AND "
        DENIED " = $3 ORDER BY time DESC, id DESC OFFSET $2::bigint - 1 LIMIT 1) "
        "FOR UPDATE SKIP LOCKED)");
    for (int denied = 0; denied <= 1; denied++) {
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, token_id);
        pg_p_int(&p, max_rows);
        pg_p_bool(&p, denied != 0);
        int64_t rows = 0;
        piora_err e = pg_do(s, &del, &p, &rows, "usage prune");
        if (e != PIORA_OK)
            return e;
        *deleted += rows;
    }
    return PIORA_OK;
}

static void id_row(const PGresult *r, int row, void *out)
{
    *(int64_t *)out = pg_col_int(r, row, 0);
}

piora_err pg_usage_prune(store_t *base, int64_t before, int64_t max_rows,
                         const int64_t *token_ids, size_t n, int64_t *deleted)
{
    pg_store *s = pgs(base);
    if (deleted)
        *deleted = 0;
    static pg_stmt age = PG_STMT("DELETE FROM usage_log WHERE id IN (SELECT id FROM usage_log "
                                 "WHERE time < $1 FOR UPDATE SKIP LOCKED)");
    /* Every token over either cap: one pass over the table. */
    static pg_stmt over = PG_STMT("SELECT DISTINCT token_id FROM (SELECT token_id FROM usage_log "
                                  "GROUP BY token_id, " DENIED " HAVING count(*) > $1) o "
                                  "ORDER BY token_id");
    int64_t gone = 0;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    if (before > 0) {
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, before);
        int64_t rows = 0;
        if ((e = pg_do(s, &age, &p, &rows, "usage prune")) != PIORA_OK)
            goto fail;
        gone += rows;
    }
    if (max_rows > 0 && token_ids) {
        for (size_t i = 0; i < n && e == PIORA_OK; i++)
            e = prune_token(s, token_ids[i], max_rows, &gone);
    } else if (max_rows > 0) {
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, max_rows);
        void *v = NULL;
        size_t len = 0;
        e = pg_fetch_rows(s, &over, &p, sizeof(int64_t), id_row, &v, &len, "usage prune");
        int64_t *ids = v;
        for (size_t i = 0; i < len && e == PIORA_OK; i++)
            e = prune_token(s, ids[i], max_rows, &gone);
        free(ids);
    }
    if (e != PIORA_OK)
        goto fail;
    if ((e = pg_commit(s, CHANGE_BIT(CHANGE_MONITOR))) != PIORA_OK)
        return e;
    if (deleted)
        *deleted = gone;
    return PIORA_OK;
fail:
    pg_rollback(s);
    return e;
}
