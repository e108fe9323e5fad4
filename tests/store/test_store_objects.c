/* Conformance, objects section: every resource kind through create, get,
 * list (paging, filters), update and delete, cascades and restrictions,
 * team isolation, values bound verbatim. */
#include "store_fixture.h"

/* ---- resources --------------------------------------------------------------- */
static void assert_key_order(const json_t *o, const resource_desc *d)
{
    void *it = json_object_iter((json_t *)o);
    assert_string_equal(json_object_iter_key(it), "id");
    for (size_t i = 0; i < d->nfields; i++) {
        /* the members of a group after the first are inside its object */
        if (d->fields[i].group && i > 0 && d->fields[i - 1].group &&
            strcmp(d->fields[i].group, d->fields[i - 1].group) == 0)
            continue;
        it = json_object_iter_next((json_t *)o, it);
        assert_string_equal(json_object_iter_key(it),
                            d->fields[i].group ? d->fields[i].group : d->fields[i].name);
    }
    it = json_object_iter_next((json_t *)o, it);
    assert_string_equal(json_object_iter_key(it), "created_at");
    it = json_object_iter_next((json_t *)o, it);
    assert_string_equal(json_object_iter_key(it), "updated_at");
    assert_null(json_object_iter_next((json_t *)o, it));
}

static void test_servers_crud_and_paging(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    int64_t team = a.team_id;
    json_t *s1 = create(fx->s, &RES_SERVERS, team, "{\"name\":\"web-1\",\"ip_address\":\"10.0.0.1\"}");
    assert_key_order(s1, &RES_SERVERS);
    assert_true(json_is_integer(json_object_get(s1, "id")));
    assert_string_equal(str_of(s1, "name"), "web-1");
    assert_int_equal(json_integer_value(json_object_get(s1, "ssh_port")), 22);
    assert_string_equal(str_of(s1, "ssh_user"), "root");
    assert_string_equal(str_of(s1, "status"), "unknown");
    assert_true(json_is_null(json_object_get(s1, "provider")));
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(clock_now(), ts);
    assert_int_equal(strlen(str_of(s1, "created_at")), 20);
    assert_string_equal(str_of(s1, "created_at"), str_of(s1, "updated_at"));

    json_t *got = NULL;
    assert_int_equal(objects_get(fx->s, &RES_SERVERS, team, id_of(s1), &got), PIORA_OK);
    assert_true(json_equal(got, s1));
    json_decref(got);
    assert_int_equal(objects_get(fx->s, &RES_SERVERS, team, 9999, &got), PIORA_ENOTFOUND);
    assert_null(got);

    /* paging: 5 servers, ordered by id */
    for (int i = 2; i <= 5; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"name\":\"web-%d\",\"ip_address\":\"10.0.0.%d\"}", i, i);
        json_decref(create(fx->s, &RES_SERVERS, team, body));
    }
    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(objects_list(fx->s, &RES_SERVERS, team, NULL, 0, 2, &items, &total), PIORA_OK);
    assert_int_equal(total, 5);
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(str_of(json_array_get(items, 0), "name"), "web-1");
    assert_string_equal(str_of(json_array_get(items, 1), "name"), "web-2");
    json_decref(items);
    assert_int_equal(objects_list(fx->s, &RES_SERVERS, team, NULL, 4, 2, &items, &total), PIORA_OK);
    assert_int_equal(total, 5);
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(str_of(json_array_get(items, 0), "name"), "web-5");
    json_decref(items);
    assert_int_equal(objects_list(fx->s, &RES_SERVERS, team, NULL, 10, 2, &items, &total), PIORA_OK);
    assert_int_equal(total, 5);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
    assert_int_equal(objects_list(fx->s, &RES_SERVERS, team, NULL, -1, 2, &items, &total),
                     PIORA_EINVALID);
    /* servers accept no filter */
    obj_filter bad = {.field = "name", .value = 1};
    assert_int_equal(objects_list(fx->s, &RES_SERVERS, team, &bad, 0, 2, &items, &total),
                     PIORA_EINVALID);

    /* update: only the given fields, updated_at moves, created_at stays */
    clock_set_offset(3600);
    json_t *up = NULL;
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1),
                                "{\"name\":\"db-1\",\"provider\":\"hetzner\",\"ssh_port\":2222}", &up),
                     PIORA_OK);
    assert_string_equal(str_of(up, "name"), "db-1");
    assert_string_equal(str_of(up, "provider"), "hetzner");
    assert_int_equal(json_integer_value(json_object_get(up, "ssh_port")), 2222);
    assert_string_equal(str_of(up, "ip_address"), "10.0.0.1");
    assert_string_equal(str_of(up, "created_at"), str_of(s1, "created_at"));
    assert_string_not_equal(str_of(up, "updated_at"), str_of(s1, "updated_at"));
    json_decref(up);
    /* null clears a nullable field */
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"provider\":null}", &up),
                     PIORA_OK);
    assert_true(json_is_null(json_object_get(up, "provider")));
    json_decref(up);
    /* bad values and unknown columns */
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"ssh_port\":\"22\"}", NULL),
                     PIORA_EINVALID);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"ssh_port\":0}", NULL),
                     PIORA_EINVALID);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"team_id\":2}", NULL),
                     PIORA_EINVALID);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"name\":null}", NULL),
                     PIORA_EINVALID);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"status\":\"bogus\"}", NULL),
                     PIORA_EINVALID);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, 9999, "{\"name\":\"x\"}", NULL),
                     PIORA_ENOTFOUND);
    assert_int_equal(try_create(fx->s, &RES_SERVERS, team, "{\"ip_address\":\"10.0.0.9\"}"),
                     PIORA_EINVALID);

    /* delete */
    assert_int_equal(objects_delete(fx->s, &RES_SERVERS, team, id_of(s1)), PIORA_OK);
    assert_int_equal(objects_get(fx->s, &RES_SERVERS, team, id_of(s1), &got), PIORA_ENOTFOUND);
    assert_int_equal(objects_delete(fx->s, &RES_SERVERS, team, id_of(s1)), PIORA_ENOTFOUND);
    assert_int_equal(objects_list(fx->s, &RES_SERVERS, team, NULL, 0, 100, &items, &total), PIORA_OK);
    assert_int_equal(total, 4);
    json_decref(items);
    json_decref(s1);
}

/* One of each kind, chained: server -> application -> deployment and
 * server -> database -> backup -> restore. */
static void test_all_kinds_and_cascades(void **state)
{
    fixture *fx = *state;
    int64_t team = make_user(fx->s, "alice@example.com", "acme").team_id;
    json_t *srv = create(fx->s, &RES_SERVERS, team, "{\"name\":\"web\",\"ip_address\":\"::1\"}");
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"shop\",\"server_id\":%lld,\"repository\":\"acme/shop\","
             "\"domain\":\"shop.example.com\"}",
             (long long)id_of(srv));
    json_t *app = create(fx->s, &RES_APPLICATIONS, team, body);
    assert_key_order(app, &RES_APPLICATIONS);
    assert_string_equal(str_of(app, "branch"), "main");
    assert_string_equal(str_of(app, "status"), "created");
    assert_true(json_is_null(json_object_get(app, "deploy_script")));
    assert_int_equal(json_integer_value(json_object_get(app, "server_id")), id_of(srv));

    snprintf(body, sizeof body, "{\"name\":\"main\",\"engine\":\"postgresql\",\"version\":\"16\","
             "\"server_id\":%lld}", (long long)id_of(srv));
    json_t *db = create(fx->s, &RES_DATABASES, team, body);
    assert_key_order(db, &RES_DATABASES);
    assert_string_equal(str_of(db, "status"), "pending");
    snprintf(body, sizeof body, "{\"name\":\"x\",\"engine\":\"oracle\",\"server_id\":%lld}",
             (long long)id_of(srv));
    assert_int_equal(try_create(fx->s, &RES_DATABASES, team, body), PIORA_EINVALID);

    json_t *deps[3];
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body, "{\"application_id\":%lld}", (long long)id_of(app));
        deps[i] = create(fx->s, &RES_DEPLOYMENTS, team, body);
    }
    assert_key_order(deps[0], &RES_DEPLOYMENTS);
    assert_string_equal(str_of(deps[0], "status"), "queued");
    assert_string_equal(str_of(deps[0], "log"), "");
    assert_true(json_is_null(json_object_get(deps[0], "started_at")));

    /* times: epoch or RFC 3339 in, RFC 3339 out, null clears */
    json_t *up = NULL;
    assert_int_equal(try_update(fx->s, &RES_DEPLOYMENTS, team, id_of(deps[0]),
                                "{\"status\":\"running\",\"started_at\":1700000000,"
                                "\"finished_at\":\"2024-01-02T03:04:05Z\"}", &up),
                     PIORA_OK);
    assert_string_equal(str_of(up, "started_at"), "2023-11-14T22:13:20Z");
    assert_string_equal(str_of(up, "finished_at"), "2024-01-02T03:04:05Z");
    assert_string_equal(str_of(up, "status"), "running");
    json_decref(up);
    assert_int_equal(try_update(fx->s, &RES_DEPLOYMENTS, team, id_of(deps[0]),
                                "{\"finished_at\":null}", &up), PIORA_OK);
    assert_true(json_is_null(json_object_get(up, "finished_at")));
    json_decref(up);
    assert_int_equal(try_update(fx->s, &RES_DEPLOYMENTS, team, id_of(deps[0]),
                                "{\"started_at\":\"yesterday\"}", NULL), PIORA_EINVALID);

    /* a second application's deployment, to see the filter work */
    snprintf(body, sizeof body, "{\"name\":\"blog\",\"server_id\":%lld,\"repository\":\"acme/blog\"}",
             (long long)id_of(srv));
    json_t *app2 = create(fx->s, &RES_APPLICATIONS, team, body);
    snprintf(body, sizeof body, "{\"application_id\":%lld}", (long long)id_of(app2));
    json_decref(create(fx->s, &RES_DEPLOYMENTS, team, body));
    obj_filter f = {.field = "application_id", .value = id_of(app)};
    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(objects_list(fx->s, &RES_DEPLOYMENTS, team, &f, 0, 2, &items, &total), PIORA_OK);
    assert_int_equal(total, 3);
    assert_int_equal(json_array_size(items), 2);
    /* deployments list newest first (issue 13) */
    assert_int_equal(id_of(json_array_get(items, 0)), id_of(deps[2]));
    assert_int_equal(id_of(json_array_get(items, 1)), id_of(deps[1]));
    json_decref(items);
    assert_int_equal(objects_list(fx->s, &RES_DEPLOYMENTS, team, NULL, 0, 20, &items, &total), PIORA_OK);
    assert_int_equal(total, 4);
    json_decref(items);
    obj_filter wrong = {.field = "status", .value = 1};
    assert_int_equal(objects_list(fx->s, &RES_DEPLOYMENTS, team, &wrong, 0, 2, &items, &total),
                     PIORA_EINVALID);

    snprintf(body, sizeof body, "{\"database_id\":%lld}", (long long)id_of(db));
    json_t *bk = create(fx->s, &RES_BACKUPS, team, body);
    assert_key_order(bk, &RES_BACKUPS);
    assert_int_equal(try_update(fx->s, &RES_BACKUPS, team, id_of(bk),
                                "{\"status\":\"completed\",\"size_bytes\":123456789012,"
                                "\"sha256\":\"ab\",\"completed_at\":1700000000}", &up),
                     PIORA_OK);
    assert_int_equal(json_integer_value(json_object_get(up, "size_bytes")), 123456789012LL);
    json_decref(up);
    f = (obj_filter){.field = "database_id", .value = id_of(db)};
    assert_int_equal(objects_list(fx->s, &RES_BACKUPS, team, &f, 0, 20, &items, &total), PIORA_OK);
    assert_int_equal(total, 1);
    json_decref(items);
    snprintf(body, sizeof body, "{\"backup_id\":%lld}", (long long)id_of(bk));
    json_t *rs = create(fx->s, &RES_RESTORES, team, body);
    assert_key_order(rs, &RES_RESTORES);
    f = (obj_filter){.field = "backup_id", .value = id_of(bk)};
    assert_int_equal(objects_list(fx->s, &RES_RESTORES, team, &f, 0, 20, &items, &total), PIORA_OK);
    assert_int_equal(total, 1);
    json_decref(items);

    /* a server still in use cannot go */
    assert_int_equal(objects_delete(fx->s, &RES_SERVERS, team, id_of(srv)), PIORA_ECONFLICT);
    json_t *got = NULL;
    assert_int_equal(objects_get(fx->s, &RES_SERVERS, team, id_of(srv), &got), PIORA_OK);
    json_decref(got);

    /* an application takes its deployments with it */
    assert_int_equal(objects_delete(fx->s, &RES_APPLICATIONS, team, id_of(app)), PIORA_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(objects_get(fx->s, &RES_DEPLOYMENTS, team, id_of(deps[i]), &got),
                         PIORA_ENOTFOUND);
        json_decref(deps[i]);
    }
    assert_int_equal(objects_delete(fx->s, &RES_APPLICATIONS, team, id_of(app2)), PIORA_OK);
    /* still the database on it */
    assert_int_equal(objects_delete(fx->s, &RES_SERVERS, team, id_of(srv)), PIORA_ECONFLICT);
    /* a database takes its backups and their restores */
    assert_int_equal(objects_delete(fx->s, &RES_DATABASES, team, id_of(db)), PIORA_OK);
    assert_int_equal(objects_get(fx->s, &RES_BACKUPS, team, id_of(bk), &got), PIORA_ENOTFOUND);
    assert_int_equal(objects_get(fx->s, &RES_RESTORES, team, id_of(rs), &got), PIORA_ENOTFOUND);
    assert_int_equal(objects_delete(fx->s, &RES_SERVERS, team, id_of(srv)), PIORA_OK);

    json_decref(srv);
    json_decref(app);
    json_decref(app2);
    json_decref(db);
    json_decref(bk);
    json_decref(rs);
}

static void test_team_isolation(void **state)
{
    fixture *fx = *state;
    int64_t t1 = make_user(fx->s, "alice@example.com", "acme").team_id;
    int64_t t2 = make_user(fx->s, "eve@example.com", "evil").team_id;
    json_t *srv = create(fx->s, &RES_SERVERS, t1, "{\"name\":\"web\",\"ip_address\":\"10.0.0.1\"}");
    json_t *esrv = create(fx->s, &RES_SERVERS, t2, "{\"name\":\"mine\",\"ip_address\":\"10.0.0.2\"}");
    int64_t id = id_of(srv);

    json_t *got = NULL;
    assert_int_equal(objects_get(fx->s, &RES_SERVERS, t2, id, &got), PIORA_ENOTFOUND);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, t2, id, "{\"name\":\"owned\"}", NULL),
                     PIORA_ENOTFOUND);
    /* even with a bad reference in the body, the answer is "not found" */
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"x\",\"server_id\":%lld,\"repository\":\"a/b\"}",
             (long long)id);
    json_t *app = create(fx->s, &RES_APPLICATIONS, t1, body);
    snprintf(body, sizeof body, "{\"server_id\":%lld}", (long long)id_of(esrv));
    assert_int_equal(try_update(fx->s, &RES_APPLICATIONS, t2, id_of(app), body, NULL),
                     PIORA_ENOTFOUND);
    assert_int_equal(objects_delete(fx->s, &RES_SERVERS, t2, id), PIORA_ENOTFOUND);
    assert_int_equal(objects_get(fx->s, &RES_SERVERS, t1, id, &got), PIORA_OK);
    assert_string_equal(str_of(got, "name"), "web");
    json_decref(got);

    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(objects_list(fx->s, &RES_SERVERS, t2, NULL, 0, 100, &items, &total), PIORA_OK);
    assert_int_equal(total, 1);
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(id_of(json_array_get(items, 0)), id_of(esrv));
    json_decref(items);
    obj_filter f = {.field = "application_id", .value = id_of(app)};
    snprintf(body, sizeof body, "{\"application_id\":%lld}", (long long)id_of(app));
    json_decref(create(fx->s, &RES_DEPLOYMENTS, t1, body));
    assert_int_equal(objects_list(fx->s, &RES_DEPLOYMENTS, t2, &f, 0, 100, &items, &total), PIORA_OK);
    assert_int_equal(total, 0);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);

    /* references to another team's objects are invalid input */
    snprintf(body, sizeof body, "{\"name\":\"x\",\"server_id\":%lld,\"repository\":\"a/b\"}",
             (long long)id);
    assert_int_equal(try_create(fx->s, &RES_APPLICATIONS, t2, body), PIORA_EINVALID);
    assert_int_equal(try_create(fx->s, &RES_APPLICATIONS, t2,
                                "{\"name\":\"x\",\"server_id\":424242,\"repository\":\"a/b\"}"),
                     PIORA_EINVALID);
    snprintf(body, sizeof body, "{\"application_id\":%lld}", (long long)id_of(app));
    assert_int_equal(try_create(fx->s, &RES_DEPLOYMENTS, t2, body), PIORA_EINVALID);
    snprintf(body, sizeof body, "{\"server_id\":%lld}", (long long)id_of(esrv));
    assert_int_equal(try_update(fx->s, &RES_APPLICATIONS, t1, id_of(app), body, NULL),
                     PIORA_EINVALID);
    assert_int_equal(objects_get(fx->s, &RES_APPLICATIONS, t1, id_of(app), &got), PIORA_OK);
    assert_int_equal(json_integer_value(json_object_get(got, "server_id")), id);
    json_decref(got);

    json_decref(srv);
    json_decref(esrv);
    json_decref(app);
}

static void test_values_bound_verbatim(void **state)
{
    fixture *fx = *state;
    int64_t team = make_user(fx->s, "o'brien@example.com", "team \"quoted\"; --").team_id;
    user_rec u;
    assert_int_equal(store_user_by_email(fx->s, "o'brien@example.com", &u), PIORA_OK);
    assert_string_equal(u.team_name, "team \"quoted\"; --");

    const char *nasty = "x'); DROP TABLE servers; -- \"q\" \\ % _ ? ?1 :a @b $c";
    const char *utf8 = "Z\xc3\xbcrich \xe2\x98\x83 \xf0\x9f\x9a\x80 \xe6\x9d\xb1\xe4\xba\xac";
    json_t *v = json_object();
    json_object_set_new(v, "name", json_string("web"));
    json_object_set_new(v, "ip_address", json_string("10.0.0.1"));
    json_object_set_new(v, "provider", json_string(nasty));
    json_object_set_new(v, "region", json_string(utf8));
    json_t *obj = NULL;
    assert_int_equal(objects_create(fx->s, &RES_SERVERS, team, v, &obj), PIORA_OK);
    json_decref(v);
    json_t *got = NULL;
    assert_int_equal(objects_get(fx->s, &RES_SERVERS, team, id_of(obj), &got), PIORA_OK);
    assert_string_equal(str_of(got, "provider"), nasty);
    assert_string_equal(str_of(got, "region"), utf8);
    json_decref(got);
    json_decref(obj);

    if (fixture_is_sqlite(fx)) { /* the file behind the interface */
        sqlite3 *db = raw_open(fx);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM servers"), 1);
        sqlite3_close(db);
    }
}

/* The typed rows themselves, as every backend must return them: the team,
 * both stamps, absent values filled with the descriptor's defaults (or
 * NULL), text with its length, times as epoch seconds; and the store's own
 * bounds on values of the wrong kind, whoever the caller. */
static void test_typed_rows(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "rows@example.com", "rows");
    clock_set_offset(0);
    int64_t before = clock_now();

    obj_values v = {0};
    assert_true(obj_value_set_text(&v.v[0], "web-1", 5));      /* name */
    assert_true(obj_value_set_text(&v.v[1], "10.0.0.1", 8));   /* ip_address */
    obj_value_set_null(&v.v[2]);                                /* provider */
    obj_row srv;
    assert_int_equal(store_obj_create(fx->s, &RES_SERVERS, a.team_id, &v, &srv), PIORA_OK);
    obj_values_clear(&v);
    assert_true(srv.id > 0);
    assert_int_equal(srv.team_id, a.team_id);
    assert_true(srv.created_at >= before && srv.updated_at == srv.created_at);
    assert_int_equal(srv.v[0].kind, OV_TEXT);
    assert_string_equal(srv.v[0].text, "web-1");
    assert_int_equal(srv.v[0].len, 5);
    assert_int_equal(srv.v[2].kind, OV_NULL); /* provider given as null */
    assert_int_equal(srv.v[3].kind, OV_NULL); /* region absent, no default */
    assert_int_equal(srv.v[4].kind, OV_INT);  /* ssh_port default */
    assert_int_equal(srv.v[4].i, 22);
    assert_string_equal(srv.v[5].text, "root"); /* ssh_user default */
    assert_string_equal(srv.v[6].text, "unknown");

    /* a PATCH leaves absent values alone */
    obj_values p = {0};
    obj_value_set_int(&p.v[4], 2222);
    obj_row upd;
    assert_int_equal(store_obj_update(fx->s, &RES_SERVERS, a.team_id, srv.id, &p, &upd), PIORA_OK);
    assert_int_equal(upd.v[4].i, 2222);
    assert_string_equal(upd.v[0].text, "web-1");
    obj_row_clear(&upd);

    /* FK_TIME travels as epoch seconds; NULL stays NULL */
    obj_values app = {0};
    assert_true(obj_value_set_text(&app.v[0], "shop", 4));
    obj_value_set_int(&app.v[1], srv.id);
    assert_true(obj_value_set_text(&app.v[2], "acme/shop", 9));
    obj_row ar;
    assert_int_equal(store_obj_create(fx->s, &RES_APPLICATIONS, a.team_id, &app, &ar), PIORA_OK);
    obj_values_clear(&app);
    obj_values dep = {0};
    obj_value_set_int(&dep.v[0], ar.id);
    obj_value_set_int(&dep.v[2], 1700000000);
    obj_row dr;
    assert_int_equal(store_obj_create(fx->s, &RES_DEPLOYMENTS, a.team_id, &dep, &dr), PIORA_OK);
    assert_int_equal(dr.v[2].kind, OV_INT);
    assert_int_equal(dr.v[2].i, 1700000000);
    assert_int_equal(dr.v[3].kind, OV_NULL);
    assert_string_equal(dr.v[1].text, "queued");
    obj_row_clear(&dr);

    /* the list hands back the same rows */
    obj_row *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    obj_filter f = {.field = "application_id", .value = ar.id};
    assert_int_equal(
        store_obj_list(fx->s, &RES_DEPLOYMENTS, a.team_id, &f, 0, 10, &rows, &n, &total),
        PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    assert_int_equal(rows[0].v[2].i, 1700000000);
    obj_rows_free(rows, n);

    /* wrong kinds, ranges, words and lengths: EINVALID, nothing written */
    obj_values bad = {0};
    assert_true(obj_value_set_text(&bad.v[4], "22", 2)); /* ssh_port as text */
    assert_int_equal(store_obj_update(fx->s, &RES_SERVERS, a.team_id, srv.id, &bad, &upd),
                     PIORA_EINVALID);
    obj_values_clear(&bad);
    obj_value_set_int(&bad.v[4], 70000); /* out of range */
    assert_int_equal(store_obj_update(fx->s, &RES_SERVERS, a.team_id, srv.id, &bad, &upd),
                     PIORA_EINVALID);
    obj_values_clear(&bad);
    assert_true(obj_value_set_text(&bad.v[6], "gone", 4)); /* not a status */
    assert_int_equal(store_obj_update(fx->s, &RES_SERVERS, a.team_id, srv.id, &bad, &upd),
                     PIORA_EINVALID);
    obj_values_clear(&bad);
    assert_true(obj_value_set_text(&bad.v[0], "a\0b", 3)); /* NUL inside */
    assert_int_equal(store_obj_update(fx->s, &RES_SERVERS, a.team_id, srv.id, &bad, &upd),
                     PIORA_EINVALID);
    obj_values_clear(&bad);
    obj_value_set_int(&bad.v[1], 0); /* application server_id: not an id */
    assert_int_equal(store_obj_update(fx->s, &RES_APPLICATIONS, a.team_id, ar.id, &bad, &upd),
                     PIORA_EINVALID);
    obj_values_clear(&bad);
    obj_row got;
    assert_int_equal(store_obj_get(fx->s, &RES_SERVERS, a.team_id, srv.id, &got), PIORA_OK);
    assert_int_equal(got.v[4].i, 2222);
    assert_string_equal(got.v[6].text, "unknown");
    obj_row_clear(&got);
    obj_row_clear(&ar);
    obj_row_clear(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_servers_crud_and_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_kinds_and_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_team_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_bound_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
