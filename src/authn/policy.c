/* SPEC 11: resource and address rules for limited tokens (policy.h). */
#include "authn/policy.h"

#include <string.h>

#include <jansson.h>

/* The resource descriptors come with store/store.h (policy.h). */


#define API_SEGMENT "/api/v1/"

typedef struct kind_name {
    const char *collection;
    policy_kind kind;
} kind_name;

/* Every collection a token route may have. Object collections first; the
 * rest are named so that an {id} under them is a decision, not an
 * accident. */
static const kind_name KINDS[] = {
    {"servers", PK_SERVER},       {"applications", PK_APPLICATION},
    {"databases", PK_DATABASE},   {"deployments", PK_DEPLOYMENT},
    {"backups", PK_BACKUP},       {"restores", PK_RESTORE},
    {"token", PK_SELF},           {"credentials", PK_SELF},
    {"openapi.json", PK_SELF},
};

const char *policy_kind_name(policy_kind k)
{
    switch (k) {
    case PK_SELF: return "self";
    case PK_TEAM: return "team";
    case PK_SERVER: return "server";
    case PK_APPLICATION: return "application";
    case PK_DATABASE: return "database";
    case PK_DEPLOYMENT: return "deployment";
    case PK_BACKUP: return "backup";
    case PK_RESTORE: return "restore";
    default: return "unknown";
    }
}

static policy_kind kind_of_segment(const char *seg, size_t n, policy_kind otherwise)
{
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strlen(KINDS[i].collection) == n && memcmp(KINDS[i].collection, seg, n) == 0)
            return KINDS[i].kind;
    return otherwise;
}

policy_route policy_route_of(const char *pattern)
{
    policy_route pr = {.has_id = false, .id_kind = PK_SELF, .collection = PK_SELF};
    size_t plen = strlen(API_SEGMENT);
    if (strncmp(pattern, API_SEGMENT, plen) != 0)
        return pr;
    const char *p = pattern + plen;
    const char *slash = strchr(p, '/');
    size_t first = slash ? (size_t)(slash - p) : strlen(p);
    pr.collection = kind_of_segment(p, first, PK_TEAM);
    /* The collection an {id} belongs to is the segment right before it. */
    const char *prev = p;
    size_t prevlen = 0;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 4 && memcmp(p, "{id}", 4) == 0) {
            pr.has_id = true;
            pr.id_kind = prevlen ? kind_of_segment(prev, prevlen, PK_UNKNOWN) : PK_UNKNOWN;
            if (pr.id_kind == PK_SELF || pr.id_kind == PK_TEAM)
                pr.id_kind = PK_UNKNOWN;
            break;
        }
        prev = p;
        prevlen = n;
        if (!end)
            break;
        p = end + 1;
    }
    return pr;
}

bool policy_addr_allowed(const principal_t *who, const char *client_addr)
{
    return addrs_allow(&who->allowed_ips, client_addr);
}

static const resource_desc *desc_of(policy_kind k)
{
    switch (k) {
    case PK_SERVER: return &RES_SERVERS;
    case PK_APPLICATION: return &RES_APPLICATIONS;
    case PK_DATABASE: return &RES_DATABASES;
    case PK_DEPLOYMENT: return &RES_DEPLOYMENTS;
    case PK_BACKUP: return &RES_BACKUPS;
    case PK_RESTORE: return &RES_RESTORES;
    default: return NULL;
    }
}

/* The kind of the object one step up the chain. */
static policy_kind parent_kind(policy_kind k)
{
    switch (k) {
    case PK_APPLICATION:
    case PK_DATABASE: return PK_SERVER;
    case PK_DEPLOYMENT: return PK_APPLICATION;
    case PK_BACKUP: return PK_DATABASE;
    case PK_RESTORE: return PK_BACKUP;
    default: return PK_UNKNOWN;
    }
}

static grant_kind grant_kind_of(policy_kind k)
{
    switch (k) {
    case PK_SERVER: return GRANT_SERVER;
    case PK_APPLICATION: return GRANT_APPLICATION;
    case PK_DATABASE: return GRANT_DATABASE;
    default: return GRANT_KINDS;
    }
}

policy_verdict policy_object(store_t *s, const principal_t *who, policy_kind k, int64_t id)
{
    const token_grant *g = &who->resources;
    if (!g->limited)
        return POLICY_ALLOW;
    /* At most four steps: restore -> backup -> database -> server. */
    for (int depth = 0; depth < 5; depth++) {
        grant_kind gk = grant_kind_of(k);
        if (gk != GRANT_KINDS && grant_has(g, gk, id))
            return POLICY_ALLOW;
        policy_kind up = parent_kind(k);
        const resource_desc *d = desc_of(k);
        if (up == PK_UNKNOWN || !d)
            return POLICY_NOT_FOUND;
        int64_t parent = 0;
        piora_err e = store_obj_parent(s, d, who->team_id, id, &parent);
        if (e == PIORA_ENOTFOUND)
            return POLICY_NOT_FOUND;
        if (e != PIORA_OK)
            return POLICY_UNAVAILABLE;
        k = up;
        id = parent;
    }
    return POLICY_NOT_FOUND;
}

/* The references a write's body may make to a parent. */
static const struct {
    const char *field;
    policy_kind kind;
} BODY_REFS[] = {
    {"server_id", PK_SERVER},
    {"application_id", PK_APPLICATION},
    {"database_id", PK_DATABASE},
    {"backup_id", PK_BACKUP},
};

static policy_verdict body_refs(store_t *s, const principal_t *who, const char *body, size_t n)
{
    if (!body || n == 0)
        return POLICY_ALLOW;
    json_error_t jerr;
    json_t *v = json_loadb(body, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!json_is_object(v)) {
        json_decref(v);
        return POLICY_ALLOW; /* the handler answers 400 */
    }
    policy_verdict out = POLICY_ALLOW;
    for (size_t i = 0; i < sizeof BODY_REFS / sizeof BODY_REFS[0] && out == POLICY_ALLOW; i++) {
        json_t *ref = json_object_get(v, BODY_REFS[i].field);
        /* Anything but a positive id is the handler's 422. */
        if (json_is_integer(ref) && json_integer_value(ref) > 0)
            out = policy_object(s, who, BODY_REFS[i].kind, json_integer_value(ref));
    }
    json_decref(v);
    return out;
}

policy_verdict policy_check(store_t *s, const principal_t *who, const policy_route *pr,
                            bool read_only, bool is_post, int64_t id, const char *body,
                            size_t body_len)
{
    if (!who->resources.limited)
        return POLICY_ALLOW;
    if (pr->has_id) {
        if (pr->id_kind == PK_UNKNOWN)
            return POLICY_NOT_FOUND;
        policy_verdict v = policy_object(s, who, pr->id_kind, id);
        if (v != POLICY_ALLOW)
            return v;
    } else if (pr->collection == PK_SERVER && is_post) {
        return POLICY_RESTRICTED;
    } else if (pr->collection == PK_TEAM && !read_only) {
        return POLICY_RESTRICTED;
    }
    return read_only ? POLICY_ALLOW : body_refs(s, who, body, body_len);
}
