/* Conformance, jobs section: team SSH keys (current + previous, rotation,
 * dropping the previous one, one current per team, teams apart). */
#include "store_fixture.h"

static sshkey_rec key(const char *tag, int64_t at)
{
    sshkey_rec k = {.created_at = at};
    snprintf(k.public_key, sizeof k.public_key, "ssh-ed25519 AAAA%s piora-t", tag);
    snprintf(k.fingerprint, sizeof k.fingerprint, "SHA256:%s", tag);
    memset(k.sealed, tag[0], 80);
    k.sealed_len = 80;
    return k;
}

static void test_sshkeys(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "keys-a@example.com", "keys-a");
    user_rec b = make_user(fx->s, "keys-b@example.com", "keys-b");
    sshkey_rec got[2];
    size_t n = 9;
    assert_int_equal(store_sshkey_get(fx->s, a.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 0);

    sshkey_rec k1 = key("one", 1000);
    assert_int_equal(store_sshkey_put_first(fx->s, a.team_id, &k1), PIORA_OK);
    sshkey_rec again = key("two", 1001);
    assert_int_equal(store_sshkey_put_first(fx->s, a.team_id, &again), PIORA_ECONFLICT);
    assert_int_equal(store_sshkey_get(fx->s, a.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_true(got[0].is_current);
    assert_string_equal(got[0].fingerprint, "SHA256:one");
    assert_int_equal(got[0].sealed_len, 80);
    assert_int_equal(got[0].sealed[79], 'o');
    assert_int_equal(got[0].created_at, 1000);
    assert_int_equal(store_sshkey_delete_previous(fx->s, a.team_id), PIORA_ENOTFOUND);

    /* another team is apart */
    assert_int_equal(store_sshkey_get(fx->s, b.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 0);

    sshkey_rec k2 = key("two", 1002);
    assert_int_equal(store_sshkey_rotate(fx->s, a.team_id, &k2), PIORA_OK);
    assert_int_equal(store_sshkey_get(fx->s, a.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 2);
    assert_true(got[0].is_current);
    assert_string_equal(got[0].fingerprint, "SHA256:two");
    assert_false(got[1].is_current);
    assert_string_equal(got[1].fingerprint, "SHA256:one");

    sshkey_rec k3 = key("three", 1003);
    assert_int_equal(store_sshkey_rotate(fx->s, a.team_id, &k3), PIORA_OK);
    assert_int_equal(store_sshkey_get(fx->s, a.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 2);
    assert_string_equal(got[0].fingerprint, "SHA256:three");
    assert_string_equal(got[1].fingerprint, "SHA256:two");

    assert_int_equal(store_sshkey_delete_previous(fx->s, a.team_id), PIORA_OK);
    assert_int_equal(store_sshkey_get(fx->s, a.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].fingerprint, "SHA256:three");

    sshkey_rec bad = key("bad", 1);
    bad.sealed_len = 0;
    assert_int_equal(store_sshkey_put_first(fx->s, b.team_id, &bad), PIORA_EINVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sshkeys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
