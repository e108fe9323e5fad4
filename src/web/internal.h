/* Private to web/: the signed-in context every session endpoint receives,
 * the settings web_init() keeps, and the helpers the endpoint files share. */
#ifndef PIORA_WEB_INTERNAL_H
#define PIORA_WEB_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "auth/principal.h"
#include "core/actor.h"
#include "core/paging.h"
#include "core/validate.h"
#include "core/config.h"
#include "http/request.h"

typedef struct web_settings {
    int64_t idle_s;
    int64_t lifetime_s;
    bool secure_cookies;
    int64_t signin_limit;
    char public_url[512]; /* --public-url without a trailing slash, or "" */
    int64_t sudo_window_s;  /* --sudo-window */
} web_settings;

extern web_settings web_cfg;

/* Who is signed in for this request (sess, user, who), as the pipeline
 * verified it (authn/session.h, reached through http/request.h). who acts
 * as the user with every scope: the dashboard is the user, not a token. */
typedef authn_session web_ctx;

/* ---- web/auth.c: setup, sign-in, sign-out, the session ------------------ */
void webauth_init(const piora_config *cfg);
void webauth_free(void);
/* The security and caching headers of every dashboard answer. */
void web_headers(req_t *r, bool api);
json_t *webauth_session_json(const user_rec *u, const session_rec *s);
/* The key of a client address for the sign-in limits: IPv6 by its /64. */
uint64_t webauth_addr_key(const char *addr);
/* Before checking a password typed for email (sign-in, the current one of
 * a password change): takes a slot per address and per account; true when
 * refused (r answered 429). */
bool webauth_account_take(req_t *r, const char *email);
/* Gives those slots back: the password was right (or never checked). */
void webauth_account_refund(const char *client_addr, const char *email);
/* GET /web/api/session (ROUTE_AUTH_SESSION_PEEK: r->session may be NULL). */
void web_session_get(req_t *r);
void web_setup_check(req_t *r);
void web_setup(req_t *r);
void web_signin(req_t *r);
void web_signout(req_t *r, web_ctx *c);

/* ---- web/tokens.c: Settings > API Tokens ------------------------------- */
void web_tokens_list(req_t *r, web_ctx *c);
void web_tokens_create(req_t *r, web_ctx *c);
void web_tokens_get(req_t *r, web_ctx *c);
void web_tokens_revoke(req_t *r, web_ctx *c);
void web_tokens_regenerate(req_t *r, web_ctx *c);
void web_tokens_update(req_t *r, web_ctx *c);
void web_tokens_remove(req_t *r, web_ctx *c);
void web_tokens_usage(req_t *r, web_ctx *c);

/* ---- web/team.c: account, members, audit log --------------------------- */
void web_users_list(req_t *r, web_ctx *c);
void web_users_create(req_t *r, web_ctx *c);
void web_users_disable(req_t *r, web_ctx *c);
void web_users_enable(req_t *r, web_ctx *c);
void web_users_remove(req_t *r, web_ctx *c);
void web_users_role(req_t *r, web_ctx *c);
void web_invites_list(req_t *r, web_ctx *c);
void web_invites_create(req_t *r, web_ctx *c);
void web_invites_revoke(req_t *r, web_ctx *c);
/* The invitee's side (web/auth.c): no session yet. */
void web_invite_check(req_t *r);
void web_invite_accept(req_t *r);
/* Sudo mode (web/auth.c): true when the session gave its password within
 * --sudo-window; else answers 403 reauth_required. */
bool web_sudo_check(req_t *r, const web_ctx *c);
void web_session_reauth(req_t *r, web_ctx *c);
/* ---- web/mfa.c: two-factor sign-in ------------------------------------- */
void web_totp_start(req_t *r, web_ctx *c);
void web_totp_confirm(req_t *r, web_ctx *c);
void web_totp_disable(req_t *r, web_ctx *c);
void web_team_require_2fa(req_t *r, web_ctx *c);
void web_signin_totp(req_t *r);
void web_account_password(req_t *r, web_ctx *c);
void web_audit_list(req_t *r, web_ctx *c);

/* ---- web/publishers.c: Settings > Trusted Publishers ------------------ */
void web_publishers_list(req_t *r, web_ctx *c);
void web_publishers_create(req_t *r, web_ctx *c);
void web_publishers_remove(req_t *r, web_ctx *c);

/* ---- web/transport.c ---------------------------------------------------- */
/* HTTPS as far as the session cookie is concerned: --secure-cookies 1, or
 * X-Forwarded-Proto: https from a trusted proxy (req_https). */
bool web_request_secure(req_t *r);

/* ---- helpers (web/util.c) ----------------------------------------------- */
/* A string member of a JSON object, or NULL. */
const char *web_json_str(const json_t *o, const char *key);
/* The dashboard's words for the account rules core/users.c checks (its
 * USERS_BAD_* bits), the same for setup, members and account; the new
 * password's error goes on password_field. */
void web_users_errors(verrs *errs, unsigned bad, const char *password_field);
/* The actor of a dashboard request: the signed-in user (c NULL: nobody
 * yet, as at sign-in) from the client's address. */
actor web_actor(const req_t *r, const web_ctx *c);
/* A 422 with one field error. */
void web_field_error(req_t *r, const char *field, const char *message);
/* Parses ?page and ?per_page (core/paging.h); on a bad value answers 422
 * and returns false. The API's api_paging() does the same for its lists:
 * web/ may not include api/, and the rule itself is core's paging_parse. */
bool web_paging(req_t *r, page_req *p);

#endif
