/* The resource objects on SQLite, driven by their descriptors. Each
 * statement is built once per connection from the descriptor's column list
 * (names are compile-time constants of core/model.c, never user input) and
 * cached; every value is bound. */
#include <string.h>

#include "store/sqlite_internal.h"
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

/* "id, f1, ..., fn, created_at, updated_at": the row shape obj_from_row reads. */
static void put_cols(buf_t *b, const resource_desc *d)
{
    buf_puts(b, "id");
    for (size_t i = 0; i < d->nfields; i++)
        buf_printf(b, ", %s", d->fields[i].name);
    buf_puts(b, ", created_at, updated_at");
}

/* Writes one statement's SQL for descriptor d (filter: see stmt_list). */
typedef void (*sql_build_fn)(buf_t *b, const resource_desc *d, int filter);

/* The statement cached in *slot, built by build() and prepared on first
 * use: one place for the cache check, the buffer and the length limit. */
static sqlite3_stmt *stmt_cached(sq_store *s, sqlite3_stmt **slot, sql_build_fn build,
                                 const resource_desc *d, int filter)
{
    if (*slot)
        return *slot;
    buf_t b;
    buf_init(&b, SQL_MAX);
    build(&b, d, filter);
    sqlite3_stmt *st = NULL;
    if (b.failed)
        log_error("store: statement too long");
    else
        st = sq_prepare_into(s, slot, b.data);
    buf_free(&b);
    return st;
}

static void build_get(buf_t *b, const resource_desc *d, int filter)
{
    (void)filter;
    buf_puts(b, "SELECT ");
    put_cols(b, d);
    buf_printf(b, " FROM %s WHERE id = ?1 AND team_id = ?2", d->name);
}

static void build_exists(buf_t *b, const resource_desc *d, int filter)
{
    (void)filter;
    buf_printf(b, "SELECT 1 FROM %s WHERE id = ?1 AND team_id = ?2", d->name);
}

/* filter < 0: no filter; else the index in d->filters. */
static void build_list(buf_t *b, const resource_desc *d, int filter)
{
    buf_puts(b, "SELECT ");
    put_cols(b, d);
    buf_printf(b, " FROM %s WHERE team_id = ?1", d->name);
    if (filter >= 0)
        buf_printf(b, " AND %s = ?4", d->filters[filter]);
    buf_puts(b, " ORDER BY id LIMIT ?2 OFFSET ?3");
}

static void build_count(buf_t *b, const resource_desc *d, int filter)
{
    buf_printf(b, "SELECT count(*) FROM %s WHERE team_id = ?1", d->name);
    if (filter >= 0)
        buf_printf(b, " AND %s = ?2", d->filters[filter]);
}

/* ?1 team_id, ?2..?(n+1) the fields, ?(n+2) the time for both stamps. */
static void build_insert(buf_t *b, const resource_desc *d, int filter)
{
    (void)filter;
    buf_printf(b, "INSERT INTO %s(team_id", d->name);
    for (size_t i = 0; i < d->nfields; i++)
        buf_printf(b, ", %s", d->fields[i].name);
    buf_puts(b, ", created_at, updated_at) VALUES(?1");
    for (size_t i = 0; i < d->nfields; i++)
        buf_printf(b, ", ?%zu", i + 2);
    buf_printf(b, ", ?%zu, ?%zu)", d->nfields + 2, d->nfields + 2);
}

/* One statement serves every PATCH: field i is written only when its flag
 * ?(2i+1) is 1, with the value ?(2i+2). Then ?(2n+1) updated_at,
 * ?(2n+2) id, ?(2n+3) team_id. */
static void build_update(buf_t *b, const resource_desc *d, int filter)
{
    (void)filter;
    buf_printf(b, "UPDATE %s SET ", d->name);
    for (size_t i = 0; i < d->nfields; i++) {
        const char *c = d->fields[i].name;
        buf_printf(b, "%s = CASE WHEN ?%zu THEN ?%zu ELSE %s END, ", c, 2 * i + 1, 2 * i + 2, c);
    }
    size_t n = d->nfields;
    buf_printf(b, "updated_at = ?%zu WHERE id = ?%zu AND team_id = ?%zu", 2 * n + 1, 2 * n + 2,
               2 * n + 3);
}

static void build_delete(buf_t *b, const resource_desc *d, int filter)
{
    (void)filter;
    buf_printf(b, "DELETE FROM %s WHERE id = ?1 AND team_id = ?2", d->name);
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
        for (int k = 0; k < SQ_FILTERS_MAX; k++) {
            sqlite3_finalize(r->list_by[k]);
            sqlite3_finalize(r->count_by[k]);
        }
    }
}

/* ---- rows to JSON -------------------------------------------------------- */

static json_t *obj_from_row(sqlite3_stmt *st, const resource_desc *d)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        int col = (int)i + 1;
        json_t *v;
        if (sqlite3_column_type(st, col) == SQLITE_NULL)
            v = json_null();
        else if (f->kind == FK_TIME)
            v = sq_col_json_time(st, col);
        else if (f->kind == FK_INT || f->kind == FK_REF)
            v = json_integer(sqlite3_column_int64(st, col));
        else
            v = json_stringn((const char *)sqlite3_column_text(st, col),
                             (size_t)sqlite3_column_bytes(st, col));
        if (!v || json_object_set_new(o, f->name, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    int c = (int)d->nfields + 1;
    json_object_set_new(o, "created_at", sq_col_json_time(st, c));
    json_object_set_new(o, "updated_at", sq_col_json_time(st, c + 1));
    return o;
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

/* Binds one value (NULL: the descriptor's default on create, else SQL
 * NULL). The API validated it already; these checks keep the store safe
 * for internal callers too. */
static piora_err bind_value(sqlite3_stmt *st, int idx, const field_desc *f, const json_t *v,
                            bool use_default)
{
    if (!v || json_is_null(v)) {
        if (use_default && !v && f->def_text)
            return sqlite3_bind_text(st, idx, f->def_text, -1, SQLITE_STATIC) == SQLITE_OK
                       ? PIORA_OK
                       : PIORA_EDB;
        if (use_default && !v && f->has_def_int)
            return sqlite3_bind_int64(st, idx, f->def_int) == SQLITE_OK ? PIORA_OK : PIORA_EDB;
        /* NULL in a NOT NULL column fails as a constraint: EINVALID. */
        sqlite3_bind_null(st, idx);
        return PIORA_OK;
    }
    switch (f->kind) {
    case FK_STRING:
    case FK_ENUM: {
        if (!json_is_string(v))
            return PIORA_EINVALID;
        const char *str = json_string_value(v);
        size_t n = json_string_length(v);
        if (memchr(str, '\0', n) || (f->max_len && n > f->max_len))
            return PIORA_EINVALID;
        if (f->kind == FK_ENUM && !enum_has(f->enum_values, str))
            return PIORA_EINVALID;
        sqlite3_bind_text(st, idx, str, (int)n, SQLITE_STATIC);
        return PIORA_OK;
    }
    case FK_INT: {
        if (!json_is_integer(v))
            return PIORA_EINVALID;
        int64_t x = json_integer_value(v);
        if (f->min < f->max && (x < f->min || x > f->max))
            return PIORA_EINVALID;
        sqlite3_bind_int64(st, idx, x);
        return PIORA_OK;
    }
    case FK_REF:
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return PIORA_EINVALID;
        sqlite3_bind_int64(st, idx, json_integer_value(v));
        return PIORA_OK;
    case FK_TIME: {
        int64_t t;
        if (json_is_integer(v))
            t = json_integer_value(v);
        else if (!json_is_string(v) || !clock_parse_rfc3339(json_string_value(v), &t))
            return PIORA_EINVALID;
        sqlite3_bind_int64(st, idx, t);
        return PIORA_OK;
    }
    }
    return PIORA_EINVALID;
}

/* Every key must be a column of the descriptor. */
static piora_err values_check_keys(const resource_desc *d, const json_t *values)
{
    if (!json_is_object(values))
        return PIORA_EINVALID;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)values, k, v) {
        if (!resource_field(d, k))
            return PIORA_EINVALID;
    }
    return PIORA_OK;
}

/* FK_REF values must name an object of the same team. Runs inside the
 * caller's write transaction, so the target cannot vanish before commit
 * (and the foreign key backs it up). */
static piora_err refs_check(sq_store *s, const resource_desc *d, int64_t team_id,
                            const json_t *values)
{
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        if (f->kind != FK_REF)
            continue;
        json_t *v = json_object_get(values, f->name);
        if (!v)
            continue;
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return PIORA_EINVALID;
        sqlite3_stmt *st = stmt_exists(s, f->ref);
        if (!st)
            return PIORA_EDB;
        sqlite3_bind_int64(st, 1, json_integer_value(v));
        sqlite3_bind_int64(st, 2, team_id);
        piora_err e = sq_exists(s, st, "reference check");
        if (e != PIORA_OK)
            return e == PIORA_ENOTFOUND ? PIORA_EINVALID : e;
    }
    return PIORA_OK;
}

/* ---- operations ---------------------------------------------------------- */

static piora_err obj_fetch(sq_store *s, const resource_desc *d, int64_t team_id, int64_t id,
                           json_t **obj)
{
    sqlite3_stmt *st = stmt_get(s, d);
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, team_id);
    int rc = sqlite3_step(st);
    piora_err e = PIORA_OK;
    if (rc == SQLITE_ROW) {
        *obj = obj_from_row(st, d);
        if (!*obj)
            e = PIORA_ENOMEM;
    } else {
        e = rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, "get");
    }
    sqlite3_reset(st);
    return e;
}

piora_err sq_obj_get(store_t *base, const resource_desc *d, int64_t team_id, int64_t id,
                     json_t **obj)
{
    *obj = NULL;
    return obj_fetch(sq(base), d, team_id, id, obj);
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

piora_err sq_obj_list(store_t *base, const resource_desc *d, int64_t team_id, const obj_filter *f,
                      int64_t offset, int64_t limit, json_t **items, int64_t *total)
{
    sq_store *s = sq(base);
    *items = NULL;
    *total = 0;
    if (offset < 0 || limit < 0)
        return PIORA_EINVALID;
    int fi = -1;
    if (f && f->field) {
        fi = filter_index(d, f->field);
        if (fi < 0)
            return PIORA_EINVALID;
    }
    sqlite3_stmt *count = stmt_count(s, d, fi);
    sqlite3_stmt *list = stmt_list(s, d, fi);
    if (!count || !list)
        return PIORA_EDB;
    json_t *arr = json_array();
    if (!arr)
        return PIORA_ENOMEM;

    /* The count and the page come from one snapshot. */
    piora_err e = sq_begin_read(s);
    if (e != PIORA_OK) {
        json_decref(arr);
        return e;
    }
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
        while ((rc = sqlite3_step(list)) == SQLITE_ROW) {
            json_t *o = obj_from_row(list, d);
            if (!o || json_array_append_new(arr, o) != 0) {
                e = PIORA_ENOMEM;
                break;
            }
        }
        if (e == PIORA_OK && rc != SQLITE_DONE)
            e = sq_fail(s, rc, "list");
        sqlite3_reset(list);
    }
    sq_end_read(s);
    if (e != PIORA_OK) {
        json_decref(arr);
        *total = 0;
        return e;
    }
    *items = arr;
    return PIORA_OK;
}

/* A foreign key failing on a write means a reference the check above did
 * not catch: the input's fault, not a conflict. */
static piora_err write_fail(sq_store *s, int rc, const char *what)
{
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return PIORA_EINVALID;
    return sq_fail(s, rc, what);
}

piora_err sq_obj_create(store_t *base, const resource_desc *d, int64_t team_id,
                        const json_t *values, json_t **obj)
{
    sq_store *s = sq(base);
    *obj = NULL;
    piora_err e = values_check_keys(d, values);
    if (e != PIORA_OK)
        return e;
    sqlite3_stmt *st = stmt_insert(s, d);
    if (!st || !stmt_get(s, d))
        return PIORA_EDB;
    if ((e = sq_begin(s)) != PIORA_OK)
        return e;
    if ((e = refs_check(s, d, team_id, values)) != PIORA_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, team_id);
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        e = bind_value(st, (int)i + 2, f, json_object_get(values, f->name), true);
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
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if ((e = obj_fetch(s, d, team_id, id, obj)) != PIORA_OK)
        goto fail;
    if ((e = sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS))) != PIORA_OK) {
        json_decref(*obj);
        *obj = NULL;
    }
    return e;
fail:
    sq_rollback(s);
    return e;
}

piora_err sq_obj_update(store_t *base, const resource_desc *d, int64_t team_id, int64_t id,
                        const json_t *values, json_t **obj)
{
    sq_store *s = sq(base);
    *obj = NULL;
    piora_err e = values_check_keys(d, values);
    if (e != PIORA_OK)
        return e;
    sqlite3_stmt *st = stmt_update(s, d);
    sqlite3_stmt *ex = stmt_exists(s, d);
    if (!st || !ex || !stmt_get(s, d))
        return PIORA_EDB;
    if ((e = sq_begin(s)) != PIORA_OK)
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
        const field_desc *f = &d->fields[i];
        json_t *v = json_object_get(values, f->name);
        sqlite3_bind_int(st, (int)(2 * i + 1), v ? 1 : 0);
        e = v ? bind_value(st, (int)(2 * i + 2), f, v, false)
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
    if ((e = obj_fetch(s, d, team_id, id, obj)) != PIORA_OK)
        goto fail;
    if ((e = sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS))) != PIORA_OK) {
        json_decref(*obj);
        *obj = NULL;
    }
    return e;
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
