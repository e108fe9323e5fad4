/* The dashboard's front door: security headers on every answer, the
 * embedded assets, the single page for every other GET, and the routing of
 * /web/api/... to its session-authenticated endpoints. */
#include "web/web.h"

#include <pthread.h>
#include <string.h>

#include "http/response.h"
#include "http/router.h"
#include "web/assets.h"
#include "web/internal.h"

#define WEB_API "/web/api"

enum { W_PUBLIC = 1u << 8 }; /* no session needed (route_t.flags) */

/* Public endpoints get the request alone; the others get the signed-in
 * context too. route_t's handler type is reused through this union-free
 * table of our own. */
typedef struct web_route {
    http_method method;
    const char *pattern;
    bool public_;
    void (*pub)(req_t *r);
    web_handler fn;
} web_route;

static const web_route routes[] = {
    {HTTP_GET, WEB_API "/session", true, web_session_get, NULL},
    {HTTP_POST, WEB_API "/setup/check", true, web_setup_check, NULL},
    {HTTP_POST, WEB_API "/setup", true, web_setup, NULL},
    {HTTP_POST, WEB_API "/signin", true, web_signin, NULL},
    {HTTP_POST, WEB_API "/signout", false, NULL, web_signout},
    {HTTP_GET, WEB_API "/tokens", false, NULL, web_tokens_list},
    {HTTP_POST, WEB_API "/tokens", false, NULL, web_tokens_create},
    {HTTP_GET, WEB_API "/tokens/{id}", false, NULL, web_tokens_get},
    {HTTP_POST, WEB_API "/tokens/{id}/revoke", false, NULL, web_tokens_revoke},
    {HTTP_POST, WEB_API "/tokens/{id}/regenerate", false, NULL, web_tokens_regenerate},
    {HTTP_GET, WEB_API "/tokens/{id}/usage", false, NULL, web_tokens_usage},
    {HTTP_GET, WEB_API "/users", false, NULL, web_users_list},
    {HTTP_POST, WEB_API "/users", false, NULL, web_users_create},
    {HTTP_POST, WEB_API "/account/password", false, NULL, web_account_password},
    {HTTP_GET, WEB_API "/audit", false, NULL, web_audit_list},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* router_match wants route_t; build the mirror table once (static data). */
static route_t mirror[NROUTES];
static pthread_once_t mirror_once = PTHREAD_ONCE_INIT;

static void mirror_build(void)
{
    for (size_t i = 0; i < NROUTES; i++) {
        mirror[i].method = routes[i].method;
        mirror[i].pattern = routes[i].pattern;
        mirror[i].flags = routes[i].public_ ? W_PUBLIC : 0;
    }
}

bool web_owns(const char *path)
{
    return strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0 &&
           strcmp(path, "/healthz") != 0 && strcmp(path, "/readyz") != 0 &&
           strcmp(path, "/metrics") != 0;
}

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
    if (strcmp(r->path, "/index.html") != 0)
        a = asset_find(r->path);
    if (!a) {
        const char *last = strrchr(r->path, '/');
        if (last && strchr(last, '.') && strcmp(r->path, "/index.html") != 0) {
            resp_problem(r, 404, "not_found", "No such file.", NULL);
            return;
        }
        a = asset_find("/index.html");
    }
    if (!a) {
        resp_problem(r, 404, "not_found", "The dashboard assets are missing.", NULL);
        return;
    }
    resp_raw(r, 200, a->content_type, (const char *)a->data, a->len);
}

void web_dispatch(req_t *r)
{
    bool api = strncmp(r->path, WEB_API "/", sizeof WEB_API) == 0;
    web_headers(r, api);
    if (!api) {
        serve_page(r);
        return;
    }
    if (strncmp(r->path, WEB_API "/v1/", sizeof WEB_API + 3) == 0) {
        web_ctx c;
        if (webauth_require(r, &c))
            web_resources(r, &c);
        return;
    }
    pthread_once(&mirror_once, mirror_build);
    const route_t *rt = NULL;
    unsigned allowed = 0;
    route_match_result m = router_match(mirror, NROUTES, r->method, r->path, &rt, &r->id, &allowed);
    if (resp_route_miss(r, m, allowed))
        return;
    const web_route *w = &routes[rt - mirror];
    if (w->public_) {
        w->pub(r);
        return;
    }
    web_ctx c;
    if (webauth_require(r, &c))
        w->fn(r, &c);
}
