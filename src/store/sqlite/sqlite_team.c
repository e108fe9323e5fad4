/* Offboarding and roles on SQLite (issue 13). These run a few times a day
 * at most, so their statements are prepared per call instead of taking
 * slots in the connection's cache. The last-admin rule is checked inside
 * the same write transaction as the change, so two admins demoting each
 * other at once cannot leave a team without one. */
#include "store/sqlite/sqlite_internal.h"

static sqlite3_stmt *prep(sq_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sq_fail(s, rc, "team statement");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Runs st to completion and finalizes it; *changes (may be NULL) gets the
 * rows it changed. */
static piora_err run(sq_store *s, sqlite3_stmt *st, const char *what, int64_t *changes)
{
    if (!st)
        return PIORA_EDB;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return sq_fail(s, rc, what);
    if (changes)
        *changes = sqlite3_changes(s->db);
    return PIORA_OK;
}

typedef struct member_state {
    int64_t team_id;
    bool is_admin, disabled;
} member_state;

/* The user as the rules need them; ENOTFOUND when missing or removed. */
static piora_err member_get(sq_store *s, int64_t user_id, member_state *m)
{
    sqlite3_stmt *st = prep(s, "SELECT team_id, is_admin, disabled_at FROM users "
                               "WHERE id = ?1 AND removed_at IS NULL");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        m->team_id = sqlite3_column_int64(st, 0);
        m->is_admin = sqlite3_column_int64(st, 1) != 0;
        m->disabled = sqlite3_column_type(st, 2) != SQLITE_NULL;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return PIORA_OK;
    return rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, "member lookup");
}

/* Whether the team has an admin other than user_id who may sign in. */
static piora_err other_admin(sq_store *s, int64_t team_id, int64_t user_id, bool *yes)
{
    sqlite3_stmt *st = prep(s, "SELECT count(*) FROM users WHERE team_id = ?1 AND id <> ?2 "
                               "AND is_admin = 1 AND disabled_at IS NULL AND removed_at IS NULL");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, team_id);
    sqlite3_bind_int64(st, 2, user_id);
    int rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? PIORA_OK : sq_fail(s, rc, "admin count");
}

/* The rule both offboarding and demotion keep: an admin who may sign in
 * is not taken away while no other one is left. */
static piora_err keep_an_admin(sq_store *s, int64_t user_id, const member_state *m)
{
    if (!m->is_admin || m->disabled)
        return PIORA_OK;
    bool other = false;
    piora_err e = other_admin(s, m->team_id, user_id, &other);
    if (e == PIORA_OK && !other)
        e = PIORA_ECONFLICT;
    return e;
}

piora_err sq_user_offboard(store_t *base, int64_t user_id, bool remove, int64_t now,
                           int64_t *revoked)
{
    sq_store *s = sq(base);
    if (revoked)
        *revoked = 0;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    member_state m;
    e = member_get(s, user_id, &m);
    if (e == PIORA_OK)
        e = keep_an_admin(s, user_id, &m);
    if (e == PIORA_OK) {
        sqlite3_stmt *st = prep(s, "UPDATE users SET disabled_at = coalesce(disabled_at, ?1), "
                                   "removed_at = ?2, updated_at = ?1 WHERE id = ?3");
        if (st) {
            sqlite3_bind_int64(st, 1, now);
            sq_bind_time0(st, 2, remove ? now : 0);
            sqlite3_bind_int64(st, 3, user_id);
        }
        e = run(s, st, "user offboard", NULL);
    }
    if (e == PIORA_OK) {
        sqlite3_stmt *st = prep(s, "UPDATE tokens SET revoked_at = ?1, updated_at = ?1 "
                                   "WHERE user_id = ?2 AND revoked_at IS NULL");
        if (st) {
            sqlite3_bind_int64(st, 1, now);
            sqlite3_bind_int64(st, 2, user_id);
        }
        e = run(s, st, "offboard tokens", revoked);
    }
    if (e == PIORA_OK) {
        sqlite3_stmt *st = prep(s, "DELETE FROM sessions WHERE user_id = ?1");
        if (st)
            sqlite3_bind_int64(st, 1, user_id);
        e = run(s, st, "offboard sessions", NULL);
    }
    if (e != PIORA_OK) {
        sq_rollback(s);
        if (revoked)
            *revoked = 0;
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_USERS) | CHANGE_BIT(CHANGE_TOKENS) |
                            CHANGE_BIT(CHANGE_SESSIONS));
}

piora_err sq_user_enable(store_t *base, int64_t user_id)
{
    sq_store *s = sq(base);
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    member_state m;
    e = member_get(s, user_id, &m);
    if (e == PIORA_OK) {
        sqlite3_stmt *st = prep(s, "UPDATE users SET disabled_at = NULL WHERE id = ?1");
        if (st)
            sqlite3_bind_int64(st, 1, user_id);
        e = run(s, st, "user enable", NULL);
    }
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_USERS));
}

piora_err sq_user_set_admin(store_t *base, int64_t user_id, bool is_admin)
{
    sq_store *s = sq(base);
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    member_state m;
    e = member_get(s, user_id, &m);
    if (e == PIORA_OK && !is_admin)
        e = keep_an_admin(s, user_id, &m);
    if (e == PIORA_OK) {
        sqlite3_stmt *st = prep(s, "UPDATE users SET is_admin = ?1 WHERE id = ?2");
        if (st) {
            sqlite3_bind_int(st, 1, is_admin ? 1 : 0);
            sqlite3_bind_int64(st, 2, user_id);
        }
        e = run(s, st, "user role", NULL);
    }
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_USERS));
}

/* ---- invitations ---------------------------------------------------------- */

#define INVITE_COLS                                                                              \
    "i.id, i.team_id, i.email, i.is_admin, i.invited_by, i.created_at, i.expires_at, t.name "    \
    "FROM invitations i JOIN teams t ON t.id = i.team_id "
#define INVITE_PENDING "i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?1 "

static void invite_row(sqlite3_stmt *st, void *dst)
{
    invite_rec *out = dst;
    memset(out, 0, sizeof *out);
    out->id = sq_col_int(st, 0);
    out->team_id = sq_col_int(st, 1);
    sq_col_copy(st, 2, out->email, sizeof out->email);
    out->is_admin = sq_col_int(st, 3) != 0;
    out->invited_by = sq_col_int(st, 4);
    out->created_at = sq_col_int(st, 5);
    out->expires_at = sq_col_int(st, 6);
    sq_col_copy(st, 7, out->team_name, sizeof out->team_name);
}

/* One pending invitation by digest or (team, id); finalizes st. */
static piora_err invite_fetch(sq_store *s, sqlite3_stmt *st, invite_rec *out)
{
    if (!st)
        return PIORA_EDB;
    invite_rec local;
    piora_err e = sq_fetch_row(s, st, invite_row, out ? out : &local, "invitation lookup");
    sqlite3_finalize(st);
    return e;
}

static piora_err pending_by_digest(sq_store *s, const uint8_t *digest, int64_t now,
                                   invite_rec *out)
{
    sqlite3_stmt *st =
        prep(s, "SELECT " INVITE_COLS "WHERE " INVITE_PENDING "AND i.digest = ?2");
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_blob(st, 2, digest, SESSION_DIGEST_LEN, SQLITE_STATIC);
    }
    return invite_fetch(s, st, out);
}

static piora_err email_is_user(sq_store *s, const char *email)
{
    sqlite3_stmt *st = prep(s, "SELECT 1 FROM users WHERE email = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    piora_err e = sq_exists(s, st, "invitation email");
    sqlite3_finalize(st);
    if (e == PIORA_OK)
        return PIORA_ECONFLICT;
    return e == PIORA_ENOTFOUND ? PIORA_OK : e;
}

piora_err sq_invite_create(store_t *base, int64_t team_id, const char *email, bool is_admin,
                           int64_t invited_by, const uint8_t digest[SESSION_DIGEST_LEN],
                           int64_t now, int64_t expires_at, invite_rec *out)
{
    sq_store *s = sq(base);
    if (team_id <= 0 || !sq_text_ok(email, EMAIL_MAX) || !digest || expires_at <= now)
        return PIORA_EINVALID;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    e = email_is_user(s, email);
    if (e == PIORA_OK) {
        sqlite3_stmt *st = prep(s, "UPDATE invitations SET revoked_at = ?1 WHERE email = ?2 "
                                   "AND used_at IS NULL AND revoked_at IS NULL");
        if (st) {
            sqlite3_bind_int64(st, 1, now);
            sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
        }
        e = run(s, st, "invitation replace", NULL);
    }
    if (e == PIORA_OK) {
        sqlite3_stmt *st = prep(s, "INSERT INTO invitations(id, team_id, email, is_admin, digest, "
                                   "invited_by, created_at, expires_at) "
                                   "VALUES(" SQ_NEXT_ID("invitations") ", ?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        if (st) {
            sqlite3_bind_int64(st, 1, team_id);
            sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 3, is_admin ? 1 : 0);
            sqlite3_bind_blob(st, 4, digest, SESSION_DIGEST_LEN, SQLITE_STATIC);
            sq_bind_time0(st, 5, invited_by);
            sqlite3_bind_int64(st, 6, now);
            sqlite3_bind_int64(st, 7, expires_at);
        }
        e = run(s, st, "invitation insert", NULL);
    }
    if (e == PIORA_OK && out)
        e = pending_by_digest(s, digest, now, out);
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_USERS));
}

piora_err sq_invite_by_digest(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN],
                              int64_t now, invite_rec *out)
{
    if (!digest)
        return PIORA_ENOTFOUND;
    return pending_by_digest(sq(base), digest, now, out);
}

piora_err sq_invite_list(store_t *base, int64_t team_id, int64_t now, invite_rec **out,
                         size_t *n)
{
    sq_store *s = sq(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st =
        prep(s, "SELECT " INVITE_COLS "WHERE " INVITE_PENDING "AND i.team_id = ?2 ORDER BY i.id");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, team_id);
    void *v = NULL;
    piora_err e = sq_fetch_rows(s, st, sizeof(invite_rec), invite_row, &v, n, "invitation list");
    sqlite3_finalize(st);
    *out = v;
    return e;
}

piora_err sq_invite_revoke(store_t *base, int64_t team_id, int64_t id, int64_t now,
                           invite_rec *out)
{
    sq_store *s = sq(base);
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_stmt *st =
        prep(s, "SELECT " INVITE_COLS "WHERE " INVITE_PENDING "AND i.team_id = ?2 AND i.id = ?3");
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, team_id);
        sqlite3_bind_int64(st, 3, id);
    }
    e = invite_fetch(s, st, out);
    if (e == PIORA_OK) {
        st = prep(s, "UPDATE invitations SET revoked_at = ?1 WHERE id = ?2");
        if (st) {
            sqlite3_bind_int64(st, 1, now);
            sqlite3_bind_int64(st, 2, id);
        }
        e = run(s, st, "invitation revoke", NULL);
    }
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_USERS));
}

piora_err sq_invite_accept(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN],
                           const char *password_hash, int64_t now, user_rec *out)
{
    sq_store *s = sq(base);
    if (!digest || !sq_text_ok(password_hash, 1024))
        return PIORA_EINVALID;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    invite_rec inv;
    e = pending_by_digest(s, digest, now, &inv);
    if (e == PIORA_OK) {
        sqlite3_stmt *st = prep(s, "UPDATE invitations SET used_at = ?1 WHERE id = ?2");
        if (st) {
            sqlite3_bind_int64(st, 1, now);
            sqlite3_bind_int64(st, 2, inv.id);
        }
        e = run(s, st, "invitation use", NULL);
    }
    int64_t uid = 0;
    if (e == PIORA_OK)
        e = sq_user_insert_tx(s, inv.email, inv.team_name, inv.is_admin, password_hash, now,
                              &uid);
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    if ((e = sq_commit(s, CHANGE_BIT(CHANGE_USERS))) != PIORA_OK)
        return e;
    return out ? sq_user_by_id(base, uid, out) : PIORA_OK;
}

/* ---- sudo mode --------------------------------------------------------------- */

piora_err sq_session_reauth(store_t *base, int64_t session_id, int64_t now)
{
    sq_store *s = sq(base);
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_stmt *st = prep(s, "UPDATE sessions SET auth_at = ?1 WHERE id = ?2");
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, session_id);
    }
    int64_t n = 0;
    e = run(s, st, "session reauth", &n);
    if (e == PIORA_OK && n == 0)
        e = PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_SESSIONS));
}

/* ---- two-factor sign-in ------------------------------------------------------ */

/* One UPDATE or DELETE in its own transaction; *changes may be NULL. */
static piora_err write_one(sq_store *s, sqlite3_stmt *st, const char *what, unsigned kinds,
                           int64_t *changes)
{
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK) {
        sqlite3_finalize(st);
        return e;
    }
    e = run(s, st, what, changes);
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, kinds);
}

piora_err sq_totp_get(store_t *base, int64_t user_id, bool pending, char *out, size_t outlen,
                      int64_t *last_step)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = prep(s, pending ? "SELECT totp_pending, totp_last_step FROM users WHERE id = ?1"
                                       : "SELECT totp_secret, totp_last_step FROM users WHERE id = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st);
    piora_err e = PIORA_ENOTFOUND;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        size_t n = k ? strlen(k) : 0;
        e = n < outlen ? PIORA_OK : PIORA_ETOOBIG;
        if (e == PIORA_OK)
            memcpy(out, k ? k : "", n + 1);
        if (last_step)
            *last_step = sqlite3_column_int64(st, 1);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "totp lookup");
    }
    sqlite3_finalize(st);
    return e;
}

piora_err sq_totp_set_pending(store_t *base, int64_t user_id, const char *key_b32)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(key_b32, 128))
        return PIORA_EINVALID;
    sqlite3_stmt *st = prep(s, "UPDATE users SET totp_pending = ?1 WHERE id = ?2");
    if (st) {
        sqlite3_bind_text(st, 1, key_b32, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, user_id);
    }
    int64_t n = 0;
    piora_err e = write_one(s, st, "totp pending", CHANGE_BIT(CHANGE_USERS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ENOTFOUND : e;
}

piora_err sq_totp_enable(store_t *base, int64_t user_id, int64_t last_step,
                         const uint8_t (*digests)[32], size_t n)
{
    sq_store *s = sq(base);
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_stmt *st = prep(s, "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, "
                               "totp_last_step = ?2 WHERE id = ?1 AND totp_pending IS NOT NULL");
    if (st) {
        sqlite3_bind_int64(st, 1, user_id);
        sqlite3_bind_int64(st, 2, last_step);
    }
    int64_t changed = 0;
    e = run(s, st, "totp enable", &changed);
    if (e == PIORA_OK && changed == 0)
        e = PIORA_ENOTFOUND;
    if (e == PIORA_OK) {
        st = prep(s, "DELETE FROM recovery_codes WHERE user_id = ?1");
        if (st)
            sqlite3_bind_int64(st, 1, user_id);
        e = run(s, st, "recovery codes clear", NULL);
    }
    for (size_t i = 0; e == PIORA_OK && i < n; i++) {
        st = prep(s, "INSERT INTO recovery_codes(user_id, digest) VALUES(?1, ?2)");
        if (st) {
            sqlite3_bind_int64(st, 1, user_id);
            sqlite3_bind_blob(st, 2, digests[i], 32, SQLITE_STATIC);
        }
        e = run(s, st, "recovery code insert", NULL);
    }
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_USERS));
}

piora_err sq_totp_use_step(store_t *base, int64_t user_id, int64_t step)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = prep(s, "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND "
                               "totp_last_step < ?2");
    if (st) {
        sqlite3_bind_int64(st, 1, user_id);
        sqlite3_bind_int64(st, 2, step);
    }
    int64_t n = 0;
    piora_err e = write_one(s, st, "totp step", CHANGE_BIT(CHANGE_SESSIONS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ECONFLICT : e;
}

piora_err sq_totp_use_recovery(store_t *base, int64_t user_id, const uint8_t digest[32],
                               int64_t now)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = prep(s, "UPDATE recovery_codes SET used_at = ?3 WHERE user_id = ?1 AND "
                               "digest = ?2 AND used_at IS NULL");
    if (st) {
        sqlite3_bind_int64(st, 1, user_id);
        sqlite3_bind_blob(st, 2, digest, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
    }
    int64_t n = 0;
    piora_err e = write_one(s, st, "recovery code use", CHANGE_BIT(CHANGE_SESSIONS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ENOTFOUND : e;
}

piora_err sq_totp_disable(store_t *base, int64_t user_id)
{
    sq_store *s = sq(base);
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_stmt *st = prep(s, "UPDATE users SET totp_secret = NULL, totp_pending = NULL, "
                               "totp_last_step = 0 WHERE id = ?1");
    if (st)
        sqlite3_bind_int64(st, 1, user_id);
    e = run(s, st, "totp disable", NULL);
    if (e == PIORA_OK) {
        st = prep(s, "DELETE FROM recovery_codes WHERE user_id = ?1");
        if (st)
            sqlite3_bind_int64(st, 1, user_id);
        e = run(s, st, "recovery codes clear", NULL);
    }
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_USERS));
}

piora_err sq_team_set_require_2fa(store_t *base, int64_t team_id, bool on)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = prep(s, "UPDATE teams SET require_2fa = ?2 WHERE id = ?1");
    if (st) {
        sqlite3_bind_int64(st, 1, team_id);
        sqlite3_bind_int(st, 2, on ? 1 : 0);
    }
    int64_t n = 0;
    piora_err e = write_one(s, st, "team 2fa", CHANGE_BIT(CHANGE_USERS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ENOTFOUND : e;
}

piora_err sq_session_set_mfa_pending(store_t *base, int64_t session_id)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = prep(s, "UPDATE sessions SET mfa_pending = 1 WHERE id = ?1");
    if (st)
        sqlite3_bind_int64(st, 1, session_id);
    int64_t n = 0;
    piora_err e = write_one(s, st, "session mfa", CHANGE_BIT(CHANGE_SESSIONS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ENOTFOUND : e;
}
