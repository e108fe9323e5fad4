#include "app/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "web/web.h"

#define MIRROR_PREFIX "/web"

/* The areas, hottest first: a token request costs one failed and one
 * successful prefix test before the API's rows. */
static const route_area areas[] = {
    {"/api/", false, NULL, NULL, false},
    {WEB_API_PREFIX, true, web_api_headers, NULL, false},
    {"/api", false, NULL, NULL, false},
    {"", true, NULL, web_page, true}, /* the dashboard's files: no store */
};

/* The dashboard reaches exactly the API's resource routes, those that need
 * a scope: the token's own endpoints, the leak report and the OpenAPI
 * document are not dashboard business. */
static bool mirrored(const route_t *rt)
{
    return rt->auth == ROUTE_AUTH_TOKEN && rt->scopes != 0;
}

bool app_routes_build(route_site *out)
{
    size_t nmirror = 0, chars = 0;
    for (size_t i = 0; i < api_routes_count; i++) {
        if (mirrored(&api_routes[i])) {
            nmirror++;
            chars += sizeof MIRROR_PREFIX + strlen(api_routes[i].pattern);
        }
    }
    size_t n = api_routes_count + web_routes_count + nmirror;
    route_t *rows = calloc(n, sizeof *rows);
    char *names = malloc(chars ? chars : 1);
    if (!rows || !names) {
        free(rows);
        free(names);
        return false;
    }
    memcpy(rows, api_routes, api_routes_count * sizeof *rows);
    memcpy(rows + api_routes_count, web_routes, web_routes_count * sizeof *rows);
    size_t k = api_routes_count + web_routes_count, used = 0;
    for (size_t i = 0; i < api_routes_count; i++) {
        const route_t *api = &api_routes[i];
        if (!mirrored(api))
            continue;
        int w = snprintf(names + used, chars - used, MIRROR_PREFIX "%s", api->pattern);
        route_t *m = &rows[k++];
        *m = *api;
        m->pattern = names + used;
        m->auth = ROUTE_AUTH_SESSION;
        m->limit = ROUTE_LIMIT_NONE;
        m->flags = 0; /* the response cache is the token path's */
        used += (size_t)w + 1;
    }
    if (!nmirror)
        free(names);
    out->routes = rows;
    out->nroutes = n;
    out->areas = areas;
    out->nareas = sizeof areas / sizeof areas[0];
    out->metrics_rows = api_routes_count;
    return true;
}

void app_routes_free(route_site *site)
{
    if (!site->routes)
        return;
    /* the mirror rows' patterns are one block, the first one's start */
    size_t first = api_routes_count + web_routes_count;
    if (site->nroutes > first)
        free((void *)site->routes[first].pattern);
    free((void *)site->routes);
    memset(site, 0, sizeof *site);
}
