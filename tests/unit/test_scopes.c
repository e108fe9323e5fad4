#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/scopes.h"

static const char *const spec_order[SCOPE_COUNT] = {
    "servers:read",       "servers:write",   "applications:read", "applications:write",
    "applications:deploy", "databases:read", "databases:write",   "backups:read",
    "backups:write",
};

static void test_names_in_spec_order(void **state)
{
    (void)state;
    for (int i = 0; i < SCOPE_COUNT; i++) {
        assert_string_equal(scope_name(i), spec_order[i]);
        assert_int_equal(scope_from_name(spec_order[i], strlen(spec_order[i])), 1u << i);
    }
    assert_null(scope_name(-1));
    assert_null(scope_name(SCOPE_COUNT));
    assert_int_equal(scope_from_name("servers:read", 12), SCOPE_SERVERS_READ);
    assert_int_equal(scope_from_name("backups:write", 13), SCOPE_BACKUPS_WRITE);
    assert_int_equal(scope_from_name("applications:deploy", 19), SCOPE_APPLICATIONS_DEPLOY);
}

static void test_from_name_is_exact(void **state)
{
    (void)state;
    assert_int_equal(scope_from_name("Servers:read", 12), 0);
    assert_int_equal(scope_from_name("SERVERS:READ", 12), 0);
    assert_int_equal(scope_from_name("servers:read ", 13), 0);
    assert_int_equal(scope_from_name("servers:rea", 11), 0);
    assert_int_equal(scope_from_name("servers:read", 11), 0); /* a prefix of a name */
    assert_int_equal(scope_from_name("servers", 7), 0);
    assert_int_equal(scope_from_name("", 0), 0);
    assert_int_equal(scope_from_name("servers:read\0x", 14), 0);
    assert_int_equal(scope_from_name("admin", 5), 0);
}

static void test_effective_adds_read_for_write(void **state)
{
    (void)state;
    assert_int_equal(scopes_effective(SCOPE_SERVERS_WRITE), SCOPE_SERVERS_WRITE | SCOPE_SERVERS_READ);
    assert_int_equal(scopes_effective(SCOPE_APPLICATIONS_WRITE),
                     SCOPE_APPLICATIONS_WRITE | SCOPE_APPLICATIONS_READ);
    assert_int_equal(scopes_effective(SCOPE_DATABASES_WRITE), SCOPE_DATABASES_WRITE | SCOPE_DATABASES_READ);
    assert_int_equal(scopes_effective(SCOPE_BACKUPS_WRITE), SCOPE_BACKUPS_WRITE | SCOPE_BACKUPS_READ);
    assert_int_equal(scopes_effective(SCOPE_APPLICATIONS_DEPLOY), SCOPE_APPLICATIONS_DEPLOY);
    assert_int_equal(scopes_effective(SCOPE_SERVERS_READ), SCOPE_SERVERS_READ);
    assert_int_equal(scopes_effective(0), 0);
    assert_int_equal(scopes_effective(SCOPE_ALL), SCOPE_ALL);
    /* Bits outside the nine never leak into a grant. */
    assert_int_equal(scopes_effective(0xFE00), 0);
}

static void test_allow_routes(void **state)
{
    (void)state;
    scope_set sw = scopes_effective(SCOPE_SERVERS_WRITE);
    assert_true(scopes_allow(sw, SCOPE_SERVERS_READ));
    assert_true(scopes_allow(sw, SCOPE_SERVERS_WRITE));
    assert_false(scopes_allow(sw, SCOPE_DATABASES_READ));

    /* A read grant does not satisfy a write route. */
    assert_false(scopes_allow(scopes_effective(SCOPE_SERVERS_READ), SCOPE_SERVERS_WRITE));

    /* Deploy-only: GET /deployments/{id} declares read|deploy and is
     * allowed; a plain applications:read route is not. */
    scope_set dep = scopes_effective(SCOPE_APPLICATIONS_DEPLOY);
    assert_true(scopes_allow(dep, SCOPE_APPLICATIONS_READ | SCOPE_APPLICATIONS_DEPLOY));
    assert_false(scopes_allow(dep, SCOPE_APPLICATIONS_READ));
    assert_false(scopes_allow(dep, SCOPE_APPLICATIONS_WRITE));

    /* required == 0: any valid token, even one with no scope at all. */
    assert_true(scopes_allow(0, 0));
    assert_false(scopes_allow(0, SCOPE_SERVERS_READ));
}

static void test_parse_separators(void **state)
{
    (void)state;
    scope_set s = 0xFFFF;
    char bad[64];
    assert_true(scopes_parse("servers:read,databases:write", &s, bad, sizeof(bad)));
    assert_int_equal(s, SCOPE_SERVERS_READ | SCOPE_DATABASES_WRITE);

    assert_true(scopes_parse("servers:read databases:write", &s, bad, sizeof(bad)));
    assert_int_equal(s, SCOPE_SERVERS_READ | SCOPE_DATABASES_WRITE);

    assert_true(scopes_parse(" ,servers:read ,, \t\napplications:deploy,  ", &s, bad, sizeof(bad)));
    assert_int_equal(s, SCOPE_SERVERS_READ | SCOPE_APPLICATIONS_DEPLOY);

    assert_true(scopes_parse("backups:read,backups:read", &s, bad, sizeof(bad)));
    assert_int_equal(s, SCOPE_BACKUPS_READ);

    /* Every name, as the SPEC lists them. */
    assert_true(scopes_parse("servers:read servers:write applications:read applications:write "
                             "applications:deploy databases:read databases:write backups:read "
                             "backups:write",
                             &s, bad, sizeof(bad)));
    assert_int_equal(s, SCOPE_ALL);
}

static void test_parse_empty(void **state)
{
    (void)state;
    scope_set s = 0xFFFF;
    char bad[16];
    assert_true(scopes_parse("", &s, bad, sizeof(bad)));
    assert_int_equal(s, 0);
    s = 0xFFFF;
    assert_true(scopes_parse(" , ,", &s, bad, sizeof(bad)));
    assert_int_equal(s, 0);
}

static void test_parse_reports_first_unknown(void **state)
{
    (void)state;
    scope_set s;
    char bad[64];
    assert_false(scopes_parse("servers:read,admin,root", &s, bad, sizeof(bad)));
    assert_string_equal(bad, "admin");

    assert_false(scopes_parse("Servers:read", &s, bad, sizeof(bad)));
    assert_string_equal(bad, "Servers:read");

    assert_false(scopes_parse("servers:read;databases:read", &s, bad, sizeof(bad)));
    assert_string_equal(bad, "servers:read;databases:read");

    /* Truncated to the caller's buffer, always terminated. */
    char small[6];
    assert_false(scopes_parse("applications:admin", &s, small, sizeof(small)));
    assert_string_equal(small, "appli");

    /* No buffer at all is fine. */
    assert_false(scopes_parse("nope", &s, NULL, 0));
}

static void test_format_canonical(void **state)
{
    (void)state;
    char out[SCOPES_STR_MAX];
    scopes_format(SCOPE_DATABASES_WRITE | SCOPE_SERVERS_READ, ", ", out, sizeof(out));
    assert_string_equal(out, "servers:read, databases:write");
    scopes_format(SCOPE_DATABASES_WRITE | SCOPE_SERVERS_READ, ",", out, sizeof(out));
    assert_string_equal(out, "servers:read,databases:write");

    scopes_format(0, ", ", out, sizeof(out));
    assert_string_equal(out, "");

    scopes_format(SCOPE_ALL, ", ", out, sizeof(out));
    assert_string_equal(out, "servers:read, servers:write, applications:read, applications:write, "
                             "applications:deploy, databases:read, databases:write, backups:read, "
                             "backups:write");

    /* Round trip through parse. */
    scope_set s;
    assert_true(scopes_parse(out, &s, NULL, 0));
    assert_int_equal(s, SCOPE_ALL);

    /* A short buffer truncates and stays terminated. */
    char small[10];
    memset(small, 'x', sizeof(small));
    scopes_format(SCOPE_ALL, ",", small, sizeof(small));
    assert_string_equal(small, "servers:r");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_in_spec_order),
        cmocka_unit_test(test_from_name_is_exact),
        cmocka_unit_test(test_effective_adds_read_for_write),
        cmocka_unit_test(test_allow_routes),
        cmocka_unit_test(test_parse_separators),
        cmocka_unit_test(test_parse_empty),
        cmocka_unit_test(test_parse_reports_first_unknown),
        cmocka_unit_test(test_format_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
