/* Token notes, renames and tidy lists on SQLite (issue 13). A hidden
 * token keeps its row: only token_list leaves it out, so its secrets go on
 * answering "revoked" and the audit log keeps naming it. */
#include <string.h>

#include "store/sqlite/sqlite_internal.h"
#include "util/clock.h"

/* One text column of a listed token: text NULL or "" writes NULL. No row
 * changed means the token is missing or hidden: ENOTFOUND. */
static piora_err set_text(sq_store *s, sqlite3_stmt *st, int64_t id, const char *text,
                          int64_t now, const char *what)
{
    if (!st)
        return PIORA_EDB;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    sqlite3_bind_int64(st, 1, id);
    if (text && *text)
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, now > 0 ? now : clock_now());
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
    return set_text(s,
                    sq_stmt(s, ST_TOKEN_RENAME,
                            "UPDATE tokens SET name = ?2, updated_at = ?3 "
                            "WHERE id = ?1 AND hidden_at IS NULL"),
                    id, name, now, "token rename");
}

piora_err sq_token_set_note(store_t *base, int64_t id, const char *note, int64_t now)
{
    sq_store *s = sq(base);
    if (note && strlen(note) > TOKEN_NOTE_MAX)
        return PIORA_EINVALID;
    return set_text(s,
                    sq_stmt(s, ST_TOKEN_SET_NOTE,
                            "UPDATE tokens SET note = ?2, updated_at = ?3 "
                            "WHERE id = ?1 AND hidden_at IS NULL"),
                    id, note, now, "token note");
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
