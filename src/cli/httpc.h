/* A small HTTP client for the CLI commands that talk to a running Piora
 * (`piora deploy`), on Debian's libcurl. Every request is bounded: a 10 s
 * connect timeout, a 60 s total, a stall cutoff, a cap on the answer's size,
 * no redirects followed, http/https only, TLS peer and host verification
 * always on. The bearer token goes only into the Authorization header; it
 * is never part of an error message or a URL. */
#ifndef PIORA_CLI_HTTPC_H
#define PIORA_CLI_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct httpc httpc;

/* Room for any reason httpc writes to err. */
#define HTTPC_ERR_MAX 320

typedef struct httpc_resp {
    long status;        /* HTTP status; 0 when no answer came */
    char *body;         /* NUL-terminated; NULL when streamed to a sink */
    size_t len;         /* bytes of body received (also when streamed) */
    size_t sunk;        /* of those, bytes handed to the sink */
    bool log_complete;  /* X-Log-Complete: true was in the answer */
    bool has_log_complete;
    long retry_after;   /* Retry-After in seconds, or -1 */
} httpc_resp;

/* base is PIORA_URL ("https://piora.example.com", a trailing "/" or
 * "/api/v1" allowed); token the bearer token. NULL with a reason in err
 * when the URL is not http(s) or libcurl cannot start. */
httpc *httpc_new(const char *base, const char *token, char *err, size_t errlen);
void httpc_free(httpc *c);

/* method + path ("/applications/4/deploy", appended to base + "/api/v1").
 * json_body (or NULL) is sent as application/json. The answer's body goes
 * to out->body, at most max_body bytes (more fails the request), or, when
 * sink is given and the status is 2xx, through sink_fn as it arrives (same
 * cap; an error's body still goes to out->body). Returns true when
 * an HTTP answer arrived (any status); false with a one-line reason in err
 * on a transport failure (refused, timeout, TLS, too large). */
typedef bool (*httpc_sink_fn)(void *ctx, const char *data, size_t len);
bool httpc_request(httpc *c, const char *method, const char *path, const char *json_body,
                   size_t max_body, httpc_sink_fn sink_fn, void *sink_ctx, httpc_resp *out,
                   char *err, size_t errlen);
void httpc_resp_free(httpc_resp *r);

#endif
