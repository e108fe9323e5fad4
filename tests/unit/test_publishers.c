/* The publishers service (core/publishers.c) against a real SQLite store:
 * what a registration accepts and how it words a refusal, the JSON of a
 * publisher, and the exchange's refusals that need no issuer (they come
 * before any fetch), each audited with its reason and never the JWT. The
 * exchange against a real HTTPS issuer is tests/blackbox/oidc.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/audit.h"
#include "core/publishers.h"
#include "fixture.h"

static const actor cli_actor = {.channel = CHANNEL_CLI};

static int setup(void **st) { return fixture_db_setup(st, "publishers"); }
static int teardown(void **st) { return fixture_db_teardown(st); }

static bool has_error(const verrs *e, const char *field)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->items[i].field, field) == 0)
            return true;
    return false;
}

static void test_add_rules(void **st)
{
    fixture_db *fx = *st;
    user_rec admin, member;
    assert_true(fixture_user(fx->s, "boss@example.com", "acme", true, &admin));
    assert_true(fixture_user(fx->s, "bob@example.com", "acme", false, &member));
    const char *claims[] = {"repository=acme/web", "environment=production"};
    publisher_req rq = {.user_id = admin.id, .name = "deploy web",
                        .issuer = "https://token.actions.githubusercontent.com",
                        .claims = claims, .nclaims = 2, .ref_glob = "refs/heads/main",
                        .scopes = "applications:deploy"};
    publisher_rec p;
    verrs errs;
    assert_int_equal(publishers_add(fx->s, &cli_actor, &rq, &p, &errs), PIORA_OK);
    assert_string_equal(p.audience, "piora"); /* the default */
    assert_string_equal(p.claims, "repository=acme/web\nenvironment=production\n");
    json_t *j = publishers_to_json(&p);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "claims"), "environment")),
                        "production");
    assert_true(json_is_null(json_object_get(j, "resources"))); /* every object */
    json_decref(j);
    json_t *res = publishers_resources_json("servers:1,applications:4");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(res, "applications"), 0)), 4);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(res, "servers"), 0)), 1);
    json_decref(res);
    assert_int_equal(publishers_add(fx->s, &cli_actor, &rq, NULL, &errs), PIORA_ECONFLICT);

    struct {
        const char *field;
        publisher_req rq;
    } bad[] = {
        {"email", {.user_id = member.id, .name = "m", .issuer = "https://gitlab.com", .scopes = "servers:read"}},
        {"name", {.user_id = admin.id, .name = "a/b", .issuer = "https://gitlab.com", .scopes = "servers:read"}},
        {"issuer", {.user_id = admin.id, .name = "i", .issuer = "http://gitlab.com", .scopes = "servers:read"}},
        {"issuer", {.user_id = admin.id, .name = "i", .issuer = "https://u@gitlab.com", .scopes = "servers:read"}},
        {"issuer", {.user_id = admin.id, .name = "i", .issuer = "https://", .scopes = "servers:read"}},
        {"scopes", {.user_id = admin.id, .name = "s", .issuer = "https://gitlab.com", .scopes = "servers:admin"}},
        {"scopes", {.user_id = admin.id, .name = "s", .issuer = "https://gitlab.com", .scopes = ""}},
        {"resources", {.user_id = admin.id, .name = "r", .issuer = "https://gitlab.com", .scopes = "servers:read", .resources = "users:1"}},
        {"resources", {.user_id = admin.id, .name = "r", .issuer = "https://gitlab.com", .scopes = "servers:read", .resources = "servers:0"}},
        /* well formed, but no such server in the team (SPEC 11, as for tokens) */
        {"resources", {.user_id = admin.id, .name = "r", .issuer = "https://gitlab.com", .scopes = "servers:read", .resources = "servers:1"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(publishers_add(fx->s, &cli_actor, &bad[i].rq, NULL, &errs), PIORA_EINVALID);
        if (!has_error(&errs, bad[i].field))
            fail_msg("case %zu: no error on %s (first: %s %s)", i, bad[i].field,
                     errs.n ? errs.items[0].field : "-", errs.n ? errs.items[0].message : "-");
    }
    const char *unknown[] = {"iss=https://evil"}, *twice[] = {"sub=a", "sub=b"},
               *nl[] = {"repository=a\nb"}, *empty[] = {"repository="};
    const char *const *lists[] = {unknown, twice, nl, empty};
    size_t counts[] = {1, 2, 1, 1};
    for (size_t i = 0; i < 4; i++) {
        publisher_req c = {.user_id = admin.id, .name = "c", .issuer = "https://gitlab.com",
                           .scopes = "servers:read", .claims = lists[i], .nclaims = counts[i]};
        assert_int_equal(publishers_add(fx->s, &cli_actor, &c, NULL, &errs), PIORA_EINVALID);
        assert_true(has_error(&errs, "claims"));
    }

    /* removal: another team's id is not found; the audit names the publisher */
    assert_int_equal(publishers_remove(fx->s, &cli_actor, admin.team_id + 1, p.id), PIORA_ENOTFOUND);
    assert_int_equal(publishers_remove(fx->s, &cli_actor, admin.team_id, p.id), PIORA_OK);
    json_t *items;
    int64_t total;
    assert_int_equal(audit_list(fx->s, 0, 0, 10, &items, &total), PIORA_OK);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "action")),
                        "publisher.removed");
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(items, 0), "detail")),
                           "publisher deploy web"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "action")),
                        "publisher.added");
    json_decref(items);
}

/* Refusals before any key is fetched: a shape the parser refuses, and an
 * issuer nobody registered (which must not be fetched at all). */
static void test_exchange_refusals_audited(void **st)
{
    fixture_db *fx = *st;
    oidc_grant g;
    const char *why = NULL;
    const char *garbage = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL3gifQ.";
    assert_int_equal(publishers_exchange(fx->s, "192.0.2.7", garbage, strlen(garbage), &g, &why),
                     PIORA_EAUTH);
    assert_string_equal(why, "token algorithm is not RS256 or ES256");
    /* {"alg":"RS256"}.{"iss":"https://nobody.example"}.sig */
    const char *stranger =
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL25vYm9keS5leGFtcGxlIn0.c2ln";
    assert_int_equal(publishers_exchange(fx->s, "192.0.2.7", stranger, strlen(stranger), &g, &why),
                     PIORA_EAUTH);
    assert_string_equal(why, "no trusted publisher has this issuer");
    json_t *items;
    int64_t total;
    assert_int_equal(audit_list(fx->s, 0, 0, 10, &items, &total), PIORA_OK);
    assert_int_equal(total, 2);
    json_t *e = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(e, "action")), "oidc.failed");
    assert_string_equal(json_string_value(json_object_get(e, "via")), "oidc");
    assert_string_equal(json_string_value(json_object_get(e, "addr")), "192.0.2.7");
    assert_string_equal(json_string_value(json_object_get(e, "detail")),
                        "refused: no trusted publisher has this issuer; issuer https://nobody.example");
    char *dump = json_dumps(items, 0);
    assert_null(strstr(dump, "eyJ")); /* never the JWT */
    free(dump);
    json_decref(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exchange_refusals_audited, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
