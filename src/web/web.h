/* The dashboard (SPEC 5): pages, assets compiled into the binary, and its
 * JSON endpoints authenticated by session cookie + CSRF token, never by a
 * bearer token. http/server.c hands it every request whose path it owns. */
#ifndef PIORA_WEB_WEB_H
#define PIORA_WEB_WEB_H

#include <stdbool.h>

#include "http/request.h"

/* True for the paths the dashboard answers: everything except /api/...,
 * /healthz, /readyz and /metrics. */
bool web_owns(const char *path);

/* Answers the request (r->store is set; r->who is NULL). */
void web_dispatch(req_t *r);

#endif
