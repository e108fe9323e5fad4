/* The API handlers called directly on a real SQLite store: statuses,
 * bodies, Location and Link headers, field errors, team isolation (another
 * team's object is a 404 exactly like a missing one), deploy and backup
 * jobs, the calling token and leaked-credential revocation. The HTTP layer
 * (auth, scopes, routing) is tested elsewhere; here who and id are set by
 * hand as the server would after routing and authentication. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "core/objects.h"
#include "core/tokens.h"
#include "util/log.h"
#include "fixture.h"

static store_t *st;
static char dbdir[FIXTURE_DIR_MAX], dbpath[FIXTURE_PATH_MAX];
static principal_t alice, bob;
static char alice_secret[TOKEN_LEN + 1], bob_secret[TOKEN_LEN + 1];

static void make_principal(const char *email, const char *team, principal_t *p,
                           char secret[TOKEN_LEN + 1])
{
    user_rec u;
    assert_true(fixture_user(st, email, team, false, &u));
    token_create_req rq = {.user_id = u.id, .name = "t", .scopes = "servers:read",
                           .expires_in = EXPIRES_DEFAULT_S};
    token_rec t;
    verrs e = {0};
    assert_int_equal(tokens_create(st, &(actor){.channel = CHANNEL_CLI}, &rq, secret, &t, &e),
                     PIORA_OK);
    *p = (principal_t){.token_id = t.id, .user_id = u.id, .team_id = u.team_id,
                       .scopes = SCOPE_ALL, .effective = SCOPE_ALL};
}

static int setup(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    st = fixture_db_open(dbdir, dbpath, "api");
    if (!st)
        return -1;
    make_principal("alice@example.com", "acme", &alice, alice_secret);
    make_principal("bob@example.com", "globex", &bob, bob_secret);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(st);
    fixture_db_remove(dbdir, dbpath);
    return 0;
}

/* One call of a handler; the answer stays in *r until done() frees it. */
typedef struct call {
    req_t r;
    json_t *json;
} call_t;

static void run(call_t *c, route_handler fn, const principal_t *who, const char *path, int64_t id,
                const char *body)
{
    memset(c, 0, sizeof *c);
    c->r.path = path;
    c->r.id = id;
    c->r.who = who;
    c->r.store = st;
    c->r.client_addr = "127.0.0.1";
    c->r.body = body;
    c->r.body_len = body ? strlen(body) : 0;
    buf_init(&c->r.out, 1 << 22);
    fn(&c->r);
    if (c->r.out.len)
        c->json = json_loadb(c->r.out.data, c->r.out.len, 0, NULL);
}

static void done(call_t *c)
{
    json_decref(c->json);
    buf_free(&c->r.out);
    for (int i = 0; i < c->r.nheaders; i++)
        free(c->r.headers[i].value);
}

static const char *header(call_t *c, const char *name)
{
    for (int i = 0; i < c->r.nheaders; i++)
        if (strcmp(c->r.headers[i].name, name) == 0)
            return c->r.headers[i].value;
    return NULL;
}

static int64_t jint(call_t *c, const char *key)
{
    return json_integer_value(json_object_get(c->json, key));
}

static const char *jstr(call_t *c, const char *key)
{
    return json_string_value(json_object_get(c->json, key));
}

static bool has_field_error(call_t *c, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(c->json, "errors"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "field")), field) == 0)
            return true;
    }
    return false;
}

static int64_t create_server(const principal_t *who, const char *name)
{
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"ip_address\":\"10.0.0.1\"}", name);
    call_t c;
    run(&c, servers_create, who, "/api/v1/servers", 0, body);
    assert_int_equal(c.r.status, 201);
    int64_t id = jint(&c, "id");
    done(&c);
    return id;
}

static void test_server_crud(void **state)
{
    (void)state;
    call_t c;
    run(&c, servers_create, &alice, "/api/v1/servers", 0,
        "{\"name\":\"web-1\",\"ip_address\":\"2001:db8::1\",\"ssh_port\":2222}");
    assert_int_equal(c.r.status, 201);
    int64_t id = jint(&c, "id");
    assert_true(id > 0);
    char loc[64];
    snprintf(loc, sizeof loc, "/api/v1/servers/%lld", (long long)id);
    assert_string_equal(header(&c, "Location"), loc);
    assert_string_equal(jstr(&c, "name"), "web-1");
    assert_int_equal(jint(&c, "ssh_port"), 2222);
    assert_string_equal(jstr(&c, "ssh_user"), "root");
    assert_string_equal(jstr(&c, "status"), "unknown");
    assert_non_null(jstr(&c, "created_at"));
    done(&c);

    run(&c, servers_get, &alice, loc, id, NULL);
    assert_int_equal(c.r.status, 200);
    assert_string_equal(jstr(&c, "ip_address"), "2001:db8::1");
    done(&c);

    run(&c, servers_update, &alice, loc, id, "{\"region\":\"eu-central\"}");
    assert_int_equal(c.r.status, 200);
    assert_string_equal(jstr(&c, "region"), "eu-central");
    assert_string_equal(jstr(&c, "name"), "web-1");
    done(&c);

    run(&c, servers_update, &alice, loc, id, "{}");
    assert_int_equal(c.r.status, 422);
    done(&c);

    run(&c, servers_update, &alice, loc, id, "{\"status\":\"active\"}");
    assert_int_equal(c.r.status, 422);
    assert_true(has_field_error(&c, "status"));
    done(&c);

    run(&c, servers_delete, &alice, loc, id, NULL);
    assert_int_equal(c.r.status, 204);
    assert_int_equal(c.r.out.len, 0);
    done(&c);

    run(&c, servers_get, &alice, loc, id, NULL);
    assert_int_equal(c.r.status, 404);
    assert_string_equal(jstr(&c, "code"), "not_found");
    done(&c);
}

static void test_create_errors(void **state)
{
    (void)state;
    call_t c;
    run(&c, servers_create, &alice, "/api/v1/servers", 0,
        "{\"name\":\"../etc\",\"ip_address\":\"10.0.0.256\",\"extra\":1}");
    assert_int_equal(c.r.status, 422);
    assert_string_equal(jstr(&c, "code"), "validation_failed");
    assert_true(has_field_error(&c, "name"));
    assert_true(has_field_error(&c, "ip_address"));
    assert_true(has_field_error(&c, "extra"));
    done(&c);

    run(&c, servers_create, &alice, "/api/v1/servers", 0, "{\"name\":");
    assert_int_equal(c.r.status, 400);
    done(&c);

    run(&c, servers_create, &alice, "/api/v1/servers", 0, "[]");
    assert_int_equal(c.r.status, 400);
    done(&c);

    run(&c, servers_create, &alice, "/api/v1/servers", 0, NULL);
    assert_int_equal(c.r.status, 400);
    done(&c);
}

static void test_team_isolation(void **state)
{
    (void)state;
    int64_t bob_srv = create_server(&bob, "bob-srv");
    char path[64];
    snprintf(path, sizeof path, "/api/v1/servers/%lld", (long long)bob_srv);
    call_t c;
    /* another team's object answers exactly like a missing one */
    run(&c, servers_get, &alice, path, bob_srv, NULL);
    assert_int_equal(c.r.status, 404);
    char *foreign = strdup(c.r.out.data);
    done(&c);
    run(&c, servers_get, &alice, "/api/v1/servers/999999", 999999, NULL);
    assert_int_equal(c.r.status, 404);
    assert_string_equal(c.r.out.data, foreign);
    free(foreign);
    done(&c);

    run(&c, servers_update, &alice, path, bob_srv, "{\"region\":\"x\"}");
    assert_int_equal(c.r.status, 404);
    done(&c);
    run(&c, servers_delete, &alice, path, bob_srv, NULL);
    assert_int_equal(c.r.status, 404);
    done(&c);

    /* lists hold only the caller's team */
    run(&c, servers_list, &alice, "/api/v1/servers", 0, NULL);
    assert_int_equal(c.r.status, 200);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(c.json, "data"), i, o)
        assert_int_not_equal(json_integer_value(json_object_get(o, "id")), bob_srv);
    done(&c);

    /* a reference to another team's server is a field error */
    char body[256];
    snprintf(body, sizeof body,
             "{\"name\":\"shop\",\"server_id\":%lld,\"repository\":\"acme/shop\"}",
             (long long)bob_srv);
    run(&c, applications_create, &alice, "/api/v1/applications", 0, body);
    assert_int_equal(c.r.status, 422);
    assert_true(has_field_error(&c, "server_id"));
    done(&c);
    snprintf(body, sizeof body, "{\"name\":\"db\",\"engine\":\"redis\",\"server_id\":%lld}",
             (long long)bob_srv);
    run(&c, databases_create, &alice, "/api/v1/databases", 0, body);
    assert_int_equal(c.r.status, 422);
    assert_true(has_field_error(&c, "server_id"));
    done(&c);
}

static void test_list_paging(void **state)
{
    (void)state;
    principal_t carol;
    char secret[TOKEN_LEN + 1];
    make_principal("carol@example.com", "initech", &carol, secret);
    for (int i = 0; i < 25; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%02d", i);
        create_server(&carol, name);
    }
    call_t c;
    run(&c, servers_list, &carol, "/api/v1/servers", 0, NULL);
    assert_int_equal(c.r.status, 200);
    assert_int_equal(json_array_size(json_object_get(c.json, "data")), 20);
    json_t *meta = json_object_get(c.json, "meta");
    assert_int_equal(json_integer_value(json_object_get(meta, "page")), 1);
    assert_int_equal(json_integer_value(json_object_get(meta, "per_page")), 20);
    assert_int_equal(json_integer_value(json_object_get(meta, "total")), 25);
    assert_string_equal(header(&c, "Link"),
                        "</api/v1/servers?page=1&per_page=20>; rel=\"first\", "
                        "</api/v1/servers?page=2&per_page=20>; rel=\"next\", "
                        "</api/v1/servers?page=2&per_page=20>; rel=\"last\"");
    /* ordered by id: the first is s00 */
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(c.json, "data"), 0),
                                          "name")),
        "s00");
    done(&c);
}

static void test_delete_conflict(void **state)
{
    (void)state;
    int64_t srv = create_server(&alice, "busy");
    char body[256], path[64];
    snprintf(body, sizeof body,
             "{\"name\":\"app\",\"server_id\":%lld,\"repository\":\"https://git.example.com/a/b\"}",
             (long long)srv);
    call_t c;
    run(&c, applications_create, &alice, "/api/v1/applications", 0, body);
    assert_int_equal(c.r.status, 201);
    int64_t app = jint(&c, "id");
    assert_string_equal(jstr(&c, "branch"), "main");
    done(&c);

    snprintf(path, sizeof path, "/api/v1/servers/%lld", (long long)srv);
    run(&c, servers_delete, &alice, path, srv, NULL);
    assert_int_equal(c.r.status, 409);
    assert_string_equal(jstr(&c, "code"), "conflict");
    done(&c);

    snprintf(path, sizeof path, "/api/v1/applications/%lld", (long long)app);
    run(&c, applications_delete, &alice, path, app, NULL);
    assert_int_equal(c.r.status, 204);
    done(&c);
    snprintf(path, sizeof path, "/api/v1/servers/%lld", (long long)srv);
    run(&c, servers_delete, &alice, path, srv, NULL);
    assert_int_equal(c.r.status, 204);
    done(&c);
}

static void test_deploy(void **state)
{
    (void)state;
    int64_t srv = create_server(&alice, "deploy-host");
    char body[256], path[80];
    snprintf(body, sizeof body, "{\"name\":\"api\",\"server_id\":%lld,\"repository\":\"acme/api\"}",
             (long long)srv);
    call_t c;
    run(&c, applications_create, &alice, "/api/v1/applications", 0, body);
    int64_t app = jint(&c, "id");
    done(&c);

    snprintf(path, sizeof path, "/api/v1/applications/%lld/deploy", (long long)app);
    run(&c, applications_deploy, &alice, path, app, NULL);
    assert_int_equal(c.r.status, 202);
    assert_string_equal(jstr(&c, "status"), "queued");
    assert_int_equal(jint(&c, "application_id"), app);
    int64_t dep = jint(&c, "id");
    char loc[64];
    snprintf(loc, sizeof loc, "/api/v1/deployments/%lld", (long long)dep);
    assert_string_equal(header(&c, "Location"), loc);
    done(&c);

    run(&c, applications_deploy, &bob, path, app, NULL);
    assert_int_equal(c.r.status, 404);
    done(&c);

    run(&c, deployments_get, &alice, loc, dep, NULL);
    assert_int_equal(c.r.status, 200);
    assert_string_equal(jstr(&c, "status"), "queued");
    done(&c);
    run(&c, deployments_get, &bob, loc, dep, NULL);
    assert_int_equal(c.r.status, 404);
    done(&c);

    snprintf(path, sizeof path, "/api/v1/applications/%lld/deployments", (long long)app);
    run(&c, applications_deployments, &alice, path, app, NULL);
    assert_int_equal(c.r.status, 200);
    assert_int_equal(json_array_size(json_object_get(c.json, "data")), 1);
    done(&c);
    run(&c, applications_deployments, &bob, path, app, NULL);
    assert_int_equal(c.r.status, 404);
    done(&c);
}

static void test_backups(void **state)
{
    (void)state;
    int64_t srv = create_server(&alice, "db-host");
    char body[256], path[80];
    snprintf(body, sizeof body, "{\"name\":\"main\",\"engine\":\"postgresql\",\"server_id\":%lld}",
             (long long)srv);
    call_t c;
    run(&c, databases_create, &alice, "/api/v1/databases", 0, body);
    assert_int_equal(c.r.status, 201);
    int64_t db = jint(&c, "id");
    done(&c);

    snprintf(path, sizeof path, "/api/v1/databases/%lld", (long long)db);
    run(&c, databases_update, &alice, path, db, "{\"engine\":\"mysql\"}");
    assert_int_equal(c.r.status, 422);
    assert_true(has_field_error(&c, "engine"));
    done(&c);

    snprintf(body, sizeof body, "{\"database_id\":%lld}", (long long)db);
    run(&c, backups_create, &bob, "/api/v1/backups", 0, body);
    assert_int_equal(c.r.status, 422);
    assert_true(has_field_error(&c, "database_id"));
    done(&c);

    run(&c, backups_create, &alice, "/api/v1/backups", 0, body);
    assert_int_equal(c.r.status, 202);
    assert_string_equal(jstr(&c, "status"), "pending");
    int64_t bk = jint(&c, "id");
    assert_non_null(header(&c, "Location"));
    done(&c);

    snprintf(path, sizeof path, "/api/v1/backups/%lld/restore", (long long)bk);
    run(&c, backups_restore, &alice, path, bk, NULL);
    assert_int_equal(c.r.status, 409); /* SPEC 10: only a completed backup restores */
    assert_string_equal(jstr(&c, "code"), "backup_not_completed");
    done(&c);
    json_t *fin = json_pack("{s:s}", "status", "completed");
    json_t *upd = NULL;
    assert_int_equal(objects_update(st, &RES_BACKUPS, alice.team_id, bk, fin, &upd), PIORA_OK);
    json_decref(fin);
    json_decref(upd);
    run(&c, backups_restore, &alice, path, bk, NULL);
    assert_int_equal(c.r.status, 202);
    assert_int_equal(jint(&c, "backup_id"), bk);
    assert_int_equal(jint(&c, "database_id"), db);
    assert_string_equal(jstr(&c, "status"), "pending");
    assert_non_null(strstr(header(&c, "Location"), "/api/v1/restores/"));
    done(&c);
    run(&c, backups_restore, &alice, path, bk, "{\"database_id\":999999}");
    assert_int_equal(c.r.status, 422);
    assert_true(has_field_error(&c, "database_id"));
    done(&c);
    run(&c, backups_restore, &alice, path, bk, "{\"database\":1}");
    assert_int_equal(c.r.status, 422);
    done(&c);
    run(&c, backups_restore, &bob, path, bk, NULL);
    assert_int_equal(c.r.status, 404);
    done(&c);

    run(&c, backups_list, &alice, "/api/v1/backups", 0, NULL);
    assert_int_equal(c.r.status, 200);
    assert_int_equal(json_array_size(json_object_get(c.json, "data")), 1);
    done(&c);
    run(&c, backups_list, &bob, "/api/v1/backups", 0, NULL);
    assert_int_equal(json_array_size(json_object_get(c.json, "data")), 0);
    done(&c);

    snprintf(path, sizeof path, "/api/v1/backups/%lld", (long long)bk);
    run(&c, backups_delete, &bob, path, bk, NULL);
    assert_int_equal(c.r.status, 404);
    done(&c);
    run(&c, backups_delete, &alice, path, bk, NULL);
    assert_int_equal(c.r.status, 204);
    done(&c);
    run(&c, backups_get, &alice, path, bk, NULL);
    assert_int_equal(c.r.status, 404);
    done(&c);
}

static void test_token_self_and_credentials(void **state)
{
    (void)state;
    call_t c;
    run(&c, token_self_get, &alice, "/api/v1/token", 0, NULL);
    assert_int_equal(c.r.status, 200);
    assert_int_equal(jint(&c, "id"), alice.token_id);
    assert_string_equal(jstr(&c, "status"), "active");
    json_t *owner = json_object_get(c.json, "owner");
    assert_string_equal(json_string_value(json_object_get(owner, "email")), "alice@example.com");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(owner, "team"), "name")), "acme");
    assert_null(strstr(c.r.out.data, alice_secret));
    done(&c);

    /* leaked credentials: same answer whatever was found */
    run(&c, credentials_revoke, NULL, "/api/v1/credentials/revoke", 0,
        "{\"credentials\":[\"piora_token_nothing\",\"hello\"]}");
    assert_int_equal(c.r.status, 202);
    char *nothing = strdup(c.r.out.data);
    done(&c);
    char body[256];
    snprintf(body, sizeof body, "{\"credentials\":[\"%s\"]}", bob_secret);
    run(&c, credentials_revoke, NULL, "/api/v1/credentials/revoke", 0, body);
    assert_int_equal(c.r.status, 202);
    assert_string_equal(c.r.out.data, nothing);
    free(nothing);
    done(&c);
    token_rec t;
    assert_int_equal(store_token_by_id(st, bob.token_id, &t), PIORA_OK);
    assert_true(t.revoked_at > 0);

    run(&c, credentials_revoke, NULL, "/api/v1/credentials/revoke", 0, "{\"credentials\":[]}");
    assert_int_equal(c.r.status, 422);
    done(&c);
    run(&c, credentials_revoke, NULL, "/api/v1/credentials/revoke", 0, "{\"credentials\":[1]}");
    assert_int_equal(c.r.status, 422);
    done(&c);
    run(&c, credentials_revoke, NULL, "/api/v1/credentials/revoke", 0,
        "{\"credentials\":[\"a\"],\"x\":1}");
    assert_int_equal(c.r.status, 422);
    done(&c);
    char big[400] = "{\"credentials\":[\"";
    size_t n = strlen(big);
    memset(big + n, 'a', 257);
    strcpy(big + n + 257, "\"]}");
    run(&c, credentials_revoke, NULL, "/api/v1/credentials/revoke", 0, big);
    assert_int_equal(c.r.status, 422);
    done(&c);
    /* 1001 strings */
    buf_t b;
    buf_init(&b, 1 << 20);
    buf_puts(&b, "{\"credentials\":[");
    for (int i = 0; i < 1001; i++)
        buf_puts(&b, i ? ",\"x\"" : "\"x\"");
    buf_puts(&b, "]}");
    run(&c, credentials_revoke, NULL, "/api/v1/credentials/revoke", 0, b.data);
    assert_int_equal(c.r.status, 422);
    done(&c);
    buf_free(&b);

    /* the token revokes itself */
    run(&c, token_self_delete, &alice, "/api/v1/token", 0, NULL);
    assert_int_equal(c.r.status, 204);
    done(&c);
    assert_int_equal(store_token_by_id(st, alice.token_id, &t), PIORA_OK);
    assert_true(t.revoked_at > 0);
}

static void test_health_and_openapi(void **state)
{
    (void)state;
    call_t c;
    run(&c, health_live, NULL, "/healthz", 0, NULL);
    assert_int_equal(c.r.status, 200);
    assert_string_equal(jstr(&c, "status"), "ok");
    done(&c);
    run(&c, health_ready, NULL, "/readyz", 0, NULL);
    assert_int_equal(c.r.status, 200);
    done(&c);
    run(&c, openapi_serve, NULL, "/api/v1/openapi.json", 0, NULL);
    assert_int_equal(c.r.status, 200);
    assert_string_equal(jstr(&c, "openapi"), "3.1.0");
    done(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_crud),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_team_isolation),
        cmocka_unit_test(test_list_paging),
        cmocka_unit_test(test_delete_conflict),
        cmocka_unit_test(test_deploy),
        cmocka_unit_test(test_backups),
        cmocka_unit_test(test_token_self_and_credentials),
        cmocka_unit_test(test_health_and_openapi),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
