/* The job runner's tables on PostgreSQL (issue 9): team SSH keys; the twin
 * of sqlite_jobs.c. Key changes are CHANGE_OBJECTS: what reads them (GET
 * /ssh-key, the runner) reads the database each time, and a cached answer
 * must not outlive them.
 *
 * A rotation is three statements; two nodes rotating one team at once
 * would interleave them (the second's demotion finding no current key and
 * its insert failing on UNIQUE(team_id, is_current)), where SQLite runs
 * them one after the other. So a rotation first locks the team's row (FOR
 * NO KEY UPDATE, which the team's object inserts, taking KEY SHARE through
 * their foreign key, do not wait for). A first key needs no lock: the
 * unique key makes the loser of two first uses ECONFLICT, as promised. */
#include <string.h>

#include "store/postgres/pg_internal.h"

static void sshkey_row(const PGresult *r, int row, void *out)
{
    sshkey_rec *k = out;
    memset(k, 0, sizeof *k);
    k->id = pg_col_int(r, row, 0);
    k->team_id = pg_col_int(r, row, 1);
    k->is_current = pg_col_int(r, row, 2) != 0;
    pg_col_copy(r, row, 3, k->public_key, sizeof k->public_key);
    pg_col_copy(r, row, 4, k->fingerprint, sizeof k->fingerprint);
    int64_t n = pg_col_int(r, row, 7);
    if (n > 0 && (uint64_t)n <= sizeof k->sealed && pg_col_bytes(r, row, 5, k->sealed, (size_t)n))
        k->sealed_len = (size_t)n;
    k->created_at = pg_col_int(r, row, 6);
}

piora_err pg_sshkey_get(store_t *base, int64_t team_id, sshkey_rec out[2], size_t *n)
{
    static pg_stmt st = PG_STMT("SELECT id, team_id, is_current, public_key, fingerprint, "
                                "private_sealed, created_at, octet_length(private_sealed) "
                                "FROM ssh_keys WHERE team_id = $1 ORDER BY is_current DESC "
                                "LIMIT 2");
    pg_store *s = pgs(base);
    *n = 0;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    PGresult *r = pg_run(s, &st, &p);
    piora_err e = pg_ok(s, r, "ssh key get");
    if (e == PIORA_OK)
        for (int i = 0; i < PQntuples(r) && *n < 2; i++)
            sshkey_row(r, i, &out[(*n)++]);
    PQclear(r);
    return e;
}

static bool sshkey_ok(const sshkey_rec *k)
{
    return k && pg_text_ok(k->public_key, SSHKEY_PUBLIC_MAX - 1) &&
           pg_text_ok(k->fingerprint, SSHKEY_FP_MAX - 1) && k->sealed_len > 0 &&
           k->sealed_len <= sizeof k->sealed;
}

/* Inside the caller's write transaction. */
static piora_err insert_current(pg_store *s, int64_t team_id, const sshkey_rec *k)
{
    static pg_stmt st = PG_STMT("INSERT INTO ssh_keys(team_id, is_current, public_key, "
                                "fingerprint, private_sealed, created_at) "
                                "VALUES($1, $2, $3, $4, $5, $6)");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, 1);
    pg_p_text(&p, k->public_key);
    pg_p_text(&p, k->fingerprint);
    pg_p_bytes(&p, k->sealed, k->sealed_len);
    pg_p_int(&p, k->created_at);
    return pg_do(s, &st, &p, NULL, "ssh key insert");
}

static piora_err drop_previous(pg_store *s, int64_t team_id, int64_t *changes)
{
    static pg_stmt st = PG_STMT("DELETE FROM ssh_keys WHERE team_id = $1 AND is_current = $2");
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    pg_p_int(&p, 0);
    return pg_do(s, &st, &p, changes, "ssh key drop previous");
}

static piora_err finish(pg_store *s, piora_err e)
{
    if (e != PIORA_OK) {
        pg_rollback(s);
        return e;
    }
    return pg_commit(s, CHANGE_BIT(CHANGE_OBJECTS));
}

piora_err pg_sshkey_put_first(store_t *base, int64_t team_id, const sshkey_rec *k)
{
    pg_store *s = pgs(base);
    if (team_id <= 0 || !sshkey_ok(k))
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    e = insert_current(s, team_id, k); /* UNIQUE(team_id, is_current): ECONFLICT */
    return finish(s, e);
}

piora_err pg_sshkey_rotate(store_t *base, int64_t team_id, const sshkey_rec *k)
{
    static pg_stmt lock = PG_STMT("SELECT id FROM teams WHERE id = $1 FOR NO KEY UPDATE");
    static pg_stmt demote = PG_STMT("UPDATE ssh_keys SET is_current = $2 WHERE team_id = $1 "
                                    "AND is_current = $3");
    pg_store *s = pgs(base);
    if (team_id <= 0 || !sshkey_ok(k))
        return PIORA_EINVALID;
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    pg_params p;
    pg_params_init(&p);
    pg_p_int(&p, team_id);
    e = pg_do(s, &lock, &p, NULL, "ssh key team lock");
    if (e == PIORA_OK)
        e = drop_previous(s, team_id, NULL);
    if (e == PIORA_OK) {
        pg_p_int(&p, 0);
        pg_p_int(&p, 1);
        e = pg_do(s, &demote, &p, NULL, "ssh key demote");
    }
    if (e == PIORA_OK)
        e = insert_current(s, team_id, k);
    return finish(s, e);
}

piora_err pg_sshkey_delete_previous(store_t *base, int64_t team_id)
{
    pg_store *s = pgs(base);
    piora_err e = pg_begin(s);
    if (e != PIORA_OK)
        return e;
    int64_t changes = 0;
    e = drop_previous(s, team_id, &changes);
    if (e == PIORA_OK && changes == 0)
        e = PIORA_ENOTFOUND;
    return finish(s, e);
}
