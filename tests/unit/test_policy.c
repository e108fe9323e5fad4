/* authn/policy.c: which object a route's {id} names, derived from its
 * pattern, and the rule that no {id} route of the table escapes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "app/routes.h"
#include "authn/policy.h"

static void test_kinds_from_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        bool has_id;
        policy_kind id_kind, collection;
    } cases[] = {
        {"/api/v1/servers", false, PK_SELF, PK_SERVER},
        {"/api/v1/servers/{id}", true, PK_SERVER, PK_SERVER},
        {"/api/v1/servers/{id}/check", true, PK_SERVER, PK_SERVER},
        {"/api/v1/applications/{id}/deployments", true, PK_APPLICATION, PK_APPLICATION},
        {"/api/v1/deployments/{id}/cancel", true, PK_DEPLOYMENT, PK_DEPLOYMENT},
        {"/api/v1/deployments/{id}/log", true, PK_DEPLOYMENT, PK_DEPLOYMENT},
        {"/api/v1/backups/{id}/download", true, PK_BACKUP, PK_BACKUP},
        {"/api/v1/backups/{id}/restore", true, PK_BACKUP, PK_BACKUP},
        {"/api/v1/restores/{id}", true, PK_RESTORE, PK_RESTORE},
        {"/api/v1/databases/{id}", true, PK_DATABASE, PK_DATABASE},
        {"/api/v1/token", false, PK_SELF, PK_SELF},
        {"/api/v1/ssh-key", false, PK_SELF, PK_TEAM},
        {"/api/v1/widgets/{id}", true, PK_UNKNOWN, PK_TEAM},
        {"/api/v1/token/{id}", true, PK_UNKNOWN, PK_SELF},
        {"/healthz", false, PK_SELF, PK_SELF},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        policy_route pr = policy_route_of(cases[i].pattern);
        if (pr.has_id != cases[i].has_id || pr.id_kind != cases[i].id_kind ||
            pr.collection != cases[i].collection)
            fail_msg("%s: has_id %d id %s collection %s", cases[i].pattern, pr.has_id,
                     policy_kind_name(pr.id_kind), policy_kind_name(pr.collection));
    }
}

/* Every token route with an {id} names an object the policy can resolve up
 * its chain: a route added with a collection this file does not know fails
 * here (and answers 404 to every limited token until it is known). */
static void test_every_id_route_is_known(void **state)
{
    (void)state;
    route_site s;
    assert_true(app_routes_build(&s));
    size_t with_id = 0;
    for (size_t i = 0; i < s.nroutes; i++) {
        const route_t *rt = &s.routes[i];
        if (rt->auth != ROUTE_AUTH_TOKEN)
            continue;
        policy_route pr = policy_route_of(rt->pattern);
        if (!pr.has_id)
            continue;
        with_id++;
        if (pr.id_kind == PK_UNKNOWN)
            fail_msg("route %s: its {id} names a collection authn/policy.c does not know",
                     rt->pattern);
    }
    assert_true(with_id >= 10);
    app_routes_free(&s);
}

static void test_unlimited_passes(void **state)
{
    (void)state;
    principal_t who = {.token_id = 1, .team_id = 1};
    policy_route pr = policy_route_of("/api/v1/servers");
    assert_int_equal(policy_check(NULL, &who, &pr, false, true, 0, NULL, 0), POLICY_ALLOW);
    assert_true(policy_addr_allowed(&who, "198.51.100.1"));
    who.resources.limited = true;
    assert_int_equal(policy_check(NULL, &who, &pr, false, true, 0, NULL, 0), POLICY_RESTRICTED);
    pr = policy_route_of("/api/v1/ssh-key");
    assert_int_equal(policy_check(NULL, &who, &pr, true, false, 0, NULL, 0), POLICY_ALLOW);
    assert_int_equal(policy_check(NULL, &who, &pr, false, true, 0, NULL, 0), POLICY_RESTRICTED);
    pr = policy_route_of("/api/v1/widgets/{id}");
    assert_int_equal(policy_check(NULL, &who, &pr, true, false, 5, NULL, 0), POLICY_NOT_FOUND);
    /* A granted server needs no lookup. */
    assert_true(grant_add(&who.resources, GRANT_SERVER, 5));
    pr = policy_route_of("/api/v1/servers/{id}");
    assert_int_equal(policy_check(NULL, &who, &pr, true, false, 5, NULL, 0), POLICY_ALLOW);
    assert_int_equal(policy_check(NULL, &who, &pr, true, false, 6, NULL, 0), POLICY_NOT_FOUND);
    pr = policy_route_of("/api/v1/applications");
    const char body[] = "{\"server_id\": 6}";
    assert_int_equal(policy_check(NULL, &who, &pr, false, true, 0, body, sizeof body - 1),
                     POLICY_NOT_FOUND);
    const char ok[] = "{\"server_id\": 5}";
    assert_int_equal(policy_check(NULL, &who, &pr, false, true, 0, ok, sizeof ok - 1),
                     POLICY_ALLOW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_from_patterns),
        cmocka_unit_test(test_every_id_route_is_known),
        cmocka_unit_test(test_unlimited_passes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
