/* What SPEC 11 limits a token to, as plain values: the resources it is
 * granted (servers, applications, databases by id) and the addresses it may
 * be used from. Fixed at creation; the store keeps both as text in the
 * form grant_format() / addrs_format() write, and every reader (the CLI,
 * the token cache, the policy) parses that once into these structs. */
#ifndef PIORA_AUTH_GRANT_H
#define PIORA_AUTH_GRANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cidr.h"

typedef enum grant_kind { GRANT_SERVER, GRANT_APPLICATION, GRANT_DATABASE, GRANT_KINDS } grant_kind;

/* SPEC 11 caps addresses at 32; resources at 64 ids in all, enough for a
 * token scoped to a project while keeping a cached principal small. */
#define GRANT_IDS_MAX 64
#define ADDRS_MAX 32
/* The stored texts: "servers:1,applications:4" (64 ids of 20 digits and
 * a 13-byte kind) and "203.0.113.0/24,2001:db8::/48". */
#define GRANT_TEXT_MAX (GRANT_IDS_MAX * 35)
#define ADDRS_TEXT_MAX (ADDRS_MAX * CIDR_TEXT_MAX)

typedef struct token_grant {
    bool limited;    /* false: every object of the team (the rest is empty) */
    uint8_t n;       /* ids, ordered by (kind, id), no duplicates */
    uint8_t kinds[GRANT_IDS_MAX];
    int64_t ids[GRANT_IDS_MAX];
} token_grant;

typedef struct token_addrs {
    bool limited;    /* false: from anywhere (no rule was written) */
    uint8_t n;       /* >= 1 when limited */
    cidr_t nets[ADDRS_MAX];
} token_addrs;

/* "servers" "applications" "databases", the collection names. */
const char *grant_kind_name(grant_kind k);
/* The kind for a collection name of len bytes; GRANT_KINDS when none. */
grant_kind grant_kind_from_name(const char *name, size_t len);

/* Adds one id (positive) in order; false when full. Adding one present is
 * a no-op that succeeds. Marks the grant limited. */
bool grant_add(token_grant *g, grant_kind k, int64_t id);
bool grant_has(const token_grant *g, grant_kind k, int64_t id);
/* How many ids of kind k, and the i-th of them. */
size_t grant_count(const token_grant *g, grant_kind k);

/* Parses "kind:id,kind:id" (kinds as grant_kind_name(), or the singulars
 * "server" "application" "database"); spaces around items are ignored.
 * "" is a limited grant of nothing. NULL: not limited. On false, err gets
 * a message naming the bad item. */
bool grant_parse(const char *s, token_grant *g, char *err, size_t errlen);
/* The canonical text (NULL-free; "" for an empty limited grant). */
void grant_format(const token_grant *g, char *out, size_t outlen);

/* Parses addresses or blocks separated by commas, spaces or newlines. An
 * empty list is refused: no rule that lets everyone in is written by
 * accident (SPEC 11); "0.0.0.0/0, ::/0" says it. */
bool addrs_parse(const char *s, token_addrs *a, char *err, size_t errlen);
void addrs_format(const token_addrs *a, char *out, size_t outlen);
/* True when a is not limited or a rule contains the address. An address
 * that does not parse is outside every rule. */
bool addrs_allow(const token_addrs *a, const char *addr);

/* A 64-bit fingerprint of a grant: equal grants, equal values (the
 * response cache keys by it). 0 for a grant that is not limited. */
uint64_t grant_fingerprint(const token_grant *g);

#endif
