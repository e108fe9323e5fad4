#include "http/response.h"

#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "util/json.h"
#include "util/log.h"

/* Drops a file body set earlier (an error answered after it). */
static void drop_file(req_t *r)
{
    if (r->file_body) {
        close(r->file_fd);
        r->file_body = false;
        r->file_fd = -1;
    }
}

const char *http_status_title(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    }
    return "Error";
}

void resp_header_add(req_t *r, const char *name, const char *value)
{
    if (r->nheaders >= REQ_MAX_HEADERS)
        return;
    char *v = strdup(value);
    if (!v)
        return;
    r->headers[r->nheaders].name = name;
    r->headers[r->nheaders].value = v;
    r->nheaders++;
}

void resp_header(req_t *r, const char *name, const char *value)
{
    for (int i = 0; i < r->nheaders; i++) {
        if (strcmp(r->headers[i].name, name) == 0) {
            char *v = strdup(value);
            if (!v)
                return;
            free(r->headers[i].value);
            r->headers[i].value = v;
            return;
        }
    }
    resp_header_add(r, name, value);
}

void resp_raw(req_t *r, int status, const char *content_type, const char *data, size_t len)
{
    buf_reset(&r->out);
    drop_file(r);
    buf_append(&r->out, data, len);
    r->status = status;
    r->content_type = content_type;
}

void resp_file(req_t *r, int status, const char *content_type, int fd, uint64_t size)
{
    buf_reset(&r->out);
    drop_file(r);
    r->file_body = true;
    r->file_fd = fd;
    r->file_size = size;
    r->status = status;
    r->content_type = content_type;
}

void resp_empty(req_t *r, int status)
{
    buf_reset(&r->out);
    drop_file(r);
    r->status = status;
    r->content_type = NULL;
}

static int dump_cb(const char *p, size_t n, void *data)
{
    return buf_append(data, p, n) ? 0 : -1;
}

void resp_json(req_t *r, int status, json_t *body)
{
    buf_reset(&r->out);
    drop_file(r);
    if (!body || json_dump_callback(body, dump_cb, &r->out, JSON_COMPACT) != 0 || r->out.failed) {
        json_decref(body);
        log_error("response serialization failed");
        resp_problem(r, 500, "internal_error", "The response could not be produced.", NULL);
        return;
    }
    json_decref(body);
    r->status = status;
    r->content_type = "application/json";
}

/* One writer for every problem document: the five members straight into
 * the response buffer (rejections are the hot path of a flood of bad
 * tokens, and jansson would allocate a node per member), then any extra
 * members (required_scopes, errors, ...) serialized by jansson. */
void resp_problem(req_t *r, int status, const char *code, const char *detail, json_t *extra)
{
    buf_t *b = &r->out;
    buf_reset(b);
    buf_printf(b, "{\"type\":\"https://piora.dev/problems/%s\",\"title\":\"%s\",\"status\":%d,"
               "\"detail\":", code, http_status_title(status), status);
    json_put_str(b, detail ? detail : http_status_title(status));
    buf_printf(b, ",\"code\":\"%s\"", code);
    if (extra) {
        const char *key;
        json_t *value;
        json_object_foreach(extra, key, value)
        {
            buf_putc(b, ',');
            json_put_str(b, key);
            buf_putc(b, ':');
            if (json_dump_callback(value, dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
                b->failed = true;
        }
        json_decref(extra);
    }
    buf_putc(b, '}');
    if (b->failed) {
        buf_reset(b);
        buf_puts(b, "{\"status\":500,\"code\":\"internal_error\"}");
        status = 500;
    }
    r->status = status;
    r->content_type = "application/problem+json";
}

void resp_error(req_t *r, piora_err e, const char *detail)
{
    switch (e) {
    case PIORA_ENOTFOUND:
        resp_problem(r, 404, "not_found", detail ? detail : "No such object.", NULL);
        return;
    case PIORA_EINVALID:
        resp_problem(r, 422, "validation_failed", detail ? detail : "Invalid input.", NULL);
        return;
    case PIORA_ECONFLICT:
        resp_problem(r, 409, "conflict",
                     detail ? detail : "The request conflicts with the current state.", NULL);
        return;
    case PIORA_EBADREQ:
        resp_problem(r, 400, "bad_request", detail ? detail : "Malformed request.", NULL);
        return;
    case PIORA_ETOOBIG:
        resp_problem(r, 413, "payload_too_large", detail ? detail : "Request body too large.",
                     NULL);
        return;
    case PIORA_EBUSY:
        resp_problem(r, 503, "unavailable",
                     detail ? detail : "The database is busy; try again shortly.", NULL);
        return;
    default:
        resp_problem(r, 500, "internal_error", "An internal error occurred.", NULL);
        return;
    }
}

void resp_validation(req_t *r, const verrs *errs)
{
    json_t *list = json_array();
    for (size_t i = 0; i < errs->n; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "field", json_string(errs->items[i].field));
        json_object_set_new(e, "message", json_string(errs->items[i].message));
        json_array_append_new(list, e);
    }
    json_t *extra = json_object();
    json_object_set_new(extra, "errors", list);
    resp_problem(r, 422, "validation_failed", "The request has invalid fields.", extra);
}

bool resp_route_miss(req_t *r, route_match_result m, unsigned allowed)
{
    if (m == ROUTE_NO_PATH) {
        resp_problem(r, 404, "not_found", "No such endpoint.", NULL);
        return true;
    }
    if (m == ROUTE_BAD_METHOD) {
        char allow[96];
        router_allow_header(allowed, allow, sizeof allow);
        resp_header(r, "Allow", allow);
        resp_problem(r, 405, "method_not_allowed", "This endpoint does not take that method.",
                     NULL);
        return true;
    }
    return false;
}
