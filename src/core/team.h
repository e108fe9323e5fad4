/* The team service (issue 13): offboarding (disable, remove, enable) and
 * roles. Each change commits, waits until every serving process sees it
 * (change_wait_visible: the user's tokens answer 401 on their very next
 * request) and then writes its own audit entry from who. */
#ifndef PIORA_CORE_TEAM_H
#define PIORA_CORE_TEAM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/actor.h"
#include "store/store.h"

typedef enum team_offboard {
    TEAM_DISABLE, /* cannot sign in; kept in the Team page, can be enabled again */
    TEAM_REMOVE   /* also gone from the team's lists; cannot come back */
} team_offboard;

/* Ends the user's sessions, revokes every token of theirs and disables
 * (or removes) them; *revoked (may be NULL) counts the tokens revoked now.
 * team_id > 0: only a user of that team (else ENOTFOUND, as for a missing
 * one); 0: any (the CLI). ENOTFOUND: no such user or removed already;
 * ECONFLICT: the team's last admin who may sign in. */
piora_err team_offboard_user(store_t *s, const actor *who, int64_t team_id, int64_t user_id,
                             team_offboard how, int64_t *revoked);

/* Lets a disabled user sign in again (their tokens stay revoked). */
piora_err team_enable_user(store_t *s, const actor *who, int64_t team_id, int64_t user_id);

/* Admin or member. ECONFLICT: demoting the last admin. Setting the role
 * the user has already is OK and records nothing. */
piora_err team_set_admin(store_t *s, const actor *who, int64_t team_id, int64_t user_id,
                         bool is_admin);

/* ---- invitations ---------------------------------------------------------- */

#define INVITE_LIFETIME_S (7 * 86400)

/* Invites email (normalized here) into team_id with a role: *secret gets
 * the link's one-time secret (SESSION_SECRET_LEN characters; shown once,
 * only its digest is stored), valid INVITE_LIFETIME_S. A newer invitation
 * of the same email replaces the older. EINVALID: not an email; ECONFLICT:
 * a user (also a removed one) has it. */
piora_err team_invite(store_t *s, const actor *who, int64_t team_id, const char *email,
                      bool is_admin, char *secret, invite_rec *out);

/* Revokes a pending invitation of the team; ENOTFOUND otherwise. */
piora_err team_invite_revoke(store_t *s, const actor *who, int64_t team_id, int64_t id);

/* The pending invitation this link secret opens; ENOTFOUND for a used,
 * revoked, expired, unknown or misshapen secret (one answer for all). */
piora_err team_invite_check(store_t *s, const char *secret, invite_rec *out);

/* Uses the invitation: checks the password (EINVALID, *bad as
 * users_create's), hashes it and creates the user, who is the actor of
 * their own "user.created" entry (who gives channel and address). Slow
 * (Argon2id): call it from a worker, not a polling thread. */
piora_err team_invite_accept(store_t *s, const actor *who, const char *secret,
                             const char *password, size_t password_len, user_rec *out,
                             unsigned *bad);

#endif
