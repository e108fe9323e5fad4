/* The store's backup jobs section (issue 11), on every backend: backups and
 * restores queued within --queue-per-server, claimed under a lease with at
 * most one job per database and --jobs-per-server over every job kind,
 * heartbeats and lost leases, cancel, the exact outcome, and the log. */
#include "store_fixture.h"

#define OWNER "0123456789abcdef0123456789abcdef"
#define SHA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const job_trigger TRIG = {.type = "token", .id = 7, .name = "ci"};

typedef struct world {
    int64_t team, other, server, db1, db2, app;
} world;

static world make_world(fixture *fx)
{
    world w = {0};
    w.team = make_user(fx->s, "a@example.com", "acme").team_id;
    w.other = make_user(fx->s, "b@example.com", "other").team_id;
    json_t *srv = create(fx->s, &RES_SERVERS, w.team, "{\"name\":\"db-host\",\"ip_address\":\"10.0.0.9\"}");
    w.server = id_of(srv);
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"shop\",\"engine\":\"postgresql\",\"server_id\":%lld,"
             "\"host\":\"/run/pg\",\"port\":5433,\"username\":\"dba\"}", (long long)w.server);
    json_t *d1 = create(fx->s, &RES_DATABASES, w.team, body);
    snprintf(body, sizeof body, "{\"name\":\"copy\",\"engine\":\"postgresql\",\"server_id\":%lld}",
             (long long)w.server);
    json_t *d2 = create(fx->s, &RES_DATABASES, w.team, body);
    snprintf(body, sizeof body, "{\"name\":\"web\",\"server_id\":%lld,\"repository\":\"o/r\"}",
             (long long)w.server);
    json_t *app = create(fx->s, &RES_APPLICATIONS, w.team, body);
    w.db1 = id_of(d1);
    w.db2 = id_of(d2);
    w.app = id_of(app);
    json_decref(srv);
    json_decref(d1);
    json_decref(d2);
    json_decref(app);
    return w;
}

static json_t *get(fixture *fx, const resource_desc *d, int64_t team, int64_t id)
{
    json_t *o = NULL;
    assert_int_equal(objects_get(fx->s, d, team, id, &o), PIORA_OK);
    return o;
}

static void test_queue_and_claim(void **state)
{
    fixture *fx = *state;
    world w = make_world(fx);
    int64_t b1 = 0, b2 = 0, id = 0;
    assert_int_equal(store_bjob_queue_backup(fx->s, w.other, w.db1, &TRIG, 25, 100, &id),
                     PIORA_ENOTFOUND); /* another team's database */
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db1, &TRIG, 25, 100, &b1), PIORA_OK);
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db1, &TRIG, 25, 101, &b2), PIORA_OK);
    /* two jobs wait on the server: a bound of 2 is full, for any kind */
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db2, &TRIG, 2, 102, &id),
                     PIORA_ETOOBIG);
    assert_int_equal(store_deploy_queue(fx->s, w.team, w.app, NULL, &TRIG, 2, 102, &id),
                     PIORA_ETOOBIG);
    json_t *o = get(fx, &RES_BACKUPS, w.team, b1);
    assert_string_equal(str_of(o, "status"), "pending");
    assert_string_equal(str_of(json_object_get(o, "triggered_by"), "type"), "token");
    json_decref(o);

    bjob_claim c;
    assert_int_equal(store_bjob_claim(fx->s, OWNER, 200, 230, 2, &c), PIORA_OK);
    assert_int_equal(c.kind, BJOB_BACKUP);
    assert_int_equal(c.id, b1);
    assert_int_equal(c.backup_id, b1);
    assert_int_equal(c.database_id, w.db1);
    assert_int_equal(c.server_id, w.server);
    assert_string_equal(c.engine, "postgresql");
    assert_string_equal(c.name, "shop");
    assert_string_equal(c.db_host, "/run/pg");
    assert_int_equal(c.db_port, 5433);
    assert_string_equal(c.db_user, "dba");
    assert_string_equal(c.host, "10.0.0.9");
    assert_int_equal(c.port, 22);
    assert_false(c.scheduled);
    /* one job per database: b2 waits while b1 runs */
    assert_int_equal(store_bjob_claim(fx->s, OWNER, 201, 231, 2, &c), PIORA_ENOTFOUND);
    o = get(fx, &RES_BACKUPS, w.team, b1);
    assert_string_equal(str_of(o, "status"), "running");
    json_decref(o);

    /* --jobs-per-server counts every kind: a running deployment fills the
     * second slot, so a backup of the other database waits */
    int64_t dep = 0, b3 = 0;
    assert_int_equal(store_deploy_queue(fx->s, w.team, w.app, NULL, &TRIG, 25, 202, &dep), PIORA_OK);
    deploy_claim dc;
    assert_int_equal(store_deploy_claim(fx->s, OWNER, 203, 233, 2, &dc), PIORA_OK);
    free(dc.script);
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db2, &TRIG, 25, 204, &b3), PIORA_OK);
    assert_int_equal(store_bjob_claim(fx->s, OWNER, 205, 235, 2, &c), PIORA_ENOTFOUND);
    assert_int_equal(store_bjob_claim(fx->s, OWNER, 205, 235, 3, &c), PIORA_OK);
    assert_int_equal(c.id, b3);

    /* a completed backup records its checksum and size; a failed one none */
    assert_int_equal(store_bjob_finish(fx->s, BJOB_BACKUP, b1, OWNER, NULL, "nothex", 5, 300),
                     PIORA_EINVALID);
    assert_int_equal(store_bjob_finish(fx->s, BJOB_BACKUP, b1, "someoneelse", NULL, SHA, 5, 300),
                     PIORA_ENOTFOUND);
    assert_int_equal(store_bjob_finish(fx->s, BJOB_BACKUP, b1, OWNER, NULL, SHA, 1234, 300), PIORA_OK);
    assert_int_equal(store_bjob_finish(fx->s, BJOB_BACKUP, b3, OWNER, "dump_failed", SHA, 9, 301),
                     PIORA_OK);
    o = get(fx, &RES_BACKUPS, w.team, b1);
    assert_string_equal(str_of(o, "status"), "completed");
    assert_string_equal(str_of(o, "sha256"), SHA);
    assert_int_equal(json_integer_value(json_object_get(o, "size_bytes")), 1234);
    assert_true(json_is_null(json_object_get(o, "error")));
    json_decref(o);
    o = get(fx, &RES_BACKUPS, w.team, b3);
    assert_string_equal(str_of(o, "status"), "failed");
    assert_string_equal(str_of(o, "error"), "dump_failed");
    assert_true(json_is_null(json_object_get(o, "sha256")));
    assert_true(json_is_null(json_object_get(o, "size_bytes")));
    assert_true(json_is_null(json_object_get(o, "completed_at")));
    json_decref(o);

    /* a restore of b1 into the second database: claimed with the target's
     * connection and the source's name and checksum */
    int64_t r = 0;
    assert_int_equal(store_bjob_queue_restore(fx->s, w.other, b1, w.db2, &TRIG, 25, 310, &id),
                     PIORA_ENOTFOUND);
    assert_int_equal(store_bjob_queue_restore(fx->s, w.team, b1, w.db2, &TRIG, 25, 310, &r), PIORA_OK);
    assert_int_equal(store_bjob_claim(fx->s, OWNER, 311, 341, 5, &c), PIORA_OK);
    if (c.kind == BJOB_BACKUP) { /* b2 was older: it goes first */
        assert_int_equal(c.id, b2);
        assert_int_equal(store_bjob_claim(fx->s, OWNER, 312, 342, 5, &c), PIORA_OK);
    }
    assert_int_equal(c.kind, BJOB_RESTORE);
    assert_int_equal(c.id, r);
    assert_int_equal(c.backup_id, b1);
    assert_int_equal(c.database_id, w.db2);
    assert_string_equal(c.name, "copy");
    assert_string_equal(c.source_name, "shop");
    assert_string_equal(c.sha256, SHA);
    assert_string_equal(c.db_host, "");
    assert_int_equal(store_bjob_finish(fx->s, BJOB_RESTORE, r, OWNER, "checksum_mismatch", NULL, 0, 320),
                     PIORA_OK);
    o = get(fx, &RES_RESTORES, w.team, r);
    assert_string_equal(str_of(o, "status"), "failed");
    assert_string_equal(str_of(o, "error"), "checksum_mismatch");
    json_decref(o);
}

static void test_lease_cancel_log(void **state)
{
    fixture *fx = *state;
    world w = make_world(fx);
    int64_t b1 = 0, b2 = 0, lost = 0;
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db1, &TRIG, 25, 100, &b1), PIORA_OK);
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db2, &TRIG, 25, 100, &b2), PIORA_OK);
    bjob_claim c;
    assert_int_equal(store_bjob_claim(fx->s, OWNER, 100, 110, 5, &c), PIORA_OK);
    assert_int_equal(c.id, b1);
    /* a heartbeat keeps it; past the lease it is lost */
    assert_int_equal(store_bjob_heartbeat(fx->s, OWNER, 130), PIORA_OK);
    assert_int_equal(store_bjob_expire(fx->s, 120, &lost), PIORA_OK);
    assert_int_equal(lost, 0);
    assert_int_equal(store_bjob_expire(fx->s, 131, &lost), PIORA_OK);
    assert_int_equal(lost, 1);
    json_t *o = get(fx, &RES_BACKUPS, w.team, b1);
    assert_string_equal(str_of(o, "status"), "failed");
    assert_string_equal(str_of(o, "error"), "lost");
    json_decref(o);
    assert_int_equal(store_bjob_finish(fx->s, BJOB_BACKUP, b1, OWNER, NULL, SHA, 1, 140),
                     PIORA_ENOTFOUND); /* the lost job is nobody's */

    /* cancel: a pending one at once; a running one is asked */
    deploy_cancel_outcome how;
    assert_int_equal(store_bjob_cancel(fx->s, BJOB_BACKUP, w.other, b2, 150, &how), PIORA_ENOTFOUND);
    assert_int_equal(store_bjob_claim(fx->s, OWNER, 150, 200, 5, &c), PIORA_OK);
    assert_int_equal(c.id, b2);
    bool yes = true;
    assert_int_equal(store_bjob_cancel_asked(fx->s, BJOB_BACKUP, b2, &yes), PIORA_OK);
    assert_false(yes);
    assert_int_equal(store_bjob_cancel(fx->s, BJOB_BACKUP, w.team, b2, 151, &how), PIORA_OK);
    assert_int_equal(how, DEPLOY_CANCEL_ASKED);
    assert_int_equal(store_bjob_cancel_asked(fx->s, BJOB_BACKUP, b2, &yes), PIORA_OK);
    assert_true(yes);
    int64_t b3 = 0;
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db1, &TRIG, 25, 152, &b3), PIORA_OK);
    assert_int_equal(store_bjob_cancel(fx->s, BJOB_BACKUP, w.team, b3, 153, &how), PIORA_OK);
    assert_int_equal(how, DEPLOY_CANCELLED_NOW);
    o = get(fx, &RES_BACKUPS, w.team, b3);
    assert_string_equal(str_of(o, "status"), "failed");
    assert_string_equal(str_of(o, "error"), "cancelled");
    json_decref(o);
    assert_int_equal(store_bjob_cancel(fx->s, BJOB_BACKUP, w.team, b3, 154, &how), PIORA_OK);
    assert_int_equal(how, DEPLOY_CANCEL_FINISHED);

    /* the log: chunks read back from any offset, capped with the marker,
     * complete once the job has ended; another team sees nothing */
    assert_int_equal(store_bjob_log_append(fx->s, BJOB_BACKUP, b2, "hello ", 6, 10, "[cut]"), PIORA_OK);
    assert_int_equal(store_bjob_log_append(fx->s, BJOB_BACKUP, b2, "world\n", 6, 10, "[cut]"), PIORA_OK);
    assert_int_equal(store_bjob_log_append(fx->s, BJOB_BACKUP, b2, "more", 4, 10, "[cut]"), PIORA_OK);
    char *buf = NULL;
    size_t len = 0;
    bool complete = true;
    assert_int_equal(store_bjob_log_read(fx->s, BJOB_BACKUP, w.team, b2, 0, 1000, &buf, &len, &complete),
                     PIORA_OK);
    assert_string_equal(buf, "hello worl[cut]");
    assert_false(complete);
    free(buf);
    assert_int_equal(store_bjob_log_read(fx->s, BJOB_BACKUP, w.team, b2, 6, 3, &buf, &len, &complete),
                     PIORA_OK);
    assert_string_equal(buf, "wor");
    free(buf);
    assert_int_equal(store_bjob_log_read(fx->s, BJOB_BACKUP, w.other, b2, 0, 10, &buf, &len, &complete),
                     PIORA_ENOTFOUND);
    assert_int_equal(store_bjob_log_read(fx->s, BJOB_RESTORE, w.team, b2, 0, 10, &buf, &len, &complete),
                     PIORA_ENOTFOUND); /* no restore of that id */
    assert_int_equal(store_bjob_finish(fx->s, BJOB_BACKUP, b2, OWNER, "cancelled", NULL, 0, 160), PIORA_OK);
    assert_int_equal(store_bjob_log_read(fx->s, BJOB_BACKUP, w.team, b2, 0, 1000, &buf, &len, &complete),
                     PIORA_OK);
    assert_true(complete);
    free(buf);
}

/* A job's log goes with its row. SQLite gives a new row the id of the
 * deleted newest one, so chunks left behind were read as the next job's log
 * (a failed dump showed "piora: stored 1628 bytes"): on every path a row
 * goes, DELETE and the cascades, for backups, restores and deployments. */
static void expect_log(fixture *fx, bjob_kind kind, int64_t team, int64_t id, const char *want)
{
    char *buf = NULL;
    size_t len = 0;
    bool complete = true;
    piora_err e = kind == BJOB_BACKUP || kind == BJOB_RESTORE
                      ? store_bjob_log_read(fx->s, kind, team, id, 0, 1000, &buf, &len, &complete)
                      : PIORA_EINVALID;
    assert_int_equal(e, PIORA_OK);
    assert_string_equal(buf, want);
    assert_int_equal(len, strlen(want));
    free(buf);
}

static void test_log_goes_with_its_job(void **state)
{
    fixture *fx = *state;
    world w = make_world(fx);
    int64_t b = 0, b2 = 0, r = 0, r2 = 0, nb = 0;
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db1, &TRIG, 25, 100, &b), PIORA_OK);
    assert_int_equal(store_bjob_log_append(fx->s, BJOB_BACKUP, b, "piora: stored 1628 bytes\n", 25,
                                           1000, "[cut]"), PIORA_OK);
    assert_int_equal(objects_delete(fx->s, &RES_BACKUPS, w.team, b), PIORA_OK);
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db1, &TRIG, 25, 101, &b2), PIORA_OK);
    expect_log(fx, BJOB_BACKUP, w.team, b2, "");
    assert_int_equal(store_bjob_log_append(fx->s, BJOB_BACKUP, b2, "pg_dump: error\n", 15, 1000,
                                           "[cut]"), PIORA_OK);
    expect_log(fx, BJOB_BACKUP, w.team, b2, "pg_dump: error\n");

    /* a restore goes with its backup, and both with their database */
    assert_int_equal(store_bjob_queue_restore(fx->s, w.team, b2, w.db2, &TRIG, 25, 102, &r), PIORA_OK);
    assert_int_equal(store_bjob_log_append(fx->s, BJOB_RESTORE, r, "old restore\n", 12, 1000, "[cut]"),
                     PIORA_OK);
    assert_int_equal(objects_delete(fx->s, &RES_DATABASES, w.team, w.db1), PIORA_OK);
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"shop2\",\"engine\":\"postgresql\",\"server_id\":%lld}",
             (long long)w.server);
    json_t *d = create(fx->s, &RES_DATABASES, w.team, body);
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, id_of(d), &TRIG, 25, 103, &nb), PIORA_OK);
    expect_log(fx, BJOB_BACKUP, w.team, nb, "");
    assert_int_equal(store_bjob_queue_restore(fx->s, w.team, nb, w.db2, &TRIG, 25, 104, &r2), PIORA_OK);
    expect_log(fx, BJOB_RESTORE, w.team, r2, "");
    json_decref(d);

    /* a deployment goes with its application */
    int64_t dep = 0, dep2 = 0;
    assert_int_equal(store_deploy_queue(fx->s, w.team, w.app, "main", &TRIG, 25, 105, &dep), PIORA_OK);
    assert_int_equal(store_job_log_append(fx->s, dep, "old deploy\n", 11, 1000, "[cut]"), PIORA_OK);
    assert_int_equal(objects_delete(fx->s, &RES_APPLICATIONS, w.team, w.app), PIORA_OK);
    snprintf(body, sizeof body, "{\"name\":\"web2\",\"server_id\":%lld,\"repository\":\"o/r\"}",
             (long long)w.server);
    json_t *app = create(fx->s, &RES_APPLICATIONS, w.team, body);
    assert_int_equal(store_deploy_queue(fx->s, w.team, id_of(app), "main", &TRIG, 25, 106, &dep2),
                     PIORA_OK);
    char *buf = NULL;
    size_t len = 0;
    bool complete = true;
    assert_int_equal(store_job_log_read(fx->s, w.team, dep2, 0, 1000, &buf, &len, &complete), PIORA_OK);
    assert_string_equal(buf, "");
    free(buf);
    json_decref(app);
}

/* An id is never given twice, whatever was deleted: the newest server,
 * application, database, backup, restore and deployment deleted, the next
 * one made gets a new id (SQLite would give the deleted one's: a token
 * limited to "servers:7" then reached the next server; migration 0016). */
static void test_ids_never_reused(void **state)
{
    fixture *fx = *state;
    world w = make_world(fx);
    char body[256];

    json_t *s2 = create(fx->s, &RES_SERVERS, w.team, "{\"name\":\"s2\",\"ip_address\":\"10.0.0.10\"}");
    int64_t gone = id_of(s2);
    json_decref(s2);
    assert_int_equal(objects_delete(fx->s, &RES_SERVERS, w.team, gone), PIORA_OK);
    json_t *s3 = create(fx->s, &RES_SERVERS, w.team, "{\"name\":\"s3\",\"ip_address\":\"10.0.0.11\"}");
    assert_true(id_of(s3) > gone);
    json_decref(s3);

    /* w.db2 and w.app are the newest of their kinds */
    assert_int_equal(objects_delete(fx->s, &RES_DATABASES, w.team, w.db2), PIORA_OK);
    snprintf(body, sizeof body, "{\"name\":\"d3\",\"engine\":\"postgresql\",\"server_id\":%lld}",
             (long long)w.server);
    json_t *d3 = create(fx->s, &RES_DATABASES, w.team, body);
    assert_true(id_of(d3) > w.db2);

    int64_t b = 0, b2 = 0, r = 0, r2 = 0;
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db1, &TRIG, 25, 100, &b), PIORA_OK);
    assert_int_equal(store_bjob_queue_restore(fx->s, w.team, b, id_of(d3), &TRIG, 25, 101, &r),
                     PIORA_OK);
    assert_int_equal(objects_delete(fx->s, &RES_BACKUPS, w.team, b), PIORA_OK); /* and r with it */
    assert_int_equal(store_bjob_queue_backup(fx->s, w.team, w.db1, &TRIG, 25, 102, &b2), PIORA_OK);
    assert_true(b2 > b);
    assert_int_equal(store_bjob_queue_restore(fx->s, w.team, b2, id_of(d3), &TRIG, 25, 103, &r2),
                     PIORA_OK);
    assert_true(r2 > r);
    json_decref(d3);

    int64_t dep = 0, dep2 = 0;
    assert_int_equal(store_deploy_queue(fx->s, w.team, w.app, "main", &TRIG, 25, 104, &dep), PIORA_OK);
    assert_int_equal(objects_delete(fx->s, &RES_APPLICATIONS, w.team, w.app), PIORA_OK);
    snprintf(body, sizeof body, "{\"name\":\"web3\",\"server_id\":%lld,\"repository\":\"o/r\"}",
             (long long)w.server);
    json_t *app = create(fx->s, &RES_APPLICATIONS, w.team, body);
    assert_true(id_of(app) > w.app);
    assert_int_equal(store_deploy_queue(fx->s, w.team, id_of(app), "main", &TRIG, 25, 105, &dep2),
                     PIORA_OK);
    assert_true(dep2 > dep);
    json_decref(app);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_and_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_cancel_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_goes_with_its_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_never_reused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
