/* Small input checks shared by the dashboard's endpoints. */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "auth/password.h"
#include "core/paging.h"
#include "core/users.h"
#include "http/response.h"
#include "web/internal.h"

const char *web_json_str(const json_t *o, const char *key)
{
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void web_field_error(req_t *r, const char *field, const char *message)
{
    verrs errs = {0};
    verrs_add(&errs, field, "%s", message);
    resp_validation(r, &errs);
}

void web_users_errors(verrs *errs, unsigned bad, const char *password_field)
{
    if (bad & USERS_BAD_CURRENT)
        verrs_add(errs, "current_password", "That is not your current password.");
    if (bad & USERS_BAD_EMAIL)
        verrs_add(errs, "email", "Enter an email address like name@example.com.");
    if (bad & USERS_BAD_TEAM)
        verrs_add(errs, "team", "Enter a team name of 1 to 64 characters.");
    if (bad & USERS_BAD_PASSWORD)
        verrs_add(errs, password_field, "Use at least %d characters.", PASSWORD_MIN_LEN);
}

actor web_actor(const req_t *r, const web_ctx *c)
{
    actor a = {.channel = CHANNEL_DASHBOARD, .addr = r->client_addr};
    if (c) {
        a.user_id = c->user.id;
        a.team_id = c->user.team_id;
        a.email = c->user.email;
    }
    return a;
}

bool web_paging(req_t *r, page_req *p)
{
    verrs errs = {0};
    if (paging_parse(req_query(r, "page"), req_query(r, "per_page"), p, &errs) != PIORA_OK) {
        resp_validation(r, &errs);
        return false;
    }
    return true;
}
