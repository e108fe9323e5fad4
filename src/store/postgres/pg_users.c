/* Teams and users on PostgreSQL (the twin of sqlite_users.c). Emails are
 * stored lower-cased (lower() in the INSERT, whatever the caller sent) and
 * looked up lower-cased, so the plain UNIQUE on users.email is the
 * case-insensitive key that SQLite's COLLATE NOCASE gives. */
#include <string.h>

#include "store/postgres/pg_internal.h"
#include "util/clock.h"

#define USER_COLS                                                                                \
    "u.id, u.team_id, u.email, t.name, u.is_admin, u.created_at, u.disabled_at, u.removed_at, "   \
    "u.totp_secret IS NOT NULL, t.require_2fa "                                                    \
    "FROM users u JOIN teams t ON t.id = u.team_id "

static void user_row(const PGresult *r, int row, void *dst)
{
    user_rec *out = dst;
    memset(out, 0, sizeof *out);
    out->id = pg_col_int(r, row, 0);
    out->team_id = pg_col_int(r, row, 1);
    pg_col_copy(r, row, 2, out->email, sizeof out->email);
    pg_col_copy(r, row, 3, out->team_name, sizeof out->team_name);
    out->is_admin = pg_col_int(r, row, 4) != 0;
    out->created_at = pg_col_int(r, row, 5);
    out->disabled_at = pg_col_int(r, row, 6);
    out->removed_at = pg_col_int(r, row, 7);
    out->totp_on = pg_col_int(r, row, 8) != 0;
    out->team_requires_2fa = pg_col_int(r, row, 9) != 0;
}

piora_err pg_user_insert_tx(pg_store *s, const char *email, const char *team_name, bool is_admin,
                            const char *password_hash, int64_t now, int64_t *uid)
{
    /* DO NOTHING waits for a concurrent insert of the same name to commit,
     * so the SELECT after it always finds the team. */
    static pg_stmt ins_team = PG_STMT("INSERT INTO teams(name, created_at) VALUES($1, $2) "
                                      "ON CONFLICT(name) DO NOTHING");
    static pg_stmt team_id = PG_STMT("SELECT id FROM teams WHERE name = $1");
    static pg_stmt ins_user = PG_STMT(
        "INSERT INTO users(team_id, email, password_hash, is_admin, created_at, updated_at) "
        "VALUES($1, lower($2), $3, $4, $5, $5) RETURNING id");
    pg_params p;
    pg_params_init(&p);
    pg_p_text(&p, team_name);
    pg_p_int(&p, now);
    piora_err e = pg_do(s, &ins_team, &p, NULL, "team insert");
    if (e != PIORA_OK)
        return e;
    pg_params_init(&p);
    pg_p_text(&p, team_name);
    int64_t tid = 0;
    e = pg_fetch_int(s, &team_id, &p, &tid, "team lookup");
    if (e != PIORA_OK)
        return e == PIORA_ENOTFOUND ? PIORA_EINTERNAL : e;
    pg_params_init(&p);
    pg_p_int(&p, tid);
    pg_p_text(&p, email);
    pg_p_text(&p, password_hash);
    pg_p_int(&p, is_admin ? 1 : 0);
    pg_p_int(&p, now);
    return pg_fetch_int(s, &ins_user, &p, uid, "user insert");
}

/* The team is found or created inside the same transaction as the user,
 * so a failed user insert leaves no empty team. */
piora_err pg_user_create(store_t *base, const char *email, const char *team_name, bool is_admin,
                         const char *password_hash, user_rec *out)
{
    pg_store *s = pgs(base);
    if (!pg_text_ok(email, EMAIL_MAX) || !pg_text_ok(team_name, TEAM_NAME_MAX) ||
        !pg_text_ok(password_hash, 1024))
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t uid = 0;
    e = pg_user_insert_tx(s, email, team_name, is_admin, password_hash, clock_now(), &uid);
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    if ((e = pg_commit(s, CHANGE_BIT(CHANGE_USERS))) != PIORA_OK)
        return e;
    return out ? pg_user_by_id(base, uid, out) : PIORA_OK;
}

piora_err pg_user_by_email(store_t *base, const char *email, user_rec *out)
{
    static pg_stmt q = PG_STMT("SELECT " USER_COLS "WHERE u.email = lower($1)");
    if (!pg_text_ok(email, EMAIL_MAX))
        return PIORA_ENOTFOUND;
    pg_params p;
    pg_params_init(&p);
    pg_p_text(&p, email);
    return pg_fetch_row(pgs(base), &q, &p, user_row, out, "user lookup");
}

piora_err pg_user_by_id(store_t *base, int64_t id, user_rec *out)
{
    static pg_stmt q = PG_STMT("SELECT " USER_COLS "WHERE u.id = $1");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    return pg_fetch_row(pgs(base), &q, &p, user_row, out, "user lookup");
}

piora_err pg_user_password_hash(store_t *base, int64_t user_id, char *out, size_t outlen)
{
    static pg_stmt q = PG_STMT("SELECT password_hash FROM users WHERE id = $1");
    pg_store *s = pgs(base);
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, user_id);
    PGresult *r = pg_run(s, &q, &p);
    piora_err e = pg_ok(s, r, "password lookup");
    if (e == PIORA_OK) {
        if (PQntuples(r) == 0) {
            e = PIORA_ENOTFOUND;
        } else {
            const char *h = pg_col_str(r, 0, 0);
            size_t n = h ? strlen(h) : 0;
            if (n >= outlen)
                e = PIORA_ETOOBIG;
            else
                memcpy(out, h ? h : "", n + 1);
        }
    }
    PQclear(r);
    return e;
}

piora_err pg_user_set_password(store_t *base, int64_t user_id, const char *password_hash)
{
    static pg_stmt q =
        PG_STMT("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3");
    pg_store *s = pgs(base);
    if (!pg_text_ok(password_hash, 1024))
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_text(&p, password_hash);
    pg_p_int(&p, clock_now());
    pg_p_int(&p, user_id);
    int64_t rows = 0;
    e = pg_do(s, &q, &p, &rows, "password update");
    if (e == PIORA_OK && rows == 0)
        e = PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_USERS));
}

piora_err pg_user_list(store_t *base, user_rec **out, size_t *n)
{
    static pg_stmt q = PG_STMT("SELECT " USER_COLS "ORDER BY u.id");
    void *v = NULL;
    piora_err e = pg_fetch_rows(pgs(base), &q, NULL, sizeof(user_rec), user_row, &v, n,
                                "user list");
    *out = v;
    return e;
}

piora_err pg_user_count(store_t *base, int64_t *n)
{
    static pg_stmt q = PG_STMT("SELECT count(*) FROM users");
    return pg_fetch_int(pgs(base), &q, NULL, n, "user count");
}
