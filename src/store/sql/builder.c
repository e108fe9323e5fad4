#include "store/sql/builder.h"

#include <string.h>

const sql_dialect SQL_DIALECT_SQLITE = {
    .name = "sqlite", .placeholder = '?', .returning = false, .quote = '"',
    .upsert = SQL_UPSERT_ON_CONFLICT, .id_marks = "id_marks"};

const sql_dialect SQL_DIALECT_POSTGRES = {
    .name = "postgres", .placeholder = '$', .returning = true, .quote = '"',
    .upsert = SQL_UPSERT_ON_CONFLICT};

void sql_put_quoted(buf_t *b, char quote, const char *text)
{
    buf_putc(b, quote);
    for (const char *p = text; *p; p++) {
        if (*p == quote)
            buf_putc(b, quote);
        buf_putc(b, *p);
    }
    buf_putc(b, quote);
}

static void put_ident(buf_t *b, const sql_dialect *dl, const char *name)
{
    sql_put_quoted(b, dl->quote, name);
}

/* Only for the names of our own tables, never for a value from outside
 * (those are bound). */
static void put_literal(buf_t *b, const char *text) { sql_put_quoted(b, '\'', text); }

static void put_param(buf_t *b, const sql_dialect *dl, size_t n)
{
    buf_printf(b, "%c%zu", dl->placeholder, n);
}

/* "id, team_id, f1, ..., fn, created_at, updated_at" */
static void put_row(buf_t *b, const sql_dialect *dl, const resource_desc *d)
{
    put_ident(b, dl, "id");
    buf_puts(b, ", ");
    put_ident(b, dl, "team_id");
    for (size_t i = 0; i < d->nfields; i++) {
        buf_puts(b, ", ");
        put_ident(b, dl, d->fields[i].name);
    }
    buf_puts(b, ", ");
    put_ident(b, dl, "created_at");
    buf_puts(b, ", ");
    put_ident(b, dl, "updated_at");
}

/* " WHERE id = P1 AND team_id = P2" */
static void put_where_id_team(buf_t *b, const sql_dialect *dl)
{
    buf_puts(b, " WHERE ");
    put_ident(b, dl, "id");
    buf_puts(b, " = ");
    put_param(b, dl, 1);
    buf_puts(b, " AND ");
    put_ident(b, dl, "team_id");
    buf_puts(b, " = ");
    put_param(b, dl, 2);
}

static void put_returning(buf_t *b, const sql_dialect *dl, const resource_desc *d)
{
    if (!dl->returning)
        return;
    buf_puts(b, " RETURNING ");
    put_row(b, dl, d);
}

bool sql_obj_get(buf_t *b, const sql_dialect *dl, const resource_desc *d)
{
    buf_puts(b, "SELECT ");
    put_row(b, dl, d);
    buf_puts(b, " FROM ");
    put_ident(b, dl, d->name);
    put_where_id_team(b, dl);
    return !b->failed;
}

bool sql_obj_exists(buf_t *b, const sql_dialect *dl, const resource_desc *d)
{
    buf_puts(b, "SELECT 1 FROM ");
    put_ident(b, dl, d->name);
    put_where_id_team(b, dl);
    return !b->failed;
}

/* " WHERE team_id = P1 [AND filter = P<fparam>]" */
static void put_where_team(buf_t *b, const sql_dialect *dl, const char *filter, size_t fparam)
{
    buf_puts(b, " WHERE ");
    put_ident(b, dl, "team_id");
    buf_puts(b, " = ");
    put_param(b, dl, 1);
    if (filter) {
        buf_puts(b, " AND ");
        put_ident(b, dl, filter);
        buf_puts(b, " = ");
        put_param(b, dl, fparam);
    }
}

/* The parent of d in SPEC 11's chain: its first FK_REF field (an
 * application's server, a deployment's application, a backup's database, a
 * restore's backup), or NULL for a root (servers). */
const field_desc *sql_parent_field(const resource_desc *d)
{
    for (size_t i = 0; i < d->nfields; i++)
        if (d->fields[i].kind == FK_REF)
            return &d->fields[i];
    return NULL;
}

/* "(<row of d is granted>)": its id is granted by kind, or its parent is
 * granted, recursively. The i-th id of g is the placeholder P(base + i);
 * the team is P(team), repeated in every subselect. */
static void put_granted(buf_t *b, const sql_dialect *dl, const resource_desc *d,
                        const token_grant *g, size_t base, size_t team)
{
    bool any = false;
    buf_putc(b, '(');
    grant_kind k = grant_kind_from_name(d->name, strlen(d->name));
    if (k != GRANT_KINDS && grant_count(g, k) > 0) {
        put_ident(b, dl, "id");
        buf_puts(b, " IN (");
        bool first = true;
        for (size_t i = 0; i < g->n; i++) {
            if (g->kinds[i] != k)
                continue;
            if (!first)
                buf_puts(b, ", ");
            put_param(b, dl, base + i);
            first = false;
        }
        buf_putc(b, ')');
        any = true;
    }
    const field_desc *pf = sql_parent_field(d);
    if (pf && pf->ref) {
        if (any)
            buf_puts(b, " OR ");
        put_ident(b, dl, pf->name);
        buf_puts(b, " IN (SELECT ");
        put_ident(b, dl, "id");
        buf_puts(b, " FROM ");
        put_ident(b, dl, pf->ref->name);
        buf_puts(b, " WHERE ");
        put_ident(b, dl, "team_id");
        buf_puts(b, " = ");
        put_param(b, dl, team);
        buf_puts(b, " AND ");
        put_granted(b, dl, pf->ref, g, base, team);
        buf_putc(b, ')');
        any = true;
    }
    if (!any)
        buf_puts(b, "1 = 0");
    buf_putc(b, ')');
}

bool sql_obj_list_granted(buf_t *b, const sql_dialect *dl, const resource_desc *d,
                          const char *filter, const token_grant *g)
{
    buf_puts(b, "SELECT ");
    put_row(b, dl, d);
    buf_puts(b, " FROM ");
    put_ident(b, dl, d->name);
    put_where_team(b, dl, filter, 4);
    buf_puts(b, " AND ");
    put_granted(b, dl, d, g, filter ? 5 : 4, 1);
    buf_puts(b, " ORDER BY ");
    put_ident(b, dl, "id");
    if (d->newest_first)
        buf_puts(b, " DESC");
    buf_puts(b, " LIMIT ");
    put_param(b, dl, 2);
    buf_puts(b, " OFFSET ");
    put_param(b, dl, 3);
    return !b->failed;
}

bool sql_obj_count_granted(buf_t *b, const sql_dialect *dl, const resource_desc *d,
                           const char *filter, const token_grant *g)
{
    buf_puts(b, "SELECT count(*) FROM ");
    put_ident(b, dl, d->name);
    put_where_team(b, dl, filter, 2);
    buf_puts(b, " AND ");
    put_granted(b, dl, d, g, filter ? 3 : 2, 1);
    return !b->failed;
}

bool sql_obj_parent(buf_t *b, const sql_dialect *dl, const resource_desc *d)
{
    const field_desc *pf = sql_parent_field(d);
    if (!pf)
        return false;
    buf_puts(b, "SELECT ");
    put_ident(b, dl, pf->name);
    buf_puts(b, " FROM ");
    put_ident(b, dl, d->name);
    put_where_id_team(b, dl);
    return !b->failed;
}

bool sql_obj_list(buf_t *b, const sql_dialect *dl, const resource_desc *d, const char *filter)
{
    buf_puts(b, "SELECT ");
    put_row(b, dl, d);
    buf_puts(b, " FROM ");
    put_ident(b, dl, d->name);
    put_where_team(b, dl, filter, 4);
    buf_puts(b, " ORDER BY ");
    put_ident(b, dl, "id");
    if (d->newest_first)
        buf_puts(b, " DESC");
    buf_puts(b, " LIMIT ");
    put_param(b, dl, 2);
    buf_puts(b, " OFFSET ");
    put_param(b, dl, 3);
    return !b->failed;
}

bool sql_obj_count(buf_t *b, const sql_dialect *dl, const resource_desc *d, const char *filter)
{
    buf_puts(b, "SELECT count(*) FROM ");
    put_ident(b, dl, d->name);
    put_where_team(b, dl, filter, 2);
    return !b->failed;
}

bool sql_obj_insert(buf_t *b, const sql_dialect *dl, const resource_desc *d)
{
    buf_puts(b, "INSERT INTO ");
    put_ident(b, dl, d->name);
    buf_putc(b, '(');
    if (dl->id_marks) {
        put_ident(b, dl, "id");
        buf_puts(b, ", ");
    }
    put_ident(b, dl, "team_id");
    for (size_t i = 0; i < d->nfields; i++) {
        buf_puts(b, ", ");
        put_ident(b, dl, d->fields[i].name);
    }
    buf_puts(b, ", ");
    put_ident(b, dl, "created_at");
    buf_puts(b, ", ");
    put_ident(b, dl, "updated_at");
    buf_puts(b, ") VALUES(");
    if (dl->id_marks) {
        buf_puts(b, "(SELECT last + 1 FROM ");
        put_ident(b, dl, dl->id_marks);
        buf_puts(b, " WHERE tbl = ");
        put_literal(b, d->name);
        buf_puts(b, "), ");
    }
    put_param(b, dl, 1);
    for (size_t i = 0; i <= d->nfields; i++) {
        buf_puts(b, ", ");
        put_param(b, dl, i + 2);
    }
    buf_puts(b, ", ");
    put_param(b, dl, d->nfields + 2); /* one time for both stamps */
    buf_putc(b, ')');
    put_returning(b, dl, d);
    return !b->failed;
}

bool sql_obj_update(buf_t *b, const sql_dialect *dl, const resource_desc *d)
{
    buf_puts(b, "UPDATE ");
    put_ident(b, dl, d->name);
    buf_puts(b, " SET ");
    for (size_t i = 0; i < d->nfields; i++) {
        const char *c = d->fields[i].name;
        put_ident(b, dl, c);
        buf_puts(b, " = CASE WHEN ");
        put_param(b, dl, 2 * i + 1);
        buf_puts(b, " THEN ");
        put_param(b, dl, 2 * i + 2);
        buf_puts(b, " ELSE ");
        put_ident(b, dl, c);
        buf_puts(b, " END, ");
    }
    size_t n = d->nfields;
    put_ident(b, dl, "updated_at");
    buf_puts(b, " = ");
    put_param(b, dl, 2 * n + 1);
    buf_puts(b, " WHERE ");
    put_ident(b, dl, "id");
    buf_puts(b, " = ");
    put_param(b, dl, 2 * n + 2);
    buf_puts(b, " AND ");
    put_ident(b, dl, "team_id");
    buf_puts(b, " = ");
    put_param(b, dl, 2 * n + 3);
    put_returning(b, dl, d);
    return !b->failed;
}

bool sql_obj_delete(buf_t *b, const sql_dialect *dl, const resource_desc *d)
{
    buf_puts(b, "DELETE FROM ");
    put_ident(b, dl, d->name);
    put_where_id_team(b, dl);
    return !b->failed;
}

bool sql_upsert(buf_t *b, const sql_dialect *dl, const char *table, const char *const *cols,
                size_t ncols, size_t nkey)
{
    if (nkey == 0 || nkey >= ncols)
        return false;
    buf_puts(b, "INSERT INTO ");
    put_ident(b, dl, table);
    buf_putc(b, '(');
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            buf_puts(b, ", ");
        put_ident(b, dl, cols[i]);
    }
    buf_puts(b, ") VALUES(");
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            buf_puts(b, ", ");
        put_param(b, dl, i + 1);
    }
    buf_putc(b, ')');
    if (dl->upsert == SQL_UPSERT_ON_DUPLICATE_KEY) {
        buf_puts(b, " ON DUPLICATE KEY UPDATE ");
    } else {
        buf_puts(b, " ON CONFLICT(");
        for (size_t i = 0; i < nkey; i++) {
            if (i)
                buf_puts(b, ", ");
            put_ident(b, dl, cols[i]);
        }
        buf_puts(b, ") DO UPDATE SET ");
    }
    for (size_t i = nkey; i < ncols; i++) {
        if (i > nkey)
            buf_puts(b, ", ");
        put_ident(b, dl, cols[i]);
        if (dl->upsert == SQL_UPSERT_ON_DUPLICATE_KEY) {
            buf_puts(b, " = VALUES(");
            put_ident(b, dl, cols[i]);
            buf_putc(b, ')');
        } else {
            buf_puts(b, " = excluded.");
            put_ident(b, dl, cols[i]);
        }
    }
    return !b->failed;
}
