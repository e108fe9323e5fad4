/* Conformance, monitor section: the usage log as typed rows (newest
 * first, filters, paging, counts of identical requests, empty batches) and
 * its retention; audit entries written and listed. */
#include <pthread.h>

#include "store_fixture.h"

static usage_entry entry(int64_t token_id, int64_t time, int status, const char *path)
{
    usage_entry u = {.token_id = token_id, .time = time, .status = status};
    snprintf(u.method, sizeof u.method, "GET");
    snprintf(u.path, sizeof u.path, "%s", path);
    snprintf(u.addr, sizeof u.addr, "192.0.2.7");
    snprintf(u.user_agent, sizeof u.user_agent, "curl/8");
    return u;
}

static void test_usage_rows(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "usage@example.com", "usage");
    token_rec t = make_token(fx->s, a.id, 1, 0);
    token_rec other = make_token(fx->s, a.id, 2, 0);
    usage_entry batch[4] = {entry(t.id, 1000, 200, "/api/v1/servers"),
                            entry(t.id, 1001, 404, "/api/v1/servers/9"),
                            entry(t.id, 1002, 200, "/api/v1/databases"),
                            entry(other.id, 1003, 200, "/api/v1/servers")};
    batch[2].count = 3;
    assert_int_equal(store_usage_insert(fx->s, batch, 4), PIORA_OK);
    assert_int_equal(store_usage_insert(fx->s, batch, 0), PIORA_OK);

    usage_entry *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_usage_list(fx->s, t.id, 0, 0, 0, 10, &rows, &n, &total), PIORA_OK);
    assert_int_equal(n, 3);
    assert_int_equal(total, 3);
    assert_int_equal(rows[0].time, 1002); /* newest first */
    assert_int_equal(rows[0].count, 3);
    assert_int_equal(rows[1].count, 1); /* 0 in the batch means 1 */
    assert_int_equal(rows[0].token_id, t.id);
    assert_string_equal(rows[0].method, "GET");
    assert_string_equal(rows[0].path, "/api/v1/databases");
    assert_string_equal(rows[0].addr, "192.0.2.7");
    assert_string_equal(rows[0].user_agent, "curl/8");
    assert_int_equal(rows[1].status, 404);
    free(rows);

    /* status and since filters, then a page */
    assert_int_equal(store_usage_list(fx->s, t.id, 0, 404, 0, 10, &rows, &n, &total), PIORA_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].path, "/api/v1/servers/9");
    free(rows);
    assert_int_equal(store_usage_list(fx->s, t.id, 1001, 0, 0, 10, &rows, &n, &total), PIORA_OK);
    assert_int_equal(total, 2);
    free(rows);
    assert_int_equal(store_usage_list(fx->s, t.id, 0, 0, 2, 10, &rows, &n, &total), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(total, 3);
    assert_int_equal(rows[0].time, 1000);
    free(rows);
    assert_int_equal(store_usage_list(fx->s, t.id, 0, 0, -1, 10, &rows, &n, &total),
                     PIORA_EINVALID);
    assert_null(rows);
    assert_int_equal(n, 0);

    /* retention: by age, then by rows per token */
    int64_t gone = -1;
    assert_int_equal(store_usage_prune(fx->s, 1001, 0, NULL, 0, &gone), PIORA_OK);
    assert_int_equal(gone, 1);
    assert_int_equal(store_usage_prune(fx->s, 0, 1, NULL, 0, &gone), PIORA_OK);
    assert_int_equal(gone, 1);
    assert_int_equal(store_usage_list(fx->s, t.id, 0, 0, 0, 10, &rows, &n, &total), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].time, 1002);
    free(rows);
    assert_int_equal(store_usage_list(fx->s, other.id, 0, 0, 0, 10, &rows, &n, &total), PIORA_OK);
    assert_int_equal(n, 1);
    free(rows);
}

/* Issue 8 item 14: denied requests (401 of a known token, 403, 429) are
 * capped apart from the rest, so a flood of good requests cannot flush a
 * token's traces of misuse, and the other way round. */
static void test_usage_cap_keeps_denied_apart(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "cap@example.com", "cap");
    token_rec t = make_token(fx->s, a.id, 1, 0);
    usage_entry v[10];
    v[0] = entry(t.id, 2000, 403, "/api/v1/servers");
    v[1] = entry(t.id, 2001, 429, "/api/v1/servers");
    v[2] = entry(t.id, 2002, 401, "/api/v1/servers");
    for (int i = 3; i < 10; i++)
        v[i] = entry(t.id, 2000 + i, i % 2 ? 200 : 404, "/api/v1/servers");
    assert_int_equal(store_usage_insert(fx->s, v, 10), PIORA_OK);
    int64_t gone = -1;
    const int64_t ids[1] = {t.id};
    assert_int_equal(store_usage_prune(fx->s, 0, 3, ids, 1, &gone), PIORA_OK);
    assert_int_equal(gone, 4); /* 7 allowed down to 3; the 3 denied stay */
    usage_entry *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_usage_list(fx->s, t.id, 0, 0, 0, 20, &rows, &n, &total), PIORA_OK);
    assert_int_equal(n, 6);
    int denied = 0;
    for (size_t i = 0; i < n; i++)
        denied += rows[i].status == 401 || rows[i].status == 403 || rows[i].status == 429;
    assert_int_equal(denied, 3);
    assert_int_equal(rows[0].time, 2009); /* the newest allowed ones */
    assert_int_equal(rows[2].time, 2007);
    free(rows);
    /* The sweep over every token finds a token over either cap. */
    usage_entry more[2] = {entry(t.id, 2010, 403, "/x"), entry(t.id, 2011, 403, "/x")};
    assert_int_equal(store_usage_insert(fx->s, more, 2), PIORA_OK);
    assert_int_equal(store_usage_prune(fx->s, 0, 3, NULL, 0, &gone), PIORA_OK);
    assert_int_equal(gone, 2); /* the two oldest denied */
    assert_int_equal(store_usage_list(fx->s, t.id, 0, 403, 0, 20, &rows, &n, &total), PIORA_OK);
    assert_int_equal(n, 2);
    free(rows);
    assert_int_equal(store_usage_list(fx->s, t.id, 0, 0, 0, 20, &rows, &n, &total), PIORA_OK);
    assert_int_equal(n, 6);
    free(rows);
}

/* A batch as large as the usage writer's (2048 rows) goes in whole, and
 * text comes back byte for byte whatever it holds: quotes, backslashes,
 * braces and commas, the word NULL, an empty user agent. */
static void test_usage_big_batch_verbatim(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "batch@example.com", "batch");
    token_rec t = make_token(fx->s, a.id, 1, 0);
    enum { N = 2048 };
    usage_entry *v = calloc(N, sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < N; i++)
        v[i] = entry(t.id, 5000 + i, 200, "/api/v1/servers");
    const char *odd = "/a\"b\\c{d},e NULL";
    snprintf(v[N - 1].path, sizeof v[N - 1].path, "%s", odd);
    snprintf(v[N - 1].user_agent, sizeof v[N - 1].user_agent, "NULL");
    v[N - 2].user_agent[0] = '\0';
    assert_int_equal(store_usage_insert(fx->s, v, N), PIORA_OK);
    free(v);
    usage_entry *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_usage_list(fx->s, t.id, 0, 0, 0, 3, &rows, &n, &total), PIORA_OK);
    assert_int_equal(total, N);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].time, 5000 + N - 1);
    assert_string_equal(rows[0].path, odd);
    assert_string_equal(rows[0].user_agent, "NULL");
    assert_string_equal(rows[1].user_agent, "");
    assert_string_equal(rows[2].user_agent, "curl/8");
    free(rows);
}

/* Retention on several connections at once (nodes sharing a database):
 * none fails, together they delete each surplus row once, and what stays
 * is each token's newest max_rows allowed and newest max_rows denied. */
#define PRUNERS 4
typedef struct pruner {
    store_t *s;
    pthread_barrier_t *go;
    const int64_t *ids;
    int64_t deleted;
    piora_err e;
} pruner;

static void *prune(void *arg)
{
    pruner *p = arg;
    pthread_barrier_wait(p->go);
    p->e = store_usage_prune(p->s, 0, 10, p->ids, p->ids ? 2 : 0, &p->deleted);
    return NULL;
}

static void test_usage_prune_concurrent(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "prune@example.com", "prune");
    token_rec t1 = make_token(fx->s, a.id, 1, 0), t2 = make_token(fx->s, a.id, 2, 0);
    enum { N = 300 };
    usage_entry *v = calloc(N, sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < N; i++) /* per token: 100 allowed, 50 denied */
        v[i] = entry(i % 2 ? t2.id : t1.id, 3000 + i, i % 3 == 0 ? 429 : 200, "/api/v1/servers");
    assert_int_equal(store_usage_insert(fx->s, v, N), PIORA_OK);
    free(v);
    const char *url = fixture_store_url() ? fixture_store_url() : fx->path;
    /* in both orders: nodes pruning the same tokens in another order must
     * not deadlock */
    const int64_t ids[2] = {t1.id, t2.id}, rev[2] = {t2.id, t1.id};
    pruner p[PRUNERS];
    pthread_t th[PRUNERS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, PRUNERS);
    for (int i = 0; i < PRUNERS; i++) {
        char msg[256];
        /* one sweeps every token, the others name them */
        p[i] = (pruner){.s = store_open(url, msg, sizeof msg), .go = &go,
                        .ids = i == 0 ? NULL : i % 2 ? ids : rev, .e = PIORA_EDB};
        assert_non_null(p[i].s);
    }
    for (int i = 0; i < PRUNERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, prune, &p[i]), 0);
    int64_t deleted = 0;
    for (int i = 0; i < PRUNERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(p[i].e, PIORA_OK);
        deleted += p[i].deleted;
        store_close(p[i].s);
    }
    pthread_barrier_destroy(&go);
    assert_int_equal(deleted, N - 2 * 20);
    const token_rec *tk[2] = {&t1, &t2};
    for (int k = 0; k < 2; k++) {
        usage_entry *rows = NULL;
        size_t n = 0;
        int64_t total = 0;
        assert_int_equal(store_usage_list(fx->s, tk[k]->id, 0, 200, 0, 50, &rows, &n, &total),
                         PIORA_OK);
        assert_int_equal(total, 10);
        assert_true(rows[0].time >= 3000 + N - 2); /* the newest stayed */
        free(rows);
        assert_int_equal(store_usage_list(fx->s, tk[k]->id, 0, 429, 0, 50, &rows, &n, &total),
                         PIORA_OK);
        assert_int_equal(total, 10);
        assert_true(rows[0].time >= 3000 + N - 6);
        free(rows);
    }
}

static void test_audit_entries(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "audit@example.com", "audit");
    audit_new e = {.time = 1700000000, .action = "token.revoked", .via = "cli",
                   .team_id = a.team_id, .actor_user_id = a.id, .email = "audit@example.com",
                   .addr = "192.0.2.1"};
    assert_int_equal(store_audit_insert(fx->s, &e), PIORA_OK);
    audit_row *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(store_audit_list(fx->s, a.team_id, NULL, 0, 10, &rows, &n, &total),
                     PIORA_OK);
    assert_int_equal(total, 1);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].action, "token.revoked");
    assert_string_equal(rows[0].via, "cli");
    assert_int_equal(rows[0].time, 1700000000);
    assert_int_equal(rows[0].actor_user_id, a.id);
    assert_string_equal(rows[0].actor_email, "audit@example.com");
    assert_string_equal(rows[0].addr, "192.0.2.1");
    free(rows);
    rows = NULL;
    assert_int_equal(store_audit_list(fx->s, a.team_id + 1, NULL, 0, 10, &rows, &n, &total),
                     PIORA_OK);
    assert_int_equal(total, 0);
    assert_int_equal(n, 0);
    free(rows);

    /* By email, in any case: the entry's own email, or a user it names as
     * actor or subject by id; newest first. */
    user_rec b = make_user(fx->s, "bob@example.com", "audit");
    audit_new sub = {.time = 1700000001, .action = "user.disabled", .via = "api",
                     .team_id = a.team_id, .actor_user_id = a.id, .subject_user_id = b.id};
    assert_int_equal(store_audit_insert(fx->s, &sub), PIORA_OK);
    audit_new other = {.time = 1700000002, .action = "token.created", .via = "api",
                       .team_id = a.team_id, .email = "carol@example.com"};
    assert_int_equal(store_audit_insert(fx->s, &other), PIORA_OK);
    assert_int_equal(store_audit_list(fx->s, a.team_id, "BOB@Example.COM", 0, 10, &rows, &n,
                                      &total),
                     PIORA_OK);
    assert_int_equal(total, 1);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].action, "user.disabled");
    assert_int_equal(rows[0].subject_user_id, b.id);
    free(rows);
    assert_int_equal(store_audit_list(fx->s, 0, "Audit@example.com", 0, 10, &rows, &n, &total),
                     PIORA_OK);
    assert_int_equal(total, 2); /* its own entry, and the one it acted in */
    assert_string_equal(rows[0].action, "user.disabled");
    assert_string_equal(rows[1].action, "token.revoked");
    free(rows);
    assert_int_equal(store_audit_list(fx->s, 0, NULL, 1, 1, &rows, &n, &total), PIORA_OK);
    assert_int_equal(total, 3);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].action, "user.disabled");
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_usage_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_cap_keeps_denied_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_big_batch_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_prune_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_entries, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
