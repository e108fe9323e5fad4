/* The job runner's tables on SQLite (issue 9): team SSH keys so far. Key
 * changes are CHANGE_OBJECTS: what reads them (GET /ssh-key, the runner)
 * reads the database each time, and a cached answer must not outlive them. */
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

static void sshkey_row(sqlite3_stmt *st, void *out)
{
    sshkey_rec *k = out;
    memset(k, 0, sizeof *k);
    k->id = sq_col_int(st, 0);
    k->team_id = sq_col_int(st, 1);
    k->is_current = sq_col_int(st, 2) != 0;
    sq_col_copy(st, 3, k->public_key, sizeof k->public_key);
    sq_col_copy(st, 4, k->fingerprint, sizeof k->fingerprint);
    int n = sqlite3_column_bytes(st, 5);
    if (n > 0 && (size_t)n <= sizeof k->sealed) {
        memcpy(k->sealed, sqlite3_column_blob(st, 5), (size_t)n);
        k->sealed_len = (size_t)n;
    }
    k->created_at = sq_col_int(st, 6);
}

piora_err sq_sshkey_get(store_t *base, int64_t team_id, sshkey_rec out[2], size_t *n)
{
    sq_store *s = sq(base);
    *n = 0;
    sqlite3_stmt *st = sq_stmt(s, ST_SSHKEY_GET,
                               "SELECT id, team_id, is_current, public_key, fingerprint, "
                               "private_sealed, created_at FROM ssh_keys WHERE team_id = ?1 "
                               "ORDER BY is_current DESC");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, team_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < 2)
        sshkey_row(st, &out[(*n)++]);
    piora_err e = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PIORA_OK : sq_fail(s, rc, "ssh key get");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

static bool sshkey_ok(const sshkey_rec *k)
{
    return k && sq_text_ok(k->public_key, SSHKEY_PUBLIC_MAX - 1) &&
           sq_text_ok(k->fingerprint, SSHKEY_FP_MAX - 1) && k->sealed_len > 0 &&
           k->sealed_len <= sizeof k->sealed;
}

/* Inside the caller's write transaction. */
static piora_err insert_current(sq_store *s, int64_t team_id, const sshkey_rec *k)
{
    sqlite3_stmt *st = sq_stmt(s, ST_SSHKEY_INSERT,
                               "INSERT INTO ssh_keys(team_id, is_current, public_key, fingerprint, "
                               "private_sealed, created_at) VALUES(?1, 1, ?2, ?3, ?4, ?5)");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, team_id);
    sqlite3_bind_text(st, 2, k->public_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, k->sealed, (int)k->sealed_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, k->created_at);
    int rc = sq_exec_stmt(st);
    return rc == SQLITE_DONE ? PIORA_OK : sq_fail(s, rc, "ssh key insert");
}

static piora_err drop_previous(sq_store *s, int64_t team_id, int *changes)
{
    sqlite3_stmt *st = sq_stmt(s, ST_SSHKEY_DROP_PREVIOUS,
                               "DELETE FROM ssh_keys WHERE team_id = ?1 AND is_current = 0");
    if (!st)
        return PIORA_EDB;
    sqlite3_bind_int64(st, 1, team_id);
    int rc = sq_exec_stmt(st);
    if (rc != SQLITE_DONE)
        return sq_fail(s, rc, "ssh key drop previous");
    if (changes)
        *changes = sqlite3_changes(s->db);
    return PIORA_OK;
}

piora_err sq_sshkey_put_first(store_t *base, int64_t team_id, const sshkey_rec *k)
{
    sq_store *s = sq(base);
    if (team_id <= 0 || !sshkey_ok(k))
        return PIORA_EINVALID;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    e = insert_current(s, team_id, k); /* UNIQUE(team_id, is_current): ECONFLICT */
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

piora_err sq_sshkey_rotate(store_t *base, int64_t team_id, const sshkey_rec *k)
{
    sq_store *s = sq(base);
    if (team_id <= 0 || !sshkey_ok(k))
        return PIORA_EINVALID;
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    e = drop_previous(s, team_id, NULL);
    if (e == PIORA_OK) {
        sqlite3_stmt *st = sq_stmt(s, ST_SSHKEY_DEMOTE,
                                   "UPDATE ssh_keys SET is_current = 0 WHERE team_id = ?1 AND is_current = 1");
        if (!st) {
            e = PIORA_EDB;
        } else {
            sqlite3_bind_int64(st, 1, team_id);
            int rc = sq_exec_stmt(st);
            if (rc != SQLITE_DONE)
                e = sq_fail(s, rc, "ssh key demote");
        }
    }
    if (e == PIORA_OK)
        e = insert_current(s, team_id, k);
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

piora_err sq_sshkey_delete_previous(store_t *base, int64_t team_id)
{
    sq_store *s = sq(base);
    piora_err e = sq_begin(s);
    if (e != PIORA_OK)
        return e;
    int changes = 0;
    e = drop_previous(s, team_id, &changes);
    if (e != PIORA_OK) {
        sq_rollback(s);
        return e;
    }
    if (changes == 0) {
        sq_rollback(s);
        return PIORA_ENOTFOUND;
    }
    return sq_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}
