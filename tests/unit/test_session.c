/* Dashboard sessions and CSRF: the pure rules of web/session.c (secrets,
 * cookie parsing and attributes, idle and absolute expiry, the CSRF compare,
 * the Origin / Sec-Fetch-Site check), and the session and one-time setup
 * storage on a real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "util/log.h"
#include "auth/session.h"
#include "authn/session.h"
#include "fixture.h"


/* ---- secrets and cookies ------------------------------------------------ */

static void test_secret_shape_and_uniqueness(void **st)
{
    (void)st;
    char a[SESSION_SECRET_LEN + 1], b[SESSION_SECRET_LEN + 1];
    session_secret(a);
    session_secret(b);
    assert_int_equal(strlen(a), SESSION_SECRET_LEN);
    assert_true(session_secret_valid(a, strlen(a)));
    assert_string_not_equal(a, b);
    assert_false(session_secret_valid(a, SESSION_SECRET_LEN - 1));
    char bad[SESSION_SECRET_LEN + 1];
    memcpy(bad, a, sizeof bad);
    bad[5] = '=';
    assert_false(session_secret_valid(bad, SESSION_SECRET_LEN));
}

static void test_cookie_parse(void **st)
{
    (void)st;
    char id[SESSION_SECRET_LEN + 1], out[SESSION_SECRET_LEN + 1], h[256];
    session_secret(id);
    snprintf(h, sizeof h, "theme=dark; piora_session=%s; other=1", id);
    assert_true(session_cookie_get(h, out));
    assert_string_equal(out, id);
    snprintf(h, sizeof h, "piora_session=%s", id);
    assert_true(session_cookie_get(h, out));
    /* a cookie whose name merely ends in piora_session is not ours */
    snprintf(h, sizeof h, "xpiora_session=%s", id);
    assert_false(session_cookie_get(h, out));
    /* forged shapes cost no lookup */
    assert_false(session_cookie_get("piora_session=short", out));
    assert_false(session_cookie_get("piora_session=", out));
    assert_false(session_cookie_get("", out));
    assert_false(session_cookie_get(NULL, out));
    snprintf(h, sizeof h, "piora_session=%s'", id);
    assert_false(session_cookie_get(h, out));
}

static void test_cookie_attributes(void **st)
{
    (void)st;
    char v[SET_COOKIE_MAX], id[SESSION_SECRET_LEN + 1];
    session_secret(id);
    session_cookie_format(v, id, 43200, false);
    assert_non_null(strstr(v, id));
    assert_non_null(strstr(v, "; HttpOnly"));
    assert_non_null(strstr(v, "; SameSite=Strict"));
    assert_non_null(strstr(v, "; Path=/"));
    assert_non_null(strstr(v, "Max-Age=43200"));
    assert_null(strstr(v, "Secure"));
    session_cookie_format(v, id, 60, true);
    assert_non_null(strstr(v, "; Secure"));
    session_cookie_format(v, NULL, 0, false);
    assert_non_null(strstr(v, "piora_session=;"));
    assert_non_null(strstr(v, "Max-Age=0"));
}

/* ---- expiry --------------------------------------------------------------- */

static void test_idle_and_absolute_expiry(void **st)
{
    (void)st;
    session_rec s = {.created_at = 1000, .last_seen_at = 1000, .expires_at = 1000 + 43200};
    assert_true(session_live(&s, 1000, 1800));
    assert_true(session_live(&s, 1000 + 1799, 1800));
    assert_false(session_live(&s, 1000 + 1800, 1800)); /* idle */
    s.last_seen_at = 1000 + 43000;
    assert_true(session_live(&s, 1000 + 43199, 1800));
    assert_false(session_live(&s, 1000 + 43200, 1800)); /* absolute, however active */
    /* touches are rate-limited, but often enough for short idle limits */
    session_rec t = {.last_seen_at = 5000, .expires_at = 99999};
    assert_false(session_needs_touch(&t, 5030, 1800));
    assert_true(session_needs_touch(&t, 5060, 1800));
    assert_true(session_needs_touch(&t, 5001, 3));
}

/* ---- CSRF and origin ---------------------------------------------------- */

static void test_csrf_compare(void **st)
{
    (void)st;
    char a[SESSION_SECRET_LEN + 1];
    session_secret(a);
    char b[SESSION_SECRET_LEN + 1];
    memcpy(b, a, sizeof b);
    assert_true(csrf_matches(a, b));
    b[SESSION_SECRET_LEN - 1] ^= 1;
    assert_false(csrf_matches(a, b));
    assert_false(csrf_matches(a, NULL));
    assert_false(csrf_matches(a, ""));
    assert_false(csrf_matches("", ""));
    char longer[SESSION_SECRET_LEN + 2];
    snprintf(longer, sizeof longer, "%sx", a);
    assert_false(csrf_matches(a, longer));
}

static void test_origin_check(void **st)
{
    (void)st;
    const char *host = "127.0.0.1:8080";
    assert_true(origin_allowed("http://127.0.0.1:8080", "same-origin", host));
    assert_true(origin_allowed("https://127.0.0.1:8080", NULL, host));
    assert_true(origin_allowed(NULL, NULL, host)); /* curl: left to the CSRF token */
    assert_false(origin_allowed("http://evil.example", NULL, host));
    assert_false(origin_allowed("http://127.0.0.1:8080.evil.example", NULL, host));
    assert_false(origin_allowed("null", NULL, host));
    assert_false(origin_allowed(NULL, "cross-site", host));
    assert_false(origin_allowed(NULL, "same-site", host));
    assert_false(origin_allowed("http://127.0.0.1:8080", "cross-site", host));
    assert_false(origin_allowed("ftp://127.0.0.1:8080", NULL, host));
    assert_false(origin_allowed("http://127.0.0.1:8080", NULL, NULL));
}

/* ---- storage -------------------------------------------------------------- */

typedef fixture_db fx;

static int db_setup(void **st)
{
    return fixture_db_setup(st, "session");
}

static int db_teardown(void **st)
{
    return fixture_db_teardown(st);
}

static void digest_of(const char *secret, uint8_t d[SESSION_DIGEST_LEN])
{
    session_digest(secret, strlen(secret), d);
}

static void test_setup_link_is_single_use(void **st)
{
    fx *f = *st;
    char s1[SESSION_SECRET_LEN + 1], s2[SESSION_SECRET_LEN + 1];
    uint8_t d1[SESSION_DIGEST_LEN], d2[SESSION_DIGEST_LEN];
    session_secret(s1);
    session_secret(s2);
    digest_of(s1, d1);
    digest_of(s2, d2);
    assert_int_equal(store_setup_put(f->s, d1, 100), PIORA_OK);
    assert_int_equal(store_setup_check(f->s, d1), PIORA_OK);
    /* a restart prints a new link; the old one stops working */
    assert_int_equal(store_setup_put(f->s, d2, 200), PIORA_OK);
    assert_int_equal(store_setup_check(f->s, d1), PIORA_ENOTFOUND);
    assert_int_equal(store_setup_check(f->s, d2), PIORA_OK);
    user_rec u;
    assert_int_equal(store_setup_complete(f->s, d1, "a@example.com", "acme", FIXTURE_FAKE_HASH, 300, &u),
                     PIORA_ENOTFOUND);
    assert_int_equal(store_setup_complete(f->s, d2, "a@example.com", "acme", FIXTURE_FAKE_HASH, 300, &u),
                     PIORA_OK);
    assert_true(u.is_admin);
    assert_string_equal(u.team_name, "acme");
    /* used: no second admin through the same link */
    assert_int_equal(store_setup_check(f->s, d2), PIORA_ENOTFOUND);
    assert_int_equal(store_setup_complete(f->s, d2, "b@example.com", "evil", FIXTURE_FAKE_HASH, 400, &u),
                     PIORA_ENOTFOUND);
    /* and once a user exists, a new link does not open setup either */
    assert_int_equal(store_setup_put(f->s, d1, 500), PIORA_OK);
    assert_int_equal(store_setup_check(f->s, d1), PIORA_ENOTFOUND);
    int64_t n = 0;
    assert_int_equal(store_user_count(f->s, &n), PIORA_OK);
    assert_int_equal(n, 1);
}

static void test_sessions_stored_by_digest(void **st)
{
    fx *f = *st;
    user_rec u, v;
    assert_int_equal(store_user_create(f->s, "a@example.com", "acme", true, FIXTURE_FAKE_HASH, &u), PIORA_OK);
    assert_int_equal(store_user_create(f->s, "b@example.com", "acme", false, FIXTURE_FAKE_HASH, &v), PIORA_OK);
    char id1[SESSION_SECRET_LEN + 1], id2[SESSION_SECRET_LEN + 1], id3[SESSION_SECRET_LEN + 1];
    char csrf[SESSION_SECRET_LEN + 1];
    uint8_t d1[SESSION_DIGEST_LEN], d2[SESSION_DIGEST_LEN], d3[SESSION_DIGEST_LEN];
    session_secret(id1);
    session_secret(id2);
    session_secret(id3);
    session_secret(csrf);
    digest_of(id1, d1);
    digest_of(id2, d2);
    digest_of(id3, d3);
    session_rec s1, s2, s3, got;
    assert_int_equal(store_session_insert(f->s, d1, u.id, csrf, 1000, 5000, "127.0.0.1", &s1), PIORA_OK);
    assert_int_equal(store_session_insert(f->s, d2, u.id, csrf, 1000, 5000, NULL, &s2), PIORA_OK);
    assert_int_equal(store_session_insert(f->s, d3, v.id, csrf, 1000, 5000, NULL, &s3), PIORA_OK);
    assert_int_equal(store_session_by_digest(f->s, d1, &got), PIORA_OK);
    assert_int_equal(got.user_id, u.id);
    assert_string_equal(got.csrf, csrf);
    assert_int_equal(got.expires_at, 5000);
    /* the plain id is not the key: its digest is */
    uint8_t raw[SESSION_DIGEST_LEN];
    memcpy(raw, id1, SESSION_DIGEST_LEN);
    assert_int_equal(store_session_by_digest(f->s, raw, &got), PIORA_ENOTFOUND);
    /* touch moves last_seen forward only */
    assert_int_equal(store_session_touch(f->s, s1.id, 1500), PIORA_OK);
    assert_int_equal(store_session_touch(f->s, s1.id, 1200), PIORA_OK);
    assert_int_equal(store_session_by_digest(f->s, d1, &got), PIORA_OK);
    assert_int_equal(got.last_seen_at, 1500);
    /* a password change ends the user's other sessions, not this one */
    assert_int_equal(store_session_delete_user(f->s, u.id, s1.id), PIORA_OK);
    assert_int_equal(store_session_by_digest(f->s, d1, &got), PIORA_OK);
    assert_int_equal(store_session_by_digest(f->s, d2, &got), PIORA_ENOTFOUND);
    assert_int_equal(store_session_by_digest(f->s, d3, &got), PIORA_OK);
    /* prune: idle ones (last seen before 1200) go; s1 (seen 1500) stays */
    assert_int_equal(store_session_prune(f->s, 2000, 1200), PIORA_OK);
    assert_int_equal(store_session_by_digest(f->s, d3, &got), PIORA_ENOTFOUND);
    assert_int_equal(store_session_by_digest(f->s, d1, &got), PIORA_OK);
    /* absolute end */
    assert_int_equal(store_session_prune(f->s, 5000, 0), PIORA_OK);
    assert_int_equal(store_session_by_digest(f->s, d1, &got), PIORA_ENOTFOUND);
    /* sign-out */
    assert_int_equal(store_session_insert(f->s, d2, v.id, csrf, 1000, 9000, NULL, &s2), PIORA_OK);
    assert_int_equal(store_session_delete(f->s, s2.id), PIORA_OK);
    assert_int_equal(store_session_by_digest(f->s, d2, &got), PIORA_ENOTFOUND);
}

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_shape_and_uniqueness),
        cmocka_unit_test(test_cookie_parse),
        cmocka_unit_test(test_cookie_attributes),
        cmocka_unit_test(test_idle_and_absolute_expiry),
        cmocka_unit_test(test_csrf_compare),
        cmocka_unit_test(test_origin_check),
        cmocka_unit_test_setup_teardown(test_setup_link_is_single_use, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_sessions_stored_by_digest, db_setup, db_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
