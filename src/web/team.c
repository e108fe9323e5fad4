/* Settings > Account (change password), team members (an admin adds users)
 * and the team's audit log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/session.h"
#include "core/audit.h"
#include "core/team.h"
#include "core/users.h"
#include "http/response.h"
#include "util/clock.h"
#include "web/internal.h"

static json_t *user_json(const user_rec *u)
{
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(u->created_at, ts);
    return json_pack("{s:I, s:s, s:b, s:s, s:b}", "id", (json_int_t)u->id, "email", u->email,
                     "is_admin", u->is_admin, "created_at", ts, "disabled",
                     u->disabled_at != 0);
}

/* GET /web/api/users: the members of the signed-in user's team. */
void web_users_list(req_t *r, web_ctx *c)
{
    page_req p;
    if (!web_paging(r, &p))
        return;
    user_rec *v = NULL;
    size_t n = 0;
    piora_err e = users_list_team(r->store, c->user.team_id, &v, &n);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    json_t *data = json_array();
    for (int64_t k = p.offset; k < (int64_t)n && k < p.offset + p.per_page; k++)
        json_array_append_new(data, user_json(&v[k]));
    free(v);
    resp_json(r, 200, json_pack("{s:o, s:o}", "data", data, "meta", paging_meta(&p, (int64_t)n)));
}

/* Who asked, copied out of the session (which lives on the polling
 * thread's stack) for a handler's deferred half. */
typedef struct asker {
    int64_t user_id, team_id, session_id;
    char email[EMAIL_MAX + 1];
    char team[TEAM_NAME_MAX + 1];
} asker;

static void asker_copy(asker *a, const web_ctx *c)
{
    a->user_id = c->user.id;
    a->team_id = c->user.team_id;
    a->session_id = c->sess.id;
    snprintf(a->email, sizeof a->email, "%s", c->user.email);
    snprintf(a->team, sizeof a->team, "%s", c->user.team_name);
}

static actor asker_actor(const req_t *r, const asker *a)
{
    actor who = web_actor(r, NULL);
    who.user_id = a->user_id;
    who.team_id = a->team_id;
    who.email = a->email;
    return who;
}

typedef struct member_job {
    json_t *body;
    asker by;
} member_job;

/* The slow half of adding a member (it hashes), on the hashing pool. */
static void member_run(req_t *r, void *ctx)
{
    member_job *j = ctx;
    if (!r)
        goto done;
    const char *pw = web_json_str(j->body, "password");
    user_create_req rq = {.email = web_json_str(j->body, "email"),
                          .team = j->by.team,
                          .is_admin = json_is_true(json_object_get(j->body, "is_admin")),
                          .password = pw,
                          .password_len = pw ? strlen(pw) : 0};
    actor who = asker_actor(r, &j->by);
    user_rec u;
    unsigned bad = 0;
    piora_err e = users_create(r->store, &who, &rq, &u, &bad);
    if (e == PIORA_EINVALID) {
        verrs errs = {0};
        web_users_errors(&errs, bad, "password");
        resp_validation(r, &errs);
    } else if (e == PIORA_ECONFLICT) {
        web_field_error(r, "email", "A user with this email exists already.");
    } else if (e != PIORA_OK) {
        resp_error(r, e, NULL);
    } else {
        resp_json(r, 201, user_json(&u));
    }
done:
    json_decref(j->body);
    free(j);
}

/* POST /web/api/users {email, password, is_admin}: admins only; the new
 * user joins the admin's team. */
void web_users_create(req_t *r, web_ctx *c)
{
    if (!c->user.is_admin) {
        resp_problem(r, 403, "forbidden", "Only a team admin can add users.", NULL);
        return;
    }
    json_t *body = req_json_body(r);
    if (!body)
        return;
    member_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(body);
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    j->body = body;
    asker_copy(&j->by, c);
    if (!req_defer(r, member_run, j)) {
        json_decref(body);
        free(j);
    }
}

typedef struct password_job {
    json_t *body;
    asker by;
} password_job;

/* The slow half of a password change (it verifies and hashes). A wrong
 * current password keeps the slot it took; anything else gives it back. */
static void password_run(req_t *r, void *ctx)
{
    password_job *j = ctx;
    if (!r)
        goto done;
    const char *cur = web_json_str(j->body, "current_password");
    const char *nw = web_json_str(j->body, "new_password");
    password_set_req rq = {.user_id = j->by.user_id,
                           .current = cur ? cur : "", /* absent: never matches */
                           .password = nw,
                           .password_len = nw ? strlen(nw) : 0,
                           .keep_session_id = j->by.session_id};
    actor who = asker_actor(r, &j->by);
    unsigned bad = 0;
    piora_err e = users_set_password(r->store, &who, &rq, &bad);
    if (!(e == PIORA_EINVALID && (bad & USERS_BAD_CURRENT)))
        webauth_account_refund(r->client_addr, j->by.email);
    if (e == PIORA_EINVALID) {
        verrs errs = {0};
        web_users_errors(&errs, bad, "new_password");
        resp_validation(r, &errs);
    } else if (e != PIORA_OK) {
        resp_error(r, e, NULL);
    } else {
        resp_empty(r, 204);
    }
done:
    json_decref(j->body);
    free(j);
}

/* POST /web/api/account/password {current_password, new_password}: the
 * user's other sessions end; this one stays. The current password is
 * limited as a sign-in is (a stolen session must not guess it). */
void web_account_password(req_t *r, web_ctx *c)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    password_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(body);
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    j->body = body;
    asker_copy(&j->by, c);
    if (webauth_account_take(r, j->by.email)) {
        json_decref(body);
        free(j);
        return;
    }
    if (!req_defer(r, password_run, j)) {
        webauth_account_refund(r->client_addr, j->by.email);
        json_decref(body);
        free(j);
    }
}

/* GET /web/api/audit?page&per_page: the team's audit log, newest first. */
void web_audit_list(req_t *r, web_ctx *c)
{
    page_req p;
    if (!web_paging(r, &p))
        return;
    json_t *items = NULL;
    int64_t total = 0;
    piora_err e = audit_list(r->store, c->user.team_id, p.offset, p.per_page, &items, &total);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    resp_json(r, 200, json_pack("{s:o, s:o}", "data", items, "meta", paging_meta(&p, total)));
}

/* Offboarding and roles are an admin's; the answer is the member as now. */
static bool admin_only(req_t *r, const web_ctx *c)
{
    if (c->user.is_admin)
        return true;
    resp_problem(r, 403, "forbidden", "Only a team admin can change members.", NULL);
    return false;
}

static void member_answer(req_t *r, piora_err e, int64_t user_id)
{
    user_rec u;
    if (e == PIORA_OK)
        e = store_user_by_id(r->store, user_id, &u);
    if (e == PIORA_ECONFLICT) {
        resp_problem(r, 409, "last_admin",
                     "This is the team's last admin: make another member an admin first.", NULL);
    } else if (e != PIORA_OK) {
        resp_error(r, e, e == PIORA_ENOTFOUND ? "No such member." : NULL);
    } else if (u.removed_at) {
        resp_empty(r, 204);
    } else {
        resp_json(r, 200, user_json(&u));
    }
}

static void offboard(req_t *r, web_ctx *c, team_offboard how)
{
    if (!admin_only(r, c))
        return;
    actor who = web_actor(r, c);
    piora_err e = team_offboard_user(r->store, &who, c->user.team_id, r->id, how, NULL);
    member_answer(r, e, r->id);
}

/* POST /web/api/users/{id}/disable: sessions end, tokens are revoked, no sign-in. */
void web_users_disable(req_t *r, web_ctx *c) { offboard(r, c, TEAM_DISABLE); }

/* POST /web/api/users/{id}/remove: as disable, and off the Team page (204). */
void web_users_remove(req_t *r, web_ctx *c) { offboard(r, c, TEAM_REMOVE); }

/* POST /web/api/users/{id}/enable: may sign in again; tokens stay revoked. */
void web_users_enable(req_t *r, web_ctx *c)
{
    if (!admin_only(r, c))
        return;
    actor who = web_actor(r, c);
    member_answer(r, team_enable_user(r->store, &who, c->user.team_id, r->id), r->id);
}

/* POST /web/api/users/{id}/role {is_admin: bool}. */
void web_users_role(req_t *r, web_ctx *c)
{
    if (!admin_only(r, c))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    json_t *v = json_object_get(body, "is_admin");
    if (!json_is_boolean(v)) {
        json_decref(body);
        web_field_error(r, "is_admin", "Give true (admin) or false (member).");
        return;
    }
    bool is_admin = json_is_true(v);
    json_decref(body);
    actor who = web_actor(r, c);
    member_answer(r, team_set_admin(r->store, &who, c->user.team_id, r->id, is_admin), r->id);
}

/* ---- invitations: the admin's side ---------------------------------------- */

static json_t *invite_json(const invite_rec *i)
{
    char made[RFC3339_LEN], ends[RFC3339_LEN];
    clock_fmt_rfc3339(i->created_at, made);
    clock_fmt_rfc3339(i->expires_at, ends);
    return json_pack("{s:I, s:s, s:b, s:s, s:s}", "id", (json_int_t)i->id, "email", i->email,
                     "is_admin", i->is_admin, "created_at", made, "expires_at", ends);
}

/* GET /web/api/invites: the team's pending invitations (admins). */
void web_invites_list(req_t *r, web_ctx *c)
{
    if (!admin_only(r, c))
        return;
    invite_rec *v = NULL;
    size_t n = 0;
    piora_err e = store_invite_list(r->store, c->user.team_id, clock_now(), &v, &n);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, invite_json(&v[i]));
    free(v);
    resp_json(r, 200, json_pack("{s:o}", "data", data));
}

/* POST /web/api/invites {email, is_admin}: 201 with the one-time link
 * (its secret is in this answer only). link is null without --public-url:
 * the page then builds it from its own origin. */
void web_invites_create(req_t *r, web_ctx *c)
{
    if (!admin_only(r, c))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    json_t *adm = json_object_get(body, "is_admin");
    if (adm && !json_is_boolean(adm)) {
        json_decref(body);
        web_field_error(r, "is_admin", "Give true (admin) or false (member).");
        return;
    }
    actor who = web_actor(r, c);
    char secret[SESSION_SECRET_LEN + 1];
    invite_rec inv;
    piora_err e = team_invite(r->store, &who, c->user.team_id, web_json_str(body, "email"),
                              json_is_true(adm), secret, &inv);
    json_decref(body);
    if (e == PIORA_EINVALID) {
        web_field_error(r, "email", "Enter an email address like name@example.com.");
        return;
    }
    if (e == PIORA_ECONFLICT) {
        web_field_error(r, "email", "A user with this email exists already.");
        return;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    json_t *o = invite_json(&inv);
    json_object_set_new(o, "secret", json_string(secret));
    char link[sizeof web_cfg.public_url + SESSION_SECRET_LEN + 16];
    snprintf(link, sizeof link, "%s/invite#%s", web_cfg.public_url, secret);
    json_object_set_new(o, "link", web_cfg.public_url[0] ? json_string(link) : json_null());
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(link, sizeof link);
    resp_json(r, 201, o);
}

/* POST /web/api/invites/{id}/revoke: the link stops working. */
void web_invites_revoke(req_t *r, web_ctx *c)
{
    if (!admin_only(r, c))
        return;
    actor who = web_actor(r, c);
    piora_err e = team_invite_revoke(r->store, &who, c->user.team_id, r->id);
    if (e != PIORA_OK)
        resp_error(r, e, e == PIORA_ENOTFOUND ? "No such pending invitation." : NULL);
    else
        resp_empty(r, 204);
}
