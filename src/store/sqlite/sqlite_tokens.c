/* Tokens on SQLite: only digests are stored; a regenerated token's old
 * digest moves to token_old_secrets so it still answers "revoked". */
#include <string.h>

#include "store/sqlite/sqlite_internal.h"
#include "util/clock.h"

#define TOKEN_COLS                                                                               \
    "t.id, t.user_id, t.team_id, t.name, t.hint, t.scopes, t.created_at, t.updated_at, "         \
    "t.last_used_at, t.last_used_addr, t.expires_at, u.email"
#define TOKEN_FROM " FROM tokens t JOIN users u ON u.id = t.user_id "

/* Column 12 is revoked_at in every token query below, then the limits,
 * then issue 13's note, regenerated_at and hidden_at. */
#define TOKEN_LIMIT_COLS ", t.resources, t.allowed_ips, t.note, t.regenerated_at, t.hidden_at"
static void token_row(sqlite3_stmt *st, void *dst)
{
    token_rec *out = dst;
    memset(out, 0, sizeof *out);
    out->id = sq_col_int(st, 0);
    out->user_id = sq_col_int(st, 1);
    out->team_id = sq_col_int(st, 2);
    sq_col_copy(st, 3, out->name, sizeof out->name);
    sq_col_copy(st, 4, out->hint, sizeof out->hint);
    out->scopes = (scope_set)(sq_col_int(st, 5) & SCOPE_ALL);
    out->created_at = sq_col_int(st, 6);
    out->updated_at = sq_col_int(st, 7);
    out->last_used_at = sq_col_int(st, 8); /* NULL reads as 0 */
    sq_col_copy(st, 9, out->last_used_addr, sizeof out->last_used_addr);
    out->expires_at = sq_col_int(st, 10);
    sq_col_copy(st, 11, out->owner_email, sizeof out->owner_email);
    out->revoked_at = sq_col_int(st, 12);
    /* The columns hold what grant_format()/addrs_format() wrote; a text
     * that no longer parses must not widen the token: it grants nothing. */
    char err[128];
    if (sqlite3_column_type(st, 13) != SQLITE_NULL &&
        !grant_parse((const char *)sqlite3_column_text(st, 13), &out->resources, err, sizeof err)) {
        memset(&out->resources, 0, sizeof out->resources);
        out->resources.limited = true;
    }
    if (sqlite3_column_type(st, 14) != SQLITE_NULL &&
        !addrs_parse((const char *)sqlite3_column_text(st, 14), &out->allowed_ips, err,
                     sizeof err)) {
        memset(&out->allowed_ips, 0, sizeof out->allowed_ips);
        out->allowed_ips.limited = true;
    }
    sq_col_copy(st, 15, out->note, sizeof out->note);
    out->regenerated_at = sq_col_int(st, 16);
    out->hidden_at = sq_col_int(st, 17);
}

static piora_err token_fetch(sq_store *s, sqlite3_stmt *st, token_rec *out)
{
    return sq_fetch_row(s, st, token_row, out, "token lookup");
}

/* The token's team is its user's team, taken in the INSERT itself. */
piora_err sq_token_insert(store_t *base, const token_new *t, token_rec *out)
{
    sq_store *s = sq(base);
    if (!t || !sq_text_ok(t->name, TOKEN_NAME_MAX) || !sq_text_ok(t->hint, TOKEN_HINT_MAX - 1) ||
        t->expires_at < 0 || (t->note && strlen(t->note) > TOKEN_NOTE_MAX))
        return PIORA_EINVALID;
    sqlite3_stmt *st = sq_stmt(
        s, ST_TOKEN_INSERT,
        "INSERT INTO tokens(id, user_id, team_id, name, digest, hint, scopes, created_at, "
        "updated_at, expires_at, resources, allowed_ips, note) SELECT " SQ_NEXT_ID("tokens") ", id, team_id, ?2, ?3, ?4, "
        "?5, ?6, ?6, ?7, ?8, ?9, ?10 FROM users WHERE id = ?1");
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(st, 1, t->user_id);
    sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, t->digest, TOKEN_DIGEST_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->hint, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, t->scopes & SCOPE_ALL);
    sqlite3_bind_int64(st, 6, clock_now());
    sq_bind_time0(st, 7, t->expires_at);
    char res[GRANT_TEXT_MAX], ips[ADDRS_TEXT_MAX];
    if (t->resources && t->resources->limited) {
        grant_format(t->resources, res, sizeof res);
        sqlite3_bind_text(st, 8, res, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 8);
    }
    if (t->allowed_ips && t->allowed_ips->limited) {
        addrs_format(t->allowed_ips, ips, sizeof ips);
        sqlite3_bind_text(st, 9, ips, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 9);
    }
    if (t->note && *t->note)
        sqlite3_bind_text(st, 10, t->note, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 10);
    int rc = sq_exec_stmt(st);
    if (rc != SQLITE_DONE)
        e = sq_fail(s, rc, "token insert");
    else if (sqlite3_changes(s->db) == 0)
        e = PIORA_ENOTFOUND; /* no such user */
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if ((e = sq_commit(s, CHANGE_BIT(CHANGE_TOKENS))) != PIORA_OK)
        return e;
    return out ? sq_token_by_id(base, id, out) : PIORA_OK;
}

/* One statement looks in both places, so a concurrent regeneration (which
 * moves the digest atomically) cannot make a known digest look unknown. */
piora_err sq_token_by_digest(store_t *base, const uint8_t digest[TOKEN_DIGEST_LEN],
                             token_rec *out)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_TOKEN_BY_DIGEST,
                               "SELECT " TOKEN_COLS ", t.revoked_at" TOKEN_LIMIT_COLS TOKEN_FROM
                               "WHERE t.digest = ?1 "
                               "UNION ALL "
                               "SELECT " TOKEN_COLS ", o.revoked_at" TOKEN_LIMIT_COLS " FROM token_old_secrets o "
                               "JOIN tokens t ON t.id = o.token_id "
                               "JOIN users u ON u.id = t.user_id WHERE o.digest = ?1 "
                               "LIMIT 1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_blob(st, 1, digest, TOKEN_DIGEST_LEN, SQLITE_STATIC);
    return token_fetch(s, st, out);
}

piora_err sq_token_by_id(store_t *base, int64_t id, token_rec *out)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_TOKEN_BY_ID,
                               "SELECT " TOKEN_COLS ", t.revoked_at" TOKEN_LIMIT_COLS TOKEN_FROM "WHERE t.id = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    return token_fetch(s, st, out);
}

piora_err sq_token_list(store_t *base, int64_t user_id, token_rec **out, size_t *n)
{
    sq_store *s = sq(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st =
        user_id > 0
            ? sq_stmt(s, ST_TOKEN_LIST_USER,
                      "SELECT " TOKEN_COLS ", t.revoked_at" TOKEN_LIMIT_COLS TOKEN_FROM
                      "WHERE t.user_id = ?1 AND t.hidden_at IS NULL ORDER BY t.id")
            : sq_stmt(s, ST_TOKEN_LIST_ALL,
                      "SELECT " TOKEN_COLS ", t.revoked_at" TOKEN_LIMIT_COLS TOKEN_FROM
                      "WHERE t.hidden_at IS NULL ORDER BY t.id");
    if (!st)
        return PIORA_EDB;
    if (user_id > 0)
        sqlite3_bind_int64(st, 1, user_id);
    void *v;
    piora_err e = sq_fetch_rows(s, st, sizeof(token_rec), token_row, &v, n, "token list");
    *out = v;
    return e;
}

static piora_err token_exists(sq_store *s, int64_t id)
{
    sqlite3_stmt *st = sq_stmt(s, ST_TOKEN_EXISTS, "SELECT 1 FROM tokens WHERE id = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    return sq_exists(s, st, "token lookup");
}

piora_err sq_token_revoke(store_t *base, int64_t id, int64_t now)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_TOKEN_REVOKE,
                               "UPDATE tokens SET revoked_at = ?2, updated_at = ?2 "
                               "WHERE id = ?1 AND revoked_at IS NULL");
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now > 0 ? now : clock_now());
    int rc = sq_exec_stmt(st);
    if (rc != SQLITE_DONE)
        e = sq_fail(s, rc, "token revoke");
    else if (sqlite3_changes(s->db) == 0)
        e = token_exists(s, id); /* OK: already revoked */
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_TOKENS));
}

/* Moving the digest and writing the new one share one transaction: at no
 * instant is the old secret unknown (it would answer "invalid") or still
 * active. */
piora_err sq_token_regenerate(store_t *base, int64_t id, const uint8_t digest[TOKEN_DIGEST_LEN],
                              const char *hint, int64_t new_expires_at, int64_t now,
                              token_rec *out)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(hint, TOKEN_HINT_MAX - 1) || new_expires_at < 0)
        return PIORA_EINVALID;
    if (now <= 0)
        now = clock_now();
    sqlite3_stmt *cur = sq_stmt(s, ST_TOKEN_SECRET,
                                "SELECT digest, revoked_at FROM tokens WHERE id = ?1");
    sqlite3_stmt *old = sq_stmt(s, ST_TOKEN_OLD_INSERT,
                                "INSERT INTO token_old_secrets(digest, token_id, revoked_at) "
                                "VALUES(?1, ?2, ?3)");
    sqlite3_stmt *set = sq_stmt(s, ST_TOKEN_SET_SECRET,
                                "UPDATE tokens SET digest = ?2, hint = ?3, expires_at = ?4, "
                                "updated_at = ?5, regenerated_at = ?5 WHERE id = ?1");
    if (!cur || !old || !set)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    uint8_t prev[TOKEN_DIGEST_LEN];
    sqlite3_bind_int64(cur, 1, id);
    int rc = sqlite3_step(cur);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(cur, 1) != SQLITE_NULL)
            e = PIORA_ECONFLICT;
        else if (sqlite3_column_bytes(cur, 0) != TOKEN_DIGEST_LEN)
            e = PIORA_EINTERNAL;
        else
            memcpy(prev, sqlite3_column_blob(cur, 0), TOKEN_DIGEST_LEN);
    } else {
        e = rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, "token lookup");
    }
    sqlite3_reset(cur);
    if (e != PIORA_OK)
        goto fail;

    sqlite3_bind_blob(old, 1, prev, TOKEN_DIGEST_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(old, 2, id);
    sqlite3_bind_int64(old, 3, now);
    if ((rc = sq_exec_stmt(old)) != SQLITE_DONE) {
        e = sq_fail(s, rc, "token old secret");
        goto fail;
    }
    sqlite3_bind_int64(set, 1, id);
    sqlite3_bind_blob(set, 2, digest, TOKEN_DIGEST_LEN, SQLITE_STATIC);
    sqlite3_bind_text(set, 3, hint, -1, SQLITE_STATIC);
    sq_bind_time0(set, 4, new_expires_at);
    sqlite3_bind_int64(set, 5, now);
    if ((rc = sq_exec_stmt(set)) != SQLITE_DONE) {
        e = sq_fail(s, rc, "token regenerate");
        goto fail;
    }
    if ((e = sq_commit(s, CHANGE_BIT(CHANGE_TOKENS))) != PIORA_OK)
        return e;
    return out ? sq_token_by_id(base, id, out) : PIORA_OK;
fail:
    sq_rollback(s);
    return e;
}

/* A batch from the last-used queue: one transaction, and a time that only
 * moves forward even when batches arrive out of order. Last-used times are
 * monitoring facts (CHANGE_MONITOR): no cache holds them, so the writer's
 * batch every second leaves the cached tokens alone. */
piora_err sq_token_touch(store_t *base, const token_touch *v, size_t n)
{
    sq_store *s = sq(base);
    if (n == 0)
        return PIORA_OK;
    sqlite3_stmt *st = sq_stmt(
        s, ST_TOKEN_TOUCH,
        "UPDATE tokens SET last_used_at = max(coalesce(last_used_at, 0), ?2), "
        "last_used_addr = CASE WHEN ?3 IS NOT NULL AND ?2 >= coalesce(last_used_at, 0) "
        "THEN ?3 ELSE last_used_addr END WHERE id = ?1");
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    for (size_t i = 0; i < n; i++) {
        if (v[i].used_at <= 0)
            continue;
        sqlite3_bind_int64(st, 1, v[i].token_id);
        sqlite3_bind_int64(st, 2, v[i].used_at);
        size_t alen = strnlen(v[i].addr, ADDR_MAX - 1);
        if (alen)
            sqlite3_bind_text(st, 3, v[i].addr, (int)alen, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 3);
        int rc = sq_exec_stmt(st);
        if (rc != SQLITE_DONE) {
            e = sq_fail(s, rc, "token touch");
            sq_rollback(s);
            return e;
        }
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_MONITOR));
}
