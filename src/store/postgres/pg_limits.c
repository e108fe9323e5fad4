/* SPEC 11 on PostgreSQL: lists seen through a resource-limited token and
 * the parent chain of an object; the twin of sqlite_limits.c. The grant's
 * ids are bound one placeholder each (store/sql/builder.h), so the text of
 * a granted list depends on how many ids of each kind the grant holds: it
 * runs unprepared (PQexecParams) rather than taking one of the process's
 * numbered statements per grant shape, as the response cache answers
 * repeated pages anyway. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/postgres/pg_obj.h"
#include "store/sql/builder.h"
#include "util/buf.h"
#include "util/log.h"

#define GRANT_SQL_MAX 16384
/* The list's own placeholders (team, limit, offset, filter) and one per id. */
#define GRANT_PARAMS_MAX (4 + GRANT_IDS_MAX)

/* PostgreSQL's type oid of bigint (catalog/pg_type_d.h, a server header). */
#define INT8_OID 20

/* Parameters past pg_params' bound: a grant holds up to GRANT_IDS_MAX ids.
 * Each is typed bigint up front: a grant's ids of a kind outside the
 * descriptor's chain are placeholders the statement never names, and
 * PostgreSQL refuses an untyped parameter it cannot infer. */
typedef struct grant_params {
    int n;
    Oid types[GRANT_PARAMS_MAX];
    const char *val[GRANT_PARAMS_MAX];
    char num[GRANT_PARAMS_MAX][24];
} grant_params;

static void gp_int(grant_params *p, int64_t v)
{
    if (p->n >= GRANT_PARAMS_MAX)
        return; /* cannot happen: sized for the most a statement binds */
    snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", (long long)v);
    p->val[p->n] = p->num[p->n];
    p->types[p->n] = INT8_OID;
    p->n++;
}

static void gp_grant(grant_params *p, const token_grant *g)
{
    for (size_t i = 0; i < g->n; i++)
        gp_int(p, g->ids[i]);
}

/* Runs inside the caller's read transaction, which pg_begin_read() opened
 * on a live connection: there is nothing to reconnect here. NULL when the
 * connection is gone (pg_ok answers EBUSY for it). */
static PGresult *run_text(pg_store *s, const char *sql, const grant_params *p)
{
    if (!s->conn)
        return NULL;
    if (!PQsendQueryParams(s->conn, sql, p->n, p->types, p->val, NULL, NULL, 0))
        return NULL;
    return pg_await(s);
}

piora_err pg_obj_list_granted(pg_store *s, const resource_desc *d, int64_t team_id,
                              const char *filter, const obj_filter *f, int64_t offset,
                              int64_t limit, obj_row **rows, size_t *n, int64_t *total)
{
    const token_grant *g = f->grant;
    if (g->n > GRANT_IDS_MAX)
        return PIORA_EINVALID;
    buf_t bc, bl;
    buf_init(&bc, GRANT_SQL_MAX);
    buf_init(&bl, GRANT_SQL_MAX);
    bool ok = sql_obj_count_granted(&bc, &SQL_DIALECT_POSTGRES, d, filter, g) &&
              sql_obj_list_granted(&bl, &SQL_DIALECT_POSTGRES, d, filter, g);
    piora_err e = PIORA_OK;
    if (!ok) {
        log_error("store: granted statement too long");
        e = PIORA_EDB;
    }
    if (e == PIORA_OK)
        e = pg_begin_read(s);
    if (e != PIORA_OK) {
        buf_free(&bc);
        buf_free(&bl);
        return e;
    }
    grant_params p = {0};
    gp_int(&p, team_id);
    if (filter)
        gp_int(&p, f->value);
    gp_grant(&p, g);
    PGresult *r = run_text(s, bc.data, &p);
    e = pg_ok(s, r, "granted count");
    if (e == PIORA_OK)
        *total = pg_col_int(r, 0, 0);
    PQclear(r);
    if (e == PIORA_OK) {
        p.n = 0;
        gp_int(&p, team_id);
        gp_int(&p, limit);
        gp_int(&p, offset);
        if (filter)
            gp_int(&p, f->value);
        gp_grant(&p, g);
        r = run_text(s, bl.data, &p);
        e = pg_ok(s, r, "granted list");
        if (e == PIORA_OK)
            e = pg_obj_rows_read(r, d, rows, n);
        PQclear(r);
    }
    pg_end_read(s);
    buf_free(&bc);
    buf_free(&bl);
    if (e != PIORA_OK)
        *total = 0;
    return e;
}

/* The parent statements, one per descriptor with a parent, built once for
 * the process (NULL text: a root, or too long). */
static pg_stmt parent_stmts[PG_RES_MAX];
static pthread_once_t parent_once = PTHREAD_ONCE_INIT;

static void parent_build(void)
{
    for (int i = 0; i < PG_RES_MAX && piora_resources[i]; i++) {
        buf_t b;
        buf_init(&b, GRANT_SQL_MAX);
        if (sql_obj_parent(&b, &SQL_DIALECT_POSTGRES, piora_resources[i]))
            parent_stmts[i].sql = buf_steal(&b, NULL);
        buf_free(&b);
    }
}

piora_err pg_obj_parent(store_t *base, const resource_desc *d, int64_t team_id, int64_t id,
                        int64_t *parent_id)
{
    pg_store *s = pgs(base);
    *parent_id = 0;
    int i = pg_res_index(d);
    if (i < 0 || !sql_parent_field(d))
        return PIORA_EINVALID;
    pthread_once(&parent_once, parent_build);
    if (!parent_stmts[i].sql) {
        log_error("store: parent statement could not be built");
        return PIORA_EDB;
    }
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    pg_p_int(&p, team_id);
    /* The parent column is NOT NULL for every kind whose chain SPEC 11
     * walks; a NULL one reads as 0, which names no object. */
    return pg_fetch_int(s, &parent_stmts[i], &p, parent_id, "object parent");
}
