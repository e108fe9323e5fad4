/* Settings > Account > Two-factor sign-in: enrolment (the key shown once,
 * confirmed with a code, then 10 recovery codes shown once), disabling
 * (password and code), and the admin's team requirement. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/mfa.h"
#include "http/response.h"
#include "web/internal.h"

/* POST /web/api/account/totp/start: a new pending key, {secret, uri}. */
void web_totp_start(req_t *r, web_ctx *c)
{
    if (c->user.totp_on) {
        resp_problem(r, 409, "conflict", "Two-factor sign-in is on already; turn it off first.",
                     NULL);
        return;
    }
    char key[TOTP_B32_LEN + 1], uri[MFA_URI_MAX];
    piora_err e = mfa_enrol_start(r->store, &c->user, key, uri);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    resp_json(r, 200, json_pack("{s:s, s:s}", "secret", key, "uri", uri));
    sodium_memzero(key, sizeof key);
    sodium_memzero(uri, sizeof uri);
}

/* POST /web/api/account/totp/confirm {code}: on, with the recovery codes. */
void web_totp_confirm(req_t *r, web_ctx *c)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    if (webauth_account_take(r, c->user.email)) {
        json_decref(body);
        return;
    }
    actor who = web_actor(r, c);
    char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_LEN + 1];
    piora_err e = mfa_enrol_confirm(r->store, &who, &c->user, web_json_str(body, "code"), codes);
    json_decref(body);
    if (e != PIORA_EAUTH)
        webauth_account_refund(r->client_addr, c->user.email);
    if (e == PIORA_EAUTH) {
        web_field_error(r, "code", "That code is not right; enter the 6 digits your app shows now.");
        return;
    }
    if (e == PIORA_ENOTFOUND) {
        resp_problem(r, 409, "conflict", "Start the set-up first.", NULL);
        return;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < MFA_RECOVERY_CODES; i++)
        json_array_append_new(arr, json_string(codes[i]));
    sodium_memzero(codes, sizeof codes);
    resp_json(r, 200, json_pack("{s:o}", "recovery_codes", arr));
}

typedef struct totp_off_job {
    json_t *body;
    user_rec user;
    int64_t session_id;
} totp_off_job;

static void totp_off_run(req_t *r, void *ctx)
{
    totp_off_job *j = ctx;
    if (!r)
        goto done;
    const char *pw = web_json_str(j->body, "password");
    actor who = web_actor(r, NULL);
    who.user_id = j->user.id;
    who.team_id = j->user.team_id;
    who.email = j->user.email;
    piora_err e = mfa_disable(r->store, &who, &j->user, pw, pw ? strlen(pw) : 0,
                              web_json_str(j->body, "code"));
    if (e != PIORA_EAUTH)
        webauth_account_refund(r->client_addr, j->user.email);
    if (e == PIORA_EAUTH)
        web_field_error(r, "password", "That is not your password.");
    else if (e == PIORA_ECONFLICT)
        web_field_error(r, "code", "That code is not right.");
    else if (e != PIORA_OK)
        resp_error(r, e, NULL);
    else
        resp_empty(r, 204);
done:
    json_decref(j->body);
    free(j);
}

/* POST /web/api/account/totp/disable {password, code}. */
void web_totp_disable(req_t *r, web_ctx *c)
{
    if (c->user.team_requires_2fa) {
        resp_problem(r, 409, "mfa_required_by_team",
                     "Your team requires two-factor sign-in; it cannot be turned off.", NULL);
        return;
    }
    json_t *body = req_json_body(r);
    if (!body)
        return;
    totp_off_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(body);
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    j->body = body;
    j->user = c->user;
    j->session_id = c->sess.id;
    if (webauth_account_take(r, j->user.email)) {
        json_decref(body);
        free(j);
        return;
    }
    if (!req_defer(r, totp_off_run, j)) {
        webauth_account_refund(r->client_addr, j->user.email);
        json_decref(body);
        free(j);
    }
}

/* POST /web/api/team/require-2fa {required: bool} (admins). */
void web_team_require_2fa(req_t *r, web_ctx *c)
{
    if (!c->user.is_admin) {
        resp_problem(r, 403, "forbidden", "Only a team admin can change this.", NULL);
        return;
    }
    json_t *body = req_json_body(r);
    if (!body)
        return;
    json_t *v = json_object_get(body, "required");
    if (!json_is_boolean(v)) {
        json_decref(body);
        web_field_error(r, "required", "Give true or false.");
        return;
    }
    bool on = json_is_true(v);
    json_decref(body);
    if (on && !c->user.totp_on) {
        resp_problem(r, 409, "conflict",
                     "Turn on two-factor sign-in for yourself first, or you would be locked out.",
                     NULL);
        return;
    }
    actor who = web_actor(r, c);
    piora_err e = mfa_team_require(r->store, &who, c->user.team_id, on);
    if (e != PIORA_OK)
        resp_error(r, e, NULL);
    else
        resp_json(r, 200, json_pack("{s:b}", "required", on));
}
