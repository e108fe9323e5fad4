/* Deployments as jobs (SPEC 10), for the API and the dashboard: queue one
 * (within the per-server bound), cancel one, read its log. The runner
 * (jobs/runner.c) does the work. */
#ifndef PIORA_CORE_DEPLOYS_H
#define PIORA_CORE_DEPLOYS_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/actor.h"
#include "store/store.h"

#define DEPLOY_LOG_CAP (16 * 1024 * 1024) /* SPEC 10 */
#define DEPLOY_LOG_MARKER "\n[piora: the log passed 16 MiB; the rest is dropped]\n"

/* --queue-per-server, set once at start (default 25). */
void deploys_set_queue_limit(int64_t n);

int64_t deploys_queue_limit(void);

/* Who queues a job of any kind, as its triggered_by records it (the names
 * point into *u and *tok, which must outlive the trigger). Makes the team's
 * SSH key on first use, so the runner has one. */
job_trigger deploys_trigger(store_t *s, const actor *who, int64_t team_id, user_rec *u,
                            token_rec *tok);

/* A ref a deployment may name: 1..255 bytes of printable ASCII, no leading
 * '-' (git would read an option), no "..", no space. */
bool deploys_ref_ok(const char *ref);

/* Queues a deployment of the team's application at ref (NULL: its branch)
 * by who; *out is the deployment. ENOTFOUND: no such application; ETOOBIG:
 * the server's queue is full (429 queue_full). */
piora_err deploys_queue(store_t *s, const actor *who, int64_t team_id, int64_t app_id,
                        const char *ref, json_t **out);

/* *out is the deployment after the cancel (cancelled, or still running
 * until its runner stops it). ENOTFOUND: no such deployment of the team. */
piora_err deploys_cancel(store_t *s, const actor *who, int64_t team_id, int64_t id,
                         deploy_cancel_outcome *how, json_t **out);

/* The log from offset (see store_job_log_read). */
piora_err deploys_log(store_t *s, int64_t team_id, int64_t id, int64_t offset, char **buf,
                      size_t *len, bool *complete);

#endif
