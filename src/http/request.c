#include "http/request.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/response.h"
#include "util/json.h"

const char *req_query(req_t *r, const char *key)
{
    if (!r->src)
        return NULL;
    return r->src->query(r->conn, key);
}

const char *req_header(req_t *r, const char *name)
{
    if (!r->src)
        return NULL;
    return r->src->header(r->conn, name);
}

json_t *req_json_body(req_t *r)
{
    /* The body is read as JSON whatever Content-Type says, as GitHub's API
     * does: `curl -d '{...}'` sends form-urlencoded by default, and refusing
     * it would only teach people to add a header. */
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
    /* NUL inside a string is valid JSON; validation refuses it per field (422). */
    json_t *v = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!v) {
        char detail[256];
        snprintf(detail, sizeof detail, "The request body is not valid JSON (line %d, column %d).",
                 jerr.line, jerr.column);
        resp_problem(r, 400, "invalid_json", detail, NULL);
        return NULL;
    }
    return v;
}
