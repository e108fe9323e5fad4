/* Settings > Account (change password), team members (an admin adds users)
 * and the team's audit log. */
#include <stdlib.h>
#include <string.h>

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
    const char *pw = web_json_str(body, "password");
    user_create_req rq = {.email = web_json_str(body, "email"),
                          .team = c->user.team_name,
                          .is_admin = json_is_true(json_object_get(body, "is_admin")),
                          .password = pw,
                          .password_len = pw ? strlen(pw) : 0};
    actor who = web_actor(r, c);
    user_rec u;
    unsigned bad = 0;
    piora_err e = users_create(r->store, &who, &rq, &u, &bad);
    json_decref(body);
    if (e == PIORA_EINVALID) {
        verrs errs = {0};
        web_users_errors(&errs, bad, "password");
        resp_validation(r, &errs);
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
    password_set_req rq = {.user_id = c->user.id,
                           .current = cur ? cur : "", /* absent: never matches */
                           .password = nw,
                           .password_len = nw ? strlen(nw) : 0,
                           .end_sessions = true,
                           .keep_session_id = c->sess.id};
    actor who = web_actor(r, c);
    unsigned bad = 0;
    piora_err e = users_set_password(r->store, &who, &rq, &bad);
    json_decref(body);
    if (e == PIORA_EINVALID) {
        verrs errs = {0};
        web_users_errors(&errs, bad, "new_password");
        resp_validation(r, &errs);
        return;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    resp_empty(r, 204);
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
