/* The route table and the OpenAPI document agree both ways: every route is
 * in the document with its method, scopes and security, every operation of
 * the document is a route, and no two routes share method + pattern. Also
 * the scope and flag decisions of SPEC 4 that the table encodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "app/routes.h"
#include "http/pipeline.h"
#include "web/web.h"
#include "http/router.h"

static json_t *doc;

static int setup(void **state)
{
    (void)state;
    size_t len = 0;
    const char *text = openapi_document(&len);
    if (!text)
        return -1;
    json_error_t e;
    doc = json_loadb(text, len, 0, &e);
    return doc ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(doc);
    return 0;
}

static const char *mkey(http_method m)
{
    switch (m) {
    case HTTP_GET: return "get";
    case HTTP_POST: return "post";
    case HTTP_PUT: return "put";
    case HTTP_PATCH: return "patch";
    case HTTP_DELETE: return "delete";
    case HTTP_HEAD: return "head";
    case HTTP_OPTIONS: return "options";
    default: return NULL;
    }
}

static const route_t *find(http_method m, const char *pattern)
{
    for (size_t i = 0; i < api_routes_count; i++)
        if (api_routes[i].method == m && strcmp(api_routes[i].pattern, pattern) == 0)
            return &api_routes[i];
    return NULL;
}

static void test_no_duplicates(void **state)
{
    (void)state;
    assert_true(api_routes_count > 0);
    for (size_t i = 0; i < api_routes_count; i++)
        for (size_t j = i + 1; j < api_routes_count; j++)
            if (api_routes[i].method == api_routes[j].method &&
                strcmp(api_routes[i].pattern, api_routes[j].pattern) == 0)
                fail_msg("duplicate route %s %s", mkey(api_routes[i].method),
                         api_routes[i].pattern);
}

static void test_document_header(void **state)
{
    (void)state;
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *bearer = json_object_get(
        json_object_get(json_object_get(doc, "components"), "securitySchemes"), "bearer");
    assert_string_equal(json_string_value(json_object_get(bearer, "type")), "http");
    assert_string_equal(json_string_value(json_object_get(bearer, "scheme")), "bearer");
    /* the served bytes are the same on every call */
    size_t l1, l2;
    assert_ptr_equal(openapi_document(&l1), openapi_document(&l2));
    assert_int_equal(l1, l2);
}

static void test_every_route_documented(void **state)
{
    (void)state;
    json_t *paths = json_object_get(doc, "paths");
    assert_non_null(paths);
    for (size_t i = 0; i < api_routes_count; i++) {
        const route_t *rt = &api_routes[i];
        if (!openapi_route_documented(rt))
            fail_msg("no op_doc for %s %s", mkey(rt->method), rt->pattern);
        json_t *op = json_object_get(json_object_get(paths, rt->pattern), mkey(rt->method));
        if (!op)
            fail_msg("%s %s is missing from openapi.json", mkey(rt->method), rt->pattern);
        /* x-required-scopes lists exactly the route's scopes */
        json_t *xs = json_object_get(op, "x-required-scopes");
        assert_true(json_is_array(xs));
        scope_set got = 0;
        size_t k;
        json_t *v;
        json_array_foreach(xs, k, v)
        {
            scope_set bit = scope_from_name(json_string_value(v), json_string_length(v));
            assert_int_not_equal(bit, 0);
            got |= bit;
        }
        assert_int_equal(got, rt->scopes);
        /* the scopes are named in the description as well */
        const char *desc = json_string_value(json_object_get(op, "description"));
        assert_non_null(desc);
        json_array_foreach(xs, k, v)
        {
            if (!strstr(desc, json_string_value(v)))
                fail_msg("%s %s: description does not name %s", mkey(rt->method), rt->pattern,
                         json_string_value(v));
        }
        /* security: none for token-less routes, bearer otherwise */
        json_t *sec = json_object_get(op, "security");
        assert_true(json_is_array(sec));
        if (rt->auth == ROUTE_AUTH_NONE)
            assert_int_equal(json_array_size(sec), 0);
        else
            assert_non_null(json_object_get(json_array_get(sec, 0), "bearer"));
        /* the success status, and the auth errors for token routes */
        json_t *resps = json_object_get(op, "responses");
        char st[8];
        snprintf(st, sizeof st, "%d", rt->success_status);
        if (!json_object_get(resps, st))
            fail_msg("%s %s lacks its %s response", mkey(rt->method), rt->pattern, st);
        if (rt->auth != ROUTE_AUTH_NONE) {
            assert_non_null(json_object_get(resps, "401"));
            assert_non_null(json_object_get(resps, "429"));
            if (rt->scopes)
                assert_non_null(json_object_get(resps, "403"));
        }
        if (strstr(rt->pattern, "{id}")) {
            assert_non_null(json_object_get(resps, "404"));
            assert_non_null(json_object_get(op, "parameters"));
        }
        if (rt->method == HTTP_POST || rt->method == HTTP_PATCH) {
            if (json_object_get(op, "requestBody")) {
                assert_non_null(json_object_get(resps, "400"));
                assert_non_null(json_object_get(resps, "413"));
                assert_non_null(json_object_get(resps, "422"));
            }
        }
    }
}

static void test_every_operation_is_a_route(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        http_method m;
    } methods[] = {{"get", HTTP_GET},       {"post", HTTP_POST}, {"put", HTTP_PUT},
                   {"patch", HTTP_PATCH},   {"delete", HTTP_DELETE}, {"head", HTTP_HEAD},
                   {"options", HTTP_OPTIONS}, {"trace", HTTP_OTHER}};
    const char *path;
    json_t *item;
    size_t ops = 0;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        const char *key;
        json_t *op;
        json_object_foreach(item, key, op)
        {
            if (strcmp(key, "parameters") == 0 || strcmp(key, "summary") == 0 ||
                strcmp(key, "description") == 0)
                continue;
            http_method m = 0;
            for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
                if (strcmp(methods[i].key, key) == 0)
                    m = methods[i].m;
            if (!m || !find(m, path))
                fail_msg("openapi.json has %s %s, the server has no such route", key, path);
            ops++;
        }
    }
    assert_int_equal(ops, api_routes_count);
}

/* Every "$ref" in the document points at something that exists. */
static void check_refs(json_t *node)
{
    if (json_is_object(node)) {
        const char *k;
        json_t *v;
        json_object_foreach(node, k, v)
        {
            if (strcmp(k, "$ref") == 0) {
                const char *r = json_string_value(v);
                assert_non_null(r);
                assert_memory_equal(r, "#/", 2);
                char buf[256];
                snprintf(buf, sizeof buf, "%s", r + 2);
                json_t *cur = doc;
                for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok;
                     tok = strtok_r(NULL, "/", &save))
                    cur = json_object_get(cur, tok);
                if (!cur)
                    fail_msg("dangling $ref %s", r);
            } else {
                check_refs(v);
            }
        }
    } else if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) check_refs(v);
    }
}

static void test_refs_resolve(void **state)
{
    (void)state;
    check_refs(doc);
}

static json_t *schema(const char *name)
{
    return json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), name);
}

static void test_schemas_from_descriptors(void **state)
{
    (void)state;
    /* every field of every descriptor is in its object schema */
    for (const resource_desc *const *d = piora_resources; *d; d++) {
        char name[64];
        snprintf(name, sizeof name, "%s", (*d)->singular);
        name[0] = (char)(name[0] - 'a' + 'A');
        json_t *s = schema(name);
        if (!s)
            fail_msg("no schema %s", name);
        json_t *props = json_object_get(s, "properties");
        assert_non_null(json_object_get(props, "id"));
        for (size_t i = 0; i < (*d)->nfields; i++) {
            const field_desc *f = &(*d)->fields[i];
            /* a grouped field is a property of its group's object */
            json_t *p = f->group ? json_object_get(
                                       json_object_get(json_object_get(props, f->group),
                                                       "properties"),
                                       f->key)
                                 : json_object_get(props, f->name);
            if (!p)
                fail_msg("%s.%s missing", name, f->name);
            if (f->group && !json_is_true(json_object_get(json_object_get(props, f->group),
                                                          "readOnly")))
                fail_msg("%s.%s is not read-only", name, f->group);
            if (f->group)
                continue;
            bool ro = json_is_true(json_object_get(p, "readOnly"));
            assert_int_equal(ro, !(f->flags & FF_WRITABLE));
        }
    }
    /* request schemas: required, enums, maxLength, no extra fields */
    json_t *sc = schema("ServerCreate");
    assert_non_null(sc);
    assert_true(json_is_false(json_object_get(sc, "additionalProperties")));
    json_t *req = json_object_get(sc, "required");
    assert_int_equal(json_array_size(req), 2);
    assert_null(json_object_get(json_object_get(sc, "properties"), "status"));
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(sc, "properties"), "name"), "maxLength")),
        64);
    json_t *engine = json_object_get(json_object_get(schema("DatabaseCreate"), "properties"),
                                     "engine");
    assert_int_equal(json_array_size(json_object_get(engine, "enum")), 5);
    /* engine is immutable: not in the PATCH schema */
    assert_null(json_object_get(json_object_get(schema("DatabaseUpdate"), "properties"),
                                "engine"));
    assert_int_equal(json_integer_value(json_object_get(schema("ServerUpdate"), "minProperties")),
                     1);
    /* the problem schema */
    json_t *pp = json_object_get(schema("Problem"), "properties");
    const char *members[] = {"type", "title", "status", "detail", "code", "required_scopes",
                             "granted_scopes", "errors"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if (!json_object_get(pp, members[i]))
            fail_msg("Problem.%s missing", members[i]);
    assert_non_null(schema("PageMeta"));
    assert_non_null(schema("TokenSelf"));
    assert_non_null(schema("CredentialsRevoke"));
}

static void test_lists_are_paginated(void **state)
{
    (void)state;
    json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), "/api/v1/backups"),
                                 "get");
    json_t *params = json_object_get(op, "parameters");
    char *text = json_dumps(params, 0);
    assert_non_null(strstr(text, "Page"));
    assert_non_null(strstr(text, "PerPage"));
    assert_non_null(strstr(text, "database_id"));
    free(text);
    json_t *ok = json_object_get(json_object_get(op, "responses"), "200");
    assert_non_null(json_object_get(json_object_get(ok, "headers"), "Link"));
}

/* The scope and flag decisions of SPEC 4, as the table encodes them. */
static void test_table_contract(void **state)
{
    (void)state;
    const route_t *r;
    r = find(HTTP_GET, "/api/v1/servers");
    assert_non_null(r);
    assert_int_equal(r->scopes, SCOPE_SERVERS_READ);
    assert_true(r->flags & ROUTE_CACHEABLE);
    r = find(HTTP_POST, "/api/v1/servers");
    assert_int_equal(r->scopes, SCOPE_SERVERS_WRITE);
    assert_int_equal(r->success_status, 201);
    assert_false(r->flags & ROUTE_CACHEABLE);
    r = find(HTTP_GET, "/api/v1/deployments/{id}");
    assert_int_equal(r->scopes, SCOPE_APPLICATIONS_READ | SCOPE_APPLICATIONS_DEPLOY);
    r = find(HTTP_GET, "/api/v1/applications/{id}/deployments");
    assert_int_equal(r->scopes, SCOPE_APPLICATIONS_READ | SCOPE_APPLICATIONS_DEPLOY);
    r = find(HTTP_POST, "/api/v1/applications/{id}/deploy");
    assert_int_equal(r->scopes, SCOPE_APPLICATIONS_DEPLOY);
    assert_int_equal(r->success_status, 202);
    r = find(HTTP_POST, "/api/v1/backups");
    assert_int_equal(r->scopes, SCOPE_BACKUPS_WRITE);
    assert_int_equal(r->success_status, 202);
    r = find(HTTP_POST, "/api/v1/backups/{id}/restore");
    assert_int_equal(r->scopes, SCOPE_BACKUPS_WRITE);
    r = find(HTTP_GET, "/api/v1/token");
    assert_int_equal(r->scopes, 0);
    assert_int_equal(r->auth, ROUTE_AUTH_TOKEN);
    assert_int_equal(r->flags & ROUTE_CACHEABLE, 0);
    r = find(HTTP_DELETE, "/api/v1/token");
    assert_int_equal(r->success_status, 204);
    r = find(HTTP_POST, "/api/v1/credentials/revoke");
    assert_int_equal(r->auth, ROUTE_AUTH_NONE);
    assert_int_equal(r->limit, ROUTE_LIMIT_ADDR);
    assert_int_equal(find(HTTP_GET, "/api/v1/openapi.json")->auth, ROUTE_AUTH_NONE);
    assert_int_equal(find(HTTP_GET, "/healthz")->auth, ROUTE_AUTH_NONE);
    assert_int_equal(find(HTTP_GET, "/readyz")->auth, ROUTE_AUTH_NONE);
    /* every resource has its five routes with the SPEC's scope pair */
    static const struct {
        const char *name;
        scope_set rd, wr;
    } res[] = {{"servers", SCOPE_SERVERS_READ, SCOPE_SERVERS_WRITE},
               {"applications", SCOPE_APPLICATIONS_READ, SCOPE_APPLICATIONS_WRITE},
               {"databases", SCOPE_DATABASES_READ, SCOPE_DATABASES_WRITE}};
    for (size_t i = 0; i < 3; i++) {
        char coll[64], one[64];
        snprintf(coll, sizeof coll, "/api/v1/%s", res[i].name);
        snprintf(one, sizeof one, "/api/v1/%s/{id}", res[i].name);
        assert_int_equal(find(HTTP_GET, coll)->scopes, res[i].rd);
        assert_int_equal(find(HTTP_GET, one)->scopes, res[i].rd);
        assert_int_equal(find(HTTP_POST, coll)->scopes, res[i].wr);
        assert_int_equal(find(HTTP_PATCH, one)->scopes, res[i].wr);
        assert_int_equal(find(HTTP_DELETE, one)->scopes, res[i].wr);
        assert_int_equal(find(HTTP_DELETE, one)->success_status, 204);
    }
    /* the matcher finds them */
    const route_t *hit = NULL;
    int64_t id = 0;
    unsigned allowed = 0;
    assert_int_equal(router_match(api_routes, api_routes_count, HTTP_GET,
                                  "/api/v1/servers/42", &hit, &id, &allowed),
                     ROUTE_FOUND);
    assert_int_equal(id, 42);
    assert_ptr_equal(hit, find(HTTP_GET, "/api/v1/servers/{id}"));
    assert_int_equal(router_match(api_routes, api_routes_count, HTTP_PUT, "/api/v1/servers/42",
                                  &hit, &id, &allowed),
                     ROUTE_BAD_METHOD);
    assert_true(allowed & HTTP_GET);
    assert_true(allowed & HTTP_PATCH);
    assert_true(allowed & HTTP_DELETE);
    assert_int_equal(router_match(api_routes, api_routes_count, HTTP_GET, "/api/v1/nothing",
                                  &hit, &id, &allowed),
                     ROUTE_NO_PATH);
}

/* Token rows spend the token's budget; the others never read a token. */
static void test_auth_and_limit_agree(void **state)
{
    (void)state;
    for (size_t i = 0; i < api_routes_count; i++) {
        const route_t *rt = &api_routes[i];
        if (rt->auth == ROUTE_AUTH_TOKEN && rt->limit != ROUTE_LIMIT_TOKEN)
            fail_msg("%s %s: a token route without the token limiter", mkey(rt->method),
                     rt->pattern);
        if (rt->auth != ROUTE_AUTH_TOKEN && rt->limit == ROUTE_LIMIT_TOKEN)
            fail_msg("%s %s: the token limiter on a route without a token", mkey(rt->method),
                     rt->pattern);
    }
    for (size_t i = 0; i < web_routes_count; i++) {
        assert_int_not_equal(web_routes[i].auth, ROUTE_AUTH_TOKEN);
        assert_int_equal(strncmp(web_routes[i].pattern, WEB_API_PREFIX, strlen(WEB_API_PREFIX)),
                         0);
    }
}

static const route_t *find_in(const route_site *s, http_method m, const char *pattern)
{
    for (size_t i = 0; i < s->nroutes; i++)
        if (s->routes[i].method == m && strcmp(s->routes[i].pattern, pattern) == 0)
            return &s->routes[i];
    return NULL;
}

/* The one table app/ builds: the API's rows first (metrics slot i is
 * api_routes[i]), the dashboard's, and a session row /web<pattern> for
 * exactly the API routes that need a scope; every row in an area. */
static void test_one_table(void **state)
{
    (void)state;
    route_site s;
    assert_true(app_routes_build(&s));
    assert_int_equal(s.metrics_rows, api_routes_count);
    for (size_t i = 0; i < api_routes_count; i++)
        assert_ptr_equal(s.routes[i].fn, api_routes[i].fn);
    size_t mirrors = 0;
    for (size_t i = 0; i < api_routes_count; i++) {
        const route_t *api = &api_routes[i];
        char path[256];
        snprintf(path, sizeof path, "/web%s", api->pattern);
        const route_t *m = find_in(&s, api->method, path);
        bool want = api->auth == ROUTE_AUTH_TOKEN && api->scopes != 0;
        if (!want) {
            assert_null(m);
            continue;
        }
        mirrors++;
        if (!m)
            fail_msg("no dashboard row for %s %s", mkey(api->method), api->pattern);
        assert_int_equal(m->auth, ROUTE_AUTH_SESSION);
        assert_int_equal(m->limit, ROUTE_LIMIT_NONE);
        assert_int_equal(m->scopes, api->scopes);
        assert_int_equal(m->flags & ROUTE_CACHEABLE, 0);
        assert_ptr_equal(m->fn, api->fn);
    }
    assert_int_equal(s.nroutes, api_routes_count + web_routes_count + mirrors);
    assert_null(find_in(&s, HTTP_GET, "/web/api/v1/token"));
    for (size_t i = 0; i < s.nroutes; i++)
        for (size_t j = i + 1; j < s.nroutes; j++)
            if (s.routes[i].method == s.routes[j].method &&
                strcmp(s.routes[i].pattern, s.routes[j].pattern) == 0)
                fail_msg("duplicate row %s %s", mkey(s.routes[i].method), s.routes[i].pattern);
    pipeline_t p;
    char why[128] = "";
    assert_true(pipeline_init(&p, &s, NULL, false, why, sizeof why));
    pipeline_free(&p);
    app_routes_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_duplicates),
        cmocka_unit_test(test_document_header),
        cmocka_unit_test(test_every_route_documented),
        cmocka_unit_test(test_every_operation_is_a_route),
        cmocka_unit_test(test_refs_resolve),
        cmocka_unit_test(test_schemas_from_descriptors),
        cmocka_unit_test(test_lists_are_paginated),
        cmocka_unit_test(test_table_contract),
        cmocka_unit_test(test_auth_and_limit_agree),
        cmocka_unit_test(test_one_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
