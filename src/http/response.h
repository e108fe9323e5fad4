/* Building a handler's answer. Every error body is RFC 9457
 * application/problem+json with a machine-readable "code". */
#ifndef PIORA_HTTP_RESPONSE_H
#define PIORA_HTTP_RESPONSE_H

#include <jansson.h>

#include "util/verrs.h"
#include "http/request.h"
#include "http/router.h"
#include "util/err.h"

/* Serializes body (the reference is stolen) as application/json. */
void resp_json(req_t *r, int status, json_t *body);
/* Copies data as the body with the given content type. */
void resp_raw(req_t *r, int status, const char *content_type, const char *data, size_t len);
/* The open file fd (size bytes from its start) as the body: sent by the
 * server from the descriptor in bounded memory, Content-Length = size; fd is
 * owned (closed) by the request from here on, also when it is not sent. */
void resp_file(req_t *r, int status, const char *content_type, int fd, uint64_t size);
/* 204 or any status without a body. */
void resp_empty(req_t *r, int status);

/* A problem document: type "https://piora.dev/problems/<code>", the status's
 * title, detail, code. extra (stolen, may be NULL) adds members. */
void resp_problem(req_t *r, int status, const char *code, const char *detail, json_t *extra);
/* Maps an outcome to its status and code: ENOTFOUND 404 not_found,
 * EINVALID 422 validation_failed, ECONFLICT 409 conflict, EBADREQ 400
 * bad_request, ETOOBIG 413 payload_too_large, EBUSY 503 unavailable, others
 * 500 internal_error. detail may be NULL (a generic sentence is used). */
void resp_error(req_t *r, piora_err e, const char *detail);
/* Answers a failed route match: 404 for an unknown path, 405 with an
 * Allow header for a known path and another method. Returns true when it
 * answered (m is not ROUTE_FOUND). */
bool resp_route_miss(req_t *r, route_match_result m, unsigned allowed);
/* 422 validation_failed with errors: [{field, message}]. */
void resp_validation(req_t *r, const verrs *errs);

/* Adds a response header (name must be a static string; value is copied).
 * At most REQ_MAX_HEADERS per request; extra ones are dropped. */
void resp_header(req_t *r, const char *name, const char *value);

/* Adds a header even when one of that name is already set (Set-Cookie). */
void resp_header_add(req_t *r, const char *name, const char *value);

/* The canonical reason phrase of a status ("Not Found"). */
const char *http_status_title(int status);

#endif
