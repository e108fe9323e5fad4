/* The dashboard (SPEC 5): pages, assets compiled into the binary, and its
 * JSON endpoints authenticated by session cookie + CSRF token, never by a
 * bearer token. Its endpoints are rows of the one route table (app/
 * composes it); app/ also makes the /web/api/v1/... rows that run the API's
 * resource handlers as the signed-in user. */
#ifndef PIORA_WEB_WEB_H
#define PIORA_WEB_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "http/request.h"
#include "http/router.h"

/* The prefix of the dashboard's JSON endpoints. */
#define WEB_API_PREFIX "/web/api/"

/* The rows of /web/api/... (sign-in, setup, tokens, members, audit). */
extern const route_t web_routes[];
extern const size_t web_routes_count;

/* The security and caching headers of every /web/api/ answer (the area's
 * headers hook). */
void web_api_headers(req_t *r);
/* Every path no other area claims: the embedded assets, else the single
 * page (index.html), with the page's security headers. */
void web_page(req_t *r);

/* Keeps the dashboard's settings and makes its sign-in limiters; call
 * before serving. web_shutdown() frees them. */
void web_init(const piora_config *cfg);
void web_shutdown(void);

/* First run: stores a new one-time setup secret (replacing any unused one)
 * and writes the link <base>/setup#<secret> into out (base: the public URL
 * or http://host:port, no trailing slash). false when the database refused. */
bool web_setup_link(store_t *s, const char *base, char *out, size_t outlen);

#endif
