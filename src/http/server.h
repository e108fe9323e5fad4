/* `piora serve`: libmicrohttpd with an epoll thread pool, explicit bounds,
 * and a graceful stop on SIGTERM/SIGINT that lets in-flight requests finish
 * and flushes buffered last-used times before returning. */
#ifndef PIORA_HTTP_SERVER_H
#define PIORA_HTTP_SERVER_H

#include "core/config.h"

/* Runs until SIGTERM or SIGINT. Returns the process exit status. */
int http_server_run(const piora_config *cfg);

/* Requests being served now (for /metrics). */
long http_server_inflight(void);

#endif
