/* Who makes a change through core/, and through which door. Every service
 * that changes accounts or tokens takes an actor so that it writes its own
 * audit entry (SPEC 6); the front ends only say who is asking. */
#ifndef PIORA_CORE_ACTOR_H
#define PIORA_CORE_ACTOR_H

#include <stdint.h>

/* The channel is the audit entry's "via": the three front ends, plus the
 * two doors that have no signed-in user (a leak report, first-run setup). */
typedef enum actor_channel {
    CHANNEL_DASHBOARD,
    CHANNEL_CLI,
    CHANNEL_API,         /* a bearer token, e.g. DELETE /api/v1/token */
    CHANNEL_LEAK_REPORT, /* POST /api/v1/credentials/revoke */
    CHANNEL_SETUP,       /* the first-run setup page */
    CHANNEL_OIDC,        /* POST /api/v1/oidc/token: a CI job's OIDC token (SPEC 12) */
    CHANNEL_SCHEDULE,    /* a database's backup_schedule (no user acts) */
    CHANNEL_RUNNER       /* the job runner (a host key trusted on a job's first use) */
} actor_channel;

typedef struct actor {
    actor_channel channel;
    int64_t user_id;        /* the signed-in or token-holding user; 0 for none */
    int64_t team_id;        /* that user's team; 0 for none */
    const char *email;      /* that user's email; NULL for none */
    int64_t token_id;       /* the token the caller holds (API); 0 for none */
    const char *token_name; /* its name; NULL for none or not known */
    const char *addr;       /* client address; NULL from the CLI */
} actor;

/* "dashboard", "cli", "api", "leak_report", "setup", "oidc". */
const char *actor_channel_name(actor_channel c);

#endif
