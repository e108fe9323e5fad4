/* Settings > Account (change password), team members (an admin adds users)
 * and the team's audit log. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/password.h"
#include "core/audit.h"
#include "core/users.h"
#include "http/response.h"
#include "util/clock.h"
#include "web/internal.h"

static json_t *user_json(const user_rec *u)
{
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(u->created_at, ts);
    return json_pack("{s:I, s:s, s:b, s:s}", "id", (json_int_t)u->id, "email", u->email,
                     "is_admin", u->is_admin, "created_at", ts);
}

/* GET /web/api/users: the members of the signed-in user's team. */
void web_users_list(req_t *r, web_ctx *c)
{
    user_rec *v = NULL;
    size_t n = 0;
    piora_err e = store_user_list(r->store, &v, &n);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        if (v[i].team_id == c->user.team_id)
            json_array_append_new(data, user_json(&v[i]));
    free(v);
    resp_json(r, 200, json_pack("{s:o}", "data", data));
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
    char email[EMAIL_MAX + 1];
    const char *pw = web_json_str(body, "password");
    size_t pwlen = pw ? strlen(pw) : 0;
    bool admin = json_is_true(json_object_get(body, "is_admin"));
    verrs errs = {0};
    if (!users_email_normalize(web_json_str(body, "email"), email))
        verrs_add(&errs, "email", "Enter an email address like name@example.com.");
    web_new_password_check(&errs, "password", pwlen);
    if (errs.n) {
        json_decref(body);
        resp_validation(r, &errs);
        return;
    }
    char hash[PASSWORD_HASH_MAX];
    piora_err e = password_hash(pw, pwlen, hash);
    json_decref(body);
    user_rec u;
    if (e == PIORA_OK)
        e = store_user_create(r->store, email, c->user.team_name, admin, hash, &u);
    if (e == PIORA_ECONFLICT) {
        web_field_error(r, "email", "A user with this email exists already.");
        return;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    audit_event ev = {.action = AUDIT_USER_CREATED, .via = AUDIT_VIA_DASHBOARD,
                      .team_id = c->user.team_id, .actor_user_id = c->user.id,
                      .subject_user_id = u.id, .email = u.email, .addr = r->client_addr};
    audit_record(r->store, &ev);
    resp_json(r, 201, user_json(&u));
}

/* POST /web/api/account/password {current_password, new_password}: the
 * user's other sessions end; this one stays. */
void web_account_password(req_t *r, web_ctx *c)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    const char *cur = web_json_str(body, "current_password");
    const char *nw = web_json_str(body, "new_password");
    size_t nlen = nw ? strlen(nw) : 0;
    char hash[PASSWORD_HASH_MAX];
    piora_err e = store_user_password_hash(r->store, c->user.id, hash, sizeof hash);
    if (e != PIORA_OK) {
        json_decref(body);
        resp_error(r, e, NULL);
        return;
    }
    verrs errs = {0};
    if (!cur || !password_verify(hash, cur, strlen(cur)))
        verrs_add(&errs, "current_password", "That is not your current password.");
    web_new_password_check(&errs, "new_password", nlen);
    if (errs.n) {
        json_decref(body);
        resp_validation(r, &errs);
        return;
    }
    e = password_hash(nw, nlen, hash);
    json_decref(body);
    if (e == PIORA_OK)
        e = store_user_set_password(r->store, c->user.id, hash);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    store_session_delete_user(r->store, c->user.id, c->sess.id);
    audit_event ev = {.action = AUDIT_PASSWORD_CHANGED, .via = AUDIT_VIA_DASHBOARD,
                      .team_id = c->user.team_id, .actor_user_id = c->user.id,
                      .subject_user_id = c->user.id, .email = c->user.email,
                      .addr = r->client_addr};
    audit_record(r->store, &ev);
    resp_empty(r, 204);
}

/* GET /web/api/audit?page&per_page: the team's audit log, newest first. */
void web_audit_list(req_t *r, web_ctx *c)
{
    page_req p;
    if (!api_paging(r, &p))
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
