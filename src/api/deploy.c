/* Deployments: POST /applications/{id}/deploy queues one (the job runner
 * picks it up later), and the reads a CI job uses to poll it. These routes
 * accept applications:read or applications:deploy (see api/routes.c). */
#include "api/api.h"

#include <stdio.h>

#include "core/objects.h"
#include "http/response.h"

/* The application must be the team's: 404 otherwise, before anything is
 * written. A request body, if any, is not read: a deploy takes no input. */
void applications_deploy(req_t *r)
{
    json_t *app = NULL;
    piora_err e = objects_get(r->store, &RES_APPLICATIONS, r->who->team_id, r->id, &app);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    json_decref(app);
    json_t *values = json_pack("{s:I,s:s,s:n,s:n,s:s}", "application_id", (json_int_t)r->id,
                               "status", "queued", "started_at", "finished_at", "log", "");
    if (!values) {
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    json_t *dep = NULL;
    e = objects_create(r->store, &RES_DEPLOYMENTS, r->who->team_id, values, &dep);
    json_decref(values);
    if (e == PIORA_EINVALID)
        e = PIORA_ENOTFOUND; /* the application went away meanwhile */
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
