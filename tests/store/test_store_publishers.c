/* Conformance, trusted publishers section (SPEC 12): insert (team from the
 * user, unique name per team), get and list per team and per issuer,
 * delete, and the single use of a JWT id with its expiry. */
#include <pthread.h>

#include "store_fixture.h"

static publisher_new pub(int64_t user_id, const char *name, const char *issuer)
{
    publisher_new p = {.user_id = user_id, .name = name, .issuer = issuer, .audience = "piora",
                       .claims = "repository=acme/web\n", .ref_glob = "refs/heads/*",
                       .scopes = SCOPE_SERVERS_READ, .resources = "servers:1"};
    return p;
}

static void test_publishers(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "pa@example.com", "pub-a");
    user_rec b = make_user(fx->s, "pb@example.com", "pub-b");
    publisher_rec p1, p2, p3, got;
    publisher_new n1 = pub(a.id, "gh", "https://token.actions.githubusercontent.com");
    assert_int_equal(store_publisher_insert(fx->s, &n1, &p1), PIORA_OK);
    assert_true(p1.id > 0);
    assert_int_equal(p1.team_id, a.team_id);
    assert_string_equal(p1.claims, "repository=acme/web\n");
    assert_string_equal(p1.ref_glob, "refs/heads/*");
    assert_string_equal(p1.resources, "servers:1");
    assert_string_equal(p1.owner_email, "pa@example.com");
    assert_int_equal(p1.scopes, SCOPE_SERVERS_READ);
    /* one name per team; the same name in another team is fine */
    assert_int_equal(store_publisher_insert(fx->s, &n1, NULL), PIORA_ECONFLICT);
    publisher_new n2 = pub(b.id, "gh", "https://token.actions.githubusercontent.com");
    n2.ref_glob = NULL;
    n2.resources = NULL;
    assert_int_equal(store_publisher_insert(fx->s, &n2, &p2), PIORA_OK);
    assert_string_equal(p2.ref_glob, "");
    assert_string_equal(p2.resources, "");
    publisher_new n3 = pub(a.id, "gl", "https://gitlab.com");
    assert_int_equal(store_publisher_insert(fx->s, &n3, &p3), PIORA_OK);
    publisher_new bad = pub(999999, "x", "https://gitlab.com");
    assert_int_equal(store_publisher_insert(fx->s, &bad, NULL), PIORA_ENOTFOUND);
    bad = pub(a.id, "", "https://gitlab.com");
    assert_int_equal(store_publisher_insert(fx->s, &bad, NULL), PIORA_EINVALID);
    bad = pub(a.id, "y", "https://gitlab.com");
    bad.scopes = 0;
    assert_int_equal(store_publisher_insert(fx->s, &bad, NULL), PIORA_EINVALID);

    /* another team's publisher is not found, as a missing one */
    assert_int_equal(store_publisher_get(fx->s, a.team_id, p1.id, &got), PIORA_OK);
    assert_int_equal(store_publisher_get(fx->s, b.team_id, p1.id, &got), PIORA_ENOTFOUND);
    assert_int_equal(store_publisher_get(fx->s, 0, p2.id, &got), PIORA_OK);

    publisher_rec *v;
    size_t n;
    assert_int_equal(store_publisher_list(fx->s, a.team_id, &v, &n), PIORA_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, p1.id);
    assert_int_equal(v[1].id, p3.id);
    free(v);
    assert_int_equal(store_publisher_list(fx->s, 0, &v, &n), PIORA_OK);
    assert_int_equal(n, 3);
    free(v);
    assert_int_equal(store_publisher_list_issuer(fx->s, "https://token.actions.githubusercontent.com", &v, &n), PIORA_OK);
    assert_int_equal(n, 2); /* both teams' */
    free(v);
    assert_int_equal(store_publisher_list_issuer(fx->s, "https://gitlab.com/", &v, &n), PIORA_OK);
    assert_int_equal(n, 0); /* exact URLs */
    free(v);

    assert_int_equal(store_publisher_delete(fx->s, b.team_id, p1.id), PIORA_ENOTFOUND);
    assert_int_equal(store_publisher_delete(fx->s, a.team_id, p1.id), PIORA_OK);
    assert_int_equal(store_publisher_delete(fx->s, a.team_id, p1.id), PIORA_ENOTFOUND);
    assert_int_equal(store_publisher_get(fx->s, 0, p1.id, &got), PIORA_ENOTFOUND);
}

static void test_jti_once(void **state)
{
    fixture *fx = *state;
    const char *gh = "https://token.actions.githubusercontent.com";
    assert_int_equal(store_oidc_jti_use(fx->s, gh, "j1", 2000, 1000), PIORA_OK);
    assert_int_equal(store_oidc_jti_use(fx->s, gh, "j1", 2000, 1500), PIORA_ECONFLICT);
    /* the same id from another issuer is another JWT */
    assert_int_equal(store_oidc_jti_use(fx->s, "https://gitlab.com", "j1", 2000, 1500), PIORA_OK);
    /* forgotten once expired (the JWT itself is refused by then) */
    assert_int_equal(store_oidc_jti_use(fx->s, gh, "j1", 4000, 2001), PIORA_OK);
    assert_int_equal(store_oidc_jti_use(fx->s, gh, "", 4000, 2001), PIORA_EINVALID);
    assert_int_equal(store_oidc_jti_use(fx->s, gh, "j2", 0, 2001), PIORA_EINVALID);
}

/* Several connections (standing in for nodes) use one JWT id at the same
 * moment: exactly one of them gets it. */
#define RACERS 4
typedef struct racer {
    store_t *s;
    pthread_barrier_t *go;
    piora_err e;
} racer;

static void *use_jti(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->go);
    r->e = store_oidc_jti_use(r->s, "https://token.actions.githubusercontent.com", "raced", 5000,
                              1000);
    return NULL;
}

static void test_jti_once_across_connections(void **state)
{
    fixture *fx = *state;
    const char *url = fixture_store_url() ? fixture_store_url() : fx->path;
    racer r[RACERS];
    pthread_t th[RACERS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        char msg[256];
        r[i] = (racer){.s = store_open(url, msg, sizeof msg), .go = &go, .e = PIORA_EDB};
        assert_non_null(r[i].s);
    }
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, use_jti, &r[i]), 0);
    int ok = 0, conflict = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        ok += r[i].e == PIORA_OK;
        conflict += r[i].e == PIORA_ECONFLICT;
        store_close(r[i].s);
    }
    pthread_barrier_destroy(&go);
    assert_int_equal(ok, 1);
    assert_int_equal(conflict, RACERS - 1);
    /* and it stays used for this connection too */
    assert_int_equal(store_oidc_jti_use(fx->s, "https://token.actions.githubusercontent.com",
                                        "raced", 5000, 1001),
                     PIORA_ECONFLICT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publishers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jti_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jti_once_across_connections, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
