/* The team service: offboarding and roles. The store keeps the rules that
 * must hold under concurrency (the last admin) inside its transaction;
 * this layer scopes the change to the caller's team and audits it. */
#include "core/team.h"

#include "core/audit.h"
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
