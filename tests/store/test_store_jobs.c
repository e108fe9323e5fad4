/* Conformance, jobs section: team SSH keys (current + previous, rotation,
 * dropping the previous one, one current per team, teams apart), and
 * deployments as jobs (queue bound, claim order and limits, leases, finish,
 * cancel, the log). */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sshkeys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deploy_queue_and_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deploy_cancel_and_log, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
