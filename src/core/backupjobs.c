#include "core/backupjobs.h"

#include "core/audit.h"
#include "core/deploys.h"
#include "core/objects.h"
#include "util/clock.h"
#include "util/log.h"

piora_err backupjobs_queue_backup(store_t *s, const actor *who, int64_t team_id,
                                  int64_t database_id, json_t **out)
{
    *out = NULL;
    user_rec u;
    token_rec tok;
    job_trigger trig = deploys_trigger(s, who, team_id, &u, &tok);
    int64_t id = 0;
    piora_err e = store_bjob_queue_backup(s, team_id, database_id, &trig, deploys_queue_limit(),
                                          clock_now(), &id);
    if (e != PIORA_OK)
        return e;
    return objects_get(s, &RES_BACKUPS, team_id, id, out);
}

piora_err backupjobs_queue_restore(store_t *s, const actor *who, int64_t team_id,
                                   int64_t backup_id, int64_t database_id, json_t **out)
{
    *out = NULL;
    user_rec u;
    token_rec tok;
    job_trigger trig = deploys_trigger(s, who, team_id, &u, &tok);
    int64_t id = 0;
    piora_err e = store_bjob_queue_restore(s, team_id, backup_id, database_id, &trig,
                                           deploys_queue_limit(), clock_now(), &id);
    if (e != PIORA_OK)
        return e;
    return objects_get(s, &RES_RESTORES, team_id, id, out);
}

piora_err backupjobs_cancel(store_t *s, const actor *who, bjob_kind kind, int64_t team_id,
                            int64_t id, deploy_cancel_outcome *how, json_t **out)
{
    *out = NULL;
    piora_err e = store_bjob_cancel(s, kind, team_id, id, clock_now(), how);
    if (e != PIORA_OK)
        return e;
    const bool backup = kind == BJOB_BACKUP;
    if (*how != DEPLOY_CANCEL_FINISHED) {
        audit_event ev = {.action = backup ? AUDIT_BACKUP_CANCELLED : AUDIT_RESTORE_CANCELLED,
                          .team_id = team_id, .object_kind = backup ? "backup" : "restore",
                          .object_id = id};
        if (audit_record(s, who, &ev) != PIORA_OK)
            log_warn("audit: the cancel of %s %lld not recorded", ev.object_kind, (long long)id);
    }
    return objects_get(s, backup ? &RES_BACKUPS : &RES_RESTORES, team_id, id, out);
}

piora_err backupjobs_log(store_t *s, bjob_kind kind, int64_t team_id, int64_t id, int64_t offset,
                         char **buf, size_t *len, bool *complete)
{
    return store_bjob_log_read(s, kind, team_id, id, offset, DEPLOY_LOG_CAP + 4096, buf, len,
                               complete);
}
