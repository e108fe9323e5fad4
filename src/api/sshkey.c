/* The team's SSH key (SPEC 10, Keys): GET /ssh-key, POST /ssh-key/rotate,
 * DELETE /ssh-key/previous; and POST /servers/{id}/check, which uses it. The answers carry public halves only; the
 * service (core/sshkeys.c) never hands a private key to a handler. */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/servercheck.h"
#include "core/sshkeys.h"
#include "http/response.h"

/* The caller as the audit's actor; the same handlers serve the
 * dashboard's mirror of these routes. */
static actor actor_of(req_t *r, const user_rec *u)
{
    return (actor){.channel = r->session ? CHANNEL_DASHBOARD : CHANNEL_API, .user_id = u->id,
                   .team_id = r->who->team_id, .email = u->email, .token_id = r->who->token_id,
                   .addr = r->client_addr};
}

/* The caller's user (for its team's name, the key comment) and actor;
 * answers the error itself. */
static bool caller(req_t *r, actor *who, user_rec *u)
{
    piora_err e = store_user_by_id(r->store, r->who->user_id, u);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return false;
    }
    *who = actor_of(r, u);
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

/* What the deferred half needs of the request: r->who does not outlive
 * the handler's return. */
typedef struct check_job {
    int64_t id, user_id, team_id, token_id;
    actor_channel channel;
    char addr[64];
} check_job;

/* The slow half: SSH to the server on a pool thread. */
static void check_run(req_t *r, void *ctx)
{
    check_job *j = ctx;
    user_rec u;
    piora_err e = store_user_by_id(r->store, j->user_id, &u);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        free(j);
        return;
    }
    actor who = {.channel = j->channel, .user_id = u.id, .team_id = j->team_id, .email = u.email,
                 .token_id = j->token_id, .addr = j->addr[0] ? j->addr : NULL};
    json_t *o = NULL;
    e = servercheck_run(r->store, &who, j->team_id, u.team_name, j->id, &o);
    answer(r, e, o);
    free(j);
}

void servers_check(req_t *r)
{
    check_job *j = calloc(1, sizeof *j);
    if (!j) {
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    *j = (check_job){.id = r->id, .user_id = r->who->user_id, .team_id = r->who->team_id,
                     .token_id = r->who->token_id,
                     .channel = r->session ? CHANNEL_DASHBOARD : CHANNEL_API};
    if (r->client_addr)
        snprintf(j->addr, sizeof j->addr, "%s", r->client_addr);
    if (!req_defer(r, check_run, j))
        free(j);
}

void api_note_host_key(req_t *r, const json_t *values)
{
    json_t *v = json_object_get(values, "host_key_fingerprint");
    if (!v)
        return;
    user_rec u;
    if (store_user_by_id(r->store, r->who->user_id, &u) != PIORA_OK)
        return;
    actor who = actor_of(r, &u);
    servercheck_note_pin(r->store, &who, r->who->team_id, json_string_value(v));
}
