/* Permission scopes as a 9-bit set. Names are parsed once, at token
 * creation; every request check is one AND (see scopes_allow). */
#ifndef PIORA_AUTH_SCOPES_H
#define PIORA_AUTH_SCOPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef uint16_t scope_set;

enum {
    SCOPE_SERVERS_READ = 1u << 0,
    SCOPE_SERVERS_WRITE = 1u << 1,
    SCOPE_APPLICATIONS_READ = 1u << 2,
    SCOPE_APPLICATIONS_WRITE = 1u << 3,
    SCOPE_APPLICATIONS_DEPLOY = 1u << 4,
    SCOPE_DATABASES_READ = 1u << 5,
    SCOPE_DATABASES_WRITE = 1u << 6,
    SCOPE_BACKUPS_READ = 1u << 7,
    SCOPE_BACKUPS_WRITE = 1u << 8,
};
#define SCOPE_COUNT 9
#define SCOPE_ALL ((scope_set)0x1FF)
/* Longest "a, b, ..." rendering of all nine names. */
#define SCOPES_STR_MAX 256

/* The canonical name of bit i (0..SCOPE_COUNT-1), in the SPEC's order. */
const char *scope_name(int i);
/* The bit for a name, exact and case-sensitive; 0 when unknown. */
scope_set scope_from_name(const char *name, size_t len);

/* What a granted set really allows: X:write adds X:read. applications:deploy
 * adds nothing (the deployment reads it allows are declared by the routes). */
scope_set scopes_effective(scope_set granted);

/* A route declares the scopes that satisfy it, any one of which suffices
 * (GET /deployments/{id}: applications:read | applications:deploy). A route
 * with required == 0 needs only a valid token. */
static inline bool scopes_allow(scope_set effective, scope_set required)
{
    return required == 0 || (effective & required) != 0;
}

/* Parses a list separated by commas and/or whitespace ("a,b" or "a b").
 * Returns false, with the first unknown name copied to bad (truncated to
 * badlen), when a name is unknown; empty items are ignored. */
bool scopes_parse(const char *s, scope_set *out, char *bad, size_t badlen);

/* Writes the names of the set, in canonical order, separated by sep
 * (", " for X-OAuth-Scopes; "," for the CLI). */
void scopes_format(scope_set s, const char *sep, char *out, size_t outlen);

#endif
