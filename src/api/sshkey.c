/* The team's SSH key (SPEC 10, Keys): GET /ssh-key, POST /ssh-key/rotate,
 * DELETE /ssh-key/previous. The answers carry public halves only; the
 * service (core/sshkeys.c) never hands a private key to a handler. */
#include "api/api.h"

#include "core/sshkeys.h"
#include "http/response.h"

/* The caller as the audit's actor, and its team's name for the key comment. */
static bool caller(req_t *r, actor *who, user_rec *u)
{
    piora_err e = store_user_by_id(r->store, r->who->user_id, u);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return false;
    }
    *who = (actor){.channel = CHANNEL_API, .user_id = u->id, .team_id = r->who->team_id,
                   .email = u->email, .token_id = r->who->token_id, .addr = r->client_addr};
    return true;
}

static void answer(req_t *r, piora_err e, json_t *o)
{
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    resp_json(r, 200, o);
}

void ssh_key_get(req_t *r)
{
    actor who;
    user_rec u;
    if (!caller(r, &who, &u))
        return;
    json_t *o = NULL;
    piora_err e = sshkeys_show(r->store, &who, r->who->team_id, u.team_name, &o);
    answer(r, e, o);
}

void ssh_key_rotate(req_t *r)
{
    actor who;
    user_rec u;
    if (!caller(r, &who, &u))
        return;
    json_t *o = NULL;
    piora_err e = sshkeys_rotate(r->store, &who, r->who->team_id, u.team_name, &o);
    answer(r, e, o);
}

void ssh_key_previous_delete(req_t *r)
{
    actor who;
    user_rec u;
    if (!caller(r, &who, &u))
        return;
    piora_err e = sshkeys_delete_previous(r->store, &who, r->who->team_id);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    resp_empty(r, 204);
}
