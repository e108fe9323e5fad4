/* The audit log of SPEC 6: names for actions, and the one write path. An
 * audit write never undoes the change it records: a failure is logged
 * (without secrets: the entry holds none) and returned. */
#include "core/audit.h"

#include "util/clock.h"
#include "util/log.h"

const char *audit_action_name(audit_action a)
{
    switch (a) {
    case AUDIT_SIGNIN: return "signin";
    case AUDIT_SIGNIN_FAILED: return "signin.failed";
    case AUDIT_SIGNOUT: return "signout";
    case AUDIT_TOKEN_CREATED: return "token.created";
    case AUDIT_TOKEN_REGENERATED: return "token.regenerated";
    case AUDIT_TOKEN_REVOKED: return "token.revoked";
    case AUDIT_USER_CREATED: return "user.created";
    case AUDIT_PASSWORD_CHANGED: return "password.changed";
    }
    return "unknown";
}

/* An entry about no particular token still says which token made the
 * change when the actor holds one, so an API change is traceable to it. */
piora_err audit_record(store_t *s, const actor *who, const audit_event *e)
{
    if (!s || !who || !e)
        return PIORA_EINVALID;
    bool own = e->token_id == 0;
    audit_new n = {
        .time = clock_now(),
        .action = audit_action_name(e->action),
        .via = actor_channel_name(who->channel),
        .team_id = e->team_id,
        .actor_user_id = who->user_id,
        .token_id = own ? who->token_id : e->token_id,
        .token_name = own ? who->token_name : e->token_name,
        .subject_user_id = e->subject_user_id,
        .email = e->email,
        .addr = who->addr,
    };
    piora_err err = store_audit_insert(s, &n);
    if (err != PIORA_OK)
        log_error("audit: cannot record %s via %s: %s", n.action, n.via, piora_strerror(err));
    return err;
}

piora_err audit_list(store_t *s, int64_t team_id, int64_t offset, int64_t limit, json_t **items,
                     int64_t *total)
{
    return store_audit_list(s, team_id, NULL, offset, limit, items, total);
}

piora_err audit_list_email(store_t *s, int64_t team_id, const char *email, int64_t offset,
                           int64_t limit, json_t **items, int64_t *total)
{
    return store_audit_list(s, team_id, email, offset, limit, items, total);
}
