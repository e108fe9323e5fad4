/* Conformance, sessions section: dashboard sessions by digest, touch,
 * delete (one, all of a user but one), prune; the first-run setup secret
 * (put, check, complete once, never after a user exists). */
#include "store_fixture.h"

static void fill(uint8_t d[SESSION_DIGEST_LEN], uint8_t seed)
{
    for (int i = 0; i < SESSION_DIGEST_LEN; i++)
        d[i] = (uint8_t)(seed * 7 + i);
}

static void test_sessions(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "sess@example.com", "sess");
    uint8_t d1[SESSION_DIGEST_LEN], d2[SESSION_DIGEST_LEN], d3[SESSION_DIGEST_LEN];
    fill(d1, 1);
    fill(d2, 2);
    fill(d3, 3);
    session_rec s1, s2, got;
    assert_int_equal(store_session_insert(fx->s, d1, a.id, "csrf-1", 1000, 5000, "192.0.2.1", &s1),
                     PIORA_OK);
    assert_int_equal(store_session_insert(fx->s, d2, a.id, "csrf-2", 1000, 9000, NULL, &s2),
                     PIORA_OK);
    assert_int_equal(store_session_by_digest(fx->s, d1, &got), PIORA_OK);
    assert_int_equal(got.id, s1.id);
    assert_int_equal(got.user_id, a.id);
    assert_string_equal(got.csrf, "csrf-1");
    assert_int_equal(got.expires_at, 5000);
    assert_int_equal(store_session_by_digest(fx->s, d3, &got), PIORA_ENOTFOUND);

    assert_int_equal(store_session_touch(fx->s, s1.id, 1500), PIORA_OK);
    assert_int_equal(store_session_by_digest(fx->s, d1, &got), PIORA_OK);
    assert_int_equal(got.last_seen_at, 1500);

    /* absolute end passed for s1; s2 idle since before 1200 */
    assert_int_equal(store_session_prune(fx->s, 6000, 0), PIORA_OK);
    assert_int_equal(store_session_by_digest(fx->s, d1, &got), PIORA_ENOTFOUND);
    assert_int_equal(store_session_by_digest(fx->s, d2, &got), PIORA_OK);
    assert_int_equal(store_session_prune(fx->s, 6000, 1200), PIORA_OK);
    assert_int_equal(store_session_by_digest(fx->s, d2, &got), PIORA_ENOTFOUND);

    /* all of a user's sessions but one, then that one */
    assert_int_equal(store_session_insert(fx->s, d1, a.id, "c", 2000, 9000, NULL, &s1), PIORA_OK);
    assert_int_equal(store_session_insert(fx->s, d2, a.id, "c", 2000, 9000, NULL, &s2), PIORA_OK);
    assert_int_equal(store_session_delete_user(fx->s, a.id, s2.id), PIORA_OK);
    assert_int_equal(store_session_by_digest(fx->s, d1, &got), PIORA_ENOTFOUND);
    assert_int_equal(store_session_by_digest(fx->s, d2, &got), PIORA_OK);
    assert_int_equal(store_session_delete(fx->s, s2.id), PIORA_OK);
    assert_int_equal(store_session_by_digest(fx->s, d2, &got), PIORA_ENOTFOUND);
}

static void test_setup_secret(void **state)
{
    fixture *fx = *state;
    uint8_t d1[SESSION_DIGEST_LEN], d2[SESSION_DIGEST_LEN];
    fill(d1, 4);
    fill(d2, 5);
    assert_int_equal(store_setup_put(fx->s, d1, 1000), PIORA_OK);
    assert_int_equal(store_setup_check(fx->s, d1), PIORA_OK);
    /* a new secret replaces the unused one */
    assert_int_equal(store_setup_put(fx->s, d2, 1001), PIORA_OK);
    assert_int_equal(store_setup_check(fx->s, d1), PIORA_ENOTFOUND);
    assert_int_equal(store_setup_check(fx->s, d2), PIORA_OK);
    user_rec u;
    assert_int_equal(store_setup_complete(fx->s, d1, "first@example.com", "first",
                                          FIXTURE_FAKE_HASH, 1002, &u),
                     PIORA_ENOTFOUND);
    assert_int_equal(store_setup_complete(fx->s, d2, "first@example.com", "first",
                                          FIXTURE_FAKE_HASH, 1002, &u),
                     PIORA_OK);
    assert_true(u.is_admin);
    assert_string_equal(u.team_name, "first");
    /* used, and a user exists now */
    assert_int_equal(store_setup_check(fx->s, d2), PIORA_ENOTFOUND);
    assert_int_equal(store_setup_complete(fx->s, d2, "second@example.com", "first",
                                          FIXTURE_FAKE_HASH, 1003, &u),
                     PIORA_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_secret, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
