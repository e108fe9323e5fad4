/* The libmicrohttpd daemon: an epoll thread pool with explicit bounds
 * (connections per address, head and body deadlines, one budget for the
 * bodies buffered), each request read (body capped, early 413s drained, a
 * token route's body only after its token authenticated) into a req_t and
 * walked through http/pipeline.h, and a stop that lets in-flight requests
 * finish. What it serves and with which settings, app/ hands in: http/
 * reads no configuration and names no handler. */
#ifndef PIORA_HTTP_SERVER_H
#define PIORA_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/router.h"

/* Everything http/ needs to know, filled by app/ (http/ cannot read
 * core/config.h). */
typedef struct http_options {
    const char *listen_host;       /* numeric or a name; "::" style for IPv6 */
    unsigned listen_port;          /* 0: any free port */
    unsigned threads;              /* worker threads, at least 1 */
    unsigned max_connections;
    unsigned max_per_address;      /* open connections per client address, 0 = no cap */
    unsigned idle_timeout_s;
    unsigned header_timeout_s;     /* a request head is due this long after the wait began */
    unsigned body_timeout_s;       /* a body is due this long after its head */
    size_t max_header_bytes;       /* request line and headers of one request */
    size_t body_max;               /* a larger body is answered 413 */
    size_t body_budget;            /* bytes of bodies buffered across connections (503 past it) */
    bool secure_cookies;           /* --secure-cookies */
    unsigned slow_threads;         /* --hash-threads: the pool for deferred handlers */
    unsigned slow_max;             /* --hash-max: its jobs running or waiting, at most */
    store_t *(*thread_store)(void);
    route_site site;               /* the route table and its areas (must outlive the server) */
    /* The store is remote (store_is_remote): every step of a request that
     * needs it runs on a pool of store_threads threads, at most store_max
     * requests running or waiting (past it 503), never on a polling thread. */
    bool store_remote;
    unsigned store_threads;        /* --store-threads */
    unsigned store_max;            /* --store-max */
    /* --redis: a limit decision that needs Redis runs on that same pool
     * (made for it when the store is local), never on a polling thread. */
    bool limits_remote;
} http_options;

typedef struct http_server http_server;

/* Listens and serves on worker threads. NULL, with the reason on stderr,
 * when the address does not resolve or cannot be bound. */
http_server *http_server_start(const http_options *o);

/* The bound port (the asked one, or the one picked for port 0). */
unsigned http_server_port(const http_server *s);
/* Whether it listens on IPv6 (the address is written in brackets). */
bool http_server_ipv6(const http_server *s);

/* Stops accepting, lets the requests in flight finish (at most ~10 s), then
 * closes the rest and frees s. */
void http_server_stop(http_server *s);

/* Requests being served now (for /metrics). */
long http_server_inflight(void);
/* Deferred handlers (password hashes) running or waiting now, and those
 * refused 503 because the pool was full (for /metrics). */
unsigned http_server_slow_busy(void);
uint64_t http_server_slow_refused(void);
/* Requests in the store pool now, refused 503 because it was full, and
 * handed to it since start (all 0 for a local store). */
unsigned http_server_store_busy(void);
uint64_t http_server_store_refused(void);
uint64_t http_server_store_handed(void);
uint64_t http_server_store_late(void); /* 503: waited over 2 s for a store thread */

#endif
