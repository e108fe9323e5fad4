/* The store's backups section (issue 11): the databases with a schedule,
 * the once-per-slot claim, and pruning of old scheduled backups. */
#include <pthread.h>

#include "store_fixture.h"

static int64_t make_db(fixture *fx, int64_t team, const char *name, const char *schedule)
{
    char body[256];
    json_t *srv = create(fx->s, &RES_SERVERS, team, "{\"name\":\"db-host\",\"ip_address\":\"10.0.0.9\"}");
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"engine\":\"postgresql\",\"server_id\":%lld,"
             "\"backup_schedule\":%s%s%s,\"backup_keep\":2}",
             name, (long long)id_of(srv), schedule ? "\"" : "", schedule ? schedule : "null",
             schedule ? "\"" : "");
    json_t *db = create(fx->s, &RES_DATABASES, team, body);
    int64_t id = id_of(db);
    json_decref(db);
    json_decref(srv);
    return id;
}

static void complete(fixture *fx, int64_t team, int64_t backup_id, int64_t at)
{
    char body[160];
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(at, ts);
    snprintf(body, sizeof body, "{\"status\":\"completed\",\"completed_at\":\"%s\"}", ts);
    assert_int_equal(try_update(fx->s, &RES_BACKUPS, team, backup_id, body, NULL), PIORA_OK);
}

static void test_schedules_listed(void **state)
{
    fixture *fx = *state;
    int64_t a = make_user(fx->s, "a@example.com", "acme").team_id;
    int64_t b = make_user(fx->s, "b@example.com", "other").team_id;
    int64_t d1 = make_db(fx, a, "one", "0 3 * * *");
    make_db(fx, a, "none", NULL);
    int64_t d3 = make_db(fx, b, "three", "*/5 * * * *");
    backup_sched_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_backup_schedules(fx->s, 0, 100, &rows, &n), PIORA_OK);
    assert_int_equal(n, 2); /* every team's, only those with a schedule */
    assert_int_equal(rows[0].database_id, d1);
    assert_int_equal(rows[0].team_id, a);
    assert_int_equal(rows[0].keep, 2);
    assert_string_equal(rows[0].schedule, "0 3 * * *");
    assert_int_equal(rows[1].database_id, d3);
    assert_int_equal(rows[1].team_id, b);
    free(rows);
    assert_int_equal(store_backup_schedules(fx->s, d1, 1, &rows, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].database_id, d3);
    free(rows);
    assert_int_equal(store_backup_schedules(fx->s, d3, 100, &rows, &n), PIORA_OK);
    assert_int_equal(n, 0);
    free(rows);
}

static void test_slot_once(void **state)
{
    fixture *fx = *state;
    int64_t team = make_user(fx->s, "a@example.com", "acme").team_id;
    int64_t db = make_db(fx, team, "shop", "* * * * *");
    int64_t id = 0, again = 0;
    assert_int_equal(store_backup_slot_claim(fx->s, db, 1800000000, 1800000001, &id), PIORA_OK);
    assert_true(id > 0);
    /* a second node (or a second tick) asking for the same slot gets nothing */
    assert_int_equal(store_backup_slot_claim(fx->s, db, 1800000000, 1800000002, &again),
                     PIORA_ECONFLICT);
    assert_int_equal(again, 0);
    json_t *bk = NULL;
    assert_int_equal(objects_get(fx->s, &RES_BACKUPS, team, id, &bk), PIORA_OK);
    assert_string_equal(str_of(bk, "status"), "pending");
    assert_int_equal(json_integer_value(json_object_get(bk, "database_id")), db);
    json_decref(bk);
    assert_int_equal(store_backup_slot_claim(fx->s, db, 1800000060, 1800000061, &again), PIORA_OK);
    assert_true(again > id);
    assert_int_equal(store_backup_slot_claim(fx->s, 999, 1800000060, 1800000061, &again),
                     PIORA_ECONFLICT);
}

static void test_prune(void **state)
{
    fixture *fx = *state;
    int64_t team = make_user(fx->s, "a@example.com", "acme").team_id;
    int64_t db = make_db(fx, team, "shop", "* * * * *");
    int64_t sched[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(store_backup_slot_claim(fx->s, db, 1800000000 + 60 * i, 1800000000 + 60 * i,
                                                 &sched[i]),
                         PIORA_OK);
    }
    complete(fx, team, sched[0], 1800000010);
    complete(fx, team, sched[1], 1800000070);
    complete(fx, team, sched[2], 1800000130);
    /* sched[3] still pending; and one by hand, completed, oldest of all */
    char body[64];
    snprintf(body, sizeof body, "{\"database_id\":%lld}", (long long)db);
    json_t *manual = create(fx->s, &RES_BACKUPS, team, body);
    complete(fx, team, id_of(manual), 1700000000);

    int64_t ids[8];
    size_t n = 0;
    assert_int_equal(store_backup_prune_scheduled(fx->s, db, 2, ids, 8, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], sched[0]); /* the oldest completed scheduled one */
    json_t *o = NULL;
    assert_int_equal(objects_get(fx->s, &RES_BACKUPS, team, sched[0], &o), PIORA_ENOTFOUND);
    assert_int_equal(objects_get(fx->s, &RES_BACKUPS, team, sched[1], &o), PIORA_OK);
    json_decref(o);
    assert_int_equal(objects_get(fx->s, &RES_BACKUPS, team, sched[3], &o), PIORA_OK);
    json_decref(o);
    assert_int_equal(objects_get(fx->s, &RES_BACKUPS, team, id_of(manual), &o), PIORA_OK);
    json_decref(o);
    assert_int_equal(store_backup_prune_scheduled(fx->s, db, 2, ids, 8, &n), PIORA_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_backup_prune_scheduled(fx->s, db, 0, ids, 8, &n), PIORA_EINVALID);
    json_decref(manual);
}

/* Several connections (standing in for nodes) claim one slot at the same
 * moment: exactly one queues its backup. */
#define RACERS 4
typedef struct racer {
    store_t *s;
    pthread_barrier_t *go;
    int64_t db, backup_id;
    piora_err e;
} racer;

static void *claim(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->go);
    r->e = store_backup_slot_claim(r->s, r->db, 1800000000, 1800000001, &r->backup_id);
    return NULL;
}

static void test_slot_once_across_connections(void **state)
{
    fixture *fx = *state;
    int64_t team = make_user(fx->s, "a@example.com", "acme").team_id;
    int64_t db = make_db(fx, team, "shop", "* * * * *");
    const char *url = fixture_store_url() ? fixture_store_url() : fx->path;
    racer r[RACERS];
    pthread_t th[RACERS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        char msg[256];
        r[i] = (racer){.s = store_open(url, msg, sizeof msg), .go = &go, .db = db, .e = PIORA_EDB};
        assert_non_null(r[i].s);
    }
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, claim, &r[i]), 0);
    int ok = 0, conflict = 0;
    int64_t won = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        if (r[i].e == PIORA_OK) {
            ok++;
            won = r[i].backup_id;
        }
        conflict += r[i].e == PIORA_ECONFLICT;
        store_close(r[i].s);
    }
    pthread_barrier_destroy(&go);
    assert_int_equal(ok, 1);
    assert_int_equal(conflict, RACERS - 1);
    /* one backup was queued, the winner's */
    json_t *items = NULL;
    int64_t total = 0;
    obj_filter f = {.field = "database_id", .value = db};
    assert_int_equal(objects_list(fx->s, &RES_BACKUPS, team, &f, 0, 10, &items, &total), PIORA_OK);
    assert_int_equal(total, 1);
    assert_int_equal(id_of(json_array_get(items, 0)), won);
    json_decref(items);
}

/* Retention of one database on several connections at once: none fails,
 * and each pruned backup is reported by exactly one of them (the caller
 * removes its file). */
typedef struct pruner {
    store_t *s;
    pthread_barrier_t *go;
    int64_t db;
    int64_t ids[8];
    size_t n;
    piora_err e;
} pruner;

static void *prune(void *arg)
{
    pruner *p = arg;
    pthread_barrier_wait(p->go);
    p->e = store_backup_prune_scheduled(p->s, p->db, 2, p->ids, 8, &p->n);
    return NULL;
}

static void test_prune_across_connections(void **state)
{
    fixture *fx = *state;
    int64_t team = make_user(fx->s, "a@example.com", "acme").team_id;
    int64_t db = make_db(fx, team, "shop", "* * * * *");
    int64_t sched[6];
    for (int i = 0; i < 6; i++) {
        assert_int_equal(store_backup_slot_claim(fx->s, db, 1800000000 + 60 * i,
                                                 1800000000 + 60 * i, &sched[i]),
                         PIORA_OK);
        complete(fx, team, sched[i], 1800000010 + 60 * i);
    }
    const char *url = fixture_store_url() ? fixture_store_url() : fx->path;
    pruner p[RACERS];
    pthread_t th[RACERS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        char msg[256];
        p[i] = (pruner){.s = store_open(url, msg, sizeof msg), .go = &go, .db = db,
                        .e = PIORA_EDB};
        assert_non_null(p[i].s);
    }
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, prune, &p[i]), 0);
    int seen[6] = {0};
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(p[i].e, PIORA_OK);
        for (size_t k = 0; k < p[i].n; k++)
            for (int j = 0; j < 6; j++)
                seen[j] += p[i].ids[k] == sched[j];
        store_close(p[i].s);
    }
    pthread_barrier_destroy(&go);
    for (int j = 0; j < 4; j++) /* the four oldest, each reported once */
        assert_int_equal(seen[j], 1);
    assert_int_equal(seen[4], 0);
    assert_int_equal(seen[5], 0);
    json_t *o = NULL;
    assert_int_equal(objects_get(fx->s, &RES_BACKUPS, team, sched[3], &o), PIORA_ENOTFOUND);
    assert_int_equal(objects_get(fx->s, &RES_BACKUPS, team, sched[4], &o), PIORA_OK);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schedules_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_once_across_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_across_connections, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
