/* Conformance, users section: teams made on first use, unique emails,
 * password hashes, listing and counting. */
#include "store_fixture.h"

static void test_users(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    user_rec b = make_user(fx->s, "bob@example.com", "acme");
    user_rec c = make_user(fx->s, "carol@example.com", "Acme"); /* exact name: another team */
    assert_true(a.id > 0 && b.id > a.id);
    assert_int_equal(a.team_id, b.team_id);
    assert_int_not_equal(a.team_id, c.team_id);
    assert_string_equal(a.team_name, "acme");
    assert_string_equal(a.email, "alice@example.com");
    assert_false(a.is_admin);

    user_rec u;
    assert_int_equal(store_user_create(fx->s, "ALICE@example.com", "ghost", true, "h", &u),
                     PIORA_ECONFLICT);
    if (fixture_is_sqlite(fx)) { /* the file behind the interface */
        sqlite3 *db = raw_open(fx);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM teams WHERE name = 'ghost'"), 0);
        sqlite3_close(db);
    }

    assert_int_equal(store_user_by_email(fx->s, "Alice@Example.com", &u), PIORA_OK);
    assert_int_equal(u.id, a.id);
    assert_int_equal(store_user_by_email(fx->s, "nobody@example.com", &u), PIORA_ENOTFOUND);
    assert_int_equal(store_user_by_id(fx->s, b.id, &u), PIORA_OK);
    assert_string_equal(u.email, "bob@example.com");
    assert_int_equal(store_user_by_id(fx->s, 999, &u), PIORA_ENOTFOUND);

    char hash[256];
    assert_int_equal(store_user_password_hash(fx->s, a.id, hash, sizeof hash), PIORA_OK);
    assert_string_equal(hash, "$argon2id$hash");
    assert_int_equal(store_user_set_password(fx->s, a.id, "$argon2id$new"), PIORA_OK);
    assert_int_equal(store_user_password_hash(fx->s, a.id, hash, sizeof hash), PIORA_OK);
    assert_string_equal(hash, "$argon2id$new");
    assert_int_equal(store_user_set_password(fx->s, 999, "x"), PIORA_ENOTFOUND);

    user_rec *list = NULL;
    size_t n = 0;
    assert_int_equal(store_user_list(fx->s, &list, &n), PIORA_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, a.id);
    assert_int_equal(list[2].id, c.id);
    assert_string_equal(list[2].team_name, "Acme");
    free(list);
    int64_t cnt;
    assert_int_equal(store_user_count(fx->s, &cnt), PIORA_OK);
    assert_int_equal(cnt, 3);

    user_rec admin;
    assert_int_equal(store_user_create(fx->s, "root@example.com", "ops", true, "h", &admin),
                     PIORA_OK);
    assert_true(admin.is_admin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
