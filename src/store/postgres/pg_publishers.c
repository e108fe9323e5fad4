/* Trusted publishers and used JWT ids on PostgreSQL (SPEC 12); the twin of
 * sqlite_publishers.c. Publisher writes are changes of kind CHANGE_USERS
 * (a team's configuration); a used jti is CHANGE_MONITOR, which empties no
 * cache. A JWT is single-use across every node because its id goes in with
 * one INSERT ... ON CONFLICT DO NOTHING on the (issuer, jti) key: of two
 * nodes inserting the same id at once, the second waits for the first's
 * commit and inserts nothing. */
#include <string.h>

#include "store/postgres/pg_internal.h"
#include "util/clock.h"

#define PUB_COLS                                                                                \
    "SELECT p.id, p.team_id, p.user_id, p.name, p.issuer, p.audience, p.claims, p.ref_glob, "   \
    "p.scopes, p.resources, p.created_at, u.email FROM publishers p "                          \
    "JOIN users u ON u.id = p.user_id "

static void publisher_row(const PGresult *r, int row, void *dst)
{
    publisher_rec *o = dst;
    memset(o, 0, sizeof *o);
    o->id = pg_col_int(r, row, 0);
    o->team_id = pg_col_int(r, row, 1);
    o->user_id = pg_col_int(r, row, 2);
    pg_col_copy(r, row, 3, o->name, sizeof o->name);
    pg_col_copy(r, row, 4, o->issuer, sizeof o->issuer);
    pg_col_copy(r, row, 5, o->audience, sizeof o->audience);
    pg_col_copy(r, row, 6, o->claims, sizeof o->claims);
    pg_col_copy(r, row, 7, o->ref_glob, sizeof o->ref_glob);
    o->scopes = (scope_set)(pg_col_int(r, row, 8) & SCOPE_ALL);
    pg_col_copy(r, row, 9, o->resources, sizeof o->resources);
    o->created_at = pg_col_int(r, row, 10);
    pg_col_copy(r, row, 11, o->owner_email, sizeof o->owner_email);
}

static bool opt_text_ok(const char *v, size_t max) { return !v || strlen(v) <= max; }

/* NULL for NULL or "". */
static void p_opt(pg_params *p, const char *v) { pg_p_text(p, v && *v ? v : NULL); }

piora_err pg_publisher_insert(store_t *base, const publisher_new *p, publisher_rec *out)
{
    pg_store *s = pgs(base);
    if (!p || !pg_text_ok(p->name, PUBLISHER_NAME_MAX) || !pg_text_ok(p->issuer, OIDC_URL_MAX) ||
        !pg_text_ok(p->audience, OIDC_AUDIENCE_MAX) || !opt_text_ok(p->claims, OIDC_CLAIMS_MAX) ||
        !opt_text_ok(p->ref_glob, OIDC_GLOB_MAX) ||
        !opt_text_ok(p->resources, OIDC_RESOURCES_MAX) || (p->scopes & SCOPE_ALL) == 0)
        return PIORA_EINVALID;
    /* The casts name the types: in INSERT ... SELECT the parameters are
     * the SELECT's, typed before the target columns are known. */
    static pg_stmt ins = PG_STMT(
        "INSERT INTO publishers(team_id, user_id, name, issuer, audience, claims, ref_glob, "
        "scopes, resources, created_at) SELECT team_id, id, $2::text, $3::text, $4::text, "
        "$5::text, $6::text, $7::bigint, $8::text, $9::bigint FROM users WHERE id = $1::bigint "
        "RETURNING id");
    pg_params q;
    pg_params_init(&q);
    pg_p_int(&q, p->user_id);
    pg_p_text(&q, p->name);
    pg_p_text(&q, p->issuer);
    pg_p_text(&q, p->audience);
    pg_p_text(&q, p->claims ? p->claims : "");
    p_opt(&q, p->ref_glob);
    pg_p_int(&q, (int64_t)(p->scopes & SCOPE_ALL));
    p_opt(&q, p->resources);
    pg_p_int(&q, clock_now());
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t id = 0;
    e = pg_fetch_int(s, &ins, &q, &id, "publisher insert"); /* no row: no such user */
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    if ((e = pg_commit(s, CHANGE_BIT(CHANGE_USERS))) != PIORA_OK)
        return e;
    return out ? pg_publisher_get(base, 0, id, out) : PIORA_OK;
}

piora_err pg_publisher_get(store_t *base, int64_t team_id, int64_t id, publisher_rec *out)
{
    pg_store *s = pgs(base);
    static pg_stmt get = PG_STMT(
        PUB_COLS "WHERE p.id = $1::bigint AND ($2::bigint = 0 OR p.team_id = $2::bigint)");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    pg_p_int(&p, team_id);
    return pg_fetch_row(s, &get, &p, publisher_row, out, "publisher lookup");
}

static piora_err fetch_list(pg_store *s, pg_stmt *st, const pg_params *p, publisher_rec **out,
                            size_t *n)
{
    void *v = NULL;
    piora_err e = pg_fetch_rows(s, st, p, sizeof(publisher_rec), publisher_row, &v, n,
                                "publisher list");
    *out = v;
    return e;
}

piora_err pg_publisher_list(store_t *base, int64_t team_id, publisher_rec **out, size_t *n)
{
    pg_store *s = pgs(base);
    *out = NULL;
    *n = 0;
    static pg_stmt list = PG_STMT(
        PUB_COLS "WHERE $1::bigint = 0 OR p.team_id = $1::bigint ORDER BY p.id");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    return fetch_list(s, &list, &p, out, n);
}

piora_err pg_publisher_list_issuer(store_t *base, const char *issuer, publisher_rec **out,
                                   size_t *n)
{
    pg_store *s = pgs(base);
    *out = NULL;
    *n = 0;
    if (!pg_text_ok(issuer, OIDC_URL_MAX))
        return PIORA_OK; /* no stored issuer is that long: none match */
    /* Exact bytes, as SQLite's BINARY comparison: equality under a
     * deterministic collation is byte equality (and keeps the index). */
    static pg_stmt list = PG_STMT(PUB_COLS "WHERE p.issuer = $1::text ORDER BY p.id");
    pg_params p;
    pg_params_init(&p);
    pg_p_text(&p, issuer);
    return fetch_list(s, &list, &p, out, n);
}

piora_err pg_publisher_delete(store_t *base, int64_t team_id, int64_t id)
{
    pg_store *s = pgs(base);
    static pg_stmt del = PG_STMT(
        "DELETE FROM publishers WHERE id = $1::bigint AND ($2::bigint = 0 OR team_id = $2::bigint)");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    pg_p_int(&p, team_id);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t rows = 0;
    e = pg_do(s, &del, &p, &rows, "publisher delete");
    if (e == PIORA_OK && rows == 0)
        e = PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_USERS));
}

piora_err pg_oidc_jti_use(store_t *base, const char *issuer, const char *jti, int64_t expires_at,
                          int64_t now)
{
    pg_store *s = pgs(base);
    if (!pg_text_ok(issuer, OIDC_URL_MAX) || !pg_text_ok(jti, OIDC_JTI_MAX) || expires_at <= 0)
        return PIORA_EINVALID;
    /* Expired ids another node is forgetting right now are left to it
     * (SKIP LOCKED): two exchanges at once never deadlock on the sweep. */
    static pg_stmt prune = PG_STMT(
        "DELETE FROM oidc_jti WHERE (issuer, jti) IN (SELECT issuer, jti FROM oidc_jti "
        "WHERE expires_at < $1 FOR UPDATE SKIP LOCKED)");
    static pg_stmt ins = PG_STMT("INSERT INTO oidc_jti(issuer, jti, expires_at) "
                                 "VALUES($1, $2, $3) ON CONFLICT (issuer, jti) DO NOTHING");
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, now);
    e = pg_do(s, &prune, &p, NULL, "jti prune");
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_text(&p, issuer);
        pg_p_text(&p, jti);
        pg_p_int(&p, expires_at);
        int64_t rows = 0;
        e = pg_do(s, &ins, &p, &rows, "jti use");
        if (e == PIORA_OK && rows == 0)
            e = PIORA_ECONFLICT;
    }
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_MONITOR));
}
