/* SPEC 11 in one place: what a token limited to chosen resources or client
 * addresses may reach. http/pipeline.c asks it for every token request,
 * after authentication: the address first (403 ip_not_allowed, before the
 * scope check), then, after the scope check and before any handler, the
 * object the route's {id} names (resolved up its parent chain), the parents
 * a write's body names, and the creates a limited token may not make. Lists
 * are filtered by the store (obj_filter.grant), so totals and Link headers
 * count only what is granted.
 *
 * Which object a route's {id} names comes from its pattern's collection
 * segment ("/api/v1/backups/{id}/restore": a backup), worked out once at
 * start by policy_route_of(): a route added later is covered without an
 * edit here, and one whose collection this file does not know is refused
 * to limited tokens (404) rather than let through (test_policy fails on
 * it). */
#ifndef PIORA_AUTHN_POLICY_H
#define PIORA_AUTHN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "store/store.h"

typedef enum policy_kind {
    PK_SELF,        /* the calling token itself, or nothing of the team (token, credentials) */
    PK_TEAM,        /* team-wide, not one object's (ssh-key, ...): see policy_check() */
    PK_SERVER,
    PK_APPLICATION,
    PK_DATABASE,
    PK_DEPLOYMENT,
    PK_BACKUP,
    PK_RESTORE,
    PK_UNKNOWN      /* an {id} of a collection this file does not know */
} policy_kind;

typedef struct policy_route {
    bool has_id;
    policy_kind id_kind;    /* what {id} names (PK_SELF without an {id}) */
    policy_kind collection; /* the first segment after /api/v1/ */
} policy_route;

/* For a route pattern ("/api/v1/servers/{id}/check"). */
policy_route policy_route_of(const char *pattern);
const char *policy_kind_name(policy_kind k);

/* The address rule: true when the token has none or one contains addr
 * (the client address as the trusted-proxy rules give it). */
bool policy_addr_allowed(const principal_t *who, const char *client_addr);

typedef enum policy_verdict {
    POLICY_ALLOW,
    POLICY_NOT_FOUND,   /* 404, exactly as a missing object */
    POLICY_RESTRICTED,  /* 403 resource_restricted */
    POLICY_UNAVAILABLE  /* the store could not answer */
} policy_verdict;

/* The resource rule for one request of a limited token (who->resources
 * limited; anything else is POLICY_ALLOW):
 *  - an {id} route: the object, or a parent up its chain, is granted;
 *  - a POST to /servers: restricted (a new server could not be granted);
 *  - a body (POST/PUT/PATCH) naming server_id, application_id, database_id
 *    or backup_id: each must be granted (creating or moving an object under
 *    an ungranted parent is the parent's 404);
 *  - team-wide routes: reads are allowed (the team's public SSH key is what
 *    a granted server needs), changes are restricted, since they reach
 *    every server of the team.
 * body may be NULL; a body that is not a JSON object is left to the
 * handler's 400. */
policy_verdict policy_check(store_t *s, const principal_t *who, const policy_route *pr,
                            bool read_only, bool is_post, int64_t id, const char *body,
                            size_t body_len);

/* True when the object of kind k and id is reachable by who's grant (or who
 * is not limited). For callers outside the pipeline (the dashboard, job
 * runners) that need the same rule. */
policy_verdict policy_object(store_t *s, const principal_t *who, policy_kind k, int64_t id);

#endif
