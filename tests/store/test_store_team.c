/* Conformance, team section (issue 13): offboarding revokes a user's
 * tokens and deletes their sessions in one step, a team keeps an admin who
 * can sign in, removal and roles, invitations (one pending link per email,
 * used once), the sudo mode's re-authentication time and two-factor
 * sign-in (a pending key, single-use steps and recovery codes), also with
 * two connections (two nodes) demoting a team's two admins at once, or
 * using one TOTP code or one invitation link at once. */
#include <pthread.h>

#include "store_fixture.h"

static void test_offboard(void **state)
{
    fixture *fx = *state;
    user_rec admin;
    assert_int_equal(store_user_create(fx->s, "ada@t.test", "t", true, "h", &admin), PIORA_OK);
    user_rec bob = make_user(fx->s, "bob@t.test", "t");
    user_rec other = make_user(fx->s, "eve@u.test", "u");
    token_rec t1 = make_token(fx->s, bob.id, 1, 0);
    token_rec t2 = make_token(fx->s, bob.id, 2, 0);
    token_rec t3 = make_token(fx->s, other.id, 3, 0);
    assert_int_equal(store_token_revoke(fx->s, t2.id, 500), PIORA_OK);
    uint8_t d[SESSION_DIGEST_LEN];
    memset(d, 7, sizeof d);
    session_rec sess;
    assert_int_equal(store_session_insert(fx->s, d, bob.id, "c", 100, 9000, NULL, &sess), PIORA_OK);

    int64_t revoked = -1;
    assert_int_equal(store_user_offboard(fx->s, bob.id, false, 1000, &revoked), PIORA_OK);
    assert_int_equal(revoked, 1); /* t2 was revoked already and keeps its time */
    token_rec t;
    assert_int_equal(store_token_by_id(fx->s, t1.id, &t), PIORA_OK);
    assert_int_equal(t.revoked_at, 1000);
    assert_int_equal(store_token_by_id(fx->s, t2.id, &t), PIORA_OK);
    assert_int_equal(t.revoked_at, 500);
    assert_int_equal(store_token_by_id(fx->s, t3.id, &t), PIORA_OK);
    assert_int_equal(t.revoked_at, 0);
    assert_int_equal(store_session_by_digest(fx->s, d, &sess), PIORA_ENOTFOUND);
    user_rec u;
    assert_int_equal(store_user_by_id(fx->s, bob.id, &u), PIORA_OK);
    assert_int_equal(u.disabled_at, 1000);
    assert_int_equal(u.removed_at, 0);
    /* Again: nothing new, the first time kept. */
    assert_int_equal(store_user_offboard(fx->s, bob.id, false, 2000, &revoked), PIORA_OK);
    assert_int_equal(revoked, 0);
    assert_int_equal(store_user_by_id(fx->s, bob.id, &u), PIORA_OK);
    assert_int_equal(u.disabled_at, 1000);

    assert_int_equal(store_user_enable(fx->s, bob.id), PIORA_OK);
    assert_int_equal(store_user_by_id(fx->s, bob.id, &u), PIORA_OK);
    assert_int_equal(u.disabled_at, 0);
    assert_int_equal(store_token_by_id(fx->s, t1.id, &t), PIORA_OK);
    assert_int_equal(t.revoked_at, 1000); /* enabling revives no token */

    assert_int_equal(store_user_offboard(fx->s, bob.id, true, 3000, NULL), PIORA_OK);
    assert_int_equal(store_user_by_id(fx->s, bob.id, &u), PIORA_OK);
    assert_int_equal(u.removed_at, 3000);
    assert_true(u.disabled_at != 0);
    assert_int_equal(store_user_offboard(fx->s, bob.id, true, 4000, NULL), PIORA_ENOTFOUND);
    assert_int_equal(store_user_enable(fx->s, bob.id), PIORA_ENOTFOUND);
    assert_int_equal(store_user_set_admin(fx->s, bob.id, true), PIORA_ENOTFOUND);
    assert_int_equal(store_user_offboard(fx->s, 9999, false, 1, NULL), PIORA_ENOTFOUND);
}

static void test_last_admin(void **state)
{
    fixture *fx = *state;
    user_rec a, b;
    assert_int_equal(store_user_create(fx->s, "a@t.test", "t", true, "h", &a), PIORA_OK);
    assert_int_equal(store_user_create(fx->s, "b@t.test", "t", false, "h", &b), PIORA_OK);
    user_rec z;
    assert_int_equal(store_user_create(fx->s, "z@u.test", "u", true, "h", &z), PIORA_OK);
    token_rec t = make_token(fx->s, a.id, 1, 0);
    /* Another team's admin does not count. */
    assert_int_equal(store_user_offboard(fx->s, a.id, false, 10, NULL), PIORA_ECONFLICT);
    assert_int_equal(store_user_offboard(fx->s, a.id, true, 10, NULL), PIORA_ECONFLICT);
    assert_int_equal(store_user_set_admin(fx->s, a.id, false), PIORA_ECONFLICT);
    token_rec now;
    assert_int_equal(store_token_by_id(fx->s, t.id, &now), PIORA_OK);
    assert_int_equal(now.revoked_at, 0); /* a refused offboarding changes nothing */

    assert_int_equal(store_user_set_admin(fx->s, b.id, true), PIORA_OK);
    user_rec u;
    assert_int_equal(store_user_by_id(fx->s, b.id, &u), PIORA_OK);
    assert_true(u.is_admin);
    /* A disabled admin is no admin who can sign in. */
    assert_int_equal(store_user_offboard(fx->s, b.id, false, 20, NULL), PIORA_OK);
    assert_int_equal(store_user_set_admin(fx->s, a.id, false), PIORA_ECONFLICT);
    assert_int_equal(store_user_enable(fx->s, b.id), PIORA_OK);
    assert_int_equal(store_user_set_admin(fx->s, a.id, false), PIORA_OK);
    assert_int_equal(store_user_by_id(fx->s, a.id, &u), PIORA_OK);
    assert_false(u.is_admin);
    assert_int_equal(store_user_offboard(fx->s, a.id, false, 30, NULL), PIORA_OK);
}

static void test_invites(void **state)
{
    fixture *fx = *state;
    user_rec a;
    assert_int_equal(store_user_create(fx->s, "a@t.test", "t", true, "h", &a), PIORA_OK);
    user_rec z = make_user(fx->s, "z@u.test", "u");
    uint8_t d1[SESSION_DIGEST_LEN], d2[SESSION_DIGEST_LEN], d3[SESSION_DIGEST_LEN];
    memset(d1, 1, sizeof d1);
    memset(d2, 2, sizeof d2);
    memset(d3, 3, sizeof d3);
    invite_rec i1, i2, got;
    assert_int_equal(store_invite_create(fx->s, a.team_id, "n@t.test", true, a.id, d1, 100, 200, &i1),
                     PIORA_OK);
    assert_string_equal(i1.email, "n@t.test");
    assert_string_equal(i1.team_name, "t");
    assert_true(i1.is_admin);
    assert_int_equal(i1.invited_by, a.id);
    assert_int_equal(store_invite_create(fx->s, a.team_id, "a@t.test", false, a.id, d3, 100, 200,
                                         NULL),
                     PIORA_ECONFLICT); /* a user has it */
    assert_int_equal(store_invite_by_digest(fx->s, d1, 150, &got), PIORA_OK);
    assert_int_equal(got.id, i1.id);
    assert_int_equal(store_invite_by_digest(fx->s, d1, 200, &got), PIORA_ENOTFOUND); /* expired */
    /* A newer invitation of the same email replaces the older. */
    assert_int_equal(store_invite_create(fx->s, a.team_id, "n@t.test", false, 0, d2, 110, 300, &i2),
                     PIORA_OK);
    assert_int_equal(store_invite_by_digest(fx->s, d1, 150, &got), PIORA_ENOTFOUND);
    invite_rec *v = NULL;
    size_t n = 0;
    assert_int_equal(store_invite_list(fx->s, a.team_id, 150, &v, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, i2.id);
    free(v);
    assert_int_equal(store_invite_list(fx->s, z.team_id, 150, &v, &n), PIORA_OK);
    assert_int_equal(n, 0);
    free(v);
    assert_int_equal(store_invite_revoke(fx->s, z.team_id, i2.id, 150, NULL), PIORA_ENOTFOUND);

    user_rec u;
    assert_int_equal(store_invite_accept(fx->s, d2, "$argon2id$x", 160, &u), PIORA_OK);
    assert_string_equal(u.email, "n@t.test");
    assert_int_equal(u.team_id, a.team_id);
    assert_false(u.is_admin);
    assert_int_equal(store_invite_accept(fx->s, d2, "$argon2id$x", 161, &u), PIORA_ENOTFOUND);
    assert_int_equal(store_invite_revoke(fx->s, a.team_id, i2.id, 170, NULL), PIORA_ENOTFOUND);

    assert_int_equal(store_invite_create(fx->s, a.team_id, "m@t.test", false, 0, d3, 100, 300, &i1),
                     PIORA_OK);
    assert_int_equal(store_invite_revoke(fx->s, a.team_id, i1.id, 170, &got), PIORA_OK);
    assert_string_equal(got.email, "m@t.test");
    assert_int_equal(store_invite_accept(fx->s, d3, "$argon2id$x", 171, &u), PIORA_ENOTFOUND);
}

static void test_reauth(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "a@t.test", "t");
    uint8_t d[SESSION_DIGEST_LEN];
    memset(d, 9, sizeof d);
    session_rec s;
    assert_int_equal(store_session_insert(fx->s, d, a.id, "c", 1000, 9000, NULL, &s), PIORA_OK);
    assert_int_equal(s.auth_at, 1000);
    assert_int_equal(store_session_by_digest(fx->s, d, &s), PIORA_OK);
    assert_int_equal(s.auth_at, 1000); /* the sign-in is the first password check */
    assert_int_equal(store_session_reauth(fx->s, s.id, 2000), PIORA_OK);
    assert_int_equal(store_session_by_digest(fx->s, d, &s), PIORA_OK);
    assert_int_equal(s.auth_at, 2000);
    assert_int_equal(s.created_at, 1000);
    assert_int_equal(store_session_reauth(fx->s, 9999, 2000), PIORA_ENOTFOUND);
}

static void test_totp(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "a@t.test", "t");
    char key[64];
    int64_t last = -1;
    assert_int_equal(store_totp_get(fx->s, a.id, false, key, sizeof key, &last), PIORA_ENOTFOUND);
    uint8_t d[2][32];
    memset(d[0], 1, 32);
    memset(d[1], 2, 32);
    assert_int_equal(store_totp_enable(fx->s, a.id, 5, (const uint8_t(*)[32])d, 2),
                     PIORA_ENOTFOUND); /* nothing pending */
    assert_int_equal(store_totp_set_pending(fx->s, a.id, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
                     PIORA_OK);
    assert_int_equal(store_totp_get(fx->s, a.id, true, key, sizeof key, NULL), PIORA_OK);
    assert_string_equal(key, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_int_equal(store_totp_get(fx->s, a.id, true, key, 8, NULL), PIORA_ETOOBIG);
    user_rec u;
    assert_int_equal(store_user_by_id(fx->s, a.id, &u), PIORA_OK);
    assert_false(u.totp_on); /* pending is not on */
    assert_int_equal(store_totp_enable(fx->s, a.id, 5, (const uint8_t(*)[32])d, 2), PIORA_OK);
    assert_int_equal(store_totp_get(fx->s, a.id, false, key, sizeof key, &last), PIORA_OK);
    assert_int_equal(last, 5);
    assert_int_equal(store_totp_get(fx->s, a.id, true, key, sizeof key, NULL), PIORA_ENOTFOUND);
    assert_int_equal(store_user_by_id(fx->s, a.id, &u), PIORA_OK);
    assert_true(u.totp_on);
    assert_int_equal(store_totp_use_step(fx->s, a.id, 5), PIORA_ECONFLICT);
    assert_int_equal(store_totp_use_step(fx->s, a.id, 6), PIORA_OK);
    assert_int_equal(store_totp_use_step(fx->s, a.id, 6), PIORA_ECONFLICT);
    assert_int_equal(store_totp_use_recovery(fx->s, a.id, d[1], 100), PIORA_OK);
    assert_int_equal(store_totp_use_recovery(fx->s, a.id, d[1], 101), PIORA_ENOTFOUND);
    uint8_t other[32];
    memset(other, 3, sizeof other);
    assert_int_equal(store_totp_use_recovery(fx->s, a.id, other, 101), PIORA_ENOTFOUND);
    assert_int_equal(store_totp_disable(fx->s, a.id), PIORA_OK);
    assert_int_equal(store_totp_use_recovery(fx->s, a.id, d[0], 102), PIORA_ENOTFOUND);
    assert_int_equal(store_user_by_id(fx->s, a.id, &u), PIORA_OK);
    assert_false(u.totp_on);

    assert_false(u.team_requires_2fa);
    assert_int_equal(store_team_set_require_2fa(fx->s, a.team_id, true), PIORA_OK);
    assert_int_equal(store_user_by_id(fx->s, a.id, &u), PIORA_OK);
    assert_true(u.team_requires_2fa);
    assert_int_equal(store_team_set_require_2fa(fx->s, 9999, true), PIORA_ENOTFOUND);

    uint8_t sd[SESSION_DIGEST_LEN];
    memset(sd, 4, sizeof sd);
    session_rec sess;
    assert_int_equal(store_session_insert(fx->s, sd, a.id, "c", 10, 9000, NULL, &sess), PIORA_OK);
    assert_false(sess.mfa_pending);
    assert_int_equal(store_session_set_mfa_pending(fx->s, sess.id), PIORA_OK);
    assert_int_equal(store_session_by_digest(fx->s, sd, &sess), PIORA_OK);
    assert_true(sess.mfa_pending);
}

/* ---- two nodes at once ----------------------------------------------------- */

typedef struct demoter {
    store_t *s;
    int64_t user_id;
    pthread_barrier_t *start;
    piora_err got;
} demoter;

static void *demote(void *arg)
{
    demoter *d = arg;
    pthread_barrier_wait(d->start);
    d->got = store_user_set_admin(d->s, d->user_id, false);
    return NULL;
}

/* Two admins demoting each other from two nodes at once: one wins, the
 * other is refused, and the team keeps an admin (each time of many). */
static void test_last_admin_race(void **state)
{
    fixture *fx = *state;
    user_rec a, b;
    assert_int_equal(store_user_create(fx->s, "a@t.test", "t", true, "h", &a), PIORA_OK);
    assert_int_equal(store_user_create(fx->s, "b@t.test", "t", true, "h", &b), PIORA_OK);
    const char *url = fixture_store_url();
    char msg[256] = "";
    store_t *node_b = store_open(url ? url : fx->path, msg, sizeof msg);
    assert_non_null(node_b);
    for (int round = 0; round < 20; round++) {
        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
        demoter da = {.s = fx->s, .user_id = b.id, .start = &start};
        demoter db = {.s = node_b, .user_id = a.id, .start = &start};
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, demote, &da), 0);
        assert_int_equal(pthread_create(&tb, NULL, demote, &db), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&start);
        assert_true((da.got == PIORA_OK && db.got == PIORA_ECONFLICT) ||
                    (da.got == PIORA_ECONFLICT && db.got == PIORA_OK));
        user_rec ua, ub;
        assert_int_equal(store_user_by_id(fx->s, a.id, &ua), PIORA_OK);
        assert_int_equal(store_user_by_id(fx->s, b.id, &ub), PIORA_OK);
        assert_true(ua.is_admin != ub.is_admin);
        assert_int_equal(store_user_set_admin(fx->s, ua.is_admin ? b.id : a.id, true), PIORA_OK);
    }
    store_close(node_b);
}

/* Two nodes using one TOTP step, and one invitation, at the same moment. */
typedef struct once_try {
    store_t *s;
    int64_t user_id;
    const uint8_t *digest; /* non-NULL: accept this invitation, else use step 7 */
    pthread_barrier_t *start;
    piora_err got;
} once_try;

static void *use_once(void *arg)
{
    once_try *o = arg;
    pthread_barrier_wait(o->start);
    o->got = o->digest ? store_invite_accept(o->s, o->digest, "$argon2id$x", 150, NULL)
                       : store_totp_use_step(o->s, o->user_id, 7);
    return NULL;
}

static void race_once(store_t *s1, store_t *s2, int64_t user_id, const uint8_t *digest,
                      piora_err *g1, piora_err *g2)
{
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    once_try a = {.s = s1, .user_id = user_id, .digest = digest, .start = &start};
    once_try b = {.s = s2, .user_id = user_id, .digest = digest, .start = &start};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, use_once, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, use_once, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&start);
    *g1 = a.got;
    *g2 = b.got;
}

static void test_single_use_race(void **state)
{
    fixture *fx = *state;
    user_rec a;
    assert_int_equal(store_user_create(fx->s, "a@t.test", "t", true, "h", &a), PIORA_OK);
    const char *url = fixture_store_url();
    char msg[256] = "";
    store_t *node_b = store_open(url ? url : fx->path, msg, sizeof msg);
    assert_non_null(node_b);
    uint8_t d[2][32];
    memset(d, 5, sizeof d);
    assert_int_equal(store_totp_set_pending(fx->s, a.id, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
                     PIORA_OK);
    assert_int_equal(store_totp_enable(fx->s, a.id, 1, (const uint8_t(*)[32])d, 1), PIORA_OK);
    piora_err g1, g2;
    for (int round = 0; round < 10; round++) {
        /* one code, two nodes: exactly one passes */
        assert_int_equal(store_totp_disable(fx->s, a.id), PIORA_OK);
        assert_int_equal(store_totp_set_pending(fx->s, a.id, "GEZDGNBVGY3TQOJQ"), PIORA_OK);
        assert_int_equal(store_totp_enable(fx->s, a.id, 1, (const uint8_t(*)[32])d, 1), PIORA_OK);
        race_once(fx->s, node_b, a.id, NULL, &g1, &g2);
        assert_true((g1 == PIORA_OK && g2 == PIORA_ECONFLICT) ||
                    (g1 == PIORA_ECONFLICT && g2 == PIORA_OK));
        /* one link, two nodes: one user made, the other finds it used */
        uint8_t link[SESSION_DIGEST_LEN];
        memset(link, 0x40 + round, sizeof link);
        char email[32];
        snprintf(email, sizeof email, "n%d@t.test", round);
        assert_int_equal(store_invite_create(fx->s, a.team_id, email, false, a.id, link, 100, 200,
                                             NULL),
                         PIORA_OK);
        race_once(fx->s, node_b, 0, link, &g1, &g2);
        assert_true((g1 == PIORA_OK && g2 == PIORA_ENOTFOUND) ||
                    (g1 == PIORA_ENOTFOUND && g2 == PIORA_OK));
        user_rec u;
        assert_int_equal(store_user_by_email(fx->s, email, &u), PIORA_OK);
    }
    store_close(node_b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_offboard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_admin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_admin_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_use_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invites, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reauth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_totp, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
