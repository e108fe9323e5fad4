/* Conformance, jobs section: team SSH keys (current + previous, rotation,
 * dropping the previous one, one current per team, teams apart), and
 * deployments as jobs (queue bound, claim order and limits, leases, finish,
 * cancel, the log), also with two connections claiming at once as two
 * nodes do. */
#include <pthread.h>

#include "store_fixture.h"

static sshkey_rec key(const char *tag, int64_t at)
{
    sshkey_rec k = {.created_at = at};
    snprintf(k.public_key, sizeof k.public_key, "ssh-ed25519 AAAA%s piora-t", tag);
    snprintf(k.fingerprint, sizeof k.fingerprint, "SHA256:%s", tag);
    memset(k.sealed, tag[0], 80);
    k.sealed_len = 80;
    return k;
}

static void test_sshkeys(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "keys-a@example.com", "keys-a");
    user_rec b = make_user(fx->s, "keys-b@example.com", "keys-b");
    sshkey_rec got[2];
    size_t n = 9;
    assert_int_equal(store_sshkey_get(fx->s, a.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 0);

    sshkey_rec k1 = key("one", 1000);
    assert_int_equal(store_sshkey_put_first(fx->s, a.team_id, &k1), PIORA_OK);
    sshkey_rec again = key("two", 1001);
    assert_int_equal(store_sshkey_put_first(fx->s, a.team_id, &again), PIORA_ECONFLICT);
    assert_int_equal(store_sshkey_get(fx->s, a.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_true(got[0].is_current);
    assert_string_equal(got[0].fingerprint, "SHA256:one");
    assert_int_equal(got[0].sealed_len, 80);
    assert_int_equal(got[0].sealed[79], 'o');
    assert_int_equal(got[0].created_at, 1000);
    assert_int_equal(store_sshkey_delete_previous(fx->s, a.team_id), PIORA_ENOTFOUND);

    /* another team is apart */
    assert_int_equal(store_sshkey_get(fx->s, b.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 0);

    sshkey_rec k2 = key("two", 1002);
    assert_int_equal(store_sshkey_rotate(fx->s, a.team_id, &k2), PIORA_OK);
    assert_int_equal(store_sshkey_get(fx->s, a.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 2);
    assert_true(got[0].is_current);
    assert_string_equal(got[0].fingerprint, "SHA256:two");
    assert_false(got[1].is_current);
    assert_string_equal(got[1].fingerprint, "SHA256:one");

    sshkey_rec k3 = key("three", 1003);
    assert_int_equal(store_sshkey_rotate(fx->s, a.team_id, &k3), PIORA_OK);
    assert_int_equal(store_sshkey_get(fx->s, a.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 2);
    assert_string_equal(got[0].fingerprint, "SHA256:three");
    assert_string_equal(got[1].fingerprint, "SHA256:two");

    assert_int_equal(store_sshkey_delete_previous(fx->s, a.team_id), PIORA_OK);
    assert_int_equal(store_sshkey_get(fx->s, a.team_id, got, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].fingerprint, "SHA256:three");

    sshkey_rec bad = key("bad", 1);
    bad.sealed_len = 0;
    assert_int_equal(store_sshkey_put_first(fx->s, b.team_id, &bad), PIORA_EINVALID);
}

static const job_trigger TRIG = {.type = "token", .id = 1, .name = "ci"};

static int64_t dep_status_is(fixture *fx, int64_t team, int64_t id, const char *want)
{
    json_t *o = NULL;
    assert_int_equal(objects_get(fx->s, &RES_DEPLOYMENTS, team, id, &o), PIORA_OK);
    assert_string_equal(str_of(o, "status"), want);
    json_decref(o);
    return id;
}

static void test_deploy_queue_and_claim(void **state)
{
    fixture *fx = *state;
    user_rec u = make_user(fx->s, "jobs@example.com", "jobs");
    user_rec other = make_user(fx->s, "other@example.com", "other");
    json_t *sv = create(fx->s, &RES_SERVERS, u.team_id, "{\"name\":\"a\",\"ip_address\":\"10.0.0.1\"}");
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"one\",\"server_id\":%lld,\"repository\":\"a/b\",\"deploy_script\":\"true\"}",
             (long long)id_of(sv));
    json_t *a1 = create(fx->s, &RES_APPLICATIONS, u.team_id, body);
    snprintf(body, sizeof body, "{\"name\":\"two\",\"server_id\":%lld,\"repository\":\"a/c\"}",
             (long long)id_of(sv));
    json_t *a2 = create(fx->s, &RES_APPLICATIONS, u.team_id, body);
    int64_t d1, d2, d3, d4;
    assert_int_equal(store_deploy_queue(fx->s, u.team_id, id_of(a1), NULL, &TRIG, 3, 100, &d1), PIORA_OK);
    assert_int_equal(store_deploy_queue(fx->s, u.team_id, id_of(a1), "v1", &TRIG, 3, 101, &d2), PIORA_OK);
    assert_int_equal(store_deploy_queue(fx->s, u.team_id, id_of(a2), NULL, &TRIG, 3, 102, &d3), PIORA_OK);
    /* the bound is per server, across applications */
    assert_int_equal(store_deploy_queue(fx->s, u.team_id, id_of(a2), NULL, &TRIG, 3, 103, &d4), PIORA_ETOOBIG);
    /* another team's application is not found */
    assert_int_equal(store_deploy_queue(fx->s, other.team_id, id_of(a1), NULL, &TRIG, 3, 103, &d4), PIORA_ENOTFOUND);

    deploy_claim c;
    assert_int_equal(store_deploy_claim(fx->s, "node-a", 200, 230, 2, &c), PIORA_OK);
    assert_int_equal(c.id, d1);
    assert_string_equal(c.ref, "main"); /* the application's branch */
    assert_string_equal(c.repository, "a/b");
    assert_string_equal(c.host, "10.0.0.1");
    assert_int_equal(c.port, 22);
    assert_string_equal(c.script, "true");
    free(c.script);
    /* d2 is the same application's: it waits; d3 is another's */
    assert_int_equal(store_deploy_claim(fx->s, "node-a", 200, 230, 2, &c), PIORA_OK);
    assert_int_equal(c.id, d3);
    assert_null(c.script);
    /* two run on the server: the limit */
    assert_int_equal(store_deploy_claim(fx->s, "node-a", 200, 230, 2, &c), PIORA_ENOTFOUND);
    dep_status_is(fx, u.team_id, d2, "queued");

    /* only the lease owner finishes */
    assert_int_equal(store_deploy_finish(fx->s, d1, "node-b", "succeeded", NULL, NULL, 0, 210), PIORA_ENOTFOUND);
    assert_int_equal(store_deploy_finish(fx->s, d1, "node-a", "failed", "script_failed",
                                         "0123456789abcdef0123456789abcdef01234567", 7, 210), PIORA_OK);
    json_t *o = NULL;
    assert_int_equal(objects_get(fx->s, &RES_DEPLOYMENTS, u.team_id, d1, &o), PIORA_OK);
    assert_string_equal(str_of(o, "error"), "script_failed");
    assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 7);
    json_decref(o);
    assert_int_equal(objects_get(fx->s, &RES_APPLICATIONS, u.team_id, id_of(a1), &o), PIORA_OK);
    assert_string_equal(str_of(o, "status"), "failed");
    json_decref(o);

    /* now d2 may start, at its own ref */
    assert_int_equal(store_deploy_claim(fx->s, "node-a", 211, 240, 2, &c), PIORA_OK);
    assert_int_equal(c.id, d2);
    assert_string_equal(c.ref, "v1");
    free(c.script);

    /* a heartbeat moves the lease; an expired one is lost */
    assert_int_equal(store_job_heartbeat(fx->s, "node-a", 300), PIORA_OK);
    int64_t n = -1;
    assert_int_equal(store_job_expire(fx->s, 250, &n), PIORA_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_job_expire(fx->s, 301, &n), PIORA_OK);
    assert_int_equal(n, 2);
    assert_int_equal(objects_get(fx->s, &RES_DEPLOYMENTS, u.team_id, d2, &o), PIORA_OK);
    assert_string_equal(str_of(o, "status"), "failed");
    assert_string_equal(str_of(o, "error"), "lost");
    json_decref(o);
    assert_int_equal(store_deploy_finish(fx->s, d2, "node-a", "succeeded", NULL, NULL, 0, 302), PIORA_ENOTFOUND);
    json_decref(sv);
    json_decref(a1);
    json_decref(a2);
}

static void test_deploy_cancel_and_log(void **state)
{
    fixture *fx = *state;
    user_rec u = make_user(fx->s, "log@example.com", "log");
    json_t *sv = create(fx->s, &RES_SERVERS, u.team_id, "{\"name\":\"a\",\"ip_address\":\"10.0.0.2\"}");
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"one\",\"server_id\":%lld,\"repository\":\"a/b\"}",
             (long long)id_of(sv));
    json_t *app = create(fx->s, &RES_APPLICATIONS, u.team_id, body);
    int64_t d1, d2;
    assert_int_equal(store_deploy_queue(fx->s, u.team_id, id_of(app), NULL, &TRIG, 25, 100, &d1), PIORA_OK);
    assert_int_equal(store_deploy_queue(fx->s, u.team_id, id_of(app), NULL, &TRIG, 25, 100, &d2), PIORA_OK);
    deploy_claim c;
    assert_int_equal(store_deploy_claim(fx->s, "node", 101, 200, 2, &c), PIORA_OK);
    free(c.script);
    deploy_cancel_outcome how;
    bool asked = true;
    assert_int_equal(store_deploy_cancel_asked(fx->s, d1, &asked), PIORA_OK);
    assert_false(asked);
    assert_int_equal(store_deploy_cancel(fx->s, u.team_id, d2, 102, &how), PIORA_OK);
    assert_int_equal(how, DEPLOY_CANCELLED_NOW);
    dep_status_is(fx, u.team_id, d2, "cancelled");
    assert_int_equal(store_deploy_cancel(fx->s, u.team_id, d1, 102, &how), PIORA_OK);
    assert_int_equal(how, DEPLOY_CANCEL_ASKED);
    assert_int_equal(store_deploy_cancel_asked(fx->s, d1, &asked), PIORA_OK);
    assert_true(asked);
    assert_int_equal(store_deploy_cancel(fx->s, u.team_id + 1000, d1, 102, &how), PIORA_ENOTFOUND);

    /* the log: appended in chunks, read from any offset, capped with a marker */
    assert_int_equal(store_job_log_append(fx->s, d1, "hello ", 6, 16, "[cap]"), PIORA_OK);
    assert_int_equal(store_job_log_append(fx->s, d1, "world\n", 6, 16, "[cap]"), PIORA_OK);
    char *buf = NULL;
    size_t len = 0;
    bool complete = true;
    assert_int_equal(store_job_log_read(fx->s, u.team_id, d1, 3, 1024, &buf, &len, &complete), PIORA_OK);
    assert_int_equal(len, 9);
    assert_memory_equal(buf, "lo world\n", 9);
    assert_false(complete); /* still running */
    free(buf);
    assert_int_equal(store_job_log_append(fx->s, d1, "0123456789", 10, 16, "[cap]"), PIORA_OK);
    assert_int_equal(store_job_log_append(fx->s, d1, "more", 4, 16, "[cap]"), PIORA_OK);
    assert_int_equal(store_deploy_finish(fx->s, d1, "node", "cancelled", "cancelled", NULL, -1, 103), PIORA_OK);
    assert_int_equal(store_job_log_read(fx->s, u.team_id, d1, 0, 1024, &buf, &len, &complete), PIORA_OK);
    assert_int_equal(len, 21);
    assert_memory_equal(buf, "hello world\n0123[cap]", 21);
    assert_true(complete);
    free(buf);
    /* a short read is not complete until the reader reaches the end */
    assert_int_equal(store_job_log_read(fx->s, u.team_id, d1, 0, 4, &buf, &len, &complete), PIORA_OK);
    assert_int_equal(len, 4);
    assert_false(complete);
    free(buf);
    assert_int_equal(store_job_log_read(fx->s, u.team_id + 1000, d1, 0, 4, &buf, &len, &complete), PIORA_ENOTFOUND);
    json_decref(sv);
    json_decref(app);
}

/* ---- two nodes claiming at once ------------------------------------------ */

/* A second connection to the fixture's database, standing in for another
 * node (another process on SQLite, another machine on PostgreSQL). */
static store_t *other_node(const fixture *fx)
{
    const char *url = fixture_store_url();
    char msg[256] = "";
    store_t *s = store_open(url ? url : fx->path, msg, sizeof msg);
    if (!s)
        fprintf(stderr, "second connection: %s\n", msg);
    assert_non_null(s);
    return s;
}

#define CLAIMS_MAX 64

typedef struct claimer {
    store_t *s;
    const char *owner;
    int64_t now, per_server;
    pthread_barrier_t *start;
    deploy_claim got[CLAIMS_MAX];
    size_t n;
    piora_err last; /* what ended its loop: ENOTFOUND when all went well */
} claimer;

/* Claims until nothing is left for it (no assertions here: cmocka's are
 * for the main thread). A busy database is asked again, a bounded number
 * of times. */
static void *claim_all(void *arg)
{
    claimer *c = arg;
    c->n = 0;
    c->last = PIORA_OK;
    pthread_barrier_wait(c->start);
    int busy = 0;
    while (c->n < CLAIMS_MAX) {
        deploy_claim d;
        piora_err e = store_deploy_claim(c->s, c->owner, c->now, c->now + 60, c->per_server, &d);
        if (e == PIORA_EBUSY && busy++ < 100)
            continue;
        if (e != PIORA_OK) {
            c->last = e;
            break;
        }
        free(d.script);
        d.script = NULL;
        c->got[c->n++] = d;
    }
    return NULL;
}

/* Both claimers start together and run until neither finds more. */
static void claim_race(claimer *a, claimer *b)
{
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    a->start = b->start = &start;
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, claim_all, a), 0);
    assert_int_equal(pthread_create(&tb, NULL, claim_all, b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&start);
    assert_int_equal(a->last, PIORA_ENOTFOUND);
    assert_int_equal(b->last, PIORA_ENOTFOUND);
}

static void finish_all(store_t *s, const claimer *c, int64_t now)
{
    for (size_t i = 0; i < c->n; i++)
        assert_int_equal(store_deploy_finish(s, c->got[i].id, c->owner, "succeeded", NULL, NULL,
                                             0, now),
                         PIORA_OK);
}

/* servers x apps applications, each with `per_app` deployments queued;
 * ids[server][app][k] in queueing order. */
#define RACE_SERVERS 3
#define RACE_APPS 8
#define RACE_DEPS 2
typedef struct race_world {
    int64_t team;
    int64_t server[RACE_SERVERS];
    int64_t dep[RACE_SERVERS][RACE_APPS][RACE_DEPS];
} race_world;

static void race_world_make(fixture *fx, race_world *w, int servers, int apps, int deps)
{
    user_rec u = make_user(fx->s, "race@example.com", "race");
    w->team = u.team_id;
    for (int sv = 0; sv < servers; sv++) {
        char body[256];
        snprintf(body, sizeof body, "{\"name\":\"s%d\",\"ip_address\":\"10.1.0.%d\"}", sv,
                 sv + 1);
        json_t *so = create(fx->s, &RES_SERVERS, w->team, body);
        w->server[sv] = id_of(so);
        json_decref(so);
        for (int a = 0; a < apps; a++) {
            snprintf(body, sizeof body,
                     "{\"name\":\"a%d-%d\",\"server_id\":%lld,\"repository\":\"r/%d\"}",
                     sv, a, (long long)w->server[sv], a);
            json_t *ao = create(fx->s, &RES_APPLICATIONS, w->team, body);
            for (int k = 0; k < deps; k++)
                assert_int_equal(store_deploy_queue(fx->s, w->team, id_of(ao), NULL, &TRIG, 100,
                                                    100, &w->dep[sv][a][k]),
                                 PIORA_OK);
            json_decref(ao);
        }
    }
}

/* Every job is claimed by exactly one of two nodes, and an application's
 * second deployment never starts while its first runs. */
static void test_claim_race_once(void **state)
{
    fixture *fx = *state;
    race_world w;
    race_world_make(fx, &w, RACE_SERVERS, RACE_APPS, RACE_DEPS);
    store_t *node_b = other_node(fx);
    claimer a = {.s = fx->s, .owner = "node-a", .now = 200, .per_server = 1000};
    claimer b = {.s = node_b, .owner = "node-b", .now = 200, .per_server = 1000};
    for (int round = 0; round < RACE_DEPS; round++) {
        claim_race(&a, &b);
        /* this round: exactly the round-th deployment of every application */
        assert_int_equal(a.n + b.n, RACE_SERVERS * RACE_APPS);
        for (int sv = 0; sv < RACE_SERVERS; sv++)
            for (int ap = 0; ap < RACE_APPS; ap++) {
                int64_t want = w.dep[sv][ap][round];
                int seen = 0;
                for (size_t i = 0; i < a.n; i++)
                    seen += a.got[i].id == want;
                for (size_t i = 0; i < b.n; i++)
                    seen += b.got[i].id == want;
                assert_int_equal(seen, 1);
                dep_status_is(fx, w.team, want, "running");
                if (round + 1 < RACE_DEPS)
                    dep_status_is(fx, w.team, w.dep[sv][ap][round + 1], "queued");
            }
        finish_all(fx->s, &a, 300 + round);
        finish_all(node_b, &b, 300 + round);
    }
    store_close(node_b);
}

/* Two nodes claiming at once never run more than per_server jobs on one
 * server, and together fill every server's slots. */
static void test_claim_race_per_server(void **state)
{
    fixture *fx = *state;
    enum { SERVERS = 2, APPS = 6, PER_SERVER = 2 };
    race_world w;
    race_world_make(fx, &w, SERVERS, APPS, 1);
    store_t *node_b = other_node(fx);
    claimer a = {.s = fx->s, .owner = "node-a", .now = 200, .per_server = PER_SERVER};
    claimer b = {.s = node_b, .owner = "node-b", .now = 200, .per_server = PER_SERVER};
    size_t done = 0;
    for (int round = 0; round < APPS / PER_SERVER; round++) {
        claim_race(&a, &b);
        for (int sv = 0; sv < SERVERS; sv++) {
            int on = 0;
            for (size_t i = 0; i < a.n; i++)
                on += a.got[i].server_id == w.server[sv];
            for (size_t i = 0; i < b.n; i++)
                on += b.got[i].server_id == w.server[sv];
            assert_int_equal(on, PER_SERVER);
        }
        done += a.n + b.n;
        finish_all(fx->s, &a, 300 + round);
        finish_all(node_b, &b, 300 + round);
    }
    assert_int_equal(done, SERVERS * APPS);
    deploy_claim c;
    assert_int_equal(store_deploy_claim(fx->s, "node-a", 400, 460, PER_SERVER, &c), PIORA_ENOTFOUND);
    store_close(node_b);
}

typedef struct expirer {
    store_t *s;
    pthread_barrier_t *start;
    int64_t n;
    piora_err got;
} expirer;

static void *expire_now(void *arg)
{
    expirer *x = arg;
    pthread_barrier_wait(x->start);
    x->got = store_job_expire(x->s, 1000, &x->n);
    return NULL;
}

/* Every node ends expired leases each second: two at once count each lost
 * job once between them, and every one ends failed with "lost". */
static void test_expire_race(void **state)
{
    fixture *fx = *state;
    race_world w;
    race_world_make(fx, &w, RACE_SERVERS, RACE_APPS, 1);
    deploy_claim c;
    int claimed = 0;
    while (store_deploy_claim(fx->s, "node-gone", 200, 260, 1000, &c) == PIORA_OK) {
        free(c.script);
        claimed++;
    }
    assert_int_equal(claimed, RACE_SERVERS * RACE_APPS);
    store_t *node_b = other_node(fx);
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    expirer a = {.s = fx->s, .start = &start}, b = {.s = node_b, .start = &start};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, expire_now, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, expire_now, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&start);
    assert_int_equal(a.got, PIORA_OK);
    assert_int_equal(b.got, PIORA_OK);
    assert_int_equal(a.n + b.n, claimed);
    for (int sv = 0; sv < RACE_SERVERS; sv++)
        for (int ap = 0; ap < RACE_APPS; ap++)
            dep_status_is(fx, w.team, w.dep[sv][ap][0], "failed");
    store_close(node_b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sshkeys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deploy_queue_and_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deploy_cancel_and_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_race_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_race_per_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_race, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
