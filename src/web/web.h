/* The dashboard (SPEC 5): pages, assets compiled into the binary, and its
 * JSON endpoints authenticated by session cookie + CSRF token, never by a
 * bearer token. http/server.c hands it every request whose path it owns. */
#ifndef PIORA_WEB_WEB_H
#define PIORA_WEB_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "http/request.h"

/* True for the paths the dashboard answers: everything except /api/...,
 * /healthz, /readyz and /metrics. */
bool web_owns(const char *path);

/* Answers the request (r->store is set; r->who is NULL). */
void web_dispatch(req_t *r);

/* Keeps the dashboard's settings and makes its sign-in limiters; call
 * before serving. web_shutdown() frees them. */
void web_init(const piora_config *cfg);
void web_shutdown(void);

/* First run: stores a new one-time setup secret (replacing any unused one)
 * and writes the link http://<host>:<port>/setup#<secret> into out. false
 * when the database refused. */
bool web_setup_link(store_t *s, const char *host, unsigned port, char *out, size_t outlen);

#endif
