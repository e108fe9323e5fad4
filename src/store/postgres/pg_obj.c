/* The resource objects on PostgreSQL, driven by their descriptors; the
 * twin of sqlite_obj.c. Each statement's text comes from the SQL builder
 * (store/sql/builder.h) in the PostgreSQL dialect: built once per process
 * into a table of pg_stmt (the text is the same for every connection, and
 * each connection prepares a statement on its first use of it). INSERT and
 * UPDATE answer the stored row through RETURNING, so a write is one round
 * trip; a page comes with its total from one statement (one snapshot, one
 * round trip, where a transaction around a count and a list took four).
 * Every value is a bound parameter. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_obj.h"
#include "store/sql/builder.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

#define SQL_MAX 8192

/* ---- the statements, one table for the process --------------------------- */

enum {
    OS_GET,
    OS_EXISTS,
    OS_INSERT,
    OS_UPDATE,
    OS_DELETE,
    OS_PAGE,
    OS_PAGE_BY, /* + the filter's index */
    OS__COUNT = OS_PAGE_BY + PG_FILTERS_MAX
};

static pg_stmt obj_stmts[PG_RES_MAX][OS__COUNT];
static pthread_once_t obj_stmts_once = PTHREAD_ONCE_INIT;

int pg_res_index(const resource_desc *d)
{
    for (int i = 0; i < PG_RES_MAX && piora_resources[i]; i++)
        if (piora_resources[i] == d)
            return i;
    return -1;
}

/* The filter's column, or NULL past the descriptor's list. */
static const char *filter_name(const resource_desc *d, int k)
{
    if (!d->filters)
        return NULL;
    for (int i = 0; i < k; i++)
        if (!d->filters[i])
            return NULL;
    return d->filters[k];
}

static void put_ident(buf_t *b, const char *name)
{
    sql_put_quoted(b, SQL_DIALECT_POSTGRES.quote, name);
}

/* A page and the total of its filter in one statement:
 *   SELECT c.n, l.* FROM (SELECT count(*) AS n FROM t WHERE team_id = $1
 *   [AND filter = $4]) c LEFT JOIN LATERAL (<the builder's list>) l ON true
 * The count's placeholders are the list's own ($1 team, $4 filter), so
 * both bind one parameter list; a page past the end is the one row of the
 * count with NULLs for the object. */
static bool build_page(buf_t *b, const resource_desc *d, const char *filter)
{
    buf_puts(b, "SELECT c.n, l.* FROM (SELECT count(*) AS n FROM ");
    put_ident(b, d->name);
    buf_puts(b, " WHERE ");
    put_ident(b, "team_id");
    buf_puts(b, " = $1");
    if (filter) {
        buf_puts(b, " AND ");
        put_ident(b, filter);
        buf_puts(b, " = $4");
    }
    buf_puts(b, ") c LEFT JOIN LATERAL (");
    if (!sql_obj_list(b, &SQL_DIALECT_POSTGRES, d, filter))
        return false;
    buf_puts(b, ") l ON true ORDER BY l.");
    put_ident(b, "id");
    if (d->newest_first)
        buf_puts(b, " DESC");
    return !b->failed;
}

static bool build(const resource_desc *d, int kind, buf_t *b)
{
    const sql_dialect *dl = &SQL_DIALECT_POSTGRES;
    switch (kind) {
    case OS_GET:
        return sql_obj_get(b, dl, d);
    case OS_EXISTS:
        return sql_obj_exists(b, dl, d);
    case OS_INSERT:
        return sql_obj_insert(b, dl, d);
    case OS_UPDATE:
        return sql_obj_update(b, dl, d);
    case OS_DELETE:
        return sql_obj_delete(b, dl, d);
    case OS_PAGE:
        return build_page(b, d, NULL);
    }
    const char *f = filter_name(d, kind - OS_PAGE_BY);
    return f && build_page(b, d, f);
}

/* Builds every descriptor's statements once; the texts live as long as the
 * process (a statement stays numbered and prepared for as long). A text
 * that could not be built stays NULL and its statement answers EDB. */
static void build_all(void)
{
    for (int i = 0; i < PG_RES_MAX && piora_resources[i]; i++) {
        for (int k = 0; k < OS__COUNT; k++) {
            buf_t b;
            buf_init(&b, SQL_MAX);
            if (build(piora_resources[i], k, &b))
                obj_stmts[i][k].sql = buf_steal(&b, NULL);
            buf_free(&b);
        }
    }
}

static pg_stmt *stmt_of(const resource_desc *d, int kind)
{
    pthread_once(&obj_stmts_once, build_all);
    int i = pg_res_index(d);
    if (i < 0) {
        log_error("store: unknown resource descriptor");
        return NULL;
    }
    if (!obj_stmts[i][kind].sql) {
        log_error("store: object statement could not be built");
        return NULL;
    }
    return &obj_stmts[i][kind];
}

/* ---- rows ---------------------------------------------------------------- */

/* Decodes row `row` of r (the builder's row shape from column off on) into
 * out, which the caller has zeroed. false when out of memory (out is then
 * cleared). */
static bool row_read_at(const PGresult *r, int row, int off, const resource_desc *d,
                        obj_row *out)
{
    out->id = pg_col_int(r, row, off + SQL_COL_ID);
    out->team_id = pg_col_int(r, row, off + SQL_COL_TEAM);
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        int col = off + SQL_COL_FIELD(i);
        obj_value *v = &out->v[i];
        if (pg_col_null(r, row, col)) {
            obj_value_set_null(v);
        } else if (f->kind == FK_STRING || f->kind == FK_ENUM) {
            const char *txt = PQgetvalue(r, row, col);
            if (!obj_value_set_text(v, txt, (size_t)PQgetlength(r, row, col))) {
                obj_row_clear(out);
                return false;
            }
        } else {
            obj_value_set_int(v, pg_col_int(r, row, col));
        }
    }
    out->created_at = pg_col_int(r, row, off + SQL_COL_CREATED(d));
    out->updated_at = pg_col_int(r, row, off + SQL_COL_UPDATED(d));
    return true;
}

static bool row_read(const PGresult *r, int row, const resource_desc *d, obj_row *out)
{
    return row_read_at(r, row, 0, d, out);
}

/* Every row of r from column off on; rows whose id is NULL (a page's
 * count without objects) are none. */
static piora_err rows_read_at(const PGresult *r, int off, const resource_desc *d, obj_row **rows,
                              size_t *n)
{
    *rows = NULL;
    *n = 0;
    int nt = PQntuples(r);
    if (nt <= 0 || pg_col_null(r, 0, off + SQL_COL_ID))
        return PIORA_OK;
    obj_row *v = calloc((size_t)nt, sizeof *v);
    if (!v)
        return PIORA_ENOMEM;
    for (int i = 0; i < nt; i++) {
        if (!row_read_at(r, i, off, d, &v[i])) {
            obj_rows_free(v, (size_t)i);
            return PIORA_ENOMEM;
        }
    }
    *rows = v;
    *n = (size_t)nt;
    return PIORA_OK;
}

piora_err pg_obj_rows_read(const PGresult *r, const resource_desc *d, obj_row **rows, size_t *n)
{
    return rows_read_at(r, 0, d, rows, n);
}

/* ---- values to parameters ------------------------------------------------ */

static bool enum_has(const char *const *vals, const char *v)
{
    if (!vals)
        return true;
    for (; *vals; vals++)
        if (strcmp(*vals, v) == 0)
            return true;
    return false;
}

/* Adds one value (absent on create: the descriptor's default, else SQL
 * NULL). core validated it already; these checks keep the store safe for
 * every caller. The text is the value's own, alive until the call ends. */
static piora_err bind_value(pg_params *p, const field_desc *f, const obj_value *v,
                            bool use_default)
{
    if (v->kind == OV_ABSENT && use_default) {
        if (f->def_text) {
            pg_p_text(p, f->def_text);
            return PIORA_OK;
        }
        if (f->has_def_int) {
            pg_p_int(p, f->def_int);
            return PIORA_OK;
        }
    }
    if (v->kind == OV_ABSENT || v->kind == OV_NULL) {
        /* NULL in a NOT NULL column fails as a constraint: EINVALID. */
        pg_p_null(p);
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
        pg_p_text(p, v->text);
        return PIORA_OK;
    case FK_INT:
        if (v->kind != OV_INT)
            return PIORA_EINVALID;
        if (f->min < f->max && (v->i < f->min || v->i > f->max))
            return PIORA_EINVALID;
        pg_p_int(p, v->i);
        return PIORA_OK;
    case FK_REF:
        if (v->kind != OV_INT || v->i <= 0)
            return PIORA_EINVALID;
        pg_p_int(p, v->i);
        return PIORA_OK;
    case FK_TIME:
        if (v->kind != OV_INT)
            return PIORA_EINVALID;
        pg_p_int(p, v->i);
        return PIORA_OK;
    }
    return PIORA_EINVALID;
}

static void p_id_team(pg_params *p, int64_t id, int64_t team_id)
{
    pg_params_init(p);
    pg_p_int(p, id);
    pg_p_int(p, team_id);
}

/* FK_REF values must name an object of the same team. The foreign key
 * backs this up should the target go before the commit. */
static piora_err refs_check(pg_store *s, const resource_desc *d, int64_t team_id,
                            const obj_values *values)
{
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        const obj_value *v = &values->v[i];
        if (f->kind != FK_REF || v->kind == OV_ABSENT || v->kind == OV_NULL)
            continue;
        if (v->kind != OV_INT || v->i <= 0)
            return PIORA_EINVALID;
        pg_stmt *st = stmt_of(f->ref, OS_EXISTS);
        if (!st)
            return PIORA_EDB;
        pg_params p;
        p_id_team(&p, v->i, team_id);
        piora_err e = pg_exists(s, st, &p, "reference check");
        if (e != PIORA_OK)
            return e == PIORA_ENOTFOUND ? PIORA_EINVALID : e;
    }
    return PIORA_OK;
}

/* A foreign key failing on a write means a reference the check above did
 * not catch, and a data exception (class 22: a text that is not UTF-8, a
 * number out of the column's range) a value the checks let through: the
 * input's fault either way, as SQLite's answer for the same call. */
static piora_err write_fail(pg_store *s, const PGresult *r, const char *what)
{
    if (r && PQresultStatus(r) == PGRES_FATAL_ERROR) {
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (code && (strcmp(code, "23503") == 0 || strncmp(code, "22", 2) == 0))
            return PIORA_EINVALID;
    }
    return pg_ok(s, r, what);
}

/* The one row a write's RETURNING gave, decoded into out, then the commit;
 * no row: ENOTFOUND. On failure out is cleared and the transaction rolled
 * back. Clears r. */
static piora_err returned_commit(pg_store *s, PGresult *r, const resource_desc *d, obj_row *out,
                                 const char *what)
{
    piora_err e = write_fail(s, r, what);
    if (e == PIORA_OK && PQntuples(r) < 1)
        e = PIORA_ENOTFOUND;
    if (e == PIORA_OK && !row_read(r, 0, d, out))
        e = PIORA_ENOMEM;
    PQclear(r);
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    if ((e = pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS))) != PIORA_OK)
        obj_row_clear(out);
    return e;
}

/* ---- operations ---------------------------------------------------------- */

piora_err pg_obj_get(store_t *base, const resource_desc *d, int64_t team_id, int64_t id,
                     obj_row *out)
{
    pg_store *s = pgs(base);
    memset(out, 0, sizeof *out);
    if (!schema_row_fits(d))
        return PIORA_EINVALID;
    pg_stmt *st = stmt_of(d, OS_GET);
    if (!st)
        return PIORA_EDB;
    pg_params p;
    p_id_team(&p, id, team_id);
    PGresult *r = pg_run(s, st, &p);
    piora_err e = pg_ok(s, r, "get");
    if (e == PIORA_OK && PQntuples(r) < 1)
        e = PIORA_ENOTFOUND;
    if (e == PIORA_OK && !row_read(r, 0, d, out))
        e = PIORA_ENOMEM;
    PQclear(r);
    return e;
}

static int filter_index(const resource_desc *d, const char *field)
{
    if (!d->filters)
        return -1;
    for (int k = 0; k < PG_FILTERS_MAX && d->filters[k]; k++) {
        const field_desc *f = resource_field(d, d->filters[k]);
        if (f && f->kind == FK_REF && strcmp(d->filters[k], field) == 0)
            return k;
    }
    return -1;
}

piora_err pg_obj_list(store_t *base, const resource_desc *d, int64_t team_id, const obj_filter *f,
                      int64_t offset, int64_t limit, obj_row **rows, size_t *n, int64_t *total)
{
    pg_store *s = pgs(base);
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
        return pg_obj_list_granted(s, d, team_id, fi >= 0 ? d->filters[fi] : NULL, f, offset,
                                   limit, rows, n, total);
    pg_stmt *page = stmt_of(d, fi < 0 ? OS_PAGE : OS_PAGE_BY + fi);
    if (!page)
        return PIORA_EDB;
    /* The count and the page come from one statement: one snapshot. */
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, limit);
    pg_p_int(&p, offset);
    if (fi >= 0)
        pg_p_int(&p, f->value);
    PGresult *r = pg_run(s, page, &p);
    piora_err e = pg_ok(s, r, "list");
    if (e == PIORA_OK && PQntuples(r) < 1)
        e = PIORA_EDB; /* the count's row is always there */
    if (e == PIORA_OK) {
        *total = pg_col_int(r, 0, 0);
        e = rows_read_at(r, 1, d, rows, n);
    }
    PQclear(r);
    if (e != PIORA_OK)
        *total = 0;
    return e;
}

piora_err pg_obj_create(store_t *base, const resource_desc *d, int64_t team_id,
                        const obj_values *values, obj_row *out)
{
    pg_store *s = pgs(base);
    memset(out, 0, sizeof *out);
    if (!schema_row_fits(d))
        return PIORA_EINVALID;
    pg_stmt *st = stmt_of(d, OS_INSERT);
    if (!st)
        return PIORA_EDB;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    for (size_t i = 0; i < d->nfields; i++) {
        piora_err e = bind_value(&p, &d->fields[i], &values->v[i], true);
        if (e != PIORA_OK)
            return e;
    }
    pg_p_int(&p, clock_now());
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    if ((e = refs_check(s, d, team_id, values)) != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return returned_commit(s, pg_run(s, st, &p), d, out, "insert");
}

piora_err pg_obj_update(store_t *base, const resource_desc *d, int64_t team_id, int64_t id,
                        const obj_values *values, obj_row *out)
{
    pg_store *s = pgs(base);
    memset(out, 0, sizeof *out);
    if (!schema_row_fits(d))
        return PIORA_EINVALID;
    pg_stmt *st = stmt_of(d, OS_UPDATE);
    pg_stmt *ex = stmt_of(d, OS_EXISTS);
    if (!st || !ex)
        return PIORA_EDB;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    /* Another team's object is missing before anything else is said. */
    pg_params p;
    p_id_team(&p, id, team_id);
    if ((e = pg_exists(s, ex, &p, "update")) != PIORA_OK)
        goto fail;
    if ((e = refs_check(s, d, team_id, values)) != PIORA_OK)
        goto fail;
    pg_params_init(&p);
    for (size_t i = 0; i < d->nfields; i++) {
        const obj_value *v = &values->v[i];
        bool given = v->kind != OV_ABSENT;
        pg_p_bool(&p, given);
        if (!given)
            pg_p_null(&p);
        else if ((e = bind_value(&p, &d->fields[i], v, false)) != PIORA_OK)
            goto fail;
    }
    pg_p_int(&p, clock_now());
    pg_p_int(&p, id);
    pg_p_int(&p, team_id);
    return returned_commit(s, pg_run(s, st, &p), d, out, "update");
fail:
    pg_rollback(s);
    return e;
}

/* RESTRICT foreign keys (applications and databases on a server) fail the
 * DELETE with 23503, which pg_ok answers ECONFLICT. Cascades remove
 * deployments, backups and restores with their parent. */
piora_err pg_obj_delete(store_t *base, const resource_desc *d, int64_t team_id, int64_t id)
{
    pg_store *s = pgs(base);
    pg_stmt *st = stmt_of(d, OS_DELETE);
    if (!st)
        return PIORA_EDB;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    p_id_team(&p, id, team_id);
    int64_t rows = 0;
    e = pg_do(s, st, &p, &rows, "delete");
    if (e == PIORA_OK && rows == 0)
        e = PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}
