/* GET and DELETE /api/v1/token: what the calling token is, and revoking
 * itself. Any valid token may call these (the route needs no scope). */
#include "api/api.h"

#include "core/tokens.h"
#include "http/response.h"
#include "util/clock.h"

void token_self_get(req_t *r)
{
    token_rec t;
    piora_err e = store_token_by_id(r->store, r->who->token_id, &t);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    user_rec u;
    e = store_user_by_id(r->store, t.user_id, &u);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    json_t *o = tokens_to_json(&t, clock_now());
    json_t *owner = json_pack("{s:I,s:s,s:{s:I,s:s}}", "id", (json_int_t)u.id, "email", u.email,
                              "team", "id", (json_int_t)u.team_id, "name", u.team_name);
    if (!o || !owner) {
        json_decref(o);
        json_decref(owner);
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    json_object_set_new(o, "owner", owner);
    resp_json(r, 200, o);
}

/* The token revokes itself; once this answers, the same token gets 401.
 * Only an active token gets here, so the service always records the
 * change (via api, the token's owner as the actor). */
void token_self_delete(req_t *r)
{
    actor who = {.channel = CHANNEL_API, .user_id = r->who->user_id,
                 .team_id = r->who->team_id, .token_id = r->who->token_id,
                 .addr = r->client_addr};
    piora_err e = tokens_revoke(r->store, &who, r->who->token_id, r->who->user_id);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    resp_empty(r, 204);
}
