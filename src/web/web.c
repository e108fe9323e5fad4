/* The dashboard's front door: its rows of the route table (/web/api/...,
 * session-authenticated), the security headers of every answer, the
 * embedded assets and the single page for every other GET. */
#include "web/web.h"

#include <string.h>

#include "http/response.h"
#include "web/assets.h"
#include "web/internal.h"

#define WEB_API "/web/api"

/* The session endpoints take the signed-in context the pipeline verified
 * (r->session); route_t's handler takes the request alone, so each gets a
 * one-line adapter here. */
#define SESSION_ROUTE(fn)                                                                        \
    static void fn##_route(req_t *r) { fn(r, r->session); }
SESSION_ROUTE(web_signout)
SESSION_ROUTE(web_session_reauth)
SESSION_ROUTE(web_totp_start)
SESSION_ROUTE(web_totp_confirm)
SESSION_ROUTE(web_totp_disable)
SESSION_ROUTE(web_team_require_2fa)
SESSION_ROUTE(web_tokens_list)
SESSION_ROUTE(web_tokens_create)
SESSION_ROUTE(web_tokens_get)
SESSION_ROUTE(web_tokens_revoke)
SESSION_ROUTE(web_tokens_regenerate)
SESSION_ROUTE(web_tokens_update)
SESSION_ROUTE(web_tokens_remove)
SESSION_ROUTE(web_tokens_usage)
SESSION_ROUTE(web_users_list)
SESSION_ROUTE(web_users_create)
SESSION_ROUTE(web_users_disable)
SESSION_ROUTE(web_users_enable)
SESSION_ROUTE(web_users_remove)
SESSION_ROUTE(web_users_role)
SESSION_ROUTE(web_invites_list)
SESSION_ROUTE(web_invites_create)
SESSION_ROUTE(web_invites_revoke)
SESSION_ROUTE(web_account_password)
SESSION_ROUTE(web_audit_list)
SESSION_ROUTE(web_publishers_list)
SESSION_ROUTE(web_publishers_create)
SESSION_ROUTE(web_publishers_remove)

#define PUBLIC ROUTE_AUTH_NONE, ROUTE_LIMIT_NONE, 0, 0
#define SESSION ROUTE_AUTH_SESSION, ROUTE_LIMIT_NONE, SCOPE_ALL, 0
/* Open to a member whose team requires two-factor sign-in before they enrolled. */
#define SESSION_ENROL ROUTE_AUTH_SESSION, ROUTE_LIMIT_NONE, SCOPE_ALL, ROUTE_MFA_ENROL

/* The dashboard's own endpoints: rows of the one route table (app/ puts
 * them after the API's). They are not in the OpenAPI document (success
 * status 0). Sign-in and setup limit failed attempts themselves (per
 * address and per account, web/auth.c). */
const route_t web_routes[] = {
    {HTTP_GET, WEB_API "/session", ROUTE_AUTH_SESSION_PEEK, ROUTE_LIMIT_NONE, 0, 0,
     web_session_get, 0, "Who is signed in"},
    {HTTP_POST, WEB_API "/setup/check", PUBLIC, web_setup_check, 0, "Is a setup link good"},
    {HTTP_POST, WEB_API "/setup", PUBLIC, web_setup, 0, "Create the first admin"},
    {HTTP_POST, WEB_API "/signin", PUBLIC, web_signin, 0, "Sign in"},
    {HTTP_POST, WEB_API "/signin/totp", PUBLIC, web_signin_totp, 0, "Sign-in: the code"},
    {HTTP_POST, WEB_API "/signout", SESSION_ENROL, web_signout_route, 0, "Sign out"},
    {HTTP_POST, WEB_API "/account/totp/start", SESSION_ENROL, web_totp_start_route, 0,
     "Two-factor sign-in: a new key"},
    {HTTP_POST, WEB_API "/account/totp/confirm", SESSION_ENROL, web_totp_confirm_route, 0,
     "Two-factor sign-in: confirm"},
    {HTTP_POST, WEB_API "/account/totp/disable", SESSION, web_totp_disable_route, 0,
     "Two-factor sign-in: turn off"},
    {HTTP_POST, WEB_API "/team/require-2fa", SESSION, web_team_require_2fa_route, 0,
     "Require two-factor sign-in"},
    {HTTP_POST, WEB_API "/session/reauth", SESSION, web_session_reauth_route, 0,
     "Confirm the password (sudo mode)"},
    {HTTP_GET, WEB_API "/tokens", SESSION, web_tokens_list_route, 0, "List the user's tokens"},
    {HTTP_POST, WEB_API "/tokens", SESSION, web_tokens_create_route, 0, "Create a token"},
    {HTTP_GET, WEB_API "/tokens/{id}", SESSION, web_tokens_get_route, 0, "Get a token"},
    {HTTP_PATCH, WEB_API "/tokens/{id}", SESSION, web_tokens_update_route, 0,
     "Rename a token or change its note"},
    {HTTP_DELETE, WEB_API "/tokens/{id}", SESSION, web_tokens_remove_route, 0,
     "Remove a revoked or expired token from the list"},
    {HTTP_POST, WEB_API "/tokens/{id}/revoke", SESSION, web_tokens_revoke_route, 0,
     "Revoke a token"},
    {HTTP_POST, WEB_API "/tokens/{id}/regenerate", SESSION, web_tokens_regenerate_route, 0,
     "Regenerate a token"},
    {HTTP_GET, WEB_API "/tokens/{id}/usage", SESSION, web_tokens_usage_route, 0,
     "A token's usage log"},
    {HTTP_GET, WEB_API "/users", SESSION, web_users_list_route, 0, "List the team's members"},
    {HTTP_POST, WEB_API "/users", SESSION, web_users_create_route, 0, "Add a member"},
    {HTTP_POST, WEB_API "/users/{id}/disable", SESSION, web_users_disable_route, 0,
     "Disable a member"},
    {HTTP_POST, WEB_API "/users/{id}/enable", SESSION, web_users_enable_route, 0,
     "Enable a member"},
    {HTTP_POST, WEB_API "/users/{id}/remove", SESSION, web_users_remove_route, 0,
     "Remove a member"},
    {HTTP_POST, WEB_API "/users/{id}/role", SESSION, web_users_role_route, 0,
     "Change a member's role"},
    {HTTP_GET, WEB_API "/invites", SESSION, web_invites_list_route, 0, "Pending invitations"},
    {HTTP_POST, WEB_API "/invites", SESSION, web_invites_create_route, 0, "Invite a member"},
    {HTTP_POST, WEB_API "/invites/{id}/revoke", SESSION, web_invites_revoke_route, 0,
     "Revoke an invitation"},
    {HTTP_POST, WEB_API "/invite/check", PUBLIC, web_invite_check, 0, "Is an invite link good"},
    {HTTP_POST, WEB_API "/invite/accept", PUBLIC, web_invite_accept, 0, "Accept an invitation"},
    {HTTP_POST, WEB_API "/account/password", SESSION, web_account_password_route, 0,
     "Change the password"},
    {HTTP_GET, WEB_API "/audit", SESSION, web_audit_list_route, 0, "The team's audit log"},
    {HTTP_GET, WEB_API "/publishers", SESSION, web_publishers_list_route, 0,
     "The team's trusted publishers"},
    {HTTP_POST, WEB_API "/publishers", SESSION, web_publishers_create_route, 0,
     "Add a trusted publisher (admins)"},
    {HTTP_POST, WEB_API "/publishers/{id}/remove", SESSION, web_publishers_remove_route, 0,
     "Remove a trusted publisher (admins)"},
};

const size_t web_routes_count = sizeof web_routes / sizeof web_routes[0];

void web_headers(req_t *r, bool api)
{
    resp_header(r, "Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
                "form-action 'self'; frame-ancestors 'none'");
    resp_header(r, "X-Frame-Options", "DENY");
    resp_header(r, "Referrer-Policy", "no-referrer");
    resp_header(r, "X-Content-Type-Options", "nosniff");
    resp_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    resp_header(r, "Cache-Control", api ? "no-store" : "no-cache");
}

static const web_asset *asset_find(const char *path)
{
    for (int i = 0; i < piora_assets_count; i++)
        if (strcmp(piora_assets[i].path, path) == 0)
            return &piora_assets[i];
    return NULL;
}

/* The dashboard's pages, as app.js's ROUTES knows them ('#' is one segment
 * of decimal digits): any other path gets the same index.html with a real
 * 404 status, so its 404 page is one to crawlers, monitors and curl too.
 * A page added to app.js needs its row here. */
static const char *const dashboard_pages[] = {
    "/", "/signin", "/setup",
    "/servers", "/servers/#",
    "/applications", "/applications/#",
    "/databases", "/backups", "/backups/#", "/audit",
    "/settings", "/settings/tokens", "/settings/tokens/#",
    "/settings/account", "/settings/members", "/settings/publishers",
    "/invite",
};

static bool page_matches(const char *pattern, const char *path)
{
    while (*pattern && *path) {
        if (*pattern == '#') {
            if (*path < '0' || *path > '9')
                return false;
            while (*path >= '0' && *path <= '9')
                path++;
            pattern++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

static bool is_dashboard_page(const char *path)
{
    for (size_t i = 0; i < sizeof dashboard_pages / sizeof dashboard_pages[0]; i++)
        if (page_matches(dashboard_pages[i], path))
            return true;
    return false;
}

/* Every dashboard page is the one index.html; app.js routes by path. A
 * path whose last segment has a dot names a file: missing means 404. */
static void serve_page(req_t *r)
{
    if (r->method != HTTP_GET && r->method != HTTP_HEAD) {
        resp_header(r, "Allow", "GET, HEAD");
        resp_problem(r, 405, "method_not_allowed", "Dashboard pages take GET only.", NULL);
        return;
    }
    const web_asset *a = NULL;
    int status = 200;
    if (strcmp(r->path, "/index.html") != 0)
        a = asset_find(r->path);
    if (!a) {
        const char *last = strrchr(r->path, '/');
        if (last && strchr(last, '.') && strcmp(r->path, "/index.html") != 0) {
            resp_problem(r, 404, "not_found", "No such file.", NULL);
            return;
        }
        a = asset_find("/index.html");
        if (!is_dashboard_page(r->path))
            status = 404;
    }
    if (!a) {
        resp_problem(r, 404, "not_found", "The dashboard assets are missing.", NULL);
        return;
    }
    resp_raw(r, status, a->content_type, (const char *)a->data, a->len);
}

void web_api_headers(req_t *r) { web_headers(r, true); }

void web_page(req_t *r)
{
    web_headers(r, false);
    serve_page(r);
}
