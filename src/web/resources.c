/* Servers, applications, databases, deployments and backups for the
 * dashboard: /web/api/v1/<path> runs exactly the API's handler for
 * /api/v1/<path>, as the signed-in user (all scopes, their team). Only
 * routes that need a scope are reachable this way: the token's own
 * endpoints (/token), the leak report and the OpenAPI document are not
 * dashboard business. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "http/response.h"
#include "http/router.h"
#include "web/internal.h"

void web_resources(req_t *r, web_ctx *c)
{
    char path[512];
    const char *rest = r->path + strlen("/web");
    if (strlen(rest) >= sizeof path) {
        resp_problem(r, 404, "not_found", "No such endpoint.", NULL);
        return;
    }
    snprintf(path, sizeof path, "%s", rest);
    const route_t *rt = NULL;
    unsigned allowed = 0;
    route_match_result m =
        router_match(api_routes, api_routes_count, r->method, path, &rt, &r->id, &allowed);
    if (m == ROUTE_FOUND && (rt->scopes == 0 || (rt->flags & ROUTE_NO_TOKEN)))
        m = ROUTE_NO_PATH;
    if (resp_route_miss(r, m, allowed))
        return;
    r->who = &c->who;
    rt->fn(r);
    r->who = NULL;
}
