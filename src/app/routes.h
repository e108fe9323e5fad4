/* The one route table that app/ hands to http/: the API's rows
 * (api/routes.c), the dashboard's (web/web.c), and the /web/api/v1/... rows
 * that run the API's resource handlers as the signed-in user, generated
 * once from the API's rows; with the areas that split the URL space. */
#ifndef PIORA_APP_ROUTES_H
#define PIORA_APP_ROUTES_H

#include <stdbool.h>

#include "http/router.h"

/* Builds the table (once per call; app_routes_free() releases it). The
 * API's rows come first, in api_routes order, so that metrics slot i is
 * api_routes[i]. false when memory ran out. */
bool app_routes_build(route_site *out);
void app_routes_free(route_site *site);

#endif
