/* Backups and restores as jobs (SPEC 10, issue 11), for the API and the
 * dashboard: queue one (within --queue-per-server), cancel one, read its
 * log. The runner (jobs/runner.c, jobs/backup.c) does the work. */
#ifndef PIORA_CORE_BACKUPJOBS_H
#define PIORA_CORE_BACKUPJOBS_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/actor.h"
#include "store/store.h"

/* Queues a backup of the team's database by who; *out is the backup.
 * ENOTFOUND: no such database; ETOOBIG: its server's queue is full. */
piora_err backupjobs_queue_backup(store_t *s, const actor *who, int64_t team_id,
                                  int64_t database_id, json_t **out);

/* Queues a restore of the team's backup into database_id (the caller
 * checked that the backup is completed and the engines match); *out is the
 * restore. ENOTFOUND: the backup or the database went away; ETOOBIG: full. */
piora_err backupjobs_queue_restore(store_t *s, const actor *who, int64_t team_id,
                                   int64_t backup_id, int64_t database_id, json_t **out);

/* A pending job ends failed/cancelled at once, a running one is asked to
 * stop (its runner kills the remote tool within a second or two); audited.
 * *out is the object after it. ENOTFOUND: not the team's. */
piora_err backupjobs_cancel(store_t *s, const actor *who, bjob_kind kind, int64_t team_id,
                            int64_t id, deploy_cancel_outcome *how, json_t **out);

/* The log from offset (see store_bjob_log_read). */
piora_err backupjobs_log(store_t *s, bjob_kind kind, int64_t team_id, int64_t id, int64_t offset,
                         char **buf, size_t *len, bool *complete);

#endif
