#ifndef PIORA_AUTH_PRINCIPAL_H
#define PIORA_AUTH_PRINCIPAL_H

#include <stdint.h>

#include "auth/grant.h"
#include "auth/scopes.h"

/* Who is calling: what authn/ derives from a valid token (or a session, as
 * the user with every scope). A plain value below every layer that passes
 * it on: http/ hands it to handlers, web/ and api/ read it. */
typedef struct principal {
    int64_t token_id;
    int64_t user_id;
    int64_t team_id;
    scope_set scopes;    /* as granted */
    scope_set effective; /* scopes_effective(scopes) */
    int64_t expires_at;  /* 0: never */
    token_grant resources;   /* SPEC 11 (authn/policy.c); a session: not limited */
    token_addrs allowed_ips; /* SPEC 11; a session: no rule */
    uint64_t resources_key;  /* grant_fingerprint(&resources), computed once per cache fill */
} principal_t;

#endif
