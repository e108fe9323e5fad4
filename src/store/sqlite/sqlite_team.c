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
