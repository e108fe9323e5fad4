/* Conformance, token notes section (issue 13): a note at creation and
 * later, renames, regenerated_at, and hiding a revoked or expired token
 * from the lists while lookups by id and digest still find it. */
#include "store_fixture.h"

static void test_note_and_rename(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    int64_t now = clock_now();
    token_rec t = make_token(fx->s, a.id, 1, 0);
    assert_string_equal(t.note, "");
    assert_int_equal(t.regenerated_at, 0);
    assert_int_equal(t.hidden_at, 0);

    token_new tn = {.user_id = a.id, .name = "noted", .scopes = SCOPE_SERVERS_READ, .hint = "h",
                    .note = "for the nightly job"};
    digest_fill(tn.digest, 2);
    token_rec n;
    assert_int_equal(store_token_insert(fx->s, &tn, &n), PIORA_OK);
    assert_string_equal(n.note, "for the nightly job");

    char big[TOKEN_NOTE_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(store_token_set_note(fx->s, t.id, big, now), PIORA_EINVALID);
    big[TOKEN_NOTE_MAX] = '\0';
    assert_int_equal(store_token_set_note(fx->s, t.id, big, now + 5), PIORA_OK);
    token_rec r;
    assert_int_equal(store_token_by_id(fx->s, t.id, &r), PIORA_OK);
    assert_int_equal(strlen(r.note), TOKEN_NOTE_MAX);
    assert_int_equal(r.updated_at, now + 5);
    assert_int_equal(store_token_set_note(fx->s, t.id, NULL, now), PIORA_OK);
    assert_int_equal(store_token_by_id(fx->s, t.id, &r), PIORA_OK);
    assert_string_equal(r.note, "");

    assert_int_equal(store_token_rename(fx->s, t.id, "deploy", now), PIORA_OK);
    assert_int_equal(store_token_by_id(fx->s, t.id, &r), PIORA_OK);
    assert_string_equal(r.name, "deploy");
    assert_int_equal(store_token_rename(fx->s, t.id, "", now), PIORA_EINVALID);
    assert_int_equal(store_token_rename(fx->s, 999, "x", now), PIORA_ENOTFOUND);
    assert_int_equal(store_token_set_note(fx->s, 999, "x", now), PIORA_ENOTFOUND);

    uint8_t d[TOKEN_DIGEST_LEN];
    digest_fill(d, 3);
    assert_int_equal(store_token_regenerate(fx->s, t.id, d, "h2", 0, now + 9, &r), PIORA_OK);
    assert_int_equal(r.regenerated_at, now + 9);
    assert_string_equal(r.name, "deploy");
}

static void test_hide(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    int64_t now = clock_now();
    token_rec active = make_token(fx->s, a.id, 1, 0);
    token_rec expiring = make_token(fx->s, a.id, 2, now + 100);
    token_rec revoked = make_token(fx->s, a.id, 3, 0);
    assert_int_equal(store_token_revoke(fx->s, revoked.id, now), PIORA_OK);

    assert_int_equal(store_token_hide(fx->s, active.id, now), PIORA_ECONFLICT);
    assert_int_equal(store_token_hide(fx->s, expiring.id, now), PIORA_ECONFLICT);
    assert_int_equal(store_token_hide(fx->s, expiring.id, now + 100), PIORA_OK);
    assert_int_equal(store_token_hide(fx->s, revoked.id, now + 1), PIORA_OK);
    assert_int_equal(store_token_hide(fx->s, revoked.id, now + 2), PIORA_ENOTFOUND);
    assert_int_equal(store_token_hide(fx->s, 999, now), PIORA_ENOTFOUND);

    token_rec *list = NULL;
    size_t n = 0;
    assert_int_equal(store_token_list(fx->s, a.id, &list, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, active.id);
    free(list);
    assert_int_equal(store_token_list(fx->s, 0, &list, &n), PIORA_OK);
    assert_int_equal(n, 1);
    free(list);

    token_rec r;
    assert_int_equal(store_token_by_id(fx->s, revoked.id, &r), PIORA_OK);
    assert_int_equal(r.hidden_at, now + 1);
    uint8_t d[TOKEN_DIGEST_LEN];
    digest_fill(d, 3);
    assert_int_equal(store_token_by_digest(fx->s, d, &r), PIORA_OK);
    assert_int_equal(r.id, revoked.id);
    assert_int_equal(token_rec_status(&r, now), TOKEN_REVOKED);
    /* a hidden token is out of reach of renames and notes */
    assert_int_equal(store_token_rename(fx->s, revoked.id, "back", now), PIORA_ENOTFOUND);
    assert_int_equal(store_token_set_note(fx->s, revoked.id, "x", now), PIORA_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_note_and_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hide, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
