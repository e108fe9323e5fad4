/* Conformance, tokens section: insert, lookups by digest and id, status,
 * revocation, regeneration (the old secret answers "revoked"), last-used. */
#include "store_fixture.h"

static void test_tokens(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    user_rec b = make_user(fx->s, "bob@example.com", "other");
    int64_t now = clock_now();
    token_rec t1 = make_token(fx->s, a.id, 1, now + 3600);
    token_rec t2 = make_token(fx->s, b.id, 2, 0);
    assert_int_equal(t1.team_id, a.team_id);
    assert_int_equal(t1.user_id, a.id);
    assert_string_equal(t1.owner_email, "alice@example.com");
    assert_string_equal(t1.name, "ci");
    assert_string_equal(t1.hint, "piora_token_abcd\xe2\x80\xa6wxyz");
    assert_int_equal(t1.scopes, SCOPE_SERVERS_READ);
    assert_int_equal(t1.expires_at, now + 3600);
    assert_int_equal(t1.last_used_at, 0);
    assert_int_equal(t1.revoked_at, 0);
    assert_int_equal(t2.expires_at, 0);
    assert_int_equal(token_rec_status(&t1, now), TOKEN_ACTIVE);
    assert_int_equal(token_rec_status(&t1, now + 3600), TOKEN_EXPIRED);
    assert_string_equal(token_status_name(TOKEN_EXPIRED), "expired");

    /* the same digest twice is a conflict; an unknown user is not found */
    token_new dup = {.user_id = a.id, .name = "dup", .scopes = 1, .hint = "h"};
    digest_fill(dup.digest, 1);
    token_rec t;
    assert_int_equal(store_token_insert(fx->s, &dup, &t), PIORA_ECONFLICT);
    dup.user_id = 999;
    digest_fill(dup.digest, 77);
    assert_int_equal(store_token_insert(fx->s, &dup, &t), PIORA_ENOTFOUND);

    uint8_t d[TOKEN_DIGEST_LEN];
    digest_fill(d, 1);
    assert_int_equal(store_token_by_digest(fx->s, d, &t), PIORA_OK);
    assert_int_equal(t.id, t1.id);
    assert_string_equal(t.owner_email, "alice@example.com");
    digest_fill(d, 99);
    assert_int_equal(store_token_by_digest(fx->s, d, &t), PIORA_ENOTFOUND);

    /* list: one user's or everyone's, by id */
    token_rec *list = NULL;
    size_t n = 0;
    assert_int_equal(store_token_list(fx->s, a.id, &list, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, t1.id);
    free(list);
    assert_int_equal(store_token_list(fx->s, 0, &list, &n), PIORA_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, t1.id);
    assert_int_equal(list[1].id, t2.id);
    assert_string_equal(list[1].owner_email, "bob@example.com");
    free(list);

    /* touch: forward only, in one batch */
    token_touch tv[3] = {{.token_id = t1.id, .used_at = now + 10, .addr = "10.0.0.1"},
                         {.token_id = t1.id, .used_at = now + 5, .addr = "10.0.0.2"},
                         {.token_id = t2.id, .used_at = now + 7, .addr = ""}};
    assert_int_equal(store_token_touch(fx->s, tv, 3), PIORA_OK);
    assert_int_equal(store_token_by_id(fx->s, t1.id, &t), PIORA_OK);
    assert_int_equal(t.last_used_at, now + 10);
    assert_string_equal(t.last_used_addr, "10.0.0.1");
    assert_int_equal(store_token_by_id(fx->s, t2.id, &t), PIORA_OK);
    assert_int_equal(t.last_used_at, now + 7);
    token_touch back = {.token_id = t1.id, .used_at = now + 1, .addr = "10.9.9.9"};
    assert_int_equal(store_token_touch(fx->s, &back, 1), PIORA_OK);
    assert_int_equal(store_token_by_id(fx->s, t1.id, &t), PIORA_OK);
    assert_int_equal(t.last_used_at, now + 10);
    assert_string_equal(t.last_used_addr, "10.0.0.1");

    /* regenerate: same id, new digest active, old digest answers revoked */
    uint8_t nd[TOKEN_DIGEST_LEN];
    digest_fill(nd, 50);
    assert_int_equal(store_token_regenerate(fx->s, t1.id, nd, "piora_token_new1\xe2\x80\xa6zzzz",
                                            now + 7200, now + 20, &t),
                     PIORA_OK);
    assert_int_equal(t.id, t1.id);
    assert_string_equal(t.name, "ci");
    assert_int_equal(t.scopes, SCOPE_SERVERS_READ);
    assert_int_equal(t.expires_at, now + 7200);
    assert_int_equal(t.revoked_at, 0);
    assert_string_equal(t.hint, "piora_token_new1\xe2\x80\xa6zzzz");
    assert_int_equal(store_token_by_digest(fx->s, nd, &t), PIORA_OK);
    assert_int_equal(token_rec_status(&t, now + 20), TOKEN_ACTIVE);
    digest_fill(d, 1);
    assert_int_equal(store_token_by_digest(fx->s, d, &t), PIORA_OK);
    assert_int_equal(t.id, t1.id);
    assert_int_equal(t.revoked_at, now + 20);
    assert_int_equal(token_rec_status(&t, now + 20), TOKEN_REVOKED);
    assert_int_equal(store_token_regenerate(fx->s, 999, d, "h", 0, now, &t), PIORA_ENOTFOUND);

    /* revoke: immediate, idempotent, then regenerate is refused */
    assert_int_equal(store_token_revoke(fx->s, t1.id, now + 30), PIORA_OK);
    assert_int_equal(store_token_by_digest(fx->s, nd, &t), PIORA_OK);
    assert_int_equal(t.revoked_at, now + 30);
    assert_int_equal(token_rec_status(&t, now + 30), TOKEN_REVOKED);
    assert_string_equal(token_status_name(token_rec_status(&t, now)), "revoked");
    assert_int_equal(store_token_revoke(fx->s, t1.id, now + 40), PIORA_OK);
    assert_int_equal(store_token_by_id(fx->s, t1.id, &t), PIORA_OK);
    assert_int_equal(t.revoked_at, now + 30);
    assert_int_equal(store_token_revoke(fx->s, 999, now), PIORA_ENOTFOUND);
    digest_fill(d, 60);
    assert_int_equal(store_token_regenerate(fx->s, t1.id, d, "h", 0, now, &t), PIORA_ECONFLICT);
    assert_int_equal(store_token_by_digest(fx->s, d, &t), PIORA_ENOTFOUND);

    /* no plain secret columns: only the 32-byte digests are stored */
    if (fixture_is_sqlite(fx)) { /* the file behind the interface */
        sqlite3 *db = raw_open(fx);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM tokens WHERE length(digest) <> 32"), 0);
        sqlite3_close(db);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
