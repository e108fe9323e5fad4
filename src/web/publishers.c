/* Settings > Trusted Publishers (SPEC 12): the team's publishers for
 * everyone signed in to see; adding and removing them for admins. The
 * rules and the audit are core/publishers.c's, as for the CLI. */
#include <stdlib.h>
#include <string.h>

#include "core/publishers.h"
#include "http/response.h"
#include "web/internal.h"

/* GET /web/api/publishers: the team's, oldest first. */
void web_publishers_list(req_t *r, web_ctx *c)
{
    publisher_rec *v = NULL;
    size_t n = 0;
    piora_err e = publishers_list(r->store, c->user.team_id, &v, &n);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, publishers_to_json(&v[i]));
    free(v);
    resp_json(r, 200, json_pack("{s:o}", "data", data));
}

static bool admin_or_answer(req_t *r, const web_ctx *c)
{
    if (c->user.is_admin)
        return true;
    resp_problem(r, 403, "forbidden", "Only a team admin can manage trusted publishers.", NULL);
    return false;
}

/* POST /web/api/publishers {name, issuer, audience, claims: {KEY: VALUE},
 * ref_glob, scopes: [...], resources: "servers:1,..."} */
void web_publishers_create(req_t *r, web_ctx *c)
{
    if (!admin_or_answer(r, c))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    verrs errs = {0};
    json_t *claims = json_object_get(body, "claims"), *scopes = json_object_get(body, "scopes");
    if (claims && !json_is_object(claims))
        verrs_add(&errs, "claims", "must be an object of claim names and values");
    if (!json_is_array(scopes))
        verrs_add(&errs, "scopes", "Select at least one scope.");
    if (json_object_size(claims) > PUBLISHER_CLAIMS_MAX)
        verrs_add(&errs, "claims", "At most %d conditions.", PUBLISHER_CLAIMS_MAX);
    if (errs.n) {
        json_decref(body);
        resp_validation(r, &errs);
        return;
    }
    /* "KEY=VALUE" strings for the service, and the scope names as a list */
    char kv[PUBLISHER_CLAIMS_MAX][OIDC_GLOB_MAX + 72];
    const char *conds[PUBLISHER_CLAIMS_MAX];
    size_t nc = 0;
    const char *k;
    json_t *v;
    json_object_foreach(claims, k, v) {
        const char *val = json_string_value(v);
        if (!val || !*val)
            continue; /* an empty field of the form: no condition */
        snprintf(kv[nc], sizeof kv[nc], "%.64s=%s", k, val);
        conds[nc] = kv[nc];
        nc++;
    }
    char scope_list[SCOPES_STR_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < json_array_size(scopes); i++) {
        const char *sn = json_string_value(json_array_get(scopes, i));
        if (sn && used < sizeof scope_list)
            used += (size_t)snprintf(scope_list + used, sizeof scope_list - used, "%s%.40s",
                                     used ? "," : "", sn);
    }
    publisher_req rq = {.user_id = c->user.id,
                        .name = web_json_str(body, "name"),
                        .issuer = web_json_str(body, "issuer"),
                        .audience = web_json_str(body, "audience"),
                        .claims = conds,
                        .nclaims = nc,
                        .ref_glob = web_json_str(body, "ref_glob"),
                        .scopes = scope_list,
                        .resources = web_json_str(body, "resources")};
    actor who = web_actor(r, c);
    publisher_rec p;
    piora_err e = publishers_add(r->store, &who, &rq, &p, &errs);
    json_decref(body);
    if (e == PIORA_EINVALID)
        resp_validation(r, &errs);
    else if (e == PIORA_ECONFLICT)
        web_field_error(r, "name", "The team already has a trusted publisher of this name.");
    else if (e != PIORA_OK)
        resp_error(r, e, NULL);
    else
        resp_json(r, 201, publishers_to_json(&p));
}

/* POST /web/api/publishers/{id}/remove */
void web_publishers_remove(req_t *r, web_ctx *c)
{
    if (!admin_or_answer(r, c))
        return;
    actor who = web_actor(r, c);
    piora_err e = publishers_remove(r->store, &who, c->user.team_id, r->id);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    resp_empty(r, 204);
}
