/* The audit log of SPEC 6: who did what to accounts and tokens, and how.
 * Only the services of core/ record (users, tokens, signin), after the
 * change has committed; a failed audit write is logged and does not undo
 * the change. Never pass a password or token. */
#ifndef PIORA_CORE_AUDIT_H
#define PIORA_CORE_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "core/actor.h"
#include "store/store.h"

typedef enum audit_action {
    AUDIT_SIGNIN,           /* a successful dashboard sign-in */
    AUDIT_SIGNIN_FAILED,    /* wrong password or unknown email */
    AUDIT_SIGNOUT,
    AUDIT_TOKEN_CREATED,
    AUDIT_TOKEN_REGENERATED,
    AUDIT_TOKEN_REVOKED,
    AUDIT_USER_CREATED,
    AUDIT_PASSWORD_CHANGED,
    AUDIT_USER_DISABLED, /* issue 13: offboarding and roles (core/team.c) */
    AUDIT_USER_REMOVED,
    AUDIT_USER_ENABLED,
    AUDIT_USER_MADE_ADMIN,
    AUDIT_USER_MADE_MEMBER,
    AUDIT_USER_INVITED,
    AUDIT_INVITE_REVOKED,
    AUDIT_REAUTH, /* sudo mode: the password given again (core/sudo.c) */
    AUDIT_MFA_ENABLED, /* two-factor sign-in (core/mfa.c) */
    AUDIT_MFA_DISABLED,
    AUDIT_MFA_RECOVERY_USED,
    AUDIT_TEAM_MFA_REQUIRED,
    AUDIT_TEAM_MFA_OPTIONAL,
    AUDIT_PUBLISHER_ADDED,   /* trusted publishing (SPEC 12) */
    AUDIT_PUBLISHER_REMOVED,
    AUDIT_OIDC_EXCHANGED,    /* a JWT became a token: detail names publisher, repository, ref, commit, run */
    AUDIT_OIDC_FAILED,       /* a JWT was refused: detail names the check */
    /* backups and restores (issue 11): the entry names the object */
    AUDIT_BACKUP_QUEUED,
    AUDIT_BACKUP_DOWNLOADED,
    AUDIT_RESTORE_QUEUED,
    AUDIT_SCHEDULE_CHANGED,
    AUDIT_SSHKEY_CREATED,          /* the team's first key pair, made on first use */
    AUDIT_SSHKEY_ROTATED,
    AUDIT_SSHKEY_PREVIOUS_DELETED,
    AUDIT_HOST_KEY_TRUSTED,        /* a server's host key recorded on first use */
    AUDIT_HOST_KEY_PINNED,         /* a host key given on create or PATCH */
    AUDIT_HOST_KEY_CLEARED,        /* PATCH host_key_fingerprint: null (trust again) */
    AUDIT_DEPLOYMENT_QUEUED,       /* POST /applications/{id}/deploy */
    AUDIT_DEPLOYMENT_CANCELLED,    /* POST /deployments/{id}/cancel */
    AUDIT_TOKEN_RENAMED,     /* issue 13: token_name is the new name, detail the old one */
    AUDIT_TOKEN_NOTE_CHANGED, /* detail: "note set" or "note cleared", never the note itself */
    AUDIT_TOKEN_REMOVED_FROM_LIST, /* a revoked or expired token hidden from the lists */
    /* issue 11: the runner's outcome of a backup or restore job (detail:
     * the error code of a failure), and a cancel asked through the API */
    AUDIT_BACKUP_COMPLETED,
    AUDIT_BACKUP_FAILED,
    AUDIT_RESTORE_COMPLETED,
    AUDIT_RESTORE_FAILED,
    AUDIT_BACKUP_CANCELLED,
    AUDIT_RESTORE_CANCELLED
} audit_action;

/* What happened; who did it comes from the actor. */
typedef struct audit_event {
    audit_action action;
    int64_t team_id;         /* 0 when unknown (a failed sign-in of an unknown email) */
    int64_t token_id;        /* the token concerned; 0: the actor's token, if any */
    const char *token_name;  /* its name at the time of the event; NULL with token_id 0 */
    int64_t subject_user_id; /* the user concerned (created, password changed), or 0 */
    const char *email;       /* the email concerned or tried (sign-ins); may be NULL */
    const char *detail;      /* words the action needs (cut at AUDIT_DETAIL_MAX); may be NULL */
    const char *object_kind; /* the object concerned: "backup", "restore", "database"; or NULL */
    int64_t object_id;
} audit_event;

const char *audit_action_name(audit_action a); /* "token.revoked", "signin.failed", ... */

/* Writes one entry (time = clock_now()): actor user, channel (via) and
 * address from who; the token from e, else the one who holds. */
piora_err audit_record(store_t *s, const actor *who, const audit_event *e);

/* Newest first. team_id 0: every team (the CLI). *items: a new JSON array
 * of {id, time, action, via, team_id, actor: {id, email} | null, token_id,
 * token_name, subject_user_id, email, addr, detail}. */
piora_err audit_list(store_t *s, int64_t team_id, int64_t offset, int64_t limit, json_t **items,
                     int64_t *total);

/* audit_list with an optional email filter (the CLI's `piora audit
 * --email E`): entries whose email, actor or subject user is E. */
piora_err audit_list_email(store_t *s, int64_t team_id, const char *email, int64_t offset,
                           int64_t limit, json_t **items, int64_t *total);

#endif
