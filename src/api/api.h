/* The REST API v1 handlers of SPEC 4 and the helpers they share. The route
 * table (api/routes.c) points at these functions; each one reads req_t and
 * answers through http/response.h. Team isolation: every store call takes
 * r->who->team_id, and another team's object answers 404 like a missing one. */
#ifndef PIORA_API_API_H
#define PIORA_API_API_H

#include <jansson.h>
#include <stdbool.h>

#include "core/actor.h"
#include "core/paging.h"
#include "http/request.h"
#include "http/router.h"
#include "schema/model.h"

#define API_PREFIX "/api/v1"

/* The API's rows of the route table (api/routes.c). */
extern const route_t api_routes[];
extern const size_t api_routes_count;

/* ---- shared helpers (api/resources.c) ---------------------------------- */

/* Generic handlers driven by a resource descriptor. */
void api_list(req_t *r, const resource_desc *d, const obj_filter *filter, const char *extra_query);
void api_get(req_t *r, const resource_desc *d);
void api_create(req_t *r, const resource_desc *d, int status);
void api_update(req_t *r, const resource_desc *d);
void api_delete(req_t *r, const resource_desc *d);

/* Parses ?page and ?per_page; on a bad value answers 422 and returns false. */
bool api_paging(req_t *r, page_req *p);
/* Answers a failed store call: ENOTFOUND 404; EINVALID from a create or
 * update becomes a 422 on the descriptor's FK_REF fields present in values
 * (the referenced object is not the team's); the rest via resp_error. */
void api_store_error(req_t *r, piora_err e, const resource_desc *d, const json_t *values);
/* The caller as the audit log names it: the token (or the dashboard
 * session) and the address. */
actor api_actor(const req_t *r);
/* Sets Location: /api/v1/<collection>/<id of obj>. */
void api_location(req_t *r, const char *collection, const json_t *obj);
/* Decodes and validates the body against d; answers 400/422 itself and
 * returns NULL on failure. */
json_t *api_body_values(req_t *r, const resource_desc *d, bool create);

/* ---- servers, applications, databases (api/resources.c) ----------------- */
void servers_list(req_t *r);
void servers_get(req_t *r);
void servers_create(req_t *r);
void servers_update(req_t *r);
void servers_delete(req_t *r);
void applications_list(req_t *r);
void applications_get(req_t *r);
void applications_create(req_t *r);
void applications_update(req_t *r);
void applications_delete(req_t *r);
void databases_list(req_t *r);
void databases_get(req_t *r);
void databases_create(req_t *r);
void databases_update(req_t *r);
void databases_delete(req_t *r);

/* ---- deployments (api/deploy.c) ---------------------------------------- */
void applications_deploy(req_t *r);
void applications_deployments(req_t *r);
void deployments_get(req_t *r);
void deployments_cancel(req_t *r);
void deployments_log(req_t *r);

/* ---- backups (api/backups.c) ------------------------------------------- */
void backups_list(req_t *r);
void backups_get(req_t *r);
void backups_create(req_t *r);
void backups_delete(req_t *r);
void backups_restore(req_t *r);
void backups_download(req_t *r);
void restores_get(req_t *r);
void restores_list(req_t *r);
void restores_log(req_t *r);
void restores_cancel(req_t *r);
void backups_log(req_t *r);
void backups_cancel(req_t *r);
/* The ids of the team's backups of database db (*ids malloc'd, free()),
 * and removing their files from the backup store (missing ones are fine):
 * what deleting a database does besides its rows. */
piora_err backups_of_database(req_t *r, int64_t db, int64_t **ids, size_t *n);
void backups_remove_files(const int64_t *ids, size_t n);
/* Audits a database's schedule change: a create with a backup_schedule, a
 * PATCH that sets backup_schedule or backup_keep (values: as validated, so
 * a create's carry the defaults too). */
void databases_note_schedule(req_t *r, const json_t *values, const json_t *obj, bool create);

/* ---- the calling token (api/token_self.c) ------------------------------ */
/* the team's SSH key pair: api/sshkey.c */
void ssh_key_get(req_t *r);
void ssh_key_rotate(req_t *r);
void ssh_key_previous_delete(req_t *r);
void servers_check(req_t *r);
/* After a server write: audits a host key pinned or cleared by the body's
 * values (api/sshkey.c). */
void api_note_host_key(req_t *r, const json_t *values); /* POST /servers/{id}/check, deferred: it connects over SSH */

void token_self_get(req_t *r);
void token_self_delete(req_t *r);

/* ---- leaked credentials (api/credentials.c) ---------------------------- */
#define CREDENTIALS_MAX 1000
#define CREDENTIAL_MAX_BYTES 256
void credentials_revoke(req_t *r);

/* ---- trusted publishing (api/oidc.c) ----------------------------------- */
void oidc_token_exchange(req_t *r);

/* ---- health and the OpenAPI document (api/health.c, api/openapi.c) ------ */
void health_live(req_t *r);
void health_ready(req_t *r);
void openapi_serve(req_t *r);
/* Prometheus metrics, text format 0.0.4 (api/metrics.c). */
void metrics_serve(req_t *r);

/* The OpenAPI 3.1 document of api_routes, serialized once (thread-safe) and
 * kept for the life of the process. NULL only if building it failed. */
const char *openapi_document(size_t *len);
/* True when openapi.c knows what the route's handler takes and answers
 * (every route must be; test_routes checks it). */
bool openapi_route_documented(const route_t *rt);

#endif
