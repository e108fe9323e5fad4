#include "core/schedule.h"

#include <stdlib.h>

#include "core/audit.h"
#include "core/backupstore.h"
#include "util/cron.h"
#include "util/log.h"

#define PAGE 256
#define PRUNE_MAX 64

int64_t schedule_due_slot(const char *cron_text, int64_t now)
{
    cron_expr c;
    if (!cron_parse(cron_text, &c, NULL, 0))
        return -1;
    int64_t from = now - SCHEDULE_CATCHUP_S, last = -1;
    /* at most CATCHUP/60 + 1 slots lie in the window */
    for (int i = 0; i < SCHEDULE_CATCHUP_S / 60 + 2; i++) {
        int64_t n = cron_next(&c, from);
        if (n < 0 || n > now)
            break;
        last = n;
        from = n;
    }
    return last;
}

static void queue_slot(store_t *s, const backup_sched_row *row, int64_t slot, int64_t now,
                       schedule_stats *st)
{
    int64_t backup_id = 0;
    piora_err e = store_backup_slot_claim(s, row->database_id, slot, now, &backup_id);
    if (e == PIORA_ECONFLICT)
        return; /* this slot is queued already, here or on another node */
    if (e != PIORA_OK) {
        log_error("schedule: database %lld: cannot queue its backup: %s",
                  (long long)row->database_id, piora_strerror(e));
        return;
    }
    st->queued++;
    actor who = {.channel = CHANNEL_SCHEDULE, .team_id = row->team_id};
    audit_event ev = {.action = AUDIT_BACKUP_QUEUED, .team_id = row->team_id,
                      .object_kind = "backup", .object_id = backup_id};
    audit_record(s, &who, &ev);
}

/* Rows go first, then files: a failure between the two leaves a file no
 * backup names (found and removable), never a completed backup whose file
 * is gone. */
static void prune(store_t *s, const backup_sched_row *row, schedule_stats *st)
{
    int64_t ids[PRUNE_MAX];
    size_t n = 0;
    if (store_backup_prune_scheduled(s, row->database_id, row->keep, ids, PRUNE_MAX, &n) !=
        PIORA_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        char path[BACKUPSTORE_PATH_MAX];
        if (backupstore_path(backupstore_dir(), ids[i], BACKUP_FILE_SUFFIX, path) == PIORA_OK &&
            backupstore_remove(path) != PIORA_OK)
            log_error("schedule: cannot remove the file of pruned backup %lld", (long long)ids[i]);
        st->pruned++;
    }
}

piora_err schedule_tick(store_t *s, int64_t now, schedule_stats *st)
{
    schedule_stats local = {0};
    if (!st)
        st = &local;
    int64_t after = 0;
    for (;;) {
        backup_sched_row *rows = NULL;
        size_t n = 0;
        piora_err e = store_backup_schedules(s, after, PAGE, &rows, &n);
        if (e != PIORA_OK)
            return e;
        for (size_t i = 0; i < n; i++) {
            int64_t slot = schedule_due_slot(rows[i].schedule, now);
            if (slot == -1) {
                cron_expr c;
                if (!cron_parse(rows[i].schedule, &c, NULL, 0))
                    st->invalid++;
            } else {
                queue_slot(s, &rows[i], slot, now, st);
            }
            prune(s, &rows[i], st);
        }
        if (n)
            after = rows[n - 1].database_id;
        free(rows);
        if (n < PAGE)
            return PIORA_OK;
    }
}
