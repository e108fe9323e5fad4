/* POST /api/v1/oidc/token (SPEC 12): a CI job trades its OIDC JWT for a
 * 15-minute token. No bearer token; limited per client address like the
 * leaked-credentials door. The exchange may fetch the issuer's keys, so
 * everything after the body's shape runs on the slow-work pool with the
 * connection suspended (req_defer), never on a polling thread. */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/jwt.h"
#include "core/publishers.h"
#include "core/tokens.h"
#include "http/response.h"
#include "util/clock.h"

typedef struct exchange_job {
    char addr[ADDR_MAX];
    size_t len;
    char jwt[]; /* len bytes and a NUL */
} exchange_job;

static void refuse(req_t *r, const char *why)
{
    resp_header(r, "WWW-Authenticate", "Bearer realm=\"piora\", error=\"invalid_token\"");
    resp_problem(r, 401, "invalid_token", why, NULL);
}

static void exchange_run(req_t *r, void *ctx)
{
    exchange_job *j = ctx;
    if (!r)
        goto done;
    oidc_grant g;
    const char *why = NULL;
    piora_err e = publishers_exchange(r->store, j->addr, j->jwt, j->len, &g, &why);
    if (e == PIORA_EAUTH) {
        refuse(r, why);
        goto done;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        goto done;
    }
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(g.token.expires_at, ts);
    json_t *o = json_pack("{s:s,s:s,s:o,s:o}", "token", g.secret, "expires_at", ts, "scopes",
                          json_array(), "resources",
                          tokens_resources_json(&g.token.resources));
    sodium_memzero(g.secret, sizeof g.secret);
    if (!o) {
        resp_error(r, PIORA_ENOMEM, NULL);
        goto done;
    }
    json_t *scopes = json_object_get(o, "scopes");
    for (int i = 0; i < SCOPE_COUNT; i++)
        if (g.token.scopes & (1u << i))
            json_array_append_new(scopes, json_string(scope_name(i)));
    resp_header(r, "Cache-Control", "no-store");
    resp_json(r, 201, o);
done:
    sodium_memzero(j->jwt, j->len);
    free(j);
}

void oidc_token_exchange(req_t *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    verrs errs = {0};
    const char *key;
    json_t *val;
    if (!json_is_object(body)) {
        json_decref(body);
        resp_error(r, PIORA_EBADREQ, "The body must be a JSON object.");
        return;
    }
    json_object_foreach(body, key, val) {
        if (strcmp(key, "token") != 0)
            verrs_add(&errs, key, "unknown field");
    }
    json_t *tok = json_object_get(body, "token");
    if (!tok)
        verrs_add(&errs, "token", "is required");
    else if (!json_is_string(tok) || json_string_length(tok) == 0)
        verrs_add(&errs, "token", "must be the CI job's OIDC token (a JWT string)");
    if (errs.n) {
        json_decref(body);
        resp_validation(r, &errs);
        return;
    }
    size_t len = json_string_length(tok);
    if (len > JWT_MAX_BYTES) {
        /* Refused here, before the pool: an oversized JWT costs no worker.
         * The service refuses it on its length alone, and audits it. */
        oidc_grant g;
        const char *why = NULL;
        publishers_exchange(r->store, r->client_addr, json_string_value(tok), len, &g, &why);
        json_decref(body);
        refuse(r, why);
        return;
    }
    exchange_job *j = malloc(sizeof *j + len + 1);
    if (!j) {
        json_decref(body);
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    snprintf(j->addr, sizeof j->addr, "%s", r->client_addr ? r->client_addr : "");
    j->len = len;
    memcpy(j->jwt, json_string_value(tok), len);
    j->jwt[len] = '\0';
    json_decref(body);
    if (!req_defer(r, exchange_run, j)) {
        sodium_memzero(j->jwt, len);
        free(j);
    }
}
