/* The token service: what the CLI, the API (self-revocation, leaked
 * credentials) and the dashboard do with tokens. It validates input, makes
 * secrets, keeps the rules of SPEC 2 in one place and records every change
 * in the audit log from the actor it is given. */
#ifndef PIORA_CORE_TOKENS_H
#define PIORA_CORE_TOKENS_H

#include <stdint.h>

#include "auth/token.h"
#include "core/actor.h"
#include "core/validate.h"
#include "store/store.h"

/* The expiry choices of SPEC 2, in seconds: 7, 30, 60, 90 (default), 180,
 * 365 days; EXPIRES_NEVER for none. */
#define EXPIRES_DEFAULT_S (90 * 86400)
#define EXPIRES_NEVER (-1)

/* Parses "90d", "12h", "30m", "45s" or "never" into seconds (or
 * EXPIRES_NEVER). false on anything else, zero, or over 10 years. */
bool tokens_parse_duration(const char *s, int64_t *seconds);

typedef struct token_create_req {
    int64_t user_id;
    const char *name;   /* 1..TOKEN_NAME_MAX bytes of UTF-8, no control characters */
    const char *scopes; /* "a,b" or "a b"; at least one, all known */
    int64_t expires_in; /* seconds, or EXPIRES_NEVER; ignored if expires_at set */
    int64_t expires_at; /* absolute epoch seconds (a custom date), 0: use expires_in */
    /* SPEC 11, both fixed at creation. resources: "servers:1,applications:4"
     * (grant_parse()), "" for nothing, NULL for every object of the team;
     * every id must name an object of the owner's team. allowed_ips:
     * addresses or CIDR blocks separated by commas, spaces or newlines
     * (addrs_parse()), NULL for no address rule; an empty list is refused. */
    const char *resources;
    const char *allowed_ips;
    const char *note; /* NULL or "": none; else at most TOKEN_NOTE_MAX bytes, one line */
} token_create_req;

/* The text forms of token_create_req from a JSON body's "resources"
 * ({"servers": [ids], ...}, null or absent) and "allowed_ips" (an array of
 * strings, a string, null or absent): false with a field error in errs when
 * the shape is wrong. res/ips are set to NULL when absent, else to buf. */
bool tokens_limits_from_json(const json_t *resources, const json_t *allowed_ips,
                             char *resbuf, size_t reslen, const char **res, char *ipbuf,
                             size_t iplen, const char **ips, verrs *errs);

/* EINVALID with a "resources" error per id of g that is not an object of
 * the team (trusted publishers check theirs when registered, as
 * tokens_create does when a token is made). */
piora_err tokens_grant_in_team(store_t *s, int64_t team_id, const token_grant *g, verrs *errs);

/* Every change below records one audit entry from who, naming the token
 * (id and name) and its owner (subject), only when something changed. */

/* Creates a token. On PIORA_OK secret holds the plain token (shown once) and
 * *out the record. PIORA_EINVALID with errs for a bad name, scope list
 * (unknown name, or empty) or expiry (in the past). */
piora_err tokens_create(store_t *s, const actor *who, const token_create_req *rq,
                        char secret[TOKEN_LEN + 1], token_rec *out, verrs *errs);

/* The token with this id. When user_id > 0 it must belong to that user:
 * another user's token is ENOTFOUND, exactly like a missing one. */
piora_err tokens_get(store_t *s, int64_t id, int64_t user_id, token_rec *out);
/* The user's tokens, oldest first (*out malloc'd, free it). */
piora_err tokens_list(store_t *s, int64_t user_id, token_rec **out, size_t *n);

/* Revokes by id (idempotent: revoking a revoked token records nothing).
 * ENOTFOUND when missing. When user_id > 0 the token must belong to that
 * user (else ENOTFOUND). */
piora_err tokens_revoke(store_t *s, const actor *who, int64_t id, int64_t user_id);

/* Gives the token a new secret, keeping id, name and scopes; the old secret
 * answers 401 revoked from then on. When user_id > 0 the token must belong
 * to that user. */
piora_err tokens_regenerate(store_t *s, const actor *who, int64_t id, int64_t user_id,
                            char secret[TOKEN_LEN + 1], token_rec *out);

/* Issue 13: renames (name NULL: keeps it) and, when set_note, replaces the
 * note (NULL or "" clears it). Both are checked before either is written:
 * EINVALID with errs ("name" as at creation, "note": at most
 * TOKEN_NOTE_MAX bytes of one line of text). When user_id > 0 the token
 * must belong to that user; a token removed from the lists is ENOTFOUND,
 * as a missing one. One audit entry per field changed (token.renamed,
 * token.note_changed); an unchanged one records nothing. */
piora_err tokens_update(store_t *s, const actor *who, int64_t id, int64_t user_id,
                        const char *name, bool set_note, const char *note, verrs *errs);
/* Removes a revoked or expired token from the lists (ECONFLICT while it is
 * active: revoke it first). Its secrets still answer 401 revoked and the
 * audit log keeps it. */
piora_err tokens_remove_from_list(store_t *s, const actor *who, int64_t id, int64_t user_id);

/* Revokes every well-formed token in list whose digest is known (the leaked
 * credentials endpoint); unknown ones are ignored. *revoked counts them; one
 * audit entry per token revoked. */
piora_err tokens_revoke_leaked(store_t *s, const actor *who, const char *const *tokens, size_t n,
                               size_t *revoked);

/* Where a token's pending (noted, not yet stored) last use comes from:
 * app/ hands in authn's lookup, as core may not include authn. NULL: none. */
typedef bool (*tokens_pending_fn)(int64_t token_id, int64_t *used_at, char *addr,
                                  size_t addrlen);
void tokens_set_pending(tokens_pending_fn fn);
/* Raises t's last_used_at (and address) to its pending use, if newer. */
void tokens_merge_pending(token_rec *t);
/* The list object of SPEC 2 for one token: id, name, scopes (array), hint,
 * created_at, last_used_at, expires_at, status (times RFC 3339 or null),
 * note (or null) and regenerated_at (issue 13),
 * and SPEC 11's resources ({"servers": [...], "applications": [...],
 * "databases": [...]} or null) and allowed_ips (array or null). */
json_t *tokens_resources_json(const token_grant *g); /* null when not limited */
json_t *tokens_addrs_json(const token_addrs *a);     /* null when no rule */
json_t *tokens_to_json(const token_rec *t, int64_t now);

#endif
