/* Tokens on PostgreSQL (the twin of sqlite_tokens.c): only digests are
 * stored; a regenerated token's old digest moves to token_old_secrets so
 * it still answers "revoked". Parameters in an INSERT ... SELECT list have
 * no column to take a type from, hence their casts. */
#include <string.h>

#include "store/postgres/pg_internal.h"
#include "util/clock.h"

#define TOKEN_COLS                                                                               \
    "t.id, t.user_id, t.team_id, t.name, t.hint, t.scopes, t.created_at, t.updated_at, "         \
    "t.last_used_at, t.last_used_addr, t.expires_at, u.email"
#define TOKEN_FROM " FROM tokens t JOIN users u ON u.id = t.user_id "
/* Column 12 is revoked_at in every token query below, then the limits,
 * then issue 13's note, regenerated_at and hidden_at. */
#define TOKEN_LIMIT_COLS ", t.resources, t.allowed_ips, t.note, t.regenerated_at, t.hidden_at"

static void token_row(const PGresult *r, int row, void *dst)
{
    token_rec *out = dst;
    memset(out, 0, sizeof *out);
    out->id = pg_col_int(r, row, 0);
    out->user_id = pg_col_int(r, row, 1);
    out->team_id = pg_col_int(r, row, 2);
    pg_col_copy(r, row, 3, out->name, sizeof out->name);
    pg_col_copy(r, row, 4, out->hint, sizeof out->hint);
    out->scopes = (scope_set)(pg_col_int(r, row, 5) & SCOPE_ALL);
    out->created_at = pg_col_int(r, row, 6);
    out->updated_at = pg_col_int(r, row, 7);
    out->last_used_at = pg_col_int(r, row, 8); /* NULL reads as 0 */
    pg_col_copy(r, row, 9, out->last_used_addr, sizeof out->last_used_addr);
    out->expires_at = pg_col_int(r, row, 10);
    pg_col_copy(r, row, 11, out->owner_email, sizeof out->owner_email);
    out->revoked_at = pg_col_int(r, row, 12);
    /* The columns hold what grant_format()/addrs_format() wrote; a text
     * that no longer parses must not widen the token: it grants nothing. */
    char err[128];
    const char *res = pg_col_str(r, row, 13);
    if (res && !grant_parse(res, &out->resources, err, sizeof err)) {
        memset(&out->resources, 0, sizeof out->resources);
        out->resources.limited = true;
    }
    const char *ips = pg_col_str(r, row, 14);
    if (ips && !addrs_parse(ips, &out->allowed_ips, err, sizeof err)) {
        memset(&out->allowed_ips, 0, sizeof out->allowed_ips);
        out->allowed_ips.limited = true;
    }
    pg_col_copy(r, row, 15, out->note, sizeof out->note);
    out->regenerated_at = pg_col_int(r, row, 16);
    out->hidden_at = pg_col_int(r, row, 17);
}

/* The token's team is its user's team, taken in the INSERT itself. */
piora_err pg_token_insert(store_t *base, const token_new *t, token_rec *out)
{
    static pg_stmt q = PG_STMT(
        "INSERT INTO tokens(user_id, team_id, name, digest, hint, scopes, created_at, "
        "updated_at, expires_at, resources, allowed_ips, note) SELECT id, team_id, $2::text, "
        "$3::bytea, $4::text, $5::bigint, $6::bigint, $6::bigint, $7::bigint, $8::text, "
        "$9::text, $10::text FROM users WHERE id = $1 RETURNING id");
    pg_store *s = pgs(base);
    if (!t || !pg_text_ok(t->name, TOKEN_NAME_MAX) || !pg_text_ok(t->hint, TOKEN_HINT_MAX - 1) ||
        t->expires_at < 0 || (t->note && strlen(t->note) > TOKEN_NOTE_MAX))
        return PIORA_EINVALID;
    char res[GRANT_TEXT_MAX], ips[ADDRS_TEXT_MAX];
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, t->user_id);
    pg_p_text(&p, t->name);
    pg_p_bytes(&p, t->digest, TOKEN_DIGEST_LEN);
    pg_p_text(&p, t->hint);
    pg_p_int(&p, t->scopes & SCOPE_ALL);
    pg_p_int(&p, clock_now());
    pg_p_time0(&p, t->expires_at);
    if (t->resources && t->resources->limited) {
        grant_format(t->resources, res, sizeof res);
        pg_p_text(&p, res);
    } else {
        pg_p_null(&p);
    }
    if (t->allowed_ips && t->allowed_ips->limited) {
        addrs_format(t->allowed_ips, ips, sizeof ips);
        pg_p_text(&p, ips);
    } else {
        pg_p_null(&p);
    }
    pg_p_text(&p, t->note && *t->note ? t->note : NULL);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t id = 0;
    e = pg_fetch_int(s, &q, &p, &id, "token insert"); /* ENOTFOUND: no such user */
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    if ((e = pg_commit(s, CHANGE_BIT(CHANGE_TOKENS))) != PIORA_OK)
        return e;
    return out ? pg_token_by_id(base, id, out) : PIORA_OK;
}

/* One statement looks in both places, so a concurrent regeneration (which
 * moves the digest atomically) cannot make a known digest look unknown. */
piora_err pg_token_by_digest(store_t *base, const uint8_t digest[TOKEN_DIGEST_LEN],
                             token_rec *out)
{
    static pg_stmt q = PG_STMT("SELECT " TOKEN_COLS ", t.revoked_at" TOKEN_LIMIT_COLS TOKEN_FROM
                               "WHERE t.digest = $1 "
                               "UNION ALL "
                               "SELECT " TOKEN_COLS ", o.revoked_at" TOKEN_LIMIT_COLS
                               " FROM token_old_secrets o "
                               "JOIN tokens t ON t.id = o.token_id "
                               "JOIN users u ON u.id = t.user_id WHERE o.digest = $1 "
                               "LIMIT 1");
    pg_params p;
    pg_params_init(&p);
    pg_p_bytes(&p, digest, TOKEN_DIGEST_LEN);
    return pg_fetch_row(pgs(base), &q, &p, token_row, out, "token lookup");
}

piora_err pg_token_by_id(store_t *base, int64_t id, token_rec *out)
{
    static pg_stmt q = PG_STMT("SELECT " TOKEN_COLS ", t.revoked_at" TOKEN_LIMIT_COLS TOKEN_FROM
                               "WHERE t.id = $1");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    return pg_fetch_row(pgs(base), &q, &p, token_row, out, "token lookup");
}

piora_err pg_token_list(store_t *base, int64_t user_id, token_rec **out, size_t *n)
{
    static pg_stmt by_user =
        PG_STMT("SELECT " TOKEN_COLS ", t.revoked_at" TOKEN_LIMIT_COLS TOKEN_FROM
                "WHERE t.user_id = $1 AND t.hidden_at IS NULL ORDER BY t.id");
    static pg_stmt all = PG_STMT("SELECT " TOKEN_COLS ", t.revoked_at" TOKEN_LIMIT_COLS TOKEN_FROM
                                 "WHERE t.hidden_at IS NULL ORDER BY t.id");
    pg_params p;
    pg_params_init(&p);
    if (user_id > 0)
        pg_p_int(&p, user_id);
    void *v = NULL;
    piora_err e = pg_fetch_rows(pgs(base), user_id > 0 ? &by_user : &all, &p, sizeof(token_rec),
                                token_row, &v, n, "token list");
    *out = v;
    return e;
}

piora_err pg_token_revoke(store_t *base, int64_t id, int64_t now)
{
    static pg_stmt q = PG_STMT("UPDATE tokens SET revoked_at = $2, updated_at = $2 "
                               "WHERE id = $1 AND revoked_at IS NULL");
    static pg_stmt exists = PG_STMT("SELECT 1 FROM tokens WHERE id = $1");
    pg_store *s = pgs(base);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    pg_p_int(&p, now > 0 ? now : clock_now());
    int64_t rows = 0;
    e = pg_do(s, &q, &p, &rows, "token revoke");
    if (e == PIORA_OK && rows == 0) {
        pg_params_init(&p);
        pg_p_int(&p, id);
        e = pg_exists(s, &exists, &p, "token lookup"); /* OK: already revoked */
    }
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_TOKENS));
}

/* Moving the digest and writing the new one share one transaction, the
 * token's row locked from the read on: at no instant is the old secret
 * unknown (it would answer "invalid") or still active, and two
 * regenerations at once cannot both move the same old digest. */
piora_err pg_token_regenerate(store_t *base, int64_t id, const uint8_t digest[TOKEN_DIGEST_LEN],
                              const char *hint, int64_t new_expires_at, int64_t now,
                              token_rec *out)
{
    static pg_stmt cur =
        PG_STMT("SELECT digest, revoked_at IS NOT NULL FROM tokens WHERE id = $1 FOR UPDATE");
    static pg_stmt old = PG_STMT("INSERT INTO token_old_secrets(digest, token_id, revoked_at) "
                                 "VALUES($1, $2, $3)");
    static pg_stmt set = PG_STMT("UPDATE tokens SET digest = $2, hint = $3, expires_at = $4, "
                                 "updated_at = $5, regenerated_at = $5 WHERE id = $1");
    pg_store *s = pgs(base);
    if (!pg_text_ok(hint, TOKEN_HINT_MAX - 1) || new_expires_at < 0)
        return PIORA_EINVALID;
    if (now <= 0)
        now = clock_now();
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    uint8_t prev[TOKEN_DIGEST_LEN];
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    PGresult *r = pg_run(s, &cur, &p);
    e = pg_ok(s, r, "token lookup");
    if (e == PIORA_OK) {
        if (PQntuples(r) == 0)
            e = PIORA_ENOTFOUND;
        else if (pg_col_bool(r, 0, 1))
            e = PIORA_ECONFLICT;
        else if (!pg_col_bytes(r, 0, 0, prev, TOKEN_DIGEST_LEN))
            e = PIORA_EINTERNAL;
    }
    PQclear(r);
    if (e != PIORA_OK)
        goto fail;
    pg_params_init(&p);
    pg_p_bytes(&p, prev, TOKEN_DIGEST_LEN);
    pg_p_int(&p, id);
    pg_p_int(&p, now);
    if ((e = pg_do(s, &old, &p, NULL, "token old secret")) != PIORA_OK)
        goto fail;
    pg_params_init(&p);
    pg_p_int(&p, id);
    pg_p_bytes(&p, digest, TOKEN_DIGEST_LEN);
    pg_p_text(&p, hint);
    pg_p_time0(&p, new_expires_at);
    pg_p_int(&p, now);
    if ((e = pg_do(s, &set, &p, NULL, "token regenerate")) != PIORA_OK)
        goto fail;
    if ((e = pg_commit(s, CHANGE_BIT(CHANGE_TOKENS))) != PIORA_OK)
        return e;
    return out ? pg_token_by_id(base, id, out) : PIORA_OK;
fail:
    pg_rollback(s);
    return e;
}

/* A batch from the last-used queue: one transaction, and a time that only
 * moves forward even when batches arrive out of order (two nodes' writers
 * included). Last-used times are monitoring facts (CHANGE_MONITOR): no
 * cache holds them, and they send no notification. */
piora_err pg_token_touch(store_t *base, const token_touch *v, size_t n)
{
    static pg_stmt q = PG_STMT(
        "UPDATE tokens SET last_used_at = greatest(coalesce(last_used_at, 0), $2::bigint), "
        "last_used_addr = CASE WHEN $3::text IS NOT NULL AND $2::bigint >= "
        "coalesce(last_used_at, 0) THEN $3::text ELSE last_used_addr END WHERE id = $1");
    pg_store *s = pgs(base);
    if (n == 0)
        return PIORA_OK;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    for (size_t i = 0; i < n; i++) {
        if (v[i].used_at <= 0)
            continue;
        char addr[ADDR_MAX];
        store_copy(addr, sizeof addr, v[i].addr);
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, v[i].token_id);
        pg_p_int(&p, v[i].used_at);
        pg_p_text(&p, addr[0] ? addr : NULL);
        if ((e = pg_do(s, &q, &p, NULL, "token touch")) != PIORA_OK) {
            pg_rollback(s);
            return e;
        }
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_MONITOR));
}
