#include "core/deploys.h"

#include <stdatomic.h>
#include <string.h>

#include "core/audit.h"
#include "core/masterkey.h"
#include "core/objects.h"
#include "core/sshkeys.h"
#include "util/clock.h"
#include "util/log.h"

static _Atomic int64_t queue_limit = 25;

void deploys_set_queue_limit(int64_t n) { atomic_store(&queue_limit, n); }

bool deploys_ref_ok(const char *ref)
{
    size_t n = ref ? strlen(ref) : 0;
    if (n == 0 || n > DEPLOY_REF_MAX || ref[0] == '-' || strstr(ref, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)ref[i] <= ' ' || (unsigned char)ref[i] >= 0x7f || ref[i] == '\\' ||
            ref[i] == '\'' || ref[i] == '"')
            return false;
    return true;
}

static void note(store_t *s, const actor *who, audit_action a, int64_t team_id, int64_t id)
{
    audit_event ev = {.action = a, .team_id = team_id, .object_kind = "deployment",
                      .object_id = id};
    if (audit_record(s, who, &ev) != PIORA_OK)
        log_warn("audit: %s of deployment %lld not recorded", audit_action_name(a), (long long)id);
}

int64_t deploys_queue_limit(void) { return atomic_load(&queue_limit); }

job_trigger deploys_trigger(store_t *s, const actor *who, int64_t team_id, user_rec *u,
                            token_rec *tok)
{
    /* A job is a use of the team's key: like a server check, it makes the
     * key on first use (audited), so the runner has one. */
    memset(u, 0, sizeof *u);
    if (store_user_by_id(s, who->user_id, u) == PIORA_OK && masterkey_have()) {
        json_t *shown = NULL;
        if (sshkeys_show(s, who, team_id, u->team_name, &shown) != PIORA_OK)
            log_warn("jobs: the team's SSH key could not be made");
        json_decref(shown);
    }
    memset(tok, 0, sizeof *tok);
    if (who->token_id && !who->token_name)
        (void)store_token_by_id(s, who->token_id, tok); /* for its name only */
    return who->token_id
               ? (job_trigger){.type = "token", .id = who->token_id,
                               .name = who->token_name ? who->token_name
                                       : tok->name[0] ? tok->name : NULL}
               : (job_trigger){.type = "user", .id = who->user_id,
                               .name = u->email[0] ? u->email : NULL};
}

piora_err deploys_queue(store_t *s, const actor *who, int64_t team_id, int64_t app_id,
                        const char *ref, json_t **out)
{
    *out = NULL;
    if (ref && !deploys_ref_ok(ref))
        return PIORA_EINVALID;
    user_rec u;
    token_rec tok;
    job_trigger trig = deploys_trigger(s, who, team_id, &u, &tok);
    int64_t id = 0;
    piora_err e = store_deploy_queue(s, team_id, app_id, ref, &trig, atomic_load(&queue_limit),
                                     clock_now(), &id);
    if (e != PIORA_OK)
        return e;
    note(s, who, AUDIT_DEPLOYMENT_QUEUED, team_id, id);
    return objects_get(s, &RES_DEPLOYMENTS, team_id, id, out);
}

piora_err deploys_cancel(store_t *s, const actor *who, int64_t team_id, int64_t id,
                         deploy_cancel_outcome *how, json_t **out)
{
    *out = NULL;
    piora_err e = store_deploy_cancel(s, team_id, id, clock_now(), how);
    if (e != PIORA_OK)
        return e;
    if (*how != DEPLOY_CANCEL_FINISHED)
        note(s, who, AUDIT_DEPLOYMENT_CANCELLED, team_id, id);
    return objects_get(s, &RES_DEPLOYMENTS, team_id, id, out);
}

piora_err deploys_log(store_t *s, int64_t team_id, int64_t id, int64_t offset, char **buf,
                      size_t *len, bool *complete)
{
    return store_job_log_read(s, team_id, id, offset, DEPLOY_LOG_CAP + 4096, buf, len, complete);
}
