/* Offboarding, roles, invitations, sudo mode and two-factor sign-in on
 * PostgreSQL (issue 13); the twin of sqlite_team.c, same semantics.
 *
 * SQLite runs one writer at a time, so its check-then-write rules hold by
 * themselves. Here several nodes write at once under READ COMMITTED, so
 * each rule takes the lock that makes its check true until commit:
 *  - the last-admin rule locks the team's row (FOR NO KEY UPDATE: object
 *    inserts of the team, which take KEY SHARE through their foreign key,
 *    are not held up) and then reads the members afresh, so two admins
 *    demoting each other at once are serialized and the second is refused;
 *  - creating an invitation takes a transaction-level advisory lock on the
 *    email, so two invitations of one email cannot both stay pending;
 *  - using an invitation locks its row, and single-use steps and recovery
 *    codes are conditional UPDATEs (a concurrent second one re-checks the
 *    condition on the committed row and changes nothing).
 * Flags are bound as parameters (never compared to literals) so the SQL
 * holds whether a flag column is an integer or a boolean. */
#include <stdio.h>
#include <string.h>

#include "store/postgres/pg_internal.h"

/* Advisory lock class (the two-key form, which never meets the one-key
 * form the migrations use): invitations, keyed by hashtext(email). */
#define PG_LOCK_INVITE_EMAIL "1885825538"

/* Rolls back on failure, else commits kinds. */
static piora_err finish(pg_store *s, piora_err e, unsigned kinds)
{
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, kinds);
}

typedef struct member_state {
    int64_t team_id;
    bool is_admin, disabled;
} member_state;

static void member_row(const PGresult *r, int row, void *dst)
{
    member_state *m = dst;
    m->team_id = pg_col_int(r, row, 0);
    m->is_admin = pg_col_int(r, row, 1) != 0;
    m->disabled = !pg_col_null(r, row, 2);
}

/* Inside the write transaction: locks the user's team row, then reads the
 * user as the rules need them (after the lock, so what a concurrent
 * change to the team committed is seen). ENOTFOUND: missing or removed. */
static piora_err member_lock(pg_store *s, int64_t user_id, member_state *m)
{
    static pg_stmt lock = PG_STMT("SELECT t.id FROM teams t JOIN users u ON u.team_id = t.id "
                                  "WHERE u.id = $1 FOR NO KEY UPDATE OF t");
    static pg_stmt get = PG_STMT("SELECT team_id, is_admin, disabled_at FROM users "
                                 "WHERE id = $1 AND removed_at IS NULL");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, user_id);
    piora_err e = pg_do(s, &lock, &p, NULL, "member lock");
    if (e != PIORA_OK)
        return e;
    memset(m, 0, sizeof *m);
    return pg_fetch_row(s, &get, &p, member_row, m, "member lookup");
}

/* The rule both offboarding and demotion keep: an admin who may sign in
 * is not taken away while no other one is left. */
static piora_err keep_an_admin(pg_store *s, int64_t user_id, const member_state *m)
{
    if (!m->is_admin || m->disabled)
        return PIORA_OK;
    static pg_stmt other = PG_STMT("SELECT count(*) FROM users WHERE team_id = $1 AND id <> $2 "
                                   "AND is_admin = $3 AND disabled_at IS NULL "
                                   "AND removed_at IS NULL");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, m->team_id);
    pg_p_int(&p, user_id);
    pg_p_int(&p, 1);
    int64_t n = 0;
    piora_err e = pg_fetch_int(s, &other, &p, &n, "admin count");
    if (e == PIORA_OK && n == 0)
        e = PIORA_ECONFLICT;
    return e;
}

piora_err pg_user_offboard(store_t *base, int64_t user_id, bool remove, int64_t now,
                           int64_t *revoked)
{
    static pg_stmt mark = PG_STMT("UPDATE users SET disabled_at = coalesce(disabled_at, $1), "
                                  "removed_at = $2, updated_at = $1 WHERE id = $3");
    static pg_stmt tokens = PG_STMT("UPDATE tokens SET revoked_at = $1, updated_at = $1 "
                                    "WHERE user_id = $2 AND revoked_at IS NULL");
    static pg_stmt sessions = PG_STMT("DELETE FROM sessions WHERE user_id = $1");
    pg_store *s = pgs(base);
    if (revoked)
        *revoked = 0;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    member_state m;
    e = member_lock(s, user_id, &m);
    if (e == PIORA_OK)
        e = keep_an_admin(s, user_id, &m);
    if (e == PIORA_OK) {
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, now);
        pg_p_time0(&p, remove ? now : 0);
        pg_p_int(&p, user_id);
        e = pg_do(s, &mark, &p, NULL, "user offboard");
    }
    int64_t n = 0;
    if (e == PIORA_OK) {
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, now);
        pg_p_int(&p, user_id);
        e = pg_do(s, &tokens, &p, &n, "offboard tokens");
    }
    if (e == PIORA_OK) {
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, user_id);
        e = pg_do(s, &sessions, &p, NULL, "offboard sessions");
    }
    e = finish(s, e,
               CHANGE_BIT(CHANGE_USERS) | CHANGE_BIT(CHANGE_TOKENS) | CHANGE_BIT(CHANGE_SESSIONS));
    if (e == PIORA_OK && revoked)
        *revoked = n;
    return e;
}

piora_err pg_user_enable(store_t *base, int64_t user_id)
{
    static pg_stmt en = PG_STMT("UPDATE users SET disabled_at = NULL WHERE id = $1");
    pg_store *s = pgs(base);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    member_state m;
    e = member_lock(s, user_id, &m);
    if (e == PIORA_OK) {
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, user_id);
        e = pg_do(s, &en, &p, NULL, "user enable");
    }
    return finish(s, e, CHANGE_BIT(CHANGE_USERS));
}

piora_err pg_user_set_admin(store_t *base, int64_t user_id, bool is_admin)
{
    static pg_stmt set = PG_STMT("UPDATE users SET is_admin = $1 WHERE id = $2");
    pg_store *s = pgs(base);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    member_state m;
    e = member_lock(s, user_id, &m);
    if (e == PIORA_OK && !is_admin)
        e = keep_an_admin(s, user_id, &m);
    if (e == PIORA_OK) {
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, is_admin ? 1 : 0);
        pg_p_int(&p, user_id);
        e = pg_do(s, &set, &p, NULL, "user role");
    }
    return finish(s, e, CHANGE_BIT(CHANGE_USERS));
}

/* ---- invitations ---------------------------------------------------------- */

#define INVITE_COLS                                                                              \
    "i.id, i.team_id, i.email, i.is_admin, i.invited_by, i.created_at, i.expires_at, t.name "    \
    "FROM invitations i JOIN teams t ON t.id = i.team_id "
#define INVITE_PENDING "i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $1 "

static void invite_row(const PGresult *r, int row, void *dst)
{
    invite_rec *out = dst;
    memset(out, 0, sizeof *out);
    out->id = pg_col_int(r, row, 0);
    out->team_id = pg_col_int(r, row, 1);
    pg_col_copy(r, row, 2, out->email, sizeof out->email);
    out->is_admin = pg_col_int(r, row, 3) != 0;
    out->invited_by = pg_col_int(r, row, 4);
    out->created_at = pg_col_int(r, row, 5);
    out->expires_at = pg_col_int(r, row, 6);
    pg_col_copy(r, row, 7, out->team_name, sizeof out->team_name);
}

/* The pending invitation with this digest; lock: inside a write
 * transaction, its row stays locked until commit (it is about to be used). */
static piora_err pending_by_digest(pg_store *s, const uint8_t *digest, int64_t now, bool lock,
                                   invite_rec *out)
{
    static pg_stmt plain =
        PG_STMT("SELECT " INVITE_COLS "WHERE " INVITE_PENDING "AND i.digest = $2");
    static pg_stmt locked =
        PG_STMT("SELECT " INVITE_COLS "WHERE " INVITE_PENDING "AND i.digest = $2 FOR UPDATE OF i");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, now);
    pg_p_bytes(&p, digest, SESSION_DIGEST_LEN);
    invite_rec local;
    return pg_fetch_row(s, lock ? &locked : &plain, &p, invite_row, out ? out : &local,
                        "invitation lookup");
}

piora_err pg_invite_create(store_t *base, int64_t team_id, const char *email, bool is_admin,
                           int64_t invited_by, const uint8_t digest[SESSION_DIGEST_LEN],
                           int64_t now, int64_t expires_at, invite_rec *out)
{
    static pg_stmt lock =
        PG_STMT("SELECT pg_advisory_xact_lock(" PG_LOCK_INVITE_EMAIL ", hashtext($1))");
    static pg_stmt is_user = PG_STMT("SELECT 1 FROM users WHERE email = $1");
    static pg_stmt replace = PG_STMT("UPDATE invitations SET revoked_at = $1 WHERE email = $2 "
                                     "AND used_at IS NULL AND revoked_at IS NULL");
    static pg_stmt ins = PG_STMT("INSERT INTO invitations(team_id, email, is_admin, digest, "
                                 "invited_by, created_at, expires_at) "
                                 "VALUES($1, $2, $3, $4, $5, $6, $7)");
    pg_store *s = pgs(base);
    if (team_id <= 0 || !pg_text_ok(email, EMAIL_MAX) || !digest || expires_at <= now)
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_text(&p, email);
    e = pg_do(s, &lock, &p, NULL, "invitation lock");
    if (e == PIORA_OK) {
        e = pg_exists(s, &is_user, &p, "invitation email");
        e = e == PIORA_OK ? PIORA_ECONFLICT : e == PIORA_ENOTFOUND ? PIORA_OK : e;
    }
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, now);
        pg_p_text(&p, email);
        e = pg_do(s, &replace, &p, NULL, "invitation replace");
    }
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, team_id);
        pg_p_text(&p, email);
        pg_p_int(&p, is_admin ? 1 : 0);
        pg_p_bytes(&p, digest, SESSION_DIGEST_LEN);
        pg_p_time0(&p, invited_by);
        pg_p_int(&p, now);
        pg_p_int(&p, expires_at);
        e = pg_do(s, &ins, &p, NULL, "invitation insert");
    }
    if (e == PIORA_OK && out)
        e = pending_by_digest(s, digest, now, false, out);
    return finish(s, e, CHANGE_BIT(CHANGE_USERS));
}

piora_err pg_invite_by_digest(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN],
                              int64_t now, invite_rec *out)
{
    if (!digest)
        return PIORA_ENOTFOUND;
    return pending_by_digest(pgs(base), digest, now, false, out);
}

piora_err pg_invite_list(store_t *base, int64_t team_id, int64_t now, invite_rec **out,
                         size_t *n)
{
    static pg_stmt list = PG_STMT("SELECT " INVITE_COLS "WHERE " INVITE_PENDING
                                  "AND i.team_id = $2 ORDER BY i.id");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, now);
    pg_p_int(&p, team_id);
    void *v = NULL;
    piora_err e = pg_fetch_rows(pgs(base), &list, &p, sizeof(invite_rec), invite_row, &v, n,
                                "invitation list");
    *out = v;
    return e;
}

piora_err pg_invite_revoke(store_t *base, int64_t team_id, int64_t id, int64_t now,
                           invite_rec *out)
{
    static pg_stmt get = PG_STMT("SELECT " INVITE_COLS "WHERE " INVITE_PENDING
                                 "AND i.team_id = $2 AND i.id = $3 FOR UPDATE OF i");
    static pg_stmt rev = PG_STMT("UPDATE invitations SET revoked_at = $1 WHERE id = $2");
    pg_store *s = pgs(base);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, now);
    pg_p_int(&p, team_id);
    pg_p_int(&p, id);
    invite_rec local;
    e = pg_fetch_row(s, &get, &p, invite_row, out ? out : &local, "invitation lookup");
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, now);
        pg_p_int(&p, id);
        e = pg_do(s, &rev, &p, NULL, "invitation revoke");
    }
    return finish(s, e, CHANGE_BIT(CHANGE_USERS));
}

piora_err pg_invite_accept(store_t *base, const uint8_t digest[SESSION_DIGEST_LEN],
                           const char *password_hash, int64_t now, user_rec *out)
{
    static pg_stmt use = PG_STMT("UPDATE invitations SET used_at = $1 WHERE id = $2");
    /* The invitation's team exists (its foreign key), so the user joins it
     * by id: what sq_user_insert_tx's find-or-create by name comes to. */
    static pg_stmt ins = PG_STMT(
        "INSERT INTO users(team_id, email, password_hash, is_admin, created_at, updated_at) "
        "VALUES($1, $2, $3, $4, $5, $5) RETURNING id");
    pg_store *s = pgs(base);
    if (!digest || !pg_text_ok(password_hash, 1024))
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    invite_rec inv;
    e = pending_by_digest(s, digest, now, true, &inv);
    if (e == PIORA_OK) {
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, now);
        pg_p_int(&p, inv.id);
        e = pg_do(s, &use, &p, NULL, "invitation use");
    }
    int64_t uid = 0;
    if (e == PIORA_OK) {
        pg_params p;
        pg_params_init(&p);
        pg_p_int(&p, inv.team_id);
        pg_p_text(&p, inv.email);
        pg_p_text(&p, password_hash);
        pg_p_int(&p, inv.is_admin ? 1 : 0);
        pg_p_int(&p, now);
        e = pg_fetch_int(s, &ins, &p, &uid, "user insert");
    }
    if ((e = finish(s, e, CHANGE_BIT(CHANGE_USERS))) != PIORA_OK)
        return e;
    return out ? pg_user_by_id(base, uid, out) : PIORA_OK;
}

/* ---- sudo mode --------------------------------------------------------------- */

/* One statement in its own write transaction (so its change kinds move);
 * *changes (may be NULL) gets the rows it changed. */
static piora_err write_one(pg_store *s, pg_stmt *st, const pg_params *p, const char *what,
                           unsigned kinds, int64_t *changes)
{
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    e = pg_do(s, st, p, changes, what);
    return finish(s, e, kinds);
}

piora_err pg_session_reauth(store_t *base, int64_t session_id, int64_t now)
{
    static pg_stmt st = PG_STMT("UPDATE sessions SET auth_at = $1 WHERE id = $2");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, now);
    pg_p_int(&p, session_id);
    int64_t n = 0;
    piora_err e = write_one(pgs(base), &st, &p, "session reauth", CHANGE_BIT(CHANGE_SESSIONS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ENOTFOUND : e;
}

/* ---- two-factor sign-in ------------------------------------------------------ */

piora_err pg_totp_get(store_t *base, int64_t user_id, bool pending, char *out, size_t outlen,
                      int64_t *last_step)
{
    static pg_stmt q_pending =
        PG_STMT("SELECT totp_pending, totp_last_step FROM users WHERE id = $1");
    static pg_stmt q_secret = PG_STMT("SELECT totp_secret, totp_last_step FROM users WHERE id = $1");
    pg_store *s = pgs(base);
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, user_id);
    PGresult *r = pg_run(s, pending ? &q_pending : &q_secret, &p);
    piora_err e = pg_ok(s, r, "totp lookup");
    if (e == PIORA_OK) {
        e = PIORA_ENOTFOUND;
        if (PQntuples(r) > 0 && !pg_col_null(r, 0, 0)) {
            const char *k = pg_col_str(r, 0, 0);
            size_t n = strlen(k);
            e = n < outlen ? PIORA_OK : PIORA_ETOOBIG;
            if (e == PIORA_OK)
                memcpy(out, k, n + 1);
            if (last_step)
                *last_step = pg_col_int(r, 0, 1);
        }
    }
    PQclear(r);
    return e;
}

piora_err pg_totp_set_pending(store_t *base, int64_t user_id, const char *key_b32)
{
    static pg_stmt st = PG_STMT("UPDATE users SET totp_pending = $1 WHERE id = $2");
    if (!pg_text_ok(key_b32, 128))
        return PIORA_EINVALID;
    pg_params p;
    pg_params_init(&p);
    pg_p_text(&p, key_b32);
    pg_p_int(&p, user_id);
    int64_t n = 0;
    piora_err e = write_one(pgs(base), &st, &p, "totp pending", CHANGE_BIT(CHANGE_USERS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ENOTFOUND : e;
}

piora_err pg_totp_enable(store_t *base, int64_t user_id, int64_t last_step,
                         const uint8_t (*digests)[32], size_t n)
{
    static pg_stmt en = PG_STMT("UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, "
                                "totp_last_step = $2 WHERE id = $1 AND totp_pending IS NOT NULL");
    static pg_stmt clear = PG_STMT("DELETE FROM recovery_codes WHERE user_id = $1");
    static pg_stmt ins = PG_STMT("INSERT INTO recovery_codes(user_id, digest) VALUES($1, $2)");
    pg_store *s = pgs(base);
    if (n > 0 && !digests)
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, user_id);
    pg_p_int(&p, last_step);
    int64_t changed = 0;
    e = pg_do(s, &en, &p, &changed, "totp enable");
    if (e == PIORA_OK && changed == 0)
        e = PIORA_ENOTFOUND;
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, user_id);
        e = pg_do(s, &clear, &p, NULL, "recovery codes clear");
    }
    for (size_t i = 0; e == PIORA_OK && i < n; i++) {
        pg_params_init(&p);
        pg_p_int(&p, user_id);
        pg_p_bytes(&p, digests[i], 32);
        e = pg_do(s, &ins, &p, NULL, "recovery code insert");
    }
    return finish(s, e, CHANGE_BIT(CHANGE_USERS));
}

piora_err pg_totp_use_step(store_t *base, int64_t user_id, int64_t step)
{
    /* A second request with the same code waits for the first's row lock,
     * then re-checks the condition on the committed row: it changes
     * nothing and answers ECONFLICT. */
    static pg_stmt st = PG_STMT("UPDATE users SET totp_last_step = $2 WHERE id = $1 AND "
                                "totp_last_step < $2");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, user_id);
    pg_p_int(&p, step);
    int64_t n = 0;
    piora_err e = write_one(pgs(base), &st, &p, "totp step", CHANGE_BIT(CHANGE_SESSIONS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ECONFLICT : e;
}

piora_err pg_totp_use_recovery(store_t *base, int64_t user_id, const uint8_t digest[32],
                               int64_t now)
{
    static pg_stmt st = PG_STMT("UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND "
                                "digest = $2 AND used_at IS NULL");
    if (!digest)
        return PIORA_ENOTFOUND;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, user_id);
    pg_p_bytes(&p, digest, 32);
    pg_p_int(&p, now);
    int64_t n = 0;
    piora_err e =
        write_one(pgs(base), &st, &p, "recovery code use", CHANGE_BIT(CHANGE_SESSIONS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ENOTFOUND : e;
}

piora_err pg_totp_disable(store_t *base, int64_t user_id)
{
    static pg_stmt off = PG_STMT("UPDATE users SET totp_secret = NULL, totp_pending = NULL, "
                                 "totp_last_step = 0 WHERE id = $1");
    static pg_stmt clear = PG_STMT("DELETE FROM recovery_codes WHERE user_id = $1");
    pg_store *s = pgs(base);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, user_id);
    e = pg_do(s, &off, &p, NULL, "totp disable");
    if (e == PIORA_OK)
        e = pg_do(s, &clear, &p, NULL, "recovery codes clear");
    return finish(s, e, CHANGE_BIT(CHANGE_USERS));
}

piora_err pg_team_set_require_2fa(store_t *base, int64_t team_id, bool on)
{
    static pg_stmt st = PG_STMT("UPDATE teams SET require_2fa = $2 WHERE id = $1");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, on ? 1 : 0);
    int64_t n = 0;
    piora_err e = write_one(pgs(base), &st, &p, "team 2fa", CHANGE_BIT(CHANGE_USERS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ENOTFOUND : e;
}

piora_err pg_session_set_mfa_pending(store_t *base, int64_t session_id)
{
    static pg_stmt st = PG_STMT("UPDATE sessions SET mfa_pending = $2 WHERE id = $1");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, session_id);
    pg_p_int(&p, 1);
    int64_t n = 0;
    piora_err e = write_one(pgs(base), &st, &p, "session mfa", CHANGE_BIT(CHANGE_SESSIONS), &n);
    return e == PIORA_OK && n == 0 ? PIORA_ENOTFOUND : e;
}
