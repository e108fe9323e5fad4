/* Token notes, renames and tidy lists on PostgreSQL (issue 13; the twin of
 * sqlite_token_notes.c). A hidden token keeps its row: only token_list
 * leaves it out, so its secrets go on answering "revoked" and the audit
 * log keeps naming it. */
#include <string.h>

#include "store/postgres/pg_internal.h"
#include "util/clock.h"

/* One text column of a listed token: text NULL or "" writes NULL. No row
 * changed means the token is missing or hidden: ENOTFOUND. */
static piora_err set_text(pg_store *s, pg_stmt *st, int64_t id, const char *text, int64_t now,
                          const char *what)
{
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    pg_p_text(&p, text && *text ? text : NULL);
    pg_p_int(&p, now > 0 ? now : clock_now());
    int64_t rows = 0;
    e = pg_do(s, st, &p, &rows, what);
    if (e == PIORA_OK && rows == 0)
        e = PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_TOKENS));
}

piora_err pg_token_rename(store_t *base, int64_t id, const char *name, int64_t now)
{
    static pg_stmt q = PG_STMT("UPDATE tokens SET name = $2, updated_at = $3 "
                               "WHERE id = $1 AND hidden_at IS NULL");
    if (!pg_text_ok(name, TOKEN_NAME_MAX))
        return PIORA_EINVALID;
    return set_text(pgs(base), &q, id, name, now, "token rename");
}

piora_err pg_token_set_note(store_t *base, int64_t id, const char *note, int64_t now)
{
    static pg_stmt q = PG_STMT("UPDATE tokens SET note = $2, updated_at = $3 "
                               "WHERE id = $1 AND hidden_at IS NULL");
    if (note && strlen(note) > TOKEN_NOTE_MAX)
        return PIORA_EINVALID;
    return set_text(pgs(base), &q, id, note, now, "token note");
}

/* The state probe locks the row, so a token cannot be regenerated (made
 * active again) between the check and the hide. */
piora_err pg_token_hide(store_t *base, int64_t id, int64_t now)
{
    static pg_stmt state = PG_STMT("SELECT revoked_at IS NOT NULL, expires_at FROM tokens "
                                   "WHERE id = $1 AND hidden_at IS NULL FOR UPDATE");
    static pg_stmt hide = PG_STMT("UPDATE tokens SET hidden_at = $2 WHERE id = $1");
    pg_store *s = pgs(base);
    if (now <= 0)
        now = clock_now();
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, id);
    PGresult *r = pg_run(s, &state, &p);
    e = pg_ok(s, r, "token lookup");
    if (e == PIORA_OK) {
        if (PQntuples(r) == 0) {
            e = PIORA_ENOTFOUND;
        } else {
            bool revoked = pg_col_bool(r, 0, 0);
            bool expired = !pg_col_null(r, 0, 1) && now >= pg_col_int(r, 0, 1);
            if (!revoked && !expired)
                e = PIORA_ECONFLICT;
        }
    }
    PQclear(r);
    if (e == PIORA_OK) {
        pg_params_init(&p);
        pg_p_int(&p, id);
        pg_p_int(&p, now);
        e = pg_do(s, &hide, &p, NULL, "token hide");
    }
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_TOKENS));
}
