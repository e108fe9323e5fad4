/* SPEC 11 on SQLite: lists seen through a resource-limited token and the
 * parent chain of an object. The grant's ids are bound one placeholder
 * each (store/sql/builder.h), so the statement text depends on how many ids
 * of each kind a grant holds: it is prepared per call rather than cached,
 * as the response cache answers repeated pages anyway. */
#include <string.h>

#include "store/sql/builder.h"
#include "store/sqlite/sqlite_internal.h"
#include "util/buf.h"
#include "util/log.h"

#define GRANT_SQL_MAX 16384

static sqlite3_stmt *prepare_built(sq_store *s, bool ok, buf_t *b)
{
    sqlite3_stmt *st = NULL;
    if (!ok) {
        log_error("store: granted statement too long");
        return NULL;
    }
    int rc = sqlite3_prepare_v2(s->db, b->data, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sq_fail(s, rc, "prepare granted list");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static void bind_grant(sqlite3_stmt *st, const token_grant *g, int base)
{
    for (size_t i = 0; i < g->n; i++)
        sqlite3_bind_int64(st, base + (int)i, g->ids[i]);
}

piora_err sq_obj_list_granted(sq_store *s, const resource_desc *d, int64_t team_id,
                              const char *filter, const obj_filter *f, int64_t offset,
                              int64_t limit, obj_row **rows, size_t *n, int64_t *total)
{
    const token_grant *g = f->grant;
    buf_t bc, bl;
    buf_init(&bc, GRANT_SQL_MAX);
    buf_init(&bl, GRANT_SQL_MAX);
    sqlite3_stmt *count =
        prepare_built(s, sql_obj_count_granted(&bc, &SQL_DIALECT_SQLITE, d, filter, g), &bc);
    sqlite3_stmt *list =
        prepare_built(s, sql_obj_list_granted(&bl, &SQL_DIALECT_SQLITE, d, filter, g), &bl);
    buf_free(&bc);
    buf_free(&bl);
    piora_err e = count && list ? PIORA_OK : PIORA_EDB;
    if (e == PIORA_OK)
        e = sq_begin_read(s);
    if (e != PIORA_OK) {
        sqlite3_finalize(count);
        sqlite3_finalize(list);
        return e;
    }
    sqlite3_bind_int64(count, 1, team_id);
    if (filter)
        sqlite3_bind_int64(count, 2, f->value);
    bind_grant(count, g, filter ? 3 : 2);
    int rc = sqlite3_step(count);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(count, 0);
    else
        e = sq_fail(s, rc, "granted count");
    if (e == PIORA_OK) {
        sqlite3_bind_int64(list, 1, team_id);
        sqlite3_bind_int64(list, 2, limit);
        sqlite3_bind_int64(list, 3, offset);
        if (filter)
            sqlite3_bind_int64(list, 4, f->value);
        bind_grant(list, g, filter ? 5 : 4);
        e = sq_obj_rows_read(s, list, d, rows, n);
    }
    sq_end_read(s);
    sqlite3_finalize(count);
    sqlite3_finalize(list);
    if (e != PIORA_OK)
        *total = 0;
    return e;
}

piora_err sq_obj_parent(store_t *base, const resource_desc *d, int64_t team_id, int64_t id,
                        int64_t *parent_id)
{
    sq_store *s = sq(base);
    *parent_id = 0;
    int i = 0;
    while (piora_resources[i] && piora_resources[i] != d && i < SQ_RES_MAX)
        i++;
    if (!piora_resources[i] || i >= SQ_RES_MAX || !sql_parent_field(d))
        return PIORA_EINVALID;
    sq_res_stmts *r = &s->res[i];
    if (!r->parent) {
        buf_t b;
        buf_init(&b, GRANT_SQL_MAX);
        bool ok = sql_obj_parent(&b, &SQL_DIALECT_SQLITE, d);
        if (ok)
            sq_prepare_into(s, &r->parent, b.data);
        buf_free(&b);
        if (!r->parent)
            return PIORA_EDB;
    }
    sqlite3_stmt *st = r->parent;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, team_id);
    int rc = sqlite3_step(st);
    piora_err e = PIORA_OK;
    if (rc == SQLITE_ROW)
        *parent_id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        e = PIORA_ENOTFOUND;
    else
        e = sq_fail(s, rc, "object parent");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}
