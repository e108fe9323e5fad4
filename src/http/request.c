#include "http/request.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/response.h"
#include "util/json.h"

const char *req_query(req_t *r, const char *key)
{
    if (!r->conn)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *req_header(req_t *r, const char *name)
{
    if (!r->conn)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Accepts application/json with any parameters (charset=utf-8) and, like
 * most APIs, a request with no Content-Type at all. */
static bool json_content_type(const char *ct)
{
    if (!ct)
        return true;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

json_t *req_json_body(req_t *r)
{
    if (!json_content_type(req_header(r, "Content-Type"))) {
        resp_problem(r, 415, "unsupported_media_type",
                     "Send the request body as application/json.", NULL);
        return NULL;
    }
    if (!r->body || r->body_len == 0) {
        resp_problem(r, 400, "invalid_json", "The request body is empty; a JSON object is expected.",
                     NULL);
        return NULL;
    }
    if (!utf8_valid(r->body, r->body_len)) {
        resp_problem(r, 400, "invalid_json", "The request body is not valid UTF-8.", NULL);
        return NULL;
    }
    json_error_t jerr;
    json_t *v = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        char detail[256];
        snprintf(detail, sizeof detail, "The request body is not valid JSON (line %d, column %d).",
                 jerr.line, jerr.column);
        resp_problem(r, 400, "invalid_json", detail, NULL);
        return NULL;
    }
    return v;
}
