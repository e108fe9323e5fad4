/* Teams and users on SQLite. */
#include <string.h>

#include "store/sqlite/sqlite_internal.h"
#include "util/clock.h"

#define USER_COLS                                                                                \
    "u.id, u.team_id, u.email, t.name, u.is_admin, u.created_at, u.disabled_at, u.removed_at, "   \
    "u.totp_secret IS NOT NULL, t.require_2fa "                                \
    "FROM users u JOIN teams t ON t.id = u.team_id "

static void user_row(sqlite3_stmt *st, void *dst)
{
    user_rec *out = dst;
    memset(out, 0, sizeof *out);
    out->id = sq_col_int(st, 0);
    out->team_id = sq_col_int(st, 1);
    sq_col_copy(st, 2, out->email, sizeof out->email);
    sq_col_copy(st, 3, out->team_name, sizeof out->team_name);
    out->is_admin = sq_col_int(st, 4) != 0;
    out->created_at = sq_col_int(st, 5);
    out->disabled_at = sq_col_int(st, 6);
    out->removed_at = sq_col_int(st, 7);
    out->totp_on = sq_col_int(st, 8) != 0;
    out->team_requires_2fa = sq_col_int(st, 9) != 0;
}

/* Steps a one-row lookup into out; ENOTFOUND on no row. Resets st. */
static piora_err user_fetch(sq_store *s, sqlite3_stmt *st, user_rec *out)
{
    return sq_fetch_row(s, st, user_row, out, "user lookup");
}

piora_err sq_user_insert_tx(sq_store *s, const char *email, const char *team_name, bool is_admin,
                            const char *password_hash, int64_t now, int64_t *uid)
{
    sqlite3_stmt *ins_team = sq_stmt(s, ST_TEAM_INSERT,
                                     "INSERT INTO teams(id, name, created_at) VALUES(" SQ_NEXT_ID("teams") ", ?1, ?2) "
                                     "ON CONFLICT(name) DO NOTHING");
    sqlite3_stmt *team_id = sq_stmt(s, ST_TEAM_ID, "SELECT id FROM teams WHERE name = ?1");
    sqlite3_stmt *ins_user = sq_stmt(
        s, ST_USER_INSERT,
        "INSERT INTO users(id, team_id, email, password_hash, is_admin, created_at, updated_at) "
        "VALUES(" SQ_NEXT_ID("users") ", ?1, ?2, ?3, ?4, ?5, ?5)");
    if (!ins_team || !team_id || !ins_user)
        return PIORA_EDB;
    sqlite3_bind_text(ins_team, 1, team_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins_team, 2, now);
    int rc = sq_exec_stmt(ins_team);
    if (rc != SQLITE_DONE)
        return sq_fail(s, rc, "team insert");
    sqlite3_bind_text(team_id, 1, team_name, -1, SQLITE_STATIC);
    rc = sqlite3_step(team_id);
    int64_t tid = rc == SQLITE_ROW ? sqlite3_column_int64(team_id, 0) : 0;
    sqlite3_reset(team_id);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? PIORA_EINTERNAL : sq_fail(s, rc, "team lookup");
    sqlite3_bind_int64(ins_user, 1, tid);
    sqlite3_bind_text(ins_user, 2, email, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_user, 3, password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(ins_user, 4, is_admin ? 1 : 0);
    sqlite3_bind_int64(ins_user, 5, now);
    rc = sq_exec_stmt(ins_user);
    if (rc != SQLITE_DONE)
        return sq_fail(s, rc, "user insert");
    *uid = sqlite3_last_insert_rowid(s->db);
    return PIORA_OK;
}

/* The team is found or created by its exact name inside the same write
 * transaction as the user, so a failed user insert leaves no empty team. */
piora_err sq_user_create(store_t *base, const char *email, const char *team_name, bool is_admin,
                         const char *password_hash, user_rec *out)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(email, EMAIL_MAX) || !sq_text_ok(team_name, TEAM_NAME_MAX) ||
        !sq_text_ok(password_hash, 1024))
        return PIORA_EINVALID;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t uid = 0;
    e = sq_user_insert_tx(s, email, team_name, is_admin, password_hash, clock_now(), &uid);
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    if ((e = sq_commit(s, CHANGE_BIT(CHANGE_USERS))) != PIORA_OK)
        return e;
    return out ? sq_user_by_id(base, uid, out) : PIORA_OK;
}

piora_err sq_user_by_email(store_t *base, const char *email, user_rec *out)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(email, EMAIL_MAX))
        return PIORA_ENOTFOUND;
    sqlite3_stmt *st = sq_stmt(s, ST_USER_BY_EMAIL, "SELECT " USER_COLS "WHERE u.email = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    return user_fetch(s, st, out);
}

piora_err sq_user_by_id(store_t *base, int64_t id, user_rec *out)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_USER_BY_ID, "SELECT " USER_COLS "WHERE u.id = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    return user_fetch(s, st, out);
}

piora_err sq_user_password_hash(store_t *base, int64_t user_id, char *out, size_t outlen)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st =
        sq_stmt(s, ST_USER_HASH, "SELECT password_hash FROM users WHERE id = ?1");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st);
    piora_err e = PIORA_OK;
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(st, 0);
        size_t n = h ? strlen(h) : 0;
        if (n >= outlen)
            e = PIORA_ETOOBIG;
        else
            memcpy(out, h ? h : "", n + 1);
    } else {
        e = rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, "password lookup");
    }
    sqlite3_reset(st);
    return e;
}

piora_err sq_user_set_password(store_t *base, int64_t user_id, const char *password_hash)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(password_hash, 1024))
        return PIORA_EINVALID;
    sqlite3_stmt *st = sq_stmt(s, ST_USER_SET_PASSWORD,
                               "UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3");
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_text(st, 1, password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, clock_now());
    sqlite3_bind_int64(st, 3, user_id);
    int rc = sq_exec_stmt(st);
    if (rc != SQLITE_DONE) {
        e = sq_fail(s, rc, "password update");
    } else if (sqlite3_changes(s->db) == 0) {
        e = PIORA_ENOTFOUND;
    }
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_USERS));
}

piora_err sq_user_list(store_t *base, user_rec **out, size_t *n)
{
    sq_store *s = sq(base);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sq_stmt(s, ST_USER_LIST, "SELECT " USER_COLS "ORDER BY u.id");
    if (!st)
        return PIORA_EDB;
    void *v;
    piora_err e = sq_fetch_rows(s, st, sizeof(user_rec), user_row, &v, n, "user list");
    *out = v;
    return e;
}

piora_err sq_user_count(store_t *base, int64_t *n)
{
    sq_store *s = sq(base);
    sqlite3_stmt *st = sq_stmt(s, ST_USER_COUNT, "SELECT count(*) FROM users");
    if (!st)
        return PIORA_EDB;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? PIORA_OK : sq_fail(s, rc, "user count");
}
