/* The team service: offboarding and roles. The store keeps the rules that
 * must hold under concurrency (the last admin) inside its transaction;
 * this layer scopes the change to the caller's team and audits it. */
#include "core/team.h"

#include <string.h>

#include <sodium.h>

#include "auth/password.h"
#include "auth/session.h"
#include "core/audit.h"
#include "core/users.h"
#include "store/change.h"
#include "util/clock.h"

/* The user, when they belong to team_id (0: any team) and are not removed. */
static piora_err member(store_t *s, int64_t team_id, int64_t user_id, user_rec *u)
{
    if (user_id <= 0)
        return PIORA_ENOTFOUND;
    piora_err e = store_user_by_id(s, user_id, u);
    if (e != PIORA_OK)
        return e;
    if ((team_id > 0 && u->team_id != team_id) || u->removed_at)
        return PIORA_ENOTFOUND;
    return PIORA_OK;
}

static void audit_user(store_t *s, const actor *who, audit_action a, const user_rec *u)
{
    audit_event ev = {.action = a, .team_id = u->team_id, .subject_user_id = u->id,
                      .email = u->email};
    audit_record(s, who, &ev);
}

piora_err team_offboard_user(store_t *s, const actor *who, int64_t team_id, int64_t user_id,
                             team_offboard how, int64_t *revoked)
{
    int64_t n = 0;
    if (revoked)
        *revoked = 0;
    user_rec u;
    piora_err e = member(s, team_id, user_id, &u);
    if (e != PIORA_OK)
        return e;
    bool was_disabled = u.disabled_at != 0;
    e = store_user_offboard(s, u.id, how == TEAM_REMOVE, clock_now(), &n);
    if (e != PIORA_OK)
        return e;
    change_wait_visible(s); /* the tokens are dead in every serving process first */
    if (how == TEAM_REMOVE || !was_disabled)
        audit_user(s, who, how == TEAM_REMOVE ? AUDIT_USER_REMOVED : AUDIT_USER_DISABLED, &u);
    if (revoked)
        *revoked = n;
    return PIORA_OK;
}

piora_err team_enable_user(store_t *s, const actor *who, int64_t team_id, int64_t user_id)
{
    user_rec u;
    piora_err e = member(s, team_id, user_id, &u);
    if (e != PIORA_OK || !u.disabled_at)
        return e;
    e = store_user_enable(s, u.id);
    if (e == PIORA_OK)
        audit_user(s, who, AUDIT_USER_ENABLED, &u);
    return e;
}

piora_err team_set_admin(store_t *s, const actor *who, int64_t team_id, int64_t user_id,
                         bool is_admin)
{
    user_rec u;
    piora_err e = member(s, team_id, user_id, &u);
    if (e != PIORA_OK || u.is_admin == is_admin)
        return e;
    e = store_user_set_admin(s, u.id, is_admin);
    if (e == PIORA_OK) {
        u.is_admin = is_admin;
        audit_user(s, who, is_admin ? AUDIT_USER_MADE_ADMIN : AUDIT_USER_MADE_MEMBER, &u);
    }
    return e;
}

/* ---- invitations ------------------------------------------------------------ */

static void audit_invite(store_t *s, const actor *who, audit_action a, const invite_rec *i)
{
    audit_event ev = {.action = a, .team_id = i->team_id, .email = i->email};
    audit_record(s, who, &ev);
}

piora_err team_invite(store_t *s, const actor *who, int64_t team_id, const char *email,
                      bool is_admin, char *secret, invite_rec *out)
{
    secret[0] = '\0';
    char norm[EMAIL_MAX + 1];
    if (!users_email_normalize(email, norm))
        return PIORA_EINVALID;
    char sec[SESSION_SECRET_LEN + 1];
    uint8_t digest[SESSION_DIGEST_LEN];
    session_secret(sec);
    session_digest(sec, SESSION_SECRET_LEN, digest);
    int64_t now = clock_now();
    invite_rec inv;
    piora_err e = store_invite_create(s, team_id, norm, is_admin, who->user_id, digest, now,
                                      now + INVITE_LIFETIME_S, &inv);
    if (e != PIORA_OK) {
        sodium_memzero(sec, sizeof sec);
        return e;
    }
    audit_invite(s, who, AUDIT_USER_INVITED, &inv);
    memcpy(secret, sec, sizeof sec);
    sodium_memzero(sec, sizeof sec);
    if (out)
        *out = inv;
    return PIORA_OK;
}

piora_err team_invite_revoke(store_t *s, const actor *who, int64_t team_id, int64_t id)
{
    invite_rec inv;
    piora_err e = store_invite_revoke(s, team_id, id, clock_now(), &inv);
    if (e == PIORA_OK)
        audit_invite(s, who, AUDIT_INVITE_REVOKED, &inv);
    return e;
}

static bool invite_digest(const char *secret, uint8_t digest[SESSION_DIGEST_LEN])
{
    if (!secret || !session_secret_valid(secret, strlen(secret)))
        return false;
    session_digest(secret, SESSION_SECRET_LEN, digest);
    return true;
}

piora_err team_invite_check(store_t *s, const char *secret, invite_rec *out)
{
    uint8_t digest[SESSION_DIGEST_LEN];
    if (!invite_digest(secret, digest))
        return PIORA_ENOTFOUND;
    return store_invite_by_digest(s, digest, clock_now(), out);
}

piora_err team_invite_accept(store_t *s, const actor *who, const char *secret,
                             const char *password, size_t password_len, user_rec *out,
                             unsigned *bad)
{
    unsigned local = 0;
    if (!bad)
        bad = &local;
    *bad = 0;
    uint8_t digest[SESSION_DIGEST_LEN];
    if (!invite_digest(secret, digest))
        return PIORA_ENOTFOUND;
    if (!password || !users_password_valid(password_len)) {
        *bad |= USERS_BAD_PASSWORD;
        return PIORA_EINVALID;
    }
    char hash[PASSWORD_HASH_MAX];
    piora_err e = password_hash(password, password_len, hash);
    user_rec u;
    if (e == PIORA_OK)
        e = store_invite_accept(s, digest, hash, clock_now(), &u);
    sodium_memzero(hash, sizeof hash);
    if (e != PIORA_OK)
        return e;
    actor self = *who; /* the invitee signs up: they are their own actor */
    self.user_id = u.id;
    self.team_id = u.team_id;
    self.email = u.email;
    audit_event ev = {.action = AUDIT_USER_CREATED, .team_id = u.team_id,
                      .subject_user_id = u.id, .email = u.email};
    audit_record(s, &self, &ev);
    if (out)
        *out = u;
    return PIORA_OK;
}
