/* The sign-in service: one answer for an unknown email and a wrong
 * password, a session only for the right one, and an audit entry for each
 * attempt, the setup session and the sign-out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/audit.h"
#include "core/signin.h"
#include "core/users.h"
#include "util/log.h"
#include "fixture.h"

static const char pw[] = "a fine long password";

typedef struct fx {
    fixture_db db;
    user_rec u;
    uint8_t digest[SESSION_DIGEST_LEN];
    signin_session ss;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->db.s = fixture_db_open(f->db.dir, f->db.path, "signin");
    if (!f->db.s)
        return -1;
    user_create_req rq = {.email = "sam@example.com", .team = "acme", .password = pw,
                          .password_len = strlen(pw)};
    if (users_create(f->db.s, &(actor){.channel = CHANNEL_CLI}, &rq, &f->u, NULL) != PIORA_OK)
        return -1;
    memset(f->digest, 9, sizeof f->digest);
    f->ss = (signin_session){.digest = f->digest, .csrf = "csrf-token", .lifetime_s = 3600,
                             .idle_s = 600};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->db.s);
    fixture_db_remove(f->db.dir, f->db.path);
    free(f);
    return 0;
}

/* Entry i (0: newest) of the audit log; *keep is the array to decref. */
static json_t *entry(fx *f, size_t i, json_t **keep)
{
    int64_t total = 0;
    assert_int_equal(audit_list(f->db.s, 0, 0, 100, keep, &total), PIORA_OK);
    return json_array_get(*keep, i);
}

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void test_wrong_password_and_unknown_email(void **state)
{
    fx *f = *state;
    actor who = {.channel = CHANNEL_DASHBOARD, .addr = "192.0.2.44"};
    user_rec u;
    session_rec s;
    const char wrong[] = "not the password";
    assert_int_equal(signin_password(f->db.s, &who, "Sam@Example.com", wrong, strlen(wrong),
                                     &f->ss, &u, &s),
                     PIORA_EAUTH);
    assert_int_equal(signin_password(f->db.s, &who, "ghost@example.com", pw, strlen(pw), &f->ss,
                                     &u, &s),
                     PIORA_EAUTH);
    assert_int_equal(signin_password(f->db.s, &who, "no email at all", pw, strlen(pw), &f->ss,
                                     &u, &s),
                     PIORA_EAUTH);
    session_rec got;
    assert_int_equal(store_session_by_digest(f->db.s, f->digest, &got), PIORA_ENOTFOUND);

    json_t *items;
    json_t *o = entry(f, 0, &items);
    assert_string_equal(str_of(o, "action"), "signin.failed");
    assert_string_equal(str_of(o, "email"), "no email at all"); /* as typed */
    assert_true(json_is_null(json_object_get(o, "team_id")));
    o = json_array_get(items, 1);
    assert_string_equal(str_of(o, "email"), "ghost@example.com");
    o = json_array_get(items, 2);
    assert_string_equal(str_of(o, "action"), "signin.failed");
    assert_string_equal(str_of(o, "via"), "dashboard");
    assert_string_equal(str_of(o, "email"), "sam@example.com"); /* normalized */
    assert_int_equal(json_integer_value(json_object_get(o, "team_id")), f->u.team_id);
    assert_true(json_is_null(json_object_get(o, "actor")));
    assert_string_equal(str_of(o, "addr"), "192.0.2.44");
    json_decref(items);
}

static void test_signin_then_signout(void **state)
{
    fx *f = *state;
    actor who = {.channel = CHANNEL_DASHBOARD, .addr = "192.0.2.45"};
    user_rec u;
    session_rec s;
    assert_int_equal(signin_password(f->db.s, &who, "SAM@example.com", pw, strlen(pw), &f->ss,
                                     &u, &s),
                     PIORA_OK);
    assert_int_equal(u.id, f->u.id);
    assert_string_equal(s.csrf, "csrf-token");
    session_rec got;
    assert_int_equal(store_session_by_digest(f->db.s, f->digest, &got), PIORA_OK);
    assert_int_equal(got.user_id, f->u.id);
    assert_int_equal(got.expires_at - got.created_at, 3600);

    json_t *items;
    json_t *o = entry(f, 0, &items);
    assert_string_equal(str_of(o, "action"), "signin");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "actor"), "id")),
                     f->u.id);
    assert_string_equal(str_of(o, "addr"), "192.0.2.45");
    json_decref(items);

    actor signed_in = {.channel = CHANNEL_DASHBOARD, .user_id = u.id, .team_id = u.team_id,
                       .email = u.email, .addr = "192.0.2.46"};
    assert_int_equal(signin_end(f->db.s, &signed_in, s.id), PIORA_OK);
    assert_int_equal(store_session_by_digest(f->db.s, f->digest, &got), PIORA_ENOTFOUND);
    o = entry(f, 0, &items);
    assert_string_equal(str_of(o, "action"), "signout");
    assert_string_equal(str_of(o, "email"), "sam@example.com");
    assert_string_equal(str_of(o, "addr"), "192.0.2.46");
    json_decref(items);
}

/* The setup page's session: the new admin is the actor of its sign-in. */
static void test_start_records_the_user(void **state)
{
    fx *f = *state;
    actor setup = {.channel = CHANNEL_SETUP, .addr = "127.0.0.1"};
    session_rec s;
    assert_int_equal(signin_start(f->db.s, &setup, &f->u, &f->ss, &s), PIORA_OK);
    json_t *items;
    json_t *o = entry(f, 0, &items);
    assert_string_equal(str_of(o, "action"), "signin");
    assert_string_equal(str_of(o, "via"), "setup");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "actor"), "id")),
                     f->u.id);
    assert_true(json_is_null(json_object_get(o, "subject_user_id")));
    json_decref(items);
}

static void test_email_key(void **state)
{
    (void)state;
    char out[EMAIL_MAX + 1];
    assert_true(signin_email("Bob@Example.COM", out));
    assert_string_equal(out, "bob@example.com");
    assert_false(signin_email("Not An Email", out));
    assert_string_equal(out, "Not An Email");
    assert_false(signin_email(NULL, out));
    assert_string_equal(out, "");
    char big[EMAIL_MAX + 20];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(signin_email(big, out));
    assert_int_equal(strlen(out), EMAIL_MAX);
}

/* First-run setup: open while there is no user, one secret at a time. */
static void test_setup_secret(void **state)
{
    (void)state;
    char dir[FIXTURE_DIR_MAX], path[FIXTURE_PATH_MAX];
    store_t *s = fixture_db_open(dir, path, "setup");
    assert_non_null(s);
    bool open = false;
    assert_int_equal(signin_setup_open(s, &open), PIORA_OK);
    assert_true(open);
    uint8_t d1[SESSION_DIGEST_LEN], d2[SESSION_DIGEST_LEN];
    memset(d1, 1, sizeof d1);
    memset(d2, 2, sizeof d2);
    assert_int_equal(signin_setup_check(s, d1), PIORA_ENOTFOUND);
    assert_int_equal(signin_setup_offer(s, d1), PIORA_OK);
    assert_int_equal(signin_setup_check(s, d1), PIORA_OK);
    /* A new offer replaces the unused one. */
    assert_int_equal(signin_setup_offer(s, d2), PIORA_OK);
    assert_int_equal(signin_setup_check(s, d1), PIORA_ENOTFOUND);
    assert_int_equal(signin_setup_check(s, d2), PIORA_OK);
    user_create_req rq = {.email = "first@example.com", .team = "acme", .password = pw,
                          .password_len = strlen(pw), .setup_digest = d2};
    user_rec u;
    assert_int_equal(users_create(s, &(actor){.channel = CHANNEL_SETUP}, &rq, &u, NULL), PIORA_OK);
    assert_int_equal(signin_setup_open(s, &open), PIORA_OK);
    assert_false(open);
    assert_int_equal(signin_setup_check(s, d2), PIORA_ENOTFOUND);
    store_close(s);
    fixture_db_remove(dir, path);
}

int main(void)
{
    log_set_level(LOG_WARN);
    signin_init();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_wrong_password_and_unknown_email),
        T(test_signin_then_signout),
        T(test_start_records_the_user),
        cmocka_unit_test(test_email_key),
        cmocka_unit_test(test_setup_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
