/* The account service: users_create and users_set_password are the one
 * place that normalizes, checks, hashes, stores and audits, for the setup
 * page, the members page and `piora user`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/password.h"
#include "core/audit.h"
#include "core/users.h"
#include "util/log.h"
#include "fixture.h"

static const actor cli_actor = {.channel = CHANNEL_CLI};
static const char good_pw[] = "correct horse battery";

/* The newest audit entry; the caller decrefs the array in *keep. */
static json_t *newest_entry(store_t *s, json_t **keep, int64_t *total)
{
    assert_int_equal(audit_list(s, 0, 0, 100, keep, total), PIORA_OK);
    return json_array_get(*keep, 0);
}

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool password_is(store_t *s, int64_t user_id, const char *pw)
{
    char hash[PASSWORD_HASH_MAX];
    assert_int_equal(store_user_password_hash(s, user_id, hash, sizeof hash), PIORA_OK);
    return password_verify(hash, pw, strlen(pw));
}

static void test_create_normalizes_hashes_and_audits(void **state)
{
    fixture_db *fx = *state;
    actor admin = {.channel = CHANNEL_DASHBOARD, .user_id = 0, .addr = "192.0.2.1"};
    user_rec boss;
    assert_true(fixture_user(fx->s, "boss@example.com", "acme", true, &boss));
    admin.user_id = boss.id;
    admin.team_id = boss.team_id;
    user_create_req rq = {.email = "  Alice@Example.COM", .team = "acme", .password = good_pw,
                          .password_len = strlen(good_pw)};
    user_rec u;
    unsigned bad = 0;
    /* Leading spaces are not an email: the rule is the CLI's and the dashboard's. */
    assert_int_equal(users_create(fx->s, &admin, &rq, &u, &bad), PIORA_EINVALID);
    assert_int_equal(bad, USERS_BAD_EMAIL);

    rq.email = "Alice@Example.COM";
    assert_int_equal(users_create(fx->s, &admin, &rq, &u, &bad), PIORA_OK);
    assert_int_equal(bad, 0);
    assert_string_equal(u.email, "alice@example.com");
    assert_int_equal(u.team_id, boss.team_id);
    assert_false(u.is_admin);
    assert_true(password_is(fx->s, u.id, good_pw));

    json_t *items;
    int64_t total;
    json_t *o = newest_entry(fx->s, &items, &total);
    assert_int_equal(total, 1);
    assert_string_equal(str_of(o, "action"), "user.created");
    assert_string_equal(str_of(o, "via"), "dashboard");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "actor"), "id")),
                     boss.id);
    assert_int_equal(json_integer_value(json_object_get(o, "subject_user_id")), u.id);
    assert_string_equal(str_of(o, "email"), "alice@example.com");
    assert_string_equal(str_of(o, "addr"), "192.0.2.1");
    json_decref(items);

    /* The same email in any case is a duplicate, and records nothing. */
    rq.email = "ALICE@example.com";
    assert_int_equal(users_create(fx->s, &cli_actor, &rq, &u, &bad), PIORA_ECONFLICT);
    newest_entry(fx->s, &items, &total);
    json_decref(items);
    assert_int_equal(total, 1);
}

static void test_create_reports_every_bad_field(void **state)
{
    fixture_db *fx = *state;
    user_create_req rq = {.email = "not an email", .team = "", .password = "short",
                          .password_len = 5};
    unsigned bad = 0;
    assert_int_equal(users_create(fx->s, &cli_actor, &rq, NULL, &bad), PIORA_EINVALID);
    assert_int_equal(bad, USERS_BAD_EMAIL | USERS_BAD_TEAM | USERS_BAD_PASSWORD);

    char control[] = "red\x01team";
    rq = (user_create_req){.email = "a@example.com", .team = control, .password = good_pw,
                           .password_len = strlen(good_pw)};
    assert_int_equal(users_create(fx->s, &cli_actor, &rq, NULL, &bad), PIORA_EINVALID);
    assert_int_equal(bad, USERS_BAD_TEAM);

    static char longpw[PASSWORD_MAX_LEN + 2];
    memset(longpw, 'x', sizeof longpw - 1);
    rq = (user_create_req){.email = "a@example.com", .team = "red", .password = longpw,
                           .password_len = strlen(longpw)};
    assert_int_equal(users_create(fx->s, &cli_actor, &rq, NULL, &bad), PIORA_EINVALID);
    assert_int_equal(bad, USERS_BAD_PASSWORD);
    rq.password = NULL;
    assert_int_equal(users_create(fx->s, &cli_actor, &rq, NULL, &bad), PIORA_EINVALID);
    assert_int_equal(bad, USERS_BAD_PASSWORD);

    json_t *items = NULL;
    int64_t total = -1;
    assert_int_equal(audit_list(fx->s, 0, 0, 10, &items, &total), PIORA_OK);
    assert_int_equal(total, 0); /* nothing was created, nothing recorded */
    json_decref(items);
}

static void test_create_from_cli_makes_the_team(void **state)
{
    fixture_db *fx = *state;
    user_create_req rq = {.email = "ops@example.com", .team = "night shift", .is_admin = true,
                          .password = good_pw, .password_len = strlen(good_pw)};
    user_rec u;
    assert_int_equal(users_create(fx->s, &cli_actor, &rq, &u, NULL), PIORA_OK);
    assert_true(u.is_admin);
    assert_string_equal(u.team_name, "night shift");
    json_t *items;
    int64_t total;
    json_t *o = newest_entry(fx->s, &items, &total);
    assert_string_equal(str_of(o, "via"), "cli");
    assert_true(json_is_null(json_object_get(o, "actor")));
    assert_true(json_is_null(json_object_get(o, "addr")));
    assert_int_equal(json_integer_value(json_object_get(o, "team_id")), u.team_id);
    json_decref(items);
}

/* First-run setup: the link is consumed with the creation, once; the first
 * admin is their own actor. */
static void test_create_through_setup(void **state)
{
    fixture_db *fx = *state;
    uint8_t digest[SESSION_DIGEST_LEN];
    memset(digest, 7, sizeof digest);
    assert_int_equal(store_setup_put(fx->s, digest, 100), PIORA_OK);
    actor setup = {.channel = CHANNEL_SETUP, .addr = "127.0.0.1"};
    user_create_req rq = {.email = "First@Example.com", .team = "acme", .password = good_pw,
                          .password_len = strlen(good_pw), .setup_digest = digest};
    user_rec u;
    assert_int_equal(users_create(fx->s, &setup, &rq, &u, NULL), PIORA_OK);
    assert_true(u.is_admin);
    assert_string_equal(u.email, "first@example.com");
    json_t *items;
    int64_t total;
    json_t *o = newest_entry(fx->s, &items, &total);
    assert_string_equal(str_of(o, "action"), "user.created");
    assert_string_equal(str_of(o, "via"), "setup");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "actor"), "id")),
                     u.id);
    assert_string_equal(str_of(o, "addr"), "127.0.0.1");
    json_decref(items);

    rq.email = "second@example.com";
    assert_int_equal(users_create(fx->s, &setup, &rq, &u, NULL), PIORA_ENOTFOUND);
}

static void test_set_password(void **state)
{
    fixture_db *fx = *state;
    user_create_req rq = {.email = "pat@example.com", .team = "acme", .password = good_pw,
                          .password_len = strlen(good_pw)};
    user_rec u;
    assert_int_equal(users_create(fx->s, &cli_actor, &rq, &u, NULL), PIORA_OK);
    session_rec keep, other;
    uint8_t d1[SESSION_DIGEST_LEN], d2[SESSION_DIGEST_LEN];
    memset(d1, 1, sizeof d1);
    memset(d2, 2, sizeof d2);
    assert_int_equal(store_session_insert(fx->s, d1, u.id, "c1", 10, 100000, NULL, &keep),
                     PIORA_OK);
    assert_int_equal(store_session_insert(fx->s, d2, u.id, "c2", 10, 100000, NULL, &other),
                     PIORA_OK);

    actor pat = {.channel = CHANNEL_DASHBOARD, .user_id = u.id, .team_id = u.team_id,
                 .email = u.email, .addr = "192.0.2.9"};
    const char nw[] = "a brand new password";
    password_set_req pr = {.user_id = u.id, .current = "wrong guess", .password = "x",
                           .password_len = 1, .keep_session_id = keep.id};
    unsigned bad = 0;
    assert_int_equal(users_set_password(fx->s, &pat, &pr, &bad), PIORA_EINVALID);
    assert_int_equal(bad, USERS_BAD_CURRENT | USERS_BAD_PASSWORD);
    pr.current = good_pw;
    assert_int_equal(users_set_password(fx->s, &pat, &pr, &bad), PIORA_EINVALID);
    assert_int_equal(bad, USERS_BAD_PASSWORD);
    assert_true(password_is(fx->s, u.id, good_pw)); /* unchanged */

    pr.password = nw;
    pr.password_len = strlen(nw);
    assert_int_equal(users_set_password(fx->s, &pat, &pr, &bad), PIORA_OK);
    assert_true(password_is(fx->s, u.id, nw));
    session_rec got;
    assert_int_equal(store_session_by_digest(fx->s, d1, &got), PIORA_OK);
    assert_int_equal(store_session_by_digest(fx->s, d2, &got), PIORA_ENOTFOUND);

    json_t *items;
    int64_t total;
    json_t *o = newest_entry(fx->s, &items, &total);
    assert_int_equal(total, 2); /* user.created, password.changed: no entry for refusals */
    assert_string_equal(str_of(o, "action"), "password.changed");
    assert_string_equal(str_of(o, "via"), "dashboard");
    assert_int_equal(json_integer_value(json_object_get(o, "subject_user_id")), u.id);
    assert_string_equal(str_of(o, "email"), "pat@example.com");
    assert_string_equal(str_of(o, "addr"), "192.0.2.9");
    json_decref(items);

    /* The CLI on the machine is not asked for the current password, and a
     * reset there ends every session of the user (issue 8 item 6). */
    password_set_req cr = {.user_id = u.id, .password = good_pw, .password_len = strlen(good_pw)};
    assert_int_equal(users_set_password(fx->s, &cli_actor, &cr, NULL), PIORA_OK);
    assert_true(password_is(fx->s, u.id, good_pw));
    assert_int_equal(store_session_by_digest(fx->s, d1, &got), PIORA_ENOTFOUND);
    o = newest_entry(fx->s, &items, &total);
    assert_string_equal(str_of(o, "via"), "cli");
    assert_true(json_is_null(json_object_get(o, "actor")));
    json_decref(items);

    cr.user_id = 999999;
    assert_int_equal(users_set_password(fx->s, &cli_actor, &cr, NULL), PIORA_ENOTFOUND);
}
/* A team sees only its own members (the dashboard's members page). */
static void test_list_team(void **state)
{
    fixture_db *fx = *state;
    user_rec a, b, c;
    assert_true(fixture_user(fx->s, "a@example.com", "acme", true, &a));
    assert_true(fixture_user(fx->s, "b@example.com", "other", false, &b));
    assert_true(fixture_user(fx->s, "c@example.com", "acme", false, &c));
    user_rec *v = NULL;
    size_t n = 0;
    assert_int_equal(users_list_team(fx->s, a.team_id, &v, &n), PIORA_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, a.id);
    assert_int_equal(v[1].id, c.id);
    free(v);
    assert_int_equal(users_list_team(fx->s, b.team_id, &v, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].email, "b@example.com");
    free(v);
}

static int setup(void **state) { return fixture_db_setup(state, "users"); }

int main(void)
{
    log_set_level(LOG_WARN);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_db_teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_normalizes_hashes_and_audits),
        T(test_create_reports_every_bad_field),
        T(test_create_from_cli_makes_the_team),
        T(test_create_through_setup),
        T(test_set_password),
        T(test_list_team),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
