/* One implementation of list / get / create / update / delete for every
 * resource, driven by its descriptor (schema/model.c). The per-resource
 * handlers at the bottom only bind a descriptor to the generic code. */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "auth/scopes.h"
#include "core/objects.h"
#include "core/validate.h"
#include "http/response.h"
#include "monitor/metrics.h"

bool api_paging(req_t *r, page_req *p)
{
    verrs errs = {0};
    if (paging_parse(req_query(r, "page"), req_query(r, "per_page"), p, &errs) != PIORA_OK) {
        resp_validation(r, &errs);
        return false;
    }
    return true;
}

void api_location(req_t *r, const char *collection, const json_t *obj)
{
    json_t *id = json_object_get(obj, "id");
    if (!json_is_integer(id))
        return;
    char loc[128];
    snprintf(loc, sizeof loc, API_PREFIX "/%s/%lld", collection,
             (long long)json_integer_value(id));
    resp_header(r, "Location", loc);
}

void api_store_error(req_t *r, piora_err e, const resource_desc *d, const json_t *values)
{
    if (e == PIORA_EINVALID && d && values) {
        verrs errs = {0};
        for (size_t i = 0; i < d->nfields; i++) {
            const field_desc *f = &d->fields[i];
            if (f->kind == FK_REF && json_is_integer(json_object_get(values, f->name)))
                verrs_add(&errs, f->name, "must be the id of one of your team's %s",
                          f->ref->name);
        }
        if (errs.n) {
            resp_validation(r, &errs);
            return;
        }
    }
    if (e == PIORA_ECONFLICT && d == &RES_SERVERS && !values) {
        resp_error(r, e, "The server is still used by applications or databases.");
        return;
    }
    resp_error(r, e, NULL);
}

json_t *api_body_values(req_t *r, const resource_desc *d, bool create)
{
    json_t *body = req_json_body(r);
    if (!body)
        return NULL;
    verrs errs = {0};
    json_t *values = NULL;
    piora_err e = validate_object(d, body, create, &values, &errs);
    json_decref(body);
    if (e == PIORA_OK)
        return values;
    if (e == PIORA_EBADREQ)
        resp_error(r, e, "The body must be a JSON object.");
    else if (e == PIORA_EINVALID)
        resp_validation(r, &errs);
    else
        resp_error(r, e, NULL);
    return NULL;
}

/* The list envelope {data, meta} and the Link header; extra_query is the
 * filter to keep in the links ("" when none). */
void api_list(req_t *r, const resource_desc *d, const obj_filter *filter, const char *extra_query)
{
    page_req p;
    if (!api_paging(r, &p))
        return;
    json_t *items = NULL;
    int64_t total = 0;
    /* A resource-limited token sees only what it is granted, counted and
     * paged by the store (SPEC 11): the total and the links stay true. */
    obj_filter lf = filter ? *filter : (obj_filter){0};
    if (r->who->resources.limited)
        lf.grant = &r->who->resources;
    piora_err e = objects_list(r->store, d, r->who->team_id, &lf, p.offset, p.per_page, &items,
                               &total);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    buf_t link;
    buf_init(&link, 4096);
    paging_link(&link, r->path, extra_query ? extra_query : "", &p, total);
    if (!link.failed && link.len)
        resp_header(r, "Link", link.data);
    buf_free(&link);
    json_t *env = json_object();
    json_object_set_new(env, "data", items);
    json_object_set_new(env, "meta", paging_meta(&p, total));
    resp_json(r, 200, env);
}

void api_get(req_t *r, const resource_desc *d)
{
    json_t *obj = NULL;
    piora_err e = objects_get(r->store, d, r->who->team_id, r->id, &obj);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    resp_json(r, 200, obj);
}

void api_create(req_t *r, const resource_desc *d, int status)
{
    json_t *values = api_body_values(r, d, true);
    if (!values)
        return;
    json_t *obj = NULL;
    piora_err e = objects_create(r->store, d, r->who->team_id, values, &obj);
    if (e != PIORA_OK) {
        api_store_error(r, e, d, values);
        json_decref(values);
        return;
    }
    if (d == &RES_DATABASES)
        databases_note_schedule(r, values, obj, true);
    if (d == &RES_SERVERS)
        api_note_host_key(r, values);
    json_decref(values);
    api_location(r, d->name, obj);
    resp_json(r, status, obj);
}

void api_update(req_t *r, const resource_desc *d)
{
    json_t *values = api_body_values(r, d, false);
    if (!values)
        return;
    json_t *obj = NULL;
    piora_err e = objects_update(r->store, d, r->who->team_id, r->id, values, &obj);
    if (e != PIORA_OK) {
        api_store_error(r, e, d, values);
        json_decref(values);
        return;
    }
    if (d == &RES_DATABASES)
        databases_note_schedule(r, values, obj, false);
    if (d == &RES_SERVERS)
        api_note_host_key(r, values);
    json_decref(values);
    resp_json(r, 200, obj);
}

/* A delete takes the object's children with it (an application its
 * deployments, a database its backups and restores), so a token needs the
 * children's write scope as well as the route's: one write scope alone
 * must not destroy what it could not have deleted itself. The answer is
 * the route check's 403 insufficient_scope, naming every scope needed. A
 * session acts with every scope and always passes. */
static bool delete_scopes_held(req_t *r, scope_set route, scope_set children)
{
    if (!children || (children & ~r->who->effective) == 0)
        return true;
    metrics_auth_failure(MR_INSUFFICIENT_SCOPE);
    char need[SCOPES_STR_MAX], kids[SCOPES_STR_MAX], v[SCOPES_STR_MAX + 96];
    scopes_format(route | children, " ", need, sizeof need);
    snprintf(v, sizeof v, "Bearer realm=\"piora\", error=\"insufficient_scope\", scope=\"%s\"",
             need);
    resp_header(r, "WWW-Authenticate", v);
    json_t *extra = json_object(), *req = json_array(), *got = json_array();
    for (int i = 0; i < SCOPE_COUNT; i++) {
        if ((route | children) & (1u << i))
            json_array_append_new(req, json_string(scope_name(i)));
        if (r->who->scopes & (1u << i))
            json_array_append_new(got, json_string(scope_name(i)));
    }
    json_object_set_new(extra, "required_scopes", req);
    json_object_set_new(extra, "granted_scopes", got);
    scopes_format(route, " and ", need, sizeof need);
    scopes_format(children, " and ", kids, sizeof kids);
    char detail[2 * SCOPES_STR_MAX + 96];
    snprintf(detail, sizeof detail,
             "This delete takes what hangs under the object with it: it needs the scope %s and %s.",
             need, kids);
    resp_problem(r, 403, "insufficient_scope", detail, extra);
    return false;
}

static void api_delete_with(req_t *r, const resource_desc *d, scope_set route, scope_set children)
{
    if (!delete_scopes_held(r, route, children))
        return;
    api_delete(r, d);
}

void api_delete(req_t *r, const resource_desc *d)
{
    piora_err e = objects_delete(r->store, d, r->who->team_id, r->id);
    if (e != PIORA_OK) {
        api_store_error(r, e, d, NULL);
        return;
    }
    resp_empty(r, 204);
}

/* children: the write scopes a delete needs besides the route's (see
 * delete_scopes_held); servers have none, their delete answers 409 while
 * anything uses them. */
#define RESOURCE_HANDLERS(prefix, desc, write, children)                             \
    void prefix##_list(req_t *r) { api_list(r, &desc, NULL, ""); }                   \
    void prefix##_get(req_t *r) { api_get(r, &desc); }                               \
    void prefix##_create(req_t *r) { api_create(r, &desc, 201); }                    \
    void prefix##_update(req_t *r) { api_update(r, &desc); }                         \
    void prefix##_delete(req_t *r) { api_delete_with(r, &desc, write, children); }
#define RESOURCE_HANDLERS_KEEP_DELETE(prefix, desc)                                  \
    void prefix##_list(req_t *r) { api_list(r, &desc, NULL, ""); }                   \
    void prefix##_get(req_t *r) { api_get(r, &desc); }                               \
    void prefix##_create(req_t *r) { api_create(r, &desc, 201); }                    \
    void prefix##_update(req_t *r) { api_update(r, &desc); }

RESOURCE_HANDLERS(servers, RES_SERVERS, SCOPE_SERVERS_WRITE, 0)
RESOURCE_HANDLERS(applications, RES_APPLICATIONS, SCOPE_APPLICATIONS_WRITE,
                  SCOPE_APPLICATIONS_DEPLOY)
RESOURCE_HANDLERS_KEEP_DELETE(databases, RES_DATABASES)

/* A database's backups go with it, rows (the store's cascade) and files:
 * their ids are read first, the files removed once the rows are gone. */
void databases_delete(req_t *r)
{
    if (!delete_scopes_held(r, SCOPE_DATABASES_WRITE, SCOPE_BACKUPS_WRITE))
        return;
    int64_t *ids = NULL;
    size_t n = 0;
    piora_err e = backups_of_database(r, r->id, &ids, &n);
    if (e == PIORA_OK)
        e = objects_delete(r->store, &RES_DATABASES, r->who->team_id, r->id);
    if (e != PIORA_OK) {
        free(ids);
        api_store_error(r, e, &RES_DATABASES, NULL);
        return;
    }
    backups_remove_files(ids, n);
    free(ids);
    resp_empty(r, 204);
}

actor api_actor(const req_t *r)
{
    actor a = {.channel = r->session ? CHANNEL_DASHBOARD : CHANNEL_API,
               .user_id = r->who->user_id,
               .team_id = r->who->team_id,
               .token_id = r->who->token_id,
               .addr = r->client_addr};
    return a;
}
