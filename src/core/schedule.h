/* Scheduled backups (SPEC 10, Schedules): each database's backup_schedule
 * queues one backup per slot, once across every node, and only the newest
 * backup_keep completed scheduled backups are kept, files included.
 * schedule_tick is one pass; app/ runs it on a background writer. */
#ifndef PIORA_CORE_SCHEDULE_H
#define PIORA_CORE_SCHEDULE_H

#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

/* A slot is still run when found this many seconds late (a tick period, a
 * busy database, a restart); older slots were missed and are not run
 * later, so a node that was down for a day does not queue a day of
 * backups at once. */
#define SCHEDULE_CATCHUP_S 300

typedef struct schedule_stats {
    int queued;   /* backups queued for a slot this pass */
    int pruned;   /* old scheduled backups removed (rows and files) */
    int invalid;  /* stored schedules that no longer parse (skipped) */
} schedule_stats;

/* The latest slot of the cron text in (now - SCHEDULE_CATCHUP_S, now], or -1. */
int64_t schedule_due_slot(const char *cron_text, int64_t now);

/* One pass over every scheduled database at `now` (epoch seconds). */
piora_err schedule_tick(store_t *s, int64_t now, schedule_stats *st);

#endif
