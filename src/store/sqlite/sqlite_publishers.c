/* Trusted publishers and used JWT ids on SQLite (SPEC 12). Publisher
 * writes are changes of kind CHANGE_USERS (a team's configuration); a used
 * jti is CHANGE_MONITOR, which empties no cache. */
#include <string.h>

#include "store/sqlite/sqlite_internal.h"
#include "util/clock.h"

#define PUB_COLS                                                                                \
    "SELECT p.id, p.team_id, p.user_id, p.name, p.issuer, p.audience, p.claims, p.ref_glob, "   \
    "p.scopes, p.resources, p.created_at, u.email FROM publishers p "                          \
    "JOIN users u ON u.id = p.user_id "

static void publisher_row(sqlite3_stmt *st, void *dst)
{
    publisher_rec *o = dst;
    memset(o, 0, sizeof *o);
    o->id = sq_col_int(st, 0);
    o->team_id = sq_col_int(st, 1);
    o->user_id = sq_col_int(st, 2);
    sq_col_copy(st, 3, o->name, sizeof o->name);
    sq_col_copy(st, 4, o->issuer, sizeof o->issuer);
    sq_col_copy(st, 5, o->audience, sizeof o->audience);
    sq_col_copy(st, 6, o->claims, sizeof o->claims);
    sq_col_copy(st, 7, o->ref_glob, sizeof o->ref_glob);
    o->scopes = (scope_set)(sq_col_int(st, 8) & SCOPE_ALL);
    sq_col_copy(st, 9, o->resources, sizeof o->resources);
    o->created_at = sq_col_int(st, 10);
    sq_col_copy(st, 11, o->owner_email, sizeof o->owner_email);
}

static bool opt_text_ok(const char *v, size_t max) { return !v || strlen(v) <= max; }

static void bind_opt(sqlite3_stmt *st, int idx, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, idx);
}

/* Steps a bound statement that must change one row, in its own write
 * transaction of kind CHANGE_USERS; ENOTFOUND when it changed none. */
static piora_err write_one(sq_store *s, sqlite3_stmt *st, const char *what)
{
    piora_err e = sq_begin(s);
    if (e != PIORA_OK) {
        sqlite3_clear_bindings(st);
        return e;
    }
    int rc = sq_exec_stmt(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        e = sq_fail(s, rc, what);
    else if (sqlite3_changes(s->db) == 0)
        e = PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_USERS));
}

piora_err sq_publisher_insert(store_t *base, const publisher_new *p, publisher_rec *out)
{
    sq_store *s = sq(base);
    if (!p || !sq_text_ok(p->name, PUBLISHER_NAME_MAX) || !sq_text_ok(p->issuer, OIDC_URL_MAX) ||
        !sq_text_ok(p->audience, OIDC_AUDIENCE_MAX) || !opt_text_ok(p->claims, OIDC_CLAIMS_MAX) ||
        !opt_text_ok(p->ref_glob, OIDC_GLOB_MAX) ||
        !opt_text_ok(p->resources, OIDC_RESOURCES_MAX) || (p->scopes & SCOPE_ALL) == 0)
        return PIORA_EINVALID;
    sqlite3_stmt *st = sq_stmt(
        s, ST_PUBLISHER_INSERT,
        "INSERT INTO publishers(id, team_id, user_id, name, issuer, audience, claims, ref_glob, "
        "scopes, resources, created_at) SELECT " SQ_NEXT_ID("publishers") ", team_id, id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 "
        "FROM users WHERE id = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, p->user_id);
    sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->issuer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, p->audience, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, p->claims ? p->claims : "", -1, SQLITE_STATIC);
    bind_opt(st, 6, p->ref_glob);
    sqlite3_bind_int(st, 7, p->scopes & SCOPE_ALL);
    bind_opt(st, 8, p->resources);
    sqlite3_bind_int64(st, 9, clock_now());
    piora_err e = write_one(s, st, "publisher insert"); /* no row: no such user */
    if (e != PIORA_OK)
        return e;
    int64_t id = sqlite3_last_insert_rowid(s->db); /* the connection's, kept past COMMIT */
    return out ? sq_publisher_get(base, 0, id, out) : PIORA_OK;
}

piora_err sq_publisher_get(store_t *base, int64_t team_id, int64_t id, publisher_rec *out)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_PUBLISHER_GET,
                               PUB_COLS "WHERE p.id = ?1 AND (?2 = 0 OR p.team_id = ?2)");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, team_id);
    return sq_fetch_row(s, st, publisher_row, out, "publisher lookup");
}

static piora_err fetch_list(sq_store *s, sqlite3_stmt *st, publisher_rec **out, size_t *n)
{
    void *v = NULL;
    piora_err e = sq_fetch_rows(s, st, sizeof(publisher_rec), publisher_row, &v, n,
                                "publisher list");
    *out = v;
    return e;
}

piora_err sq_publisher_list(store_t *base, int64_t team_id, publisher_rec **out, size_t *n)
{
    sq_store *s = sq(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sq_stmt(s, ST_PUBLISHER_LIST_TEAM,
                               PUB_COLS "WHERE ?1 = 0 OR p.team_id = ?1 ORDER BY p.id");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, team_id);
    return fetch_list(s, st, out, n);
}

piora_err sq_publisher_list_issuer(store_t *base, const char *issuer, publisher_rec **out,
                                   size_t *n)
{
    sq_store *s = sq(base);
    *out = NULL;
    *n = 0;
    if (!sq_text_ok(issuer, OIDC_URL_MAX))
        return PIORA_OK; /* no stored issuer is that long: none match */
    sqlite3_stmt *st =
        sq_stmt(s, ST_PUBLISHER_LIST_ISSUER, PUB_COLS "WHERE p.issuer = ?1 ORDER BY p.id");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_text(st, 1, issuer, -1, SQLITE_TRANSIENT);
    return fetch_list(s, st, out, n);
}

piora_err sq_publisher_delete(store_t *base, int64_t team_id, int64_t id)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_PUBLISHER_DELETE,
                               "DELETE FROM publishers WHERE id = ?1 AND (?2 = 0 OR team_id = ?2)");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, team_id);
    return write_one(s, st, "publisher delete");
}

piora_err sq_oidc_jti_use(store_t *base, const char *issuer, const char *jti, int64_t expires_at,
                          int64_t now)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(issuer, OIDC_URL_MAX) || !sq_text_ok(jti, OIDC_JTI_MAX) || expires_at <= 0)
        return PIORA_EINVALID;
    sqlite3_stmt *prune =
        sq_stmt(s, ST_OIDC_JTI_PRUNE, "DELETE FROM oidc_jti WHERE expires_at < ?1");
    sqlite3_stmt *ins = sq_stmt(s, ST_OIDC_JTI_INSERT,
                                "INSERT INTO oidc_jti(issuer, jti, expires_at) VALUES(?1, ?2, ?3) "
                                "ON CONFLICT (issuer, jti) DO NOTHING");
    if (!prune || !ins)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(prune, 1, now);
    int rc = sq_exec_stmt(prune);
    if (rc == SQLITE_DONE) {
        sqlite3_bind_text(ins, 1, issuer, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, jti, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, expires_at);
        rc = sq_exec_stmt(ins);
        sqlite3_clear_bindings(ins);
        if (rc == SQLITE_DONE && sqlite3_changes(s->db) == 0)
            e = PIORA_ECONFLICT;
    }
    if (rc != SQLITE_DONE)
        e = sq_fail(s, rc, "jti use");
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_MONITOR));
}
