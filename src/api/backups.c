/* Backups: jobs on a database. Creating one or asking for a restore queues
 * work for the job runner and answers 202 with the pending job. */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "core/objects.h"
#include "http/response.h"
#include "util/num.h"

/* ?database_id=N filters; a database of another team simply has no
 * backups visible to this one (an empty list, not an error). */
void backups_list(req_t *r)
{
    const char *q = req_query(r, "database_id");
    if (!q) {
        api_list(r, &RES_BACKUPS, NULL, "");
        return;
    }
    obj_filter f = {.field = "database_id"};
    if (!num_parse_i64(q, 1, INT64_MAX, &f.value)) {
        verrs errs = {0};
        verrs_add(&errs, "database_id", "must be a positive integer");
        /* report bad paging too, in the same answer */
        page_req p;
        paging_parse(req_query(r, "page"), req_query(r, "per_page"), &p, &errs);
        resp_validation(r, &errs);
        return;
    }
    char extra[48];
    snprintf(extra, sizeof extra, "database_id=%lld", (long long)f.value);
    api_list(r, &RES_BACKUPS, &f, extra);
}

void backups_get(req_t *r) { api_get(r, &RES_BACKUPS); }

void backups_create(req_t *r) { api_create(r, &RES_BACKUPS, 202); }

void backups_delete(req_t *r) { api_delete(r, &RES_BACKUPS); }

/* Queues a restore of the backup onto its database and answers with the
 * restore job. The backup must be the team's (404 otherwise). */
void backups_restore(req_t *r)
{
    json_t *backup = NULL;
    piora_err e = objects_get(r->store, &RES_BACKUPS, r->who->team_id, r->id, &backup);
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    json_decref(backup);
    json_t *values = json_pack("{s:I,s:s,s:n,s:n,s:s}", "backup_id", (json_int_t)r->id, "status",
                               "pending", "started_at", "finished_at", "log", "");
    if (!values) {
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    json_t *job = NULL;
    e = objects_create(r->store, &RES_RESTORES, r->who->team_id, values, &job);
    json_decref(values);
    if (e == PIORA_EINVALID)
        e = PIORA_ENOTFOUND; /* the backup went away meanwhile */
    if (e != PIORA_OK) {
        api_store_error(r, e, NULL, NULL);
        return;
    }
    resp_json(r, 202, job);
}
