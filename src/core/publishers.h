/* Trusted publishers (SPEC 12): which CI jobs of which OIDC issuer a team
 * trusts to exchange their job's JWT for a 15-minute Piora token, and the
 * exchange itself. Every change and every exchange attempt is audited. */
#ifndef PIORA_CORE_PUBLISHERS_H
#define PIORA_CORE_PUBLISHERS_H

#include <jansson.h>
#include <stdint.h>

#include "auth/token.h"
#include "core/actor.h"
#include "store/store.h"
#include "util/verrs.h"

#define PUBLISHER_TOKEN_LIFETIME_S (15 * 60) /* SPEC 12: never longer */
#define PUBLISHER_CLAIMS_MAX 8               /* claim conditions per publisher */
#define PUBLISHER_DEFAULT_AUDIENCE "piora"

typedef struct publisher_req {
    int64_t user_id;      /* a team admin; minted tokens act as them */
    const char *name;     /* 1..64 of A-Za-z0-9._- and space */
    const char *issuer;   /* https://host[/path], no query */
    const char *audience; /* NULL or "": "piora" */
    const char *const *claims; /* "KEY=VALUE" each, KEY one of publishers_claim_keys */
    size_t nclaims;
    const char *ref_glob; /* NULL or "": any ref; else fnmatch(3) on the ref claim */
    const char *scopes;   /* "a,b" as for tokens */
    const char *resources; /* NULL or "": all; else "servers:1,applications:4" (SPEC 11) */
} publisher_req;

/* The claims a condition may name, NULL-terminated: GitHub's repository,
 * repository_owner_id, job_workflow_ref, environment (SPEC 12) and their
 * GitLab counterparts (project_path, namespace_id, ...). */
extern const char *const publishers_claim_keys[];

/* PIORA_EINVALID with errs (field names: name, issuer, audience, claims,
 * ref_glob, scopes, resources, email) for bad input or a user who is not
 * an admin; ECONFLICT for a name the team already uses. */
piora_err publishers_add(store_t *s, const actor *who, const publisher_req *rq,
                         publisher_rec *out, verrs *errs);
/* team_id 0: every team's (the CLI). *out malloc'd. */
piora_err publishers_list(store_t *s, int64_t team_id, publisher_rec **out, size_t *n);
/* ENOTFOUND for a missing or another team's publisher (team_id 0: any). */
piora_err publishers_remove(store_t *s, const actor *who, int64_t team_id, int64_t id);

/* {id, name, issuer, audience, claims: {k: v}, ref_glob|null, scopes: [..],
 * resources: {...}|null, created_at, created_by} */
json_t *publishers_to_json(const publisher_rec *p);
/* SPEC 11's object form of a resources list, or JSON null for "all". */
json_t *publishers_resources_json(const char *resources);

typedef struct oidc_grant {
    char secret[TOKEN_LEN + 1]; /* shown once */
    token_rec token;
    publisher_rec publisher;
} oidc_grant;

/* Verifies a CI job's JWT and mints a token for the first publisher it
 * matches. Blocks on the issuer's JWKS when it is not cached: call it from
 * a worker thread. PIORA_EAUTH with *why (a phrase naming the failed check,
 * never the token) when the JWT is refused; the attempt is audited either
 * way, from addr. */
piora_err publishers_exchange(store_t *s, const char *addr, const char *jwt, size_t len,
                              oidc_grant *out, const char **why);

#endif
