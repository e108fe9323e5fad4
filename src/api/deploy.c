/* Deployments: POST /applications/{id}/deploy queues one (the job runner,
 * jobs/runner.c, runs it), cancel, the log, and the reads a CI job uses to
 * poll it. These routes
 * accept applications:read or applications:deploy (see api/routes.c). */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/deploys.h"
#include "core/objects.h"
#include "core/validate.h"
#include "util/num.h"
#include "http/response.h"

/* The optional body {"ref": "..."}: answers and returns false when it is
 * refused. *ref (json-owned by *body, decref after use) stays NULL without
 * one. */
static bool deploy_ref_or_answer(req_t *r, json_t **body, const char **ref)
{
    *body = NULL;
    *ref = NULL;
    if (!r->body || !r->body_len)
        return true;
    *body = req_json_body(r);
    if (!*body)
        return false;
    verrs errs = {0};
    if (!json_is_object(*body))
        verrs_add(&errs, "", "the body must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(*body, k, v) {
        if (strcmp(k, "ref") != 0)
            verrs_add(&errs, k, "is not a field of a deploy request");
        else if (!json_is_string(v) || !deploys_ref_ok(json_string_value(v)))
            verrs_add(&errs, k,
                      "must be a branch, tag or commit: 1 to 255 printable characters, no "
                      "space, quote, backslash or '..', not starting with '-'");
        else
            *ref = json_string_value(v);
    }
    if (errs.n) {
        resp_validation(r, &errs);
        json_decref(*body);
        *body = NULL;
        return false;
    }
    return true;
}

void applications_deploy(req_t *r)
{
    json_t *body = NULL;
    const char *ref = NULL;
    if (!deploy_ref_or_answer(r, &body, &ref))
        return;
    actor who = api_actor(r);
    json_t *dep = NULL;
    piora_err e = deploys_queue(r->store, &who, r->who->team_id, r->id, ref, &dep);
    json_decref(body);
    if (e == PIORA_ETOOBIG) {
        resp_problem(r, 429, "queue_full",
                     "too many deployments wait for this application's server; try again later",
                     NULL);
        return;
    }
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    api_location(r, RES_DEPLOYMENTS.name, dep);
    resp_json(r, 202, dep);
}

void applications_deployments(req_t *r)
{
    json_t *app = NULL;
    piora_err e = objects_get(r->store, &RES_APPLICATIONS, r->who->team_id, r->id, &app);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    json_decref(app);
    obj_filter f = {.field = "application_id", .value = r->id};
    /* The id is already in the path; the links need no extra query. */
    api_list(r, &RES_DEPLOYMENTS, &f, "");
}

void deployments_get(req_t *r) { api_get(r, &RES_DEPLOYMENTS); }

void deployments_cancel(req_t *r)
{
    actor who = api_actor(r);
    deploy_cancel_outcome how;
    json_t *dep = NULL;
    piora_err e = deploys_cancel(r->store, &who, r->who->team_id, r->id, &how, &dep);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    resp_json(r, 200, dep);
}

void deployments_log(req_t *r)
{
    int64_t offset = 0;
    const char *q = req_query(r, "offset");
    if (q && !num_parse_i64(q, 0, INT64_MAX, &offset)) {
        verrs errs = {0};
        verrs_add(&errs, "offset", "must be a non-negative integer");
        resp_validation(r, &errs);
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    bool complete = false;
    piora_err e = deploys_log(r->store, r->who->team_id, r->id, offset, &buf, &len, &complete);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    resp_header(r, "X-Log-Complete", complete ? "true" : "false");
    resp_header(r, "Cache-Control", "no-store");
    resp_raw(r, 200, "text/plain; charset=utf-8", buf, len);
    free(buf);
}
