/* Dashboard sessions and the first-run setup secret on PostgreSQL (the
 * twin of sqlite_sessions.c). Only digests are stored. Session writes are
 * changes of kind CHANGE_SESSIONS only: a sign-in leaves the token and
 * response caches alone. */
#include <string.h>

#include "store/postgres/pg_internal.h"

#define SESSION_COLS                                                                             \
    "id, user_id, csrf, created_at, last_seen_at, expires_at, coalesce(auth_at, created_at), "      \
    "mfa_pending"

/* SQLite's BEGIN IMMEDIATE serialises setup_put's delete-then-insert;
 * here nodes starting together take this transaction lock instead, so at
 * most one unused setup secret is left ("setu" in ASCII). */
#define SETUP_LOCK "1936028789"

/* One statement that changes rows, in its own write transaction. */
static piora_err exec_write(pg_store *s, pg_stmt *st, const pg_params *p, const char *what)
{
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    if ((e = pg_do(s, st, p, NULL, what)) != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_SESSIONS));
}

piora_err pg_session_insert(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN],
                            int64_t user_id, const char *csrf, int64_t now, int64_t expires_at,
                            const char *addr, session_rec *out)
{
    static pg_stmt q = PG_STMT("INSERT INTO sessions(digest, user_id, csrf, created_at, "
                               "last_seen_at, expires_at, addr) VALUES($1, $2, $3, $4, $4, $5, $6) "
                               "RETURNING id");
    pg_store *s = pgs(base);
    if (!digest || user_id <= 0 || !pg_text_ok(csrf, CSRF_TOKEN_MAX))
        return PIORA_EINVALID;
    char a[ADDR_MAX];
    store_copy(a, sizeof a, addr);
    pg_params p;
    pg_params_init(&p);
    pg_p_bytes(&p, digest, SESSION_DIGEST_LEN);
    pg_p_int(&p, user_id);
    pg_p_text(&p, csrf);
    pg_p_int(&p, now);
    pg_p_int(&p, expires_at);
    pg_p_text(&p, addr ? a : NULL);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t id = 0;
    if ((e = pg_fetch_int(s, &q, &p, &id, "session insert")) != PIORA_OK) {
        pg_rollback(s);
        return e == PIORA_ENOTFOUND ? PIORA_EINTERNAL : e;
    }
    if ((e = pg_commit(s, CHANGE_BIT(CHANGE_SESSIONS))) != PIORA_OK)
        return e;
    if (out) {
        memset(out, 0, sizeof *out);
        out->id = id;
        out->user_id = user_id;
        store_copy(out->csrf, sizeof out->csrf, csrf);
        out->created_at = now;
        out->last_seen_at = now;
        out->expires_at = expires_at;
        out->auth_at = now;
    }
    return PIORA_OK;
}

static void session_row(const PGresult *r, int row, void *dst)
{
    session_rec *out = dst;
    memset(out, 0, sizeof *out);
    out->id = pg_col_int(r, row, 0);
    out->user_id = pg_col_int(r, row, 1);
    pg_col_copy(r, row, 2, out->csrf, sizeof out->csrf);
    out->created_at = pg_col_int(r, row, 3);
    out->last_seen_at = pg_col_int(r, row, 4);
    out->expires_at = pg_col_int(r, row, 5);
    out->auth_at = pg_col_int(r, row, 6);
    out->mfa_pending = pg_col_int(r, row, 7) != 0;
}

piora_err pg_session_by_digest(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN],
                               session_rec *out)
{
    static pg_stmt q = PG_STMT("SELECT " SESSION_COLS " FROM sessions WHERE digest = $1");
    pg_params p;
    pg_params_init(&p);
    pg_p_bytes(&p, digest, SESSION_DIGEST_LEN);
    return pg_fetch_row(pgs(base), &q, &p, session_row, out, "session lookup");
}

piora_err pg_session_touch(store_t *base, int64_t id, int64_t now)
{
    static pg_stmt q = PG_STMT("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND "
                               "last_seen_at < $2");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    pg_p_int(&p, now);
    return exec_write(pgs(base), &q, &p, "session touch");
}

piora_err pg_session_delete(store_t *base, int64_t id)
{
    static pg_stmt q = PG_STMT("DELETE FROM sessions WHERE id = $1");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    return exec_write(pgs(base), &q, &p, "session delete");
}

piora_err pg_session_delete_user(store_t *base, int64_t user_id, int64_t keep_id)
{
    static pg_stmt q = PG_STMT("DELETE FROM sessions WHERE user_id = $1 AND id <> $2");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, user_id);
    pg_p_int(&p, keep_id);
    return exec_write(pgs(base), &q, &p, "session delete");
}

piora_err pg_session_prune(store_t *base, int64_t now, int64_t idle_before)
{
    static pg_stmt q =
        PG_STMT("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, now);
    pg_p_int(&p, idle_before);
    return exec_write(pgs(base), &q, &p, "session prune");
}

piora_err pg_setup_put(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN], int64_t now)
{
    static pg_stmt lock = PG_STMT("SELECT pg_advisory_xact_lock(" SETUP_LOCK ")");
    static pg_stmt clear = PG_STMT("DELETE FROM setup_secrets WHERE used_at IS NULL");
    static pg_stmt ins = PG_STMT("INSERT INTO setup_secrets(digest, created_at) VALUES($1, $2)");
    pg_store *s = pgs(base);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_bytes(&p, digest, SESSION_DIGEST_LEN);
    pg_p_int(&p, now);
    if ((e = pg_do(s, &lock, NULL, NULL, "setup lock")) != PIORA_OK ||
        (e = pg_do(s, &clear, NULL, NULL, "setup secret")) != PIORA_OK ||
        (e = pg_do(s, &ins, &p, NULL, "setup secret")) != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_SESSIONS));
}

piora_err pg_setup_check(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN])
{
    static pg_stmt q = PG_STMT("SELECT 1 FROM setup_secrets WHERE digest = $1 AND used_at IS NULL "
                               "AND NOT EXISTS (SELECT 1 FROM users)");
    pg_params p;
    pg_params_init(&p);
    pg_p_bytes(&p, digest, SESSION_DIGEST_LEN);
    return pg_exists(pgs(base), &q, &p, "setup check");
}

/* The claim and the first user share one transaction: a second browser
 * racing on the same link waits on the secret's row lock, then finds it
 * used; a failed user insert leaves the link usable. */
piora_err pg_setup_complete(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN],
                            const char *email, const char *team_name, const char *password_hash,
                            int64_t now, user_rec *out)
{
    static pg_stmt claim = PG_STMT("UPDATE setup_secrets SET used_at = $2 WHERE digest = $1 AND "
                                   "used_at IS NULL AND NOT EXISTS (SELECT 1 FROM users)");
    pg_store *s = pgs(base);
    if (!pg_text_ok(email, EMAIL_MAX) || !pg_text_ok(team_name, TEAM_NAME_MAX) ||
        !pg_text_ok(password_hash, 1024))
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_bytes(&p, digest, SESSION_DIGEST_LEN);
    pg_p_int(&p, now);
    int64_t rows = 0;
    if ((e = pg_do(s, &claim, &p, &rows, "setup claim")) != PIORA_OK)
        goto fail;
    if (rows != 1) {
        e = PIORA_ENOTFOUND;
        goto fail;
    }
    int64_t uid = 0;
    if ((e = pg_user_insert_tx(s, email, team_name, true, password_hash, now, &uid)) != PIORA_OK)
        goto fail;
    if ((e = pg_commit(s, CHANGE_BIT(CHANGE_USERS) | CHANGE_BIT(CHANGE_SESSIONS))) != PIORA_OK)
        return e;
    return out ? pg_user_by_id(base, uid, out) : PIORA_OK;
fail:
    pg_rollback(s);
    return e;
}
