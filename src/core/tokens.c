/* The token service (SPEC 2): validation of what a caller asks for, making
 * the secret, and the rules for revoke, regenerate and leaked credentials.
 * The plain secret lives only in the caller's buffer; it is never logged
 * and never stored (only its SHA-256 digest is). */
#include "core/tokens.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/audit.h"
#include "store/change.h"
#include "util/clock.h"
#include "util/json.h"

/* SPEC 2 offers up to 365 days or a custom date; ten years (with their leap
 * days) bounds the custom date so that no token is effectively eternal by
 * accident: "never" is the explicit way to ask for that. */
#define TOKEN_LIFETIME_MAX_S ((int64_t)3653 * 86400)

bool tokens_parse_duration(const char *s, int64_t *seconds)
{
    if (!s || !*s)
        return false;
    if (strcmp(s, "never") == 0) {
        *seconds = EXPIRES_NEVER;
        return true;
    }
    int64_t n = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (i >= 12) /* far beyond ten years in any unit; avoids overflow */
            return false;
        n = n * 10 + (s[i] - '0');
    }
    if (i == 0 || s[i] == '\0' || s[i + 1] != '\0')
        return false;
    int64_t unit;
    switch (s[i]) {
    case 'd': unit = 86400; break;
    case 'h': unit = 3600; break;
    case 'm': unit = 60; break;
    case 's': unit = 1; break;
    default: return false;
    }
    if (n == 0 || n > TOKEN_LIFETIME_MAX_S / unit)
        return false;
    *seconds = n * unit;
    return true;
}

/* A token name is shown in lists and tables: valid UTF-8 without C0/C1
 * control characters or DEL, so it can neither break a terminal nor a log. */
/* One line of UTF-8 text of at most max bytes, without control
 * characters (C0, DEL, C1): a name, or a note (where "" is allowed). */
static const char *check_line(const char *v, size_t max, bool empty_ok)
{
    if (!v || (!*v && !empty_ok))
        return "must not be empty";
    size_t n = strlen(v);
    if (n > max)
        return max == TOKEN_NAME_MAX ? "must be at most 100 bytes" : "must be at most 500 bytes";
    if (!utf8_valid(v, n))
        return "must be valid UTF-8";
    const unsigned char *p = (const unsigned char *)v;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            return "must not contain control characters";
        if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            return "must not contain control characters";
    }
    return NULL;
}

static const char *check_token_name(const char *name)
{
    return check_line(name, TOKEN_NAME_MAX, false);
}

static const char *check_token_note(const char *note)
{
    return note ? check_line(note, TOKEN_NOTE_MAX, true) : NULL;
}

/* Makes a fresh secret with its digest and hint. The digest is all that
 * reaches the database. */
static piora_err make_secret(char secret[TOKEN_LEN + 1], uint8_t digest[TOKEN_DIGEST_LEN],
                             char hint[TOKEN_HINT_MAX])
{
    piora_err e = token_generate(secret);
    if (e != PIORA_OK)
        return e;
    token_digest(secret, TOKEN_LEN, digest);
    token_hint(secret, hint);
    return PIORA_OK;
}

/* The entry of a change to token t: its owner is the user concerned. */
static void audit_token_detail(store_t *s, const actor *who, audit_action a, const token_rec *t,
                               const char *detail)
{
    audit_event ev = {.action = a, .team_id = t->team_id, .token_id = t->id,
                      .token_name = t->name, .subject_user_id = t->user_id,
                      .email = who->email, .detail = detail};
    audit_record(s, who, &ev);
}

static void audit_token(store_t *s, const actor *who, audit_action a, const token_rec *t)
{
    audit_token_detail(s, who, a, t, NULL);
}

static const resource_desc *grant_desc(grant_kind k)
{
    switch (k) {
    case GRANT_SERVER: return &RES_SERVERS;
    case GRANT_APPLICATION: return &RES_APPLICATIONS;
    case GRANT_DATABASE: return &RES_DATABASES;
    default: return NULL;
    }
}

/* Every granted id must be an object of the owner's team when the token is
 * made: a grant naming nothing (or another team's object) would silently
 * reach whatever later gets that id. */
static piora_err check_grant_team(store_t *s, int64_t team_id, const token_grant *g, verrs *errs)
{
    for (size_t i = 0; i < g->n; i++) {
        const resource_desc *d = grant_desc((grant_kind)g->kinds[i]);
        obj_row row;
        piora_err e = d ? store_obj_get(s, d, team_id, g->ids[i], &row) : PIORA_ENOTFOUND;
        if (e == PIORA_OK) {
            obj_row_clear(&row);
            continue;
        }
        if (e != PIORA_ENOTFOUND)
            return e;
        verrs_add(errs, "resources", "%s %lld is not one of your team's %s",
                  d ? d->singular : "object", (long long)g->ids[i],
                  grant_kind_name((grant_kind)g->kinds[i]));
    }
    return errs->n ? PIORA_EINVALID : PIORA_OK;
}

piora_err tokens_grant_in_team(store_t *s, int64_t team_id, const token_grant *g, verrs *errs)
{
    return check_grant_team(s, team_id, g, errs);
}

bool tokens_limits_from_json(const json_t *resources, const json_t *allowed_ips, char *resbuf,
                             size_t reslen, const char **res, char *ipbuf, size_t iplen,
                             const char **ips, verrs *errs)
{
    size_t before = errs->n;
    *res = NULL;
    *ips = NULL;
    if (resources && !json_is_null(resources)) {
        if (!json_is_object(resources)) {
            verrs_add(errs, "resources",
                      "must be an object {\"servers\": [ids], \"applications\": [ids], "
                      "\"databases\": [ids]}");
        } else {
            token_grant g = {.limited = true};
            const char *key;
            json_t *v;
            json_object_foreach((json_t *)resources, key, v) {
                grant_kind k = grant_kind_from_name(key, strlen(key));
                if (k == GRANT_KINDS || strcmp(key, grant_kind_name(k)) != 0 ||
                    !json_is_array(v)) {
                    verrs_add(errs, "resources",
                              "\"%.40s\" is not servers, applications or databases with an "
                              "array of ids",
                              key);
                    break;
                }
                size_t i;
                json_t *id;
                json_array_foreach(v, i, id) {
                    if (!json_is_integer(id) || json_integer_value(id) <= 0) {
                        verrs_add(errs, "resources", "%s: ids must be positive integers", key);
                        break;
                    }
                    if (!grant_add(&g, k, json_integer_value(id))) {
                        verrs_add(errs, "resources", "at most %d resources", GRANT_IDS_MAX);
                        break;
                    }
                }
                if (errs->n > before)
                    break;
            }
            if (errs->n == before) {
                grant_format(&g, resbuf, reslen);
                *res = resbuf;
            }
        }
    }
    if (allowed_ips && !json_is_null(allowed_ips)) {
        size_t used = 0;
        bool ok = true;
        if (json_is_string(allowed_ips)) {
            used = (size_t)snprintf(ipbuf, iplen, "%s", json_string_value(allowed_ips));
            ok = used < iplen;
        } else if (json_is_array(allowed_ips)) {
            ipbuf[0] = '\0';
            size_t i;
            json_t *v;
            json_array_foreach(allowed_ips, i, v) {
                const char *a = json_string_value(v);
                if (!a || strpbrk(a, ", \t\r\n") || !*a) {
                    ok = false;
                    break;
                }
                int w = snprintf(ipbuf + used, iplen - used, "%s%s", used ? "," : "", a);
                if (w < 0 || (size_t)w >= iplen - used) {
                    ok = false;
                    break;
                }
                used += (size_t)w;
            }
        } else {
            ok = false;
        }
        if (!ok)
            verrs_add(errs, "allowed_ips",
                      "must be a list of at most %d IPv4/IPv6 addresses or CIDR blocks",
                      ADDRS_MAX);
        else
            *ips = ipbuf;
    }
    return errs->n == before;
}

piora_err tokens_create(store_t *s, const actor *who, const token_create_req *rq,
                        char secret[TOKEN_LEN + 1], token_rec *out, verrs *errs)
{
    verrs local;
    if (!errs)
        errs = &local;
    memset(errs, 0, sizeof *errs);
    secret[0] = '\0';

    const char *msg = check_token_name(rq->name);
    if (msg)
        verrs_add(errs, "name", "%s", msg);
    if ((msg = check_token_note(rq->note)))
        verrs_add(errs, "note", "%s", msg);

    scope_set scopes = 0;
    char bad[64] = "";
    if (rq->scopes && !scopes_parse(rq->scopes, &scopes, bad, sizeof bad))
        verrs_add(errs, "scopes", "unknown scope \"%s\"", bad);
    else if (scopes == 0)
        verrs_add(errs, "scopes", "at least one scope is required");

    int64_t now = clock_now(), expires_at = 0;
    if (rq->expires_at != 0) {
        if (rq->expires_at <= now)
            verrs_add(errs, "expires_at", "must be in the future");
        else if (rq->expires_at - now > TOKEN_LIFETIME_MAX_S)
            verrs_add(errs, "expires_at", "must be at most 10 years ahead");
        else
            expires_at = rq->expires_at;
    } else if (rq->expires_in != EXPIRES_NEVER) {
        int64_t in = rq->expires_in ? rq->expires_in : EXPIRES_DEFAULT_S;
        if (in < 0 || in > TOKEN_LIFETIME_MAX_S)
            verrs_add(errs, "expires_in", "must be between 1 second and 10 years");
        else
            expires_at = now + in;
    }
    token_grant grant;
    token_addrs addrs;
    char why[160];
    if (!grant_parse(rq->resources, &grant, why, sizeof why))
        verrs_add(errs, "resources", "%s", why);
    if (!addrs_parse(rq->allowed_ips, &addrs, why, sizeof why))
        verrs_add(errs, "allowed_ips", "%s", why);
    if (errs->n)
        return PIORA_EINVALID;

    user_rec u;
    piora_err e = store_user_by_id(s, rq->user_id, &u);
    if (e != PIORA_OK)
        return e;
    if (u.disabled_at || u.removed_at) { /* offboarded: nothing new may act for them */
        verrs_add(errs, "email", "the user is disabled");
        return PIORA_EINVALID;
    }
    if ((e = check_grant_team(s, u.team_id, &grant, errs)) != PIORA_OK)
        return e;

    token_new tn = {.user_id = u.id, .name = rq->name, .scopes = scopes,
                    .expires_at = expires_at, .resources = &grant, .allowed_ips = &addrs,
                    .note = rq->note};
    char hint[TOKEN_HINT_MAX];
    e = make_secret(secret, tn.digest, hint);
    token_rec t;
    if (e == PIORA_OK) {
        tn.hint = hint;
        e = store_token_insert(s, &tn, &t);
    }
    if (e != PIORA_OK) {
        sodium_memzero(secret, TOKEN_LEN + 1);
        return e;
    }
    audit_token(s, who, AUDIT_TOKEN_CREATED, &t);
    if (out)
        *out = t;
    return PIORA_OK;
}

/* Set once by app/ before any request is served, read by every request. */
static tokens_pending_fn pending_lookup;

void tokens_set_pending(tokens_pending_fn fn) { pending_lookup = fn; }

void tokens_merge_pending(token_rec *t)
{
    int64_t at = 0;
    char addr[ADDR_MAX];
    if (!pending_lookup || !pending_lookup(t->id, &at, addr, sizeof addr))
        return;
    if (at < t->last_used_at)
        return;
    t->last_used_at = at;
    if (addr[0])
        memcpy(t->last_used_addr, addr, sizeof t->last_used_addr);
}

piora_err tokens_get(store_t *s, int64_t id, int64_t user_id, token_rec *t)
{
    if (id <= 0)
        return PIORA_ENOTFOUND;
    piora_err e = store_token_by_id(s, id, t);
    if (e != PIORA_OK)
        return e;
    if (user_id > 0 && t->user_id != user_id)
        return PIORA_ENOTFOUND;
    tokens_merge_pending(t);
    return PIORA_OK;
}

piora_err tokens_list(store_t *s, int64_t user_id, token_rec **out, size_t *n)
{
    piora_err e = store_token_list(s, user_id, out, n);
    if (e == PIORA_OK)
        for (size_t i = 0; i < *n; i++)
            tokens_merge_pending(&(*out)[i]);
    return e;
}

piora_err tokens_revoke(store_t *s, const actor *who, int64_t id, int64_t user_id)
{
    token_rec t;
    piora_err e = tokens_get(s, id, user_id, &t);
    if (e != PIORA_OK)
        return e;
    if (t.revoked_at != 0)
        return PIORA_OK;
    e = store_token_revoke(s, id, clock_now());
    if (e != PIORA_OK)
        return e;
    change_wait_visible(s); /* every serving process sees it before we return */
    audit_token(s, who, AUDIT_TOKEN_REVOKED, &t);
    return PIORA_OK;
}

/* The new secret gets the lifetime the token was created with, counted
 * from now: regenerating rotates a secret without shortening or silently
 * extending what the owner chose. A token without expiry stays so. */
piora_err tokens_regenerate(store_t *s, const actor *who, int64_t id, int64_t user_id,
                            char secret[TOKEN_LEN + 1], token_rec *out)
{
    secret[0] = '\0';
    token_rec t;
    piora_err e = tokens_get(s, id, user_id, &t);
    if (e != PIORA_OK)
        return e;
    if (t.revoked_at != 0)
        return PIORA_ECONFLICT;

    int64_t now = clock_now(), expires_at = 0;
    if (t.expires_at != 0) {
        int64_t life = t.expires_at - t.created_at;
        if (life <= 0)
            life = EXPIRES_DEFAULT_S;
        if (life > TOKEN_LIFETIME_MAX_S)
            life = TOKEN_LIFETIME_MAX_S;
        expires_at = now + life;
    }

    uint8_t digest[TOKEN_DIGEST_LEN];
    char hint[TOKEN_HINT_MAX];
    e = make_secret(secret, digest, hint);
    if (e == PIORA_OK) {
        e = store_token_regenerate(s, id, digest, hint, expires_at, now, &t);
        if (e == PIORA_OK)
            change_wait_visible(s); /* the old secret is dead everywhere first */
    }
    if (e != PIORA_OK) {
        sodium_memzero(secret, TOKEN_LEN + 1);
        return e;
    }
    audit_token(s, who, AUDIT_TOKEN_REGENERATED, &t);
    if (out)
        *out = t;
    return PIORA_OK;
}

/* A hidden token is gone from its owner's view: changing it is ENOTFOUND,
 * as for a missing one. */
static piora_err listed_token(store_t *s, int64_t id, int64_t user_id, token_rec *t)
{
    piora_err e = tokens_get(s, id, user_id, t);
    return e == PIORA_OK && t->hidden_at ? PIORA_ENOTFOUND : e;
}

piora_err tokens_update(store_t *s, const actor *who, int64_t id, int64_t user_id,
                        const char *name, bool set_note, const char *note, verrs *errs)
{
    const char *msg;
    if (name && (msg = check_token_name(name)))
        verrs_add(errs, "name", "%s", msg);
    if (!note)
        note = "";
    if (set_note && (msg = check_token_note(note)))
        verrs_add(errs, "note", "%s", msg);
    if (errs->n)
        return PIORA_EINVALID;
    token_rec t;
    piora_err e = listed_token(s, id, user_id, &t);
    if (e != PIORA_OK)
        return e;
    int64_t now = clock_now();
    if (name && strcmp(t.name, name) != 0) {
        if ((e = store_token_rename(s, id, name, now)) != PIORA_OK)
            return e;
        char was[TOKEN_NAME_MAX + 16];
        snprintf(was, sizeof was, "was \"%s\"", t.name);
        snprintf(t.name, sizeof t.name, "%s", name); /* the entry names the token as it is now */
        audit_token_detail(s, who, AUDIT_TOKEN_RENAMED, &t, was);
    }
    if (set_note && strcmp(t.note, note) != 0) {
        if ((e = store_token_set_note(s, id, note, now)) != PIORA_OK)
            return e;
        audit_token_detail(s, who, AUDIT_TOKEN_NOTE_CHANGED, &t,
                           *note ? "note set" : "note cleared");
    }
    return PIORA_OK;
}

piora_err tokens_remove_from_list(store_t *s, const actor *who, int64_t id, int64_t user_id)
{
    token_rec t;
    piora_err e = listed_token(s, id, user_id, &t);
    if (e != PIORA_OK)
        return e;
    if ((e = store_token_hide(s, id, clock_now())) != PIORA_OK)
        return e;
    audit_token(s, who, AUDIT_TOKEN_REMOVED_FROM_LIST, &t);
    return PIORA_OK;
}

piora_err tokens_revoke_leaked(store_t *s, const actor *who, const char *const *tokens, size_t n,
                               size_t *revoked)
{
    size_t count = 0;
    piora_err result = PIORA_OK;
    int64_t now = clock_now();
    for (size_t i = 0; i < n; i++) {
        const char *tok = tokens[i];
        if (!tok)
            continue;
        size_t len = strnlen(tok, TOKEN_LEN + 1);
        if (!token_well_formed(tok, len))
            continue;
        uint8_t digest[TOKEN_DIGEST_LEN];
        token_digest(tok, len, digest);
        token_rec t;
        piora_err e = store_token_by_digest(s, digest, &t);
        if (e == PIORA_ENOTFOUND)
            continue;
        if (e == PIORA_OK && t.revoked_at == 0) {
            e = store_token_revoke(s, t.id, now);
            if (e == PIORA_OK) {
                count++;
                audit_token(s, who, AUDIT_TOKEN_REVOKED, &t);
            }
        }
        /* One failure does not stop the others from being revoked. */
        if (e != PIORA_OK && result == PIORA_OK)
            result = e;
    }
    if (revoked)
        *revoked = count;
    if (count)
        change_wait_visible(s);
    return result;
}

static json_t *time_or_null(int64_t t)
{
    if (t == 0)
        return json_null();
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(t, ts);
    return json_string(ts);
}

json_t *tokens_resources_json(const token_grant *g)
{
    if (!g->limited)
        return json_null();
    json_t *o = json_object();
    for (int k = 0; k < GRANT_KINDS; k++)
        json_object_set_new(o, grant_kind_name((grant_kind)k), json_array());
    for (size_t i = 0; i < g->n; i++)
        json_array_append_new(json_object_get(o, grant_kind_name((grant_kind)g->kinds[i])),
                              json_integer(g->ids[i]));
    return o;
}

json_t *tokens_addrs_json(const token_addrs *a)
{
    if (!a->limited)
        return json_null();
    json_t *arr = json_array();
    for (size_t i = 0; i < a->n; i++) {
        char t[CIDR_TEXT_MAX];
        cidr_format(&a->nets[i], t);
        json_array_append_new(arr, json_string(t));
    }
    return arr;
}

json_t *tokens_to_json(const token_rec *rec, int64_t now)
{
    /* Whoever read the record, the answer shows the pending last use. */
    token_rec merged = *rec;
    tokens_merge_pending(&merged);
    const token_rec *t = &merged;
    json_t *scopes = json_array();
    for (int i = 0; i < SCOPE_COUNT; i++)
        if (t->scopes & (1u << i))
            json_array_append_new(scopes, json_string(scope_name(i)));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "scopes", scopes);
    json_object_set_new(o, "hint", json_string(t->hint));
    json_object_set_new(o, "created_at", time_or_null(t->created_at));
    json_object_set_new(o, "last_used_at", time_or_null(t->last_used_at));
    json_object_set_new(o, "expires_at", time_or_null(t->expires_at));
    json_object_set_new(o, "status", json_string(token_status_name(token_rec_status(t, now))));
    if (t->last_used_addr[0])
        json_object_set_new(o, "last_used_addr", json_string(t->last_used_addr));
    json_object_set_new(o, "resources", tokens_resources_json(&t->resources));
    json_object_set_new(o, "allowed_ips", tokens_addrs_json(&t->allowed_ips));
    json_object_set_new(o, "note", t->note[0] ? json_string(t->note) : json_null());
    json_object_set_new(o, "regenerated_at", time_or_null(t->regenerated_at));
    return o;
}
