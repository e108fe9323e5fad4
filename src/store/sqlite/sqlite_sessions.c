/* Dashboard sessions and the first-run setup secret on SQLite. Only
 * digests are stored. Session writes are changes of kind CHANGE_SESSIONS
 * only: a sign-in leaves the token and response caches alone. */
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define SESSION_COLS                                                                             \
    "id, user_id, csrf, created_at, last_seen_at, expires_at, coalesce(auth_at, created_at), "      \
    "mfa_pending"

/* One statement that changes rows, in its own write transaction. */
static piora_err exec_write(sq_store *s, sqlite3_stmt *st, const char *what, int *changes)
{
    piora_err e = sq_begin(s);
    if (e != PIORA_OK) {
        sqlite3_clear_bindings(st);
        return e;
    }
    int rc = sq_exec_stmt(st);
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, what);
        sq_rollback(s);
        return e;
    }
    if (changes)
        *changes = sqlite3_changes(s->db);
    return sq_commit(s, CHANGE_BIT(CHANGE_SESSIONS));
}

piora_err sq_session_insert(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN],
                            int64_t user_id, const char *csrf, int64_t now, int64_t expires_at,
                            const char *addr, session_rec *out)
{
    sq_store *s = sq(base);
    if (!digest || user_id <= 0 || !sq_text_ok(csrf, CSRF_TOKEN_MAX))
        return PIORA_EINVALID;
    sqlite3_stmt *st = sq_stmt(s, ST_SESSION_INSERT,
                               "INSERT INTO sessions(digest, user_id, csrf, created_at, "
                               "last_seen_at, expires_at, addr) VALUES(?1, ?2, ?3, ?4, ?4, ?5, ?6)");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_blob(st, 1, digest, SESSION_DIGEST_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_text(st, 3, csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, expires_at);
    if (addr)
        sqlite3_bind_text(st, 6, addr, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    piora_err e = exec_write(s, st, "session insert", NULL);
    if (e != PIORA_OK)
        return e;
    int64_t id = sqlite3_last_insert_rowid(s->db); /* the connection's, kept past COMMIT */
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

piora_err sq_session_by_digest(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN],
                               session_rec *out)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_SESSION_BY_DIGEST,
                               "SELECT " SESSION_COLS " FROM sessions WHERE digest = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_blob(st, 1, digest, SESSION_DIGEST_LEN, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    piora_err e = PIORA_OK;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->id = sq_col_int(st, 0);
        out->user_id = sq_col_int(st, 1);
        sq_col_copy(st, 2, out->csrf, sizeof out->csrf);
        out->created_at = sq_col_int(st, 3);
        out->last_seen_at = sq_col_int(st, 4);
        out->expires_at = sq_col_int(st, 5);
        out->auth_at = sq_col_int(st, 6);
        out->mfa_pending = sq_col_int(st, 7) != 0;
    } else {
        e = rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, "session lookup");
    }
    sqlite3_reset(st);
    return e;
}

piora_err sq_session_touch(store_t *base, int64_t id, int64_t now)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_SESSION_TOUCH,
                               "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND "
                               "last_seen_at < ?2");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    return exec_write(s, st, "session touch", NULL);
}

piora_err sq_session_delete(store_t *base, int64_t id)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_SESSION_DELETE, "DELETE FROM sessions WHERE id = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    return exec_write(s, st, "session delete", NULL);
}

piora_err sq_session_delete_user(store_t *base, int64_t user_id, int64_t keep_id)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_SESSION_DELETE_USER,
                               "DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, keep_id);
    return exec_write(s, st, "session delete", NULL);
}

piora_err sq_session_prune(store_t *base, int64_t now, int64_t idle_before)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_SESSION_PRUNE,
                               "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at < ?2");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, idle_before);
    return exec_write(s, st, "session prune", NULL);
}

piora_err sq_setup_put(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN], int64_t now)
{
    sq_store *s = sq(base);
    sqlite3_stmt *clear =
        sq_stmt(s, ST_SETUP_CLEAR, "DELETE FROM setup_secrets WHERE used_at IS NULL");
    sqlite3_stmt *ins = sq_stmt(s, ST_SETUP_INSERT,
                                "INSERT INTO setup_secrets(digest, created_at) VALUES(?1, ?2)");
    if (!clear || !ins)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    int rc = sq_exec_stmt(clear);
    if (rc == SQLITE_DONE) {
        sqlite3_bind_blob(ins, 1, digest, SESSION_DIGEST_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, now);
        rc = sq_exec_stmt(ins);
    }
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "setup secret");
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_SESSIONS));
}

piora_err sq_setup_check(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN])
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_SETUP_CHECK,
                               "SELECT 1 FROM setup_secrets WHERE digest = ?1 AND used_at IS NULL "
                               "AND NOT EXISTS (SELECT 1 FROM users)");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_blob(st, 1, digest, SESSION_DIGEST_LEN, SQLITE_STATIC);
    return sq_exists(s, st, "setup check");
}

/* The claim and the first user share one write transaction, so two
 * browsers racing on the same link cannot both become the first admin, and
 * a failed user insert leaves the link usable. */
piora_err sq_setup_complete(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN],
                            const char *email, const char *team_name, const char *password_hash,
                            int64_t now, user_rec *out)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(email, EMAIL_MAX) || !sq_text_ok(team_name, TEAM_NAME_MAX) ||
        !sq_text_ok(password_hash, 1024))
        return PIORA_EINVALID;
    sqlite3_stmt *claim = sq_stmt(s, ST_SETUP_CLAIM,
                                  "UPDATE setup_secrets SET used_at = ?2 WHERE digest = ?1 AND "
                                  "used_at IS NULL AND NOT EXISTS (SELECT 1 FROM users)");
    if (!claim)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_blob(claim, 1, digest, SESSION_DIGEST_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(claim, 2, now);
    int rc = sq_exec_stmt(claim);
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "setup claim");
        goto fail;
    }
    if (sqlite3_changes(s->db) != 1) {
        e = PIORA_ENOTFOUND;
        goto fail;
    }
    int64_t uid = 0;
    if ((e = sq_user_insert_tx(s, email, team_name, true, password_hash, now, &uid)) != PIORA_OK)
        goto fail;
    if ((e = sq_commit(s, CHANGE_BIT(CHANGE_USERS) | CHANGE_BIT(CHANGE_SESSIONS))) != PIORA_OK)
        return e;
    return out ? sq_user_by_id(base, uid, out) : PIORA_OK;
fail:
    sq_rollback(s);
    return e;
}
