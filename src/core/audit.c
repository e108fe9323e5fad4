/* The audit log of SPEC 6: names for actions, the one write path and the
 * one JSON rendering of entries (the store returns typed rows). An audit
 * write never undoes the change it records: a failure is logged (without
 * secrets: the entry holds none) and returned. */
#include "core/audit.h"

#include <stdlib.h>

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
    case AUDIT_USER_DISABLED: return "user.disabled";
    case AUDIT_USER_REMOVED: return "user.removed";
    case AUDIT_USER_ENABLED: return "user.enabled";
    case AUDIT_USER_MADE_ADMIN: return "user.made_admin";
    case AUDIT_USER_MADE_MEMBER: return "user.made_member";
    case AUDIT_USER_INVITED: return "user.invited";
    case AUDIT_INVITE_REVOKED: return "invite.revoked";
    case AUDIT_REAUTH: return "signin.reauth";
    case AUDIT_MFA_ENABLED: return "mfa.enabled";
    case AUDIT_MFA_DISABLED: return "mfa.disabled";
    case AUDIT_MFA_RECOVERY_USED: return "mfa.recovery_code_used";
    case AUDIT_TEAM_MFA_REQUIRED: return "team.mfa_required";
    case AUDIT_TEAM_MFA_OPTIONAL: return "team.mfa_optional";
    case AUDIT_PUBLISHER_ADDED: return "publisher.added";
    case AUDIT_PUBLISHER_REMOVED: return "publisher.removed";
    case AUDIT_OIDC_EXCHANGED: return "oidc.exchanged";
    case AUDIT_OIDC_FAILED: return "oidc.failed";
    case AUDIT_BACKUP_QUEUED: return "backup.queued";
    case AUDIT_BACKUP_DOWNLOADED: return "backup.downloaded";
    case AUDIT_RESTORE_QUEUED: return "restore.queued";
    case AUDIT_SCHEDULE_CHANGED: return "database.schedule_changed";
    case AUDIT_SSHKEY_CREATED: return "ssh_key.created";
    case AUDIT_SSHKEY_ROTATED: return "ssh_key.rotated";
    case AUDIT_SSHKEY_PREVIOUS_DELETED: return "ssh_key.previous_deleted";
    case AUDIT_HOST_KEY_TRUSTED: return "server.host_key_trusted";
    case AUDIT_HOST_KEY_PINNED: return "server.host_key_pinned";
    case AUDIT_HOST_KEY_CLEARED: return "server.host_key_cleared";
    case AUDIT_DEPLOYMENT_QUEUED: return "deployment.queued";
    case AUDIT_DEPLOYMENT_CANCELLED: return "deployment.cancelled";
    case AUDIT_TOKEN_RENAMED: return "token.renamed";
    case AUDIT_TOKEN_NOTE_CHANGED: return "token.note_changed";
    case AUDIT_TOKEN_REMOVED_FROM_LIST: return "token.removed_from_list";
    case AUDIT_BACKUP_COMPLETED: return "backup.completed";
    case AUDIT_BACKUP_FAILED: return "backup.failed";
    case AUDIT_RESTORE_COMPLETED: return "restore.completed";
    case AUDIT_RESTORE_FAILED: return "restore.failed";
    case AUDIT_BACKUP_CANCELLED: return "backup.cancelled";
    case AUDIT_RESTORE_CANCELLED: return "restore.cancelled";
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
        .detail = e->detail,
        .object_kind = e->object_kind,
        .object_id = e->object_id,
    };
    piora_err err = store_audit_insert(s, &n);
    if (err != PIORA_OK)
        log_error("audit: cannot record %s via %s: %s", n.action, n.via, piora_strerror(err));
    return err;
}

static json_t *id_or_null(int64_t id) { return id ? json_integer(id) : json_null(); }

static json_t *text_or_null(const char *v) { return v[0] ? json_string(v) : json_null(); }

/* The one rendering of an entry, whichever backend read it: absent ids and
 * strings are null, time is RFC 3339. */
static json_t *audit_row_json(const audit_row *r)
{
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(r->time, ts);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "action", json_string(r->action));
    json_object_set_new(o, "via", json_string(r->via));
    json_object_set_new(o, "team_id", id_or_null(r->team_id));
    json_object_set_new(o, "actor",
                        r->actor_user_id ? json_pack("{s:I,s:o}", "id",
                                                     (json_int_t)r->actor_user_id, "email",
                                                     text_or_null(r->actor_email))
                                         : json_null());
    json_object_set_new(o, "token_id", id_or_null(r->token_id));
    json_object_set_new(o, "token_name", r->token_id ? text_or_null(r->token_name) : json_null());
    json_object_set_new(o, "subject_user_id", id_or_null(r->subject_user_id));
    json_object_set_new(o, "email", text_or_null(r->email));
    json_object_set_new(o, "addr", text_or_null(r->addr));
    json_object_set_new(o, "detail", text_or_null(r->detail));
    json_object_set_new(o, "object",
                        r->object_kind[0] ? json_pack("{s:s,s:I}", "kind", r->object_kind, "id",
                                                      (json_int_t)r->object_id)
                                          : json_null());
    return o;
}

piora_err audit_list_email(store_t *s, int64_t team_id, const char *email, int64_t offset,
                           int64_t limit, json_t **items, int64_t *total)
{
    *items = NULL;
    audit_row *rows = NULL;
    size_t n = 0;
    piora_err e = store_audit_list(s, team_id, email, offset, limit, &rows, &n, total);
    if (e != PIORA_OK)
        return e;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = audit_row_json(&rows[i]);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    free(rows);
    if (!arr)
        return PIORA_ENOMEM;
    *items = arr;
    return PIORA_OK;
}

piora_err audit_list(store_t *s, int64_t team_id, int64_t offset, int64_t limit, json_t **items,
                     int64_t *total)
{
    return audit_list_email(s, team_id, NULL, offset, limit, items, total);
}
