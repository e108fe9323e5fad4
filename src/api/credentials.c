/* POST /api/v1/credentials/revoke: whoever finds leaked tokens (a secret
 * scanner, a colleague) revokes them without holding any token. The answer
 * is the same whatever was found, so the endpoint cannot be used to test
 * whether a token exists; the route is rate limited per client address. */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>

#include "core/tokens.h"
#include "http/response.h"

void credentials_revoke(req_t *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    verrs errs = {0};
    json_t *list = NULL;
    if (!json_is_object(body)) {
        json_decref(body);
        resp_error(r, PIORA_EBADREQ, "The body must be a JSON object.");
        return;
    }
    const char *key;
    json_t *val;
    json_object_foreach(body, key, val) {
        if (strcmp(key, "credentials") != 0)
            verrs_add(&errs, key, "unknown field");
    }
    list = json_object_get(body, "credentials");
    size_t n = json_array_size(list);
    if (!list)
        verrs_add(&errs, "credentials", "is required");
    else if (!json_is_array(list))
        verrs_add(&errs, "credentials", "must be an array of strings");
    else if (n < 1 || n > CREDENTIALS_MAX)
        verrs_add(&errs, "credentials", "must hold 1 to %d strings", CREDENTIALS_MAX);
    else {
        for (size_t i = 0; i < n; i++) {
            json_t *s = json_array_get(list, i);
            if (!json_is_string(s)) {
                verrs_add(&errs, "credentials", "item %zu must be a string", i);
                break;
            }
            if (json_string_length(s) > CREDENTIAL_MAX_BYTES) {
                verrs_add(&errs, "credentials", "item %zu is longer than %d bytes", i,
                          CREDENTIAL_MAX_BYTES);
                break;
            }
        }
    }
    if (errs.n) {
        json_decref(body);
        resp_validation(r, &errs);
        return;
    }
    const char **tokens = calloc(n, sizeof *tokens);
    if (!tokens) {
        json_decref(body);
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++)
        tokens[i] = json_string_value(json_array_get(list, i));
    size_t revoked = 0;
    /* The reporter is nobody we know: only their address is recorded. */
    actor who = {.channel = CHANNEL_LEAK_REPORT, .addr = r->client_addr};
    piora_err e = tokens_revoke_leaked(r->store, &who, tokens, n, &revoked);
    free(tokens);
    json_decref(body);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    resp_json(r, 202,
              json_pack("{s:s}", "message",
                        "Thank you. Every valid token among the submitted credentials has been "
                        "revoked."));
}
