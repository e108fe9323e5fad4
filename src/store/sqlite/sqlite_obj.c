/* The resource objects on SQLite, driven by their descriptors. Each
 * statement's text comes from the SQL builder (store/sql/builder.h) in the
 * SQLite dialect, is prepared once per connection and cached; every value
 * is bound. Rows travel as obj_row / obj_values (schema/row.h). */
#include <stdlib.h>
#include <string.h>

#include "store/sql/builder.h"
#include "store/sqlite/sqlite_internal.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

#define SQL_MAX 8192

static int res_index(const resource_desc *d)
{
    for (int i = 0; piora_resources[i] && i < SQ_RES_MAX; i++)
        if (piora_resources[i] == d)
            return i;
    return -1;
}

static sq_res_stmts *res_stmts(sq_store *s, const resource_desc *d)
{
    int i = res_index(d);
    if (i < 0) {
        log_error("store: unknown resource descriptor");
        return NULL;
    }
    return &s->res[i];
}

/* Writes one statement's SQL for descriptor d (filter: see stmt_list). */
typedef bool (*sql_build_fn)(buf_t *b, const resource_desc *d, int filter);

/* The statement cached in *slot, built by build() and prepared on first
 * use: one place for the cache check, the buffer and the length limit. */
static sqlite3_stmt *stmt_cached(sq_store *s, sqlite3_stmt **slot, sql_build_fn build,
                                 const resource_desc *d, int filter)
{
    if (*slot)
        return *slot;
    buf_t b;
    buf_init(&b, SQL_MAX);
    sqlite3_stmt *st = NULL;
    if (!build(&b, d, filter))
        log_error("store: statement too long");
    else
        st = sq_prepare_into(s, slot, b.data);
    buf_free(&b);
    return st;
}

/* The builder's statements in the SQLite dialect, in the one shape
 * stmt_cached() takes. */
static bool build_get(buf_t *b, const resource_desc *d, int filter)
{
    (void)filter;
    return sql_obj_get(b, &SQL_DIALECT_SQLITE, d);
}

static bool build_exists(buf_t *b, const resource_desc *d, int filter)
{
    (void)filter;
    return sql_obj_exists(b, &SQL_DIALECT_SQLITE, d);
}

/* filter < 0: no filter; else the index in d->filters. */
static bool build_list(buf_t *b, const resource_desc *d, int filter)
{
    return sql_obj_list(b, &SQL_DIALECT_SQLITE, d, filter >= 0 ? d->filters[filter] : NULL);
}

static bool build_count(buf_t *b, const resource_desc *d, int filter)
{
    return sql_obj_count(b, &SQL_DIALECT_SQLITE, d, filter >= 0 ? d->filters[filter] : NULL);
}

static bool build_insert(buf_t *b, const resource_desc *d, int filter)
{
    (void)filter;
    return sql_obj_insert(b, &SQL_DIALECT_SQLITE, d);
}

static bool build_update(buf_t *b, const resource_desc *d, int filter)
{
    (void)filter;
    return sql_obj_update(b, &SQL_DIALECT_SQLITE, d);
}

static bool build_delete(buf_t *b, const resource_desc *d, int filter)
{
    (void)filter;
    return sql_obj_delete(b, &SQL_DIALECT_SQLITE, d);
}

/* The cached statements of descriptor d, one accessor per slot. */
static sqlite3_stmt *stmt_get(sq_store *s, const resource_desc *d)
{
    sq_res_stmts *r = res_stmts(s, d);
    return r ? stmt_cached(s, &r->get, build_get, d, -1) : NULL;
}

static sqlite3_stmt *stmt_exists(sq_store *s, const resource_desc *d)
{
    sq_res_stmts *r = res_stmts(s, d);
    return r ? stmt_cached(s, &r->exists, build_exists, d, -1) : NULL;
}

static sqlite3_stmt *stmt_list(sq_store *s, const resource_desc *d, int filter)
{
    sq_res_stmts *r = res_stmts(s, d);
    if (!r)
        return NULL;
    return stmt_cached(s, filter < 0 ? &r->list : &r->list_by[filter], build_list, d, filter);
}

static sqlite3_stmt *stmt_count(sq_store *s, const resource_desc *d, int filter)
{
    sq_res_stmts *r = res_stmts(s, d);
    if (!r)
        return NULL;
    return stmt_cached(s, filter < 0 ? &r->count : &r->count_by[filter], build_count, d, filter);
}

static sqlite3_stmt *stmt_insert(sq_store *s, const resource_desc *d)
{
    sq_res_stmts *r = res_stmts(s, d);
    return r ? stmt_cached(s, &r->insert, build_insert, d, -1) : NULL;
}

static sqlite3_stmt *stmt_update(sq_store *s, const resource_desc *d)
{
    sq_res_stmts *r = res_stmts(s, d);
    return r ? stmt_cached(s, &r->update, build_update, d, -1) : NULL;
}

static sqlite3_stmt *stmt_delete(sq_store *s, const resource_desc *d)
{
    sq_res_stmts *r = res_stmts(s, d);
    return r ? stmt_cached(s, &r->del, build_delete, d, -1) : NULL;
}

void sq_obj_finalize(sq_store *s)
{
    for (int i = 0; i < SQ_RES_MAX; i++) {
        sq_res_stmts *r = &s->res[i];
        sqlite3_finalize(r->get);
        sqlite3_finalize(r->insert);
        sqlite3_finalize(r->update);
        sqlite3_finalize(r->del);
        sqlite3_finalize(r->exists);
        sqlite3_finalize(r->list);
        sqlite3_finalize(r->count);
        sqlite3_finalize(r->parent);
        for (int k = 0; k < SQ_FILTERS_MAX; k++) {
            sqlite3_finalize(r->list_by[k]);
            sqlite3_finalize(r->count_by[k]);
        }
    }
}

/* ---- rows ---------------------------------------------------------------- */

/* Decodes the current row (the builder's row shape) into out, which the
 * caller has zeroed. false when out of memory (out is then cleared). */
static bool row_read(sqlite3_stmt *st, const resource_desc *d, obj_row *out)
{
    out->id = sqlite3_column_int64(st, SQL_COL_ID);
    out->team_id = sqlite3_column_int64(st, SQL_COL_TEAM);
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        int col = SQL_COL_FIELD(i);
        obj_value *v = &out->v[i];
        if (sqlite3_column_type(st, col) == SQLITE_NULL) {
            obj_value_set_null(v);
        } else if (f->kind == FK_STRING || f->kind == FK_ENUM) {
            const char *txt = (const char *)sqlite3_column_text(st, col);
            if (!txt || !obj_value_set_text(v, txt, (size_t)sqlite3_column_bytes(st, col))) {
                obj_row_clear(out);
                return false;
            }
        } else {
            obj_value_set_int(v, sqlite3_column_int64(st, col));
        }
    }
    out->created_at = sqlite3_column_int64(st, SQL_COL_CREATED(d));
    out->updated_at = sqlite3_column_int64(st, SQL_COL_UPDATED(d));
    return true;
}

/* ---- values to bindings -------------------------------------------------- */

static bool enum_has(const char *const *vals, const char *v)
{
    if (!vals)
        return true;
    for (; *vals; vals++)
        if (strcmp(*vals, v) == 0)
            return true;
    return false;
}

/* Binds one value (absent on create: the descriptor's default, else SQL
 * NULL). core validated it already; these checks keep the store safe for
 * every caller. */
static piora_err bind_value(sqlite3_stmt *st, int idx, const field_desc *f, const obj_value *v,
                            bool use_default)
{
    if (v->kind == OV_ABSENT && use_default) {
        if (f->def_text)
            return sqlite3_bind_text(st, idx, f->def_text, -1, SQLITE_STATIC) == SQLITE_OK
                       ? PIORA_OK
                       : PIORA_EDB;
        if (f->has_def_int)
            return sqlite3_bind_int64(st, idx, f->def_int) == SQLITE_OK ? PIORA_OK : PIORA_EDB;
    }
    if (v->kind == OV_ABSENT || v->kind == OV_NULL) {
        /* NULL in a NOT NULL column fails as a constraint: EINVALID. */
        sqlite3_bind_null(st, idx);
        return PIORA_OK;
    }
    switch (f->kind) {
    case FK_STRING:
    case FK_ENUM:
        if (v->kind != OV_TEXT || !v->text)
            return PIORA_EINVALID;
        if (memchr(v->text, '\0', v->len) || (f->max_len && v->len > f->max_len))
            return PIORA_EINVALID;
        if (f->kind == FK_ENUM && !enum_has(f->enum_values, v->text))
            return PIORA_EINVALID;
        sqlite3_bind_text(st, idx, v->text, (int)v->len, SQLITE_STATIC);
        return PIORA_OK;
    case FK_INT:
        if (v->kind != OV_INT)
            return PIORA_EINVALID;
        if (f->min < f->max && (v->i < f->min || v->i > f->max))
            return PIORA_EINVALID;
        sqlite3_bind_int64(st, idx, v->i);
        return PIORA_OK;
    case FK_REF:
        if (v->kind != OV_INT || v->i <= 0)
            return PIORA_EINVALID;
        sqlite3_bind_int64(st, idx, v->i);
        return PIORA_OK;
    case FK_TIME:
        if (v->kind != OV_INT)
            return PIORA_EINVALID;
        sqlite3_bind_int64(st, idx, v->i);
        return PIORA_OK;
    }
    return PIORA_EINVALID;
}

/* FK_REF values must name an object of the same team. Runs inside the
 * caller's write transaction, so the target cannot vanish before commit
 * (and the foreign key backs it up). */
static piora_err refs_check(sq_store *s, const resource_desc *d, int64_t team_id,
                            const obj_values *values)
{
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        const obj_value *v = &values->v[i];
        if (f->kind != FK_REF || v->kind == OV_ABSENT || v->kind == OV_NULL)
            continue;
        if (v->kind != OV_INT || v->i <= 0)
            return PIORA_EINVALID;
        sqlite3_stmt *st = stmt_exists(s, f->ref);
        if (!st)
            return PIORA_EDB;
        sqlite3_bind_int64(st, 1, v->i);
        sqlite3_bind_int64(st, 2, team_id);
        piora_err e = sq_exists(s, st, "reference check");
        if (e != PIORA_OK)
            return e == PIORA_ENOTFOUND ? PIORA_EINVALID : e;
    }
    return PIORA_OK;
}

/* ---- operations ---------------------------------------------------------- */

static piora_err obj_fetch(sq_store *s, const resource_desc *d, int64_t team_id, int64_t id,
                           obj_row *out)
{
    sqlite3_stmt *st = stmt_get(s, d);
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, team_id);
    int rc = sqlite3_step(st);
    piora_err e = PIORA_OK;
    if (rc == SQLITE_ROW) {
        if (!row_read(st, d, out))
            e = PIORA_ENOMEM;
    } else {
        e = rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, "get");
    }
    sqlite3_reset(st);
    return e;
}

piora_err sq_obj_get(store_t *base, const resource_desc *d, int64_t team_id, int64_t id,
                     obj_row *out)
{
    memset(out, 0, sizeof *out);
    if (!schema_row_fits(d))
        return PIORA_EINVALID;
    return obj_fetch(sq(base), d, team_id, id, out);
}

static int filter_index(const resource_desc *d, const char *field)
{
    if (!d->filters)
        return -1;
    for (int k = 0; d->filters[k] && k < SQ_FILTERS_MAX; k++) {
        const field_desc *f = resource_field(d, d->filters[k]);
        if (f && f->kind == FK_REF && strcmp(d->filters[k], field) == 0)
            return k;
    }
    return -1;
}

/* Steps every row of the list statement into a growing array. */
static piora_err rows_read(sq_store *s, sqlite3_stmt *list, const resource_desc *d,
                           obj_row **rows, size_t *n)
{
    obj_row *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    piora_err e = PIORA_OK;
    while ((rc = sqlite3_step(list)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            obj_row *nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                e = PIORA_ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        memset(&v[len], 0, sizeof v[len]);
        if (!row_read(list, d, &v[len])) {
            e = PIORA_ENOMEM;
            break;
        }
        len++;
    }
    if (e == PIORA_OK && rc != SQLITE_DONE)
        e = sq_fail(s, rc, "list");
    sqlite3_reset(list);
    if (e != PIORA_OK) {
        obj_rows_free(v, len);
        return e;
    }
    *rows = v;
    *n = len;
    return PIORA_OK;
}

piora_err sq_obj_list(store_t *base, const resource_desc *d, int64_t team_id, const obj_filter *f,
                      int64_t offset, int64_t limit, obj_row **rows, size_t *n, int64_t *total)
{
    sq_store *s = sq(base);
    *rows = NULL;
    *n = 0;
    *total = 0;
    if (offset < 0 || limit < 0 || !schema_row_fits(d))
        return PIORA_EINVALID;
    int fi = -1;
    if (f && f->field) {
        fi = filter_index(d, f->field);
        if (fi < 0)
            return PIORA_EINVALID;
    }
    if (f && f->grant && f->grant->limited)
        return sq_obj_list_granted(s, d, team_id, fi >= 0 ? d->filters[fi] : NULL, f, offset,
                                   limit, rows, n, total);
    sqlite3_stmt *count = stmt_count(s, d, fi);
    sqlite3_stmt *list = stmt_list(s, d, fi);
    if (!count || !list)
        return PIORA_EDB;

    /* The count and the page come from one snapshot. */
    piora_err e = sq_begin_read(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(count, 1, team_id);
    if (fi >= 0)
        sqlite3_bind_int64(count, 2, f->value);
    int rc = sqlite3_step(count);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(count, 0);
    else
        e = sq_fail(s, rc, "count");
    sqlite3_reset(count);

    if (e == PIORA_OK) {
        sqlite3_bind_int64(list, 1, team_id);
        sqlite3_bind_int64(list, 2, limit);
        sqlite3_bind_int64(list, 3, offset);
        if (fi >= 0)
            sqlite3_bind_int64(list, 4, f->value);
        e = rows_read(s, list, d, rows, n);
    }
    sq_end_read(s);
    if (e != PIORA_OK)
        *total = 0;
    return e;
}

piora_err sq_obj_rows_read(sq_store *s, sqlite3_stmt *list, const resource_desc *d,
                           obj_row **rows, size_t *n)
{
    return rows_read(s, list, d, rows, n);
}

/* A foreign key failing on a write means a reference the check above did
 * not catch: the input's fault, not a conflict. */
static piora_err write_fail(sq_store *s, int rc, const char *what)
{
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return PIORA_EINVALID;
    return sq_fail(s, rc, what);
}

/* Reads the written object back and commits; on failure *out is cleared and
 * the transaction rolled back. */
static piora_err fetch_commit(sq_store *s, const resource_desc *d, int64_t team_id, int64_t id,
                              obj_row *out)
{
    piora_err e = obj_fetch(s, d, team_id, id, out);
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    if ((e = sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS))) != PIORA_OK)
        obj_row_clear(out);
    return e;
}

piora_err sq_obj_create(store_t *base, const resource_desc *d, int64_t team_id,
                        const obj_values *values, obj_row *out)
{
    sq_store *s = sq(base);
    memset(out, 0, sizeof *out);
    if (!schema_row_fits(d))
        return PIORA_EINVALID;
    sqlite3_stmt *st = stmt_insert(s, d);
    if (!st || !stmt_get(s, d))
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    if ((e = refs_check(s, d, team_id, values)) != PIORA_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, team_id);
    for (size_t i = 0; i < d->nfields; i++) {
        e = bind_value(st, (int)i + 2, &d->fields[i], &values->v[i], true);
        if (e != PIORA_OK) {
            sqlite3_clear_bindings(st);
            goto fail;
        }
    }
    sqlite3_bind_int64(st, (int)d->nfields + 2, clock_now());
    int rc = sq_exec_stmt(st);
    sqlite3_clear_bindings(st); /* values belong to the caller */
    if (rc != SQLITE_DONE) {
        e = write_fail(s, rc, "insert");
        goto fail;
    }
    return fetch_commit(s, d, team_id, sqlite3_last_insert_rowid(s->db), out);
fail:
    sq_rollback(s);
    return e;
}

piora_err sq_obj_update(store_t *base, const resource_desc *d, int64_t team_id, int64_t id,
                        const obj_values *values, obj_row *out)
{
    sq_store *s = sq(base);
    memset(out, 0, sizeof *out);
    if (!schema_row_fits(d))
        return PIORA_EINVALID;
    sqlite3_stmt *st = stmt_update(s, d);
    sqlite3_stmt *ex = stmt_exists(s, d);
    if (!st || !ex || !stmt_get(s, d))
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    /* Another team's object is missing before anything else is said. */
    sqlite3_bind_int64(ex, 1, id);
    sqlite3_bind_int64(ex, 2, team_id);
    if ((e = sq_exists(s, ex, "update")) != PIORA_OK)
        goto fail;
    if ((e = refs_check(s, d, team_id, values)) != PIORA_OK)
        goto fail;
    size_t n = d->nfields;
    for (size_t i = 0; i < n; i++) {
        const obj_value *v = &values->v[i];
        bool given = v->kind != OV_ABSENT;
        sqlite3_bind_int(st, (int)(2 * i + 1), given ? 1 : 0);
        e = given ? bind_value(st, (int)(2 * i + 2), &d->fields[i], v, false)
                  : (sqlite3_bind_null(st, (int)(2 * i + 2)), PIORA_OK);
        if (e != PIORA_OK) {
            sqlite3_clear_bindings(st);
            goto fail;
        }
    }
    sqlite3_bind_int64(st, (int)(2 * n + 1), clock_now());
    sqlite3_bind_int64(st, (int)(2 * n + 2), id);
    sqlite3_bind_int64(st, (int)(2 * n + 3), team_id);
    int rc = sq_exec_stmt(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        e = write_fail(s, rc, "update");
        goto fail;
    }
    return fetch_commit(s, d, team_id, id, out);
fail:
    sq_rollback(s);
    return e;
}

/* RESTRICT foreign keys (applications and databases on a server) fail the
 * DELETE: that is ECONFLICT. Cascades remove deployments, backups and
 * restores with their parent. */
piora_err sq_obj_delete(store_t *base, const resource_desc *d, int64_t team_id, int64_t id)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = stmt_delete(s, d);
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, team_id);
    int rc = sq_exec_stmt(st);
    /* SQLite reports ON DELETE RESTRICT as SQLITE_CONSTRAINT_TRIGGER (the
     * action runs as a trigger), other failed keys as _FOREIGNKEY: a DELETE
     * has no other constraint, so any of them means "still referenced". */
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        e = PIORA_ECONFLICT;
    else if (rc != SQLITE_DONE)
        e = sq_fail(s, rc, "delete");
    else if (sqlite3_changes(s->db) == 0)
        e = PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}
