/* Token notes, renames and tidy lists on SQLite (issue 13). A hidden
 * token keeps its row: only token_list leaves it out, so its secrets go on
 * answering "revoked" and the audit log keeps naming it. */
#include <string.h>

#include "store/sqlite/sqlite_internal.h"
#include "util/clock.h"

/* One UPDATE of a listed token in a write transaction; no row changed
 * means the token is missing or hidden: ENOTFOUND. */
static piora_err update_listed(sq_store *s, sqlite3_stmt *st, const char *what)
{
    piora_err e = sq_begin(s);
    if (e != PIORA_OK) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return e;
    }
    int rc = sq_exec_stmt(st);
    if (rc != SQLITE_DONE)
        e = sq_fail(s, rc, what);
    else if (sqlite3_changes(s->db) == 0)
        e = PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_TOKENS));
}

piora_err sq_token_rename(store_t *base, int64_t id, const char *name, int64_t now)
{
    sq_store *s = sq(base);
    if (!sq_text_ok(name, TOKEN_NAME_MAX))
        return PIORA_EINVALID;
    sqlite3_stmt *st = sq_stmt(s, ST_TOKEN_RENAME,
                               "UPDATE tokens SET name = ?2, updated_at = ?3 "
                               "WHERE id = ?1 AND hidden_at IS NULL");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now > 0 ? now : clock_now());
    return update_listed(s, st, "token rename");
}

piora_err sq_token_set_note(store_t *base, int64_t id, const char *note, int64_t now)
{
    sq_store *s = sq(base);
    if (note && strlen(note) > TOKEN_NOTE_MAX)
        return PIORA_EINVALID;
    sqlite3_stmt *st = sq_stmt(s, ST_TOKEN_SET_NOTE,
                               "UPDATE tokens SET note = ?2, updated_at = ?3 "
                               "WHERE id = ?1 AND hidden_at IS NULL");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, id);
    if (note && *note)
        sqlite3_bind_text(st, 2, note, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, now > 0 ? now : clock_now());
    return update_listed(s, st, "token note");
}

/* The state probe and the UPDATE share the transaction, so a token cannot
 * be regenerated (made active again) between the check and the hide. */
piora_err sq_token_hide(store_t *base, int64_t id, int64_t now)
{
    sq_store *s = sq(base);
    if (now <= 0)
        now = clock_now();
    sqlite3_stmt *state = sq_stmt(s, ST_TOKEN_HIDE_STATE,
                                  "SELECT revoked_at, expires_at FROM tokens "
                                  "WHERE id = ?1 AND hidden_at IS NULL");
    sqlite3_stmt *hide = sq_stmt(s, ST_TOKEN_HIDE,
                                 "UPDATE tokens SET hidden_at = ?2 WHERE id = ?1");
    if (!state || !hide)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(state, 1, id);
    int rc = sqlite3_step(state);
    if (rc == SQLITE_ROW) {
        bool revoked = sqlite3_column_type(state, 0) != SQLITE_NULL;
        bool expired = sqlite3_column_type(state, 1) != SQLITE_NULL &&
                       now >= sqlite3_column_int64(state, 1);
        if (!revoked && !expired)
            e = PIORA_ECONFLICT;
    } else {
        e = rc == SQLITE_DONE ? PIORA_ENOTFOUND : sq_fail(s, rc, "token lookup");
    }
    sqlite3_reset(state);
    if (e == PIORA_OK) {
        sqlite3_bind_int64(hide, 1, id);
        sqlite3_bind_int64(hide, 2, now);
        if ((rc = sq_exec_stmt(hide)) != SQLITE_DONE)
            e = sq_fail(s, rc, "token hide");
    }
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_TOKENS));
}
