/* Conformance, token limits section (SPEC 11): a token's resources and
 * allowed_ips round-trip, obj_parent walks the chain, and a list through a
 * grant keeps only what it reaches, with its total, per backend. */
#include "store_fixture.h"

static int64_t mk(store_t *s, const resource_desc *d, int64_t team, const char *fmt, int64_t ref)
{
    char body[256];
    snprintf(body, sizeof body, fmt, (long long)ref);
    json_t *o = create(s, d, team, body);
    int64_t id = id_of(o);
    json_decref(o);
    return id;
}

static void test_token_limits_round_trip(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    token_grant g;
    token_addrs ips;
    char err[128];
    assert_true(grant_parse("servers:3,applications:9", &g, err, sizeof err));
    assert_true(addrs_parse("203.0.113.0/24,2001:db8::/32", &ips, err, sizeof err));
    token_new tn = {.user_id = a.id, .name = "limited", .scopes = SCOPE_ALL, .hint = "h",
                    .resources = &g, .allowed_ips = &ips};
    memset(tn.digest, 7, sizeof tn.digest);
    token_rec t, back;
    assert_int_equal(store_token_insert(fx->s, &tn, &t), PIORA_OK);
    assert_int_equal(store_token_by_digest(fx->s, tn.digest, &back), PIORA_OK);
    assert_true(back.resources.limited);
    assert_int_equal(back.resources.n, 2);
    assert_true(grant_has(&back.resources, GRANT_APPLICATION, 9));
    assert_true(back.allowed_ips.limited);
    assert_int_equal(back.allowed_ips.n, 2);
    assert_true(addrs_allow(&back.allowed_ips, "203.0.113.5"));
    assert_false(addrs_allow(&back.allowed_ips, "198.51.100.5"));

    /* An empty limited grant stays limited (it reaches nothing). */
    token_grant none = {.limited = true};
    token_new tn2 = {.user_id = a.id, .name = "nothing", .scopes = SCOPE_ALL, .hint = "h",
                     .resources = &none};
    memset(tn2.digest, 8, sizeof tn2.digest);
    assert_int_equal(store_token_insert(fx->s, &tn2, &t), PIORA_OK);
    assert_true(t.resources.limited);
    assert_int_equal(t.resources.n, 0);
    assert_false(t.allowed_ips.limited);

    /* No limits: both NULL. */
    token_new tn3 = {.user_id = a.id, .name = "all", .scopes = SCOPE_ALL, .hint = "h"};
    memset(tn3.digest, 9, sizeof tn3.digest);
    assert_int_equal(store_token_insert(fx->s, &tn3, &t), PIORA_OK);
    assert_false(t.resources.limited);
    assert_false(t.allowed_ips.limited);
}

static void test_parent_chain_and_granted_lists(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    user_rec b = make_user(fx->s, "bob@example.com", "other");
    int64_t t = a.team_id;
    const char *srv = "{\"name\":\"s%lld\",\"ip_address\":\"10.0.0.1\"}";
    int64_t s1 = mk(fx->s, &RES_SERVERS, t, srv, 1), s2 = mk(fx->s, &RES_SERVERS, t, srv, 2);
    const char *app = "{\"name\":\"a\",\"server_id\":%lld,\"repository\":\"https://x.io/r.git\"}";
    int64_t a1 = mk(fx->s, &RES_APPLICATIONS, t, app, s1);
    int64_t a2 = mk(fx->s, &RES_APPLICATIONS, t, app, s2);
    int64_t a3 = mk(fx->s, &RES_APPLICATIONS, t, app, s2);
    const char *db = "{\"name\":\"d\",\"engine\":\"redis\",\"server_id\":%lld}";
    int64_t d1 = mk(fx->s, &RES_DATABASES, t, db, s1), d2 = mk(fx->s, &RES_DATABASES, t, db, s2);
    const char *bk = "{\"database_id\":%lld}";
    int64_t b1 = mk(fx->s, &RES_BACKUPS, t, bk, d1);
    mk(fx->s, &RES_BACKUPS, t, bk, d2);

    int64_t p = 0;
    assert_int_equal(store_obj_parent(fx->s, &RES_APPLICATIONS, t, a2, &p), PIORA_OK);
    assert_int_equal(p, s2);
    assert_int_equal(store_obj_parent(fx->s, &RES_BACKUPS, t, b1, &p), PIORA_OK);
    assert_int_equal(p, d1);
    assert_int_equal(store_obj_parent(fx->s, &RES_APPLICATIONS, b.team_id, a2, &p),
                     PIORA_ENOTFOUND);
    assert_int_equal(store_obj_parent(fx->s, &RES_APPLICATIONS, t, 99999, &p), PIORA_ENOTFOUND);
    assert_int_equal(store_obj_parent(fx->s, &RES_SERVERS, t, s1, &p), PIORA_EINVALID);

    token_grant g = {0};
    assert_true(grant_add(&g, GRANT_SERVER, s1));
    assert_true(grant_add(&g, GRANT_APPLICATION, a2));
    obj_filter f = {.grant = &g};
    obj_row *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_obj_list(fx->s, &RES_APPLICATIONS, t, &f, 0, 1, &rows, &n, &total),
                     PIORA_OK);
    assert_int_equal(total, 2);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, a1);
    obj_rows_free(rows, n);
    assert_int_equal(store_obj_list(fx->s, &RES_APPLICATIONS, t, &f, 1, 10, &rows, &n, &total),
                     PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, a2);
    obj_rows_free(rows, n);
    (void)a3;
    assert_int_equal(store_obj_list(fx->s, &RES_BACKUPS, t, &f, 0, 10, &rows, &n, &total),
                     PIORA_OK);
    assert_int_equal(total, 1);
    assert_int_equal(rows[0].id, b1);
    obj_rows_free(rows, n);
    /* With a filter as well: the grant still applies. */
    obj_filter fd = {.field = "database_id", .value = d2, .grant = &g};
    assert_int_equal(store_obj_list(fx->s, &RES_BACKUPS, t, &fd, 0, 10, &rows, &n, &total),
                     PIORA_OK);
    assert_int_equal(total, 0);
    assert_int_equal(n, 0);
    obj_rows_free(rows, n);
    /* The grant never reaches another team's rows, even with their ids. */
    assert_int_equal(store_obj_list(fx->s, &RES_SERVERS, b.team_id, &f, 0, 10, &rows, &n, &total),
                     PIORA_OK);
    assert_int_equal(total, 0);
    obj_rows_free(rows, n);
    /* An empty limited grant lists nothing. */
    token_grant none = {.limited = true};
    obj_filter fn = {.grant = &none};
    assert_int_equal(store_obj_list(fx->s, &RES_SERVERS, t, &fn, 0, 10, &rows, &n, &total),
                     PIORA_OK);
    assert_int_equal(total, 0);
    obj_rows_free(rows, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token_limits_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_chain_and_granted_lists, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
