/* Trusted publishers and the OIDC exchange (SPEC 12). The order of the
 * exchange's checks is the order of trust: the JWT's shape, an issuer some
 * team registered (only then is anything fetched), its key and signature,
 * then per publisher the time and audience rules and the claim conditions,
 * and last the jti, spent only by a JWT that passed everything else. */
#include "core/publishers.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/grant.h"
#include "auth/jwt.h"
#include "core/audit.h"
#include "core/oidc.h"
#include "core/tokens.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/num.h"

const char *const publishers_claim_keys[] = {
    /* GitHub Actions */
    "repository", "repository_owner_id", "repository_id", "job_workflow_ref", "environment",
    "workflow_ref",
    /* GitLab CI */
    "project_path", "project_id", "namespace_id", "namespace_path", "ci_config_ref_uri",
    /* both */
    "sub", NULL};

static bool claim_key_known(const char *k, size_t n)
{
    for (size_t i = 0; publishers_claim_keys[i]; i++)
        if (strlen(publishers_claim_keys[i]) == n && memcmp(publishers_claim_keys[i], k, n) == 0)
            return true;
    return false;
}

/* Printable text without control characters (a value shown in tables and
 * written to logs), valid UTF-8. */
static bool text_printable(const char *v, size_t n)
{
    if (!utf8_valid(v, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static const char *check_publisher_name(const char *name)
{
    if (!name || !*name)
        return "must not be empty";
    size_t n = strlen(name);
    if (n > PUBLISHER_NAME_MAX)
        return "must be at most 64 characters";
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == ' '))
            return "may hold only letters, digits, spaces and . _ -";
    }
    return NULL;
}

static const char *check_publisher_issuer(const char *iss)
{
    if (!iss || !*iss)
        return "is required";
    size_t n = strlen(iss);
    if (n > OIDC_URL_MAX)
        return "must be at most 255 characters";
    if (strncmp(iss, "https://", 8) != 0 || n == 8 || iss[8] == '/')
        return "must be an https:// URL with a host";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)iss[i];
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '@')
            return "must be a plain https:// URL (no spaces, query, fragment or user)";
    }
    return NULL;
}

/* SPEC 11's list form, parsed as tokens parse it; out gets the canonical
 * text ("" when in is NULL or empty: every object). */
static bool resources_parse(const char *in, token_grant *g, char *out, size_t outlen,
                            verrs *errs)
{
    out[0] = '\0';
    memset(g, 0, sizeof *g);
    if (!in || !*in)
        return true;
    char why[160];
    if (!grant_parse(in, g, why, sizeof why)) {
        verrs_add(errs, "resources", "%s", why);
        return false;
    }
    if (g->n == 0) {
        verrs_add(errs, "resources", "name at least one object, or leave it empty for all");
        return false;
    }
    grant_format(g, out, outlen);
    return true;
}

static void audit_publisher(store_t *s, const actor *who, audit_action a, const publisher_rec *p)
{
    char detail[AUDIT_DETAIL_MAX + 1];
    snprintf(detail, sizeof detail, "publisher %s (id %lld); issuer %s", p->name,
             (long long)p->id, p->issuer);
    audit_event ev = {.action = a, .team_id = p->team_id, .email = who->email,
                      .detail = detail};
    audit_record(s, who, &ev);
}

piora_err publishers_add(store_t *s, const actor *who, const publisher_req *rq,
                         publisher_rec *out, verrs *errs)
{
    verrs local;
    if (!errs)
        errs = &local;
    memset(errs, 0, sizeof *errs);
    const char *msg;
    if ((msg = check_publisher_name(rq->name)))
        verrs_add(errs, "name", "%s", msg);
    if ((msg = check_publisher_issuer(rq->issuer)))
        verrs_add(errs, "issuer", "%s", msg);
    const char *aud = rq->audience && *rq->audience ? rq->audience : PUBLISHER_DEFAULT_AUDIENCE;
    if (strlen(aud) > OIDC_AUDIENCE_MAX || !text_printable(aud, strlen(aud)))
        verrs_add(errs, "audience", "must be at most 255 printable characters");

    char claims[OIDC_CLAIMS_MAX + 1] = "";
    size_t used = 0;
    if (rq->nclaims > PUBLISHER_CLAIMS_MAX)
        verrs_add(errs, "claims", "at most %d conditions", PUBLISHER_CLAIMS_MAX);
    for (size_t i = 0; i < rq->nclaims && i < PUBLISHER_CLAIMS_MAX; i++) {
        const char *c = rq->claims[i] ? rq->claims[i] : "";
        const char *eq = strchr(c, '=');
        size_t kl = eq ? (size_t)(eq - c) : 0, vl = eq ? strlen(eq + 1) : 0;
        if (!eq || !claim_key_known(c, kl)) {
            verrs_add(errs, "claims", "condition %zu must be KEY=VALUE with KEY one of the known "
                      "claims (repository, repository_owner_id, job_workflow_ref, environment, "
                      "project_path, namespace_id, ...)", i + 1);
            continue;
        }
        if (vl == 0 || vl > OIDC_GLOB_MAX || !text_printable(eq + 1, vl)) {
            verrs_add(errs, "claims", "the value of %.*s must be 1 to 255 printable characters",
                      (int)kl, c);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (rq->claims[j] && strncmp(rq->claims[j], c, kl + 1) == 0)
                verrs_add(errs, "claims", "%.*s is given twice", (int)kl, c);
        int w = snprintf(claims + used, sizeof claims - used, "%s\n", c);
        if (w < 0 || (size_t)w >= sizeof claims - used)
            verrs_add(errs, "claims", "are too long together");
        else
            used += (size_t)w;
    }
    const char *glob = rq->ref_glob && *rq->ref_glob ? rq->ref_glob : NULL;
    if (glob && (strlen(glob) > OIDC_GLOB_MAX || !text_printable(glob, strlen(glob))))
        verrs_add(errs, "ref_glob", "must be at most 255 printable characters");

    scope_set scopes = 0;
    char bad[64] = "";
    if (!rq->scopes || !scopes_parse(rq->scopes, &scopes, bad, sizeof bad))
        verrs_add(errs, "scopes", rq->scopes ? "unknown scope \"%s\"" : "%sare required", bad);
    else if (scopes == 0)
        verrs_add(errs, "scopes", "at least one scope is required");
    char resources[GRANT_TEXT_MAX + 1];
    token_grant grant;
    bool grant_ok = resources_parse(rq->resources, &grant, resources, sizeof resources, errs);

    user_rec u;
    piora_err e = store_user_by_id(s, rq->user_id, &u);
    if (e == PIORA_ENOTFOUND)
        verrs_add(errs, "email", "no such user");
    else if (e != PIORA_OK)
        return e;
    else if (!u.is_admin)
        verrs_add(errs, "email", "only a team admin may register trusted publishers");
    else if (grant_ok && grant.limited &&
             (e = tokens_grant_in_team(s, u.team_id, &grant, errs)) != PIORA_OK &&
             e != PIORA_EINVALID)
        return e;
    if (strlen(resources) > OIDC_RESOURCES_MAX)
        verrs_add(errs, "resources", "are too many");
    if (errs->n)
        return PIORA_EINVALID;

    publisher_new pn = {.user_id = u.id, .name = rq->name, .issuer = rq->issuer,
                        .audience = aud, .claims = claims, .ref_glob = glob, .scopes = scopes,
                        .resources = resources[0] ? resources : NULL};
    publisher_rec p;
    e = store_publisher_insert(s, &pn, &p);
    if (e != PIORA_OK)
        return e;
    audit_publisher(s, who, AUDIT_PUBLISHER_ADDED, &p);
    if (out)
        *out = p;
    return PIORA_OK;
}

piora_err publishers_list(store_t *s, int64_t team_id, publisher_rec **out, size_t *n)
{
    return store_publisher_list(s, team_id, out, n);
}

piora_err publishers_remove(store_t *s, const actor *who, int64_t team_id, int64_t id)
{
    if (id <= 0)
        return PIORA_ENOTFOUND;
    publisher_rec p;
    piora_err e = store_publisher_get(s, team_id, id, &p);
    if (e == PIORA_OK)
        e = store_publisher_delete(s, team_id, id);
    if (e == PIORA_OK)
        audit_publisher(s, who, AUDIT_PUBLISHER_REMOVED, &p);
    return e;
}

/* ---- JSON ---------------------------------------------------------------- */

json_t *publishers_resources_json(const char *resources)
{
    token_grant g;
    char why[160];
    if (!resources || !*resources || !grant_parse(resources, &g, why, sizeof why))
        return json_null();
    return tokens_resources_json(&g);
}

static json_t *claims_json(const char *claims)
{
    json_t *o = json_object();
    const char *p = claims;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq) {
            char key[64];
            size_t kl = (size_t)(eq - p);
            if (kl < sizeof key) {
                memcpy(key, p, kl);
                key[kl] = '\0';
                json_object_set_new(o, key, json_stringn(eq + 1, len - kl - 1));
            }
        }
        p = nl ? nl + 1 : p + len;
    }
    return o;
}

static json_t *scopes_json(scope_set set)
{
    json_t *a = json_array();
    for (int i = 0; i < SCOPE_COUNT; i++)
        if (set & (1u << i))
            json_array_append_new(a, json_string(scope_name(i)));
    return a;
}

json_t *publishers_to_json(const publisher_rec *p)
{
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(p->created_at, ts);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(p->id));
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "issuer", json_string(p->issuer));
    json_object_set_new(o, "audience", json_string(p->audience));
    json_object_set_new(o, "claims", claims_json(p->claims));
    json_object_set_new(o, "ref_glob", p->ref_glob[0] ? json_string(p->ref_glob) : json_null());
    json_object_set_new(o, "scopes", scopes_json(p->scopes));
    json_object_set_new(o, "resources", publishers_resources_json(p->resources));
    json_object_set_new(o, "created_at", json_string(ts));
    json_object_set_new(o, "created_by", json_string(p->owner_email));
    return o;
}

/* ---- the exchange -------------------------------------------------------- */

/* A claim as text for matching: strings as they are, integers in decimal
 * (GitLab's ids may come as numbers), booleans as true/false. */
static bool claim_text(const jwt_t *t, const char *name, char *out, size_t outlen)
{
    const json_t *v = json_object_get(t->claims, name);
    if (json_is_string(v))
        return (size_t)snprintf(out, outlen, "%s", json_string_value(v)) < outlen;
    if (json_is_integer(v))
        return (size_t)snprintf(out, outlen, "%lld", (long long)json_integer_value(v)) < outlen;
    if (json_is_boolean(v))
        return (size_t)snprintf(out, outlen, "%s", json_is_true(v) ? "true" : "false") < outlen;
    return false;
}

/* The claim conditions and ref glob of p; *why names the first that fails
 * (a static phrase, or one built in whybuf). */
static bool claims_match(const jwt_t *t, const publisher_rec *p, char *whybuf, size_t whylen,
                         const char **why)
{
    const char *c = p->claims;
    char val[OIDC_CLAIMS_MAX + 1];
    while (*c) {
        const char *nl = strchr(c, '\n');
        size_t len = nl ? (size_t)(nl - c) : strlen(c);
        const char *eq = memchr(c, '=', len);
        if (eq) {
            char key[64];
            size_t kl = (size_t)(eq - c);
            if (kl >= sizeof key)
                kl = sizeof key - 1;
            memcpy(key, c, kl);
            key[kl] = '\0';
            size_t want_len = len - (size_t)(eq + 1 - c);
            if (!claim_text(t, key, val, sizeof val)) {
                snprintf(whybuf, whylen, "claim %s is missing", key);
                *why = whybuf;
                return false;
            }
            if (strlen(val) != want_len || memcmp(val, eq + 1, want_len) != 0) {
                snprintf(whybuf, whylen, "claim %s does not match the publisher's", key);
                *why = whybuf;
                return false;
            }
        }
        c = nl ? nl + 1 : c + len;
    }
    if (p->ref_glob[0]) {
        if (!claim_text(t, "ref", val, sizeof val)) {
            *why = "claim ref is missing";
            return false;
        }
        if (fnmatch(p->ref_glob, val, 0) != 0) {
            *why = "claim ref is outside the publisher's ref glob";
            return false;
        }
    }
    return true;
}

/* A claim's value for the audit entry: printable, short. */
static void claim_for_audit(const jwt_t *t, const char *a, const char *b, char *out, size_t n)
{
    out[0] = '\0';
    if (!claim_text(t, a, out, n) && !(b && claim_text(t, b, out, n)))
        snprintf(out, n, "-");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';
    if (strlen(out) > 120)
        out[120] = '\0';
    if (!utf8_valid(out, strlen(out)))
        snprintf(out, n, "(not UTF-8)");
}

static void audit_failure(store_t *s, const actor *who, int64_t team_id, const char *why,
                          const char *issuer)
{
    char detail[AUDIT_DETAIL_MAX + 1], iss[160] = "-";
    if (issuer && text_printable(issuer, strlen(issuer)))
        snprintf(iss, sizeof iss, "%s", issuer);
    snprintf(detail, sizeof detail, "refused: %s; issuer %s", why, iss);
    audit_event ev = {.action = AUDIT_OIDC_FAILED, .team_id = team_id, .detail = detail};
    audit_record(s, who, &ev);
}

static piora_err refuse(store_t *s, const actor *who, int64_t team_id, const char *issuer,
                        const char *why, const char **out_why)
{
    audit_failure(s, who, team_id, why, issuer);
    *out_why = why;
    return PIORA_EAUTH;
}

piora_err publishers_exchange(store_t *s, const char *addr, const char *jwt, size_t len,
                              oidc_grant *out, const char **why)
{
    memset(out, 0, sizeof *out);
    actor who = {.channel = CHANNEL_OIDC, .addr = addr};
    static __thread char whybuf[160];
    jwt_t t;
    const char *w = NULL;
    if (!jwt_parse(jwt, len, &t, &w))
        return refuse(s, &who, 0, NULL, w, why);

    const char *iss = jwt_claim_str(&t, "iss");
    publisher_rec *cands = NULL;
    size_t n = 0;
    piora_err e = PIORA_OK;
    if (!iss || strncmp(iss, "https://", 8) != 0) {
        jwt_clear(&t);
        return refuse(s, &who, 0, NULL, "iss is not an https issuer", why);
    }
    e = store_publisher_list_issuer(s, iss, &cands, &n);
    if (e != PIORA_OK) {
        jwt_clear(&t);
        return e;
    }
    /* The issuer string is copied: the JWT's claims go with jwt_clear. */
    char issuer[OIDC_URL_MAX + 1];
    snprintf(issuer, sizeof issuer, "%s", iss);
    if (n == 0) {
        jwt_clear(&t);
        return refuse(s, &who, 0, issuer, "no trusted publisher has this issuer", why);
    }
    int64_t team_hint = cands[0].team_id;

    jwk_key key;
    if (!oidc_key(issuer, t.kid, t.alg, &key, &w) || !jwt_verify(&t, &key, &w)) {
        jwk_clear(&key);
        free(cands);
        jwt_clear(&t);
        return refuse(s, &who, team_hint, issuer, w, why);
    }
    jwk_clear(&key);

    int64_t now = clock_now();
    const publisher_rec *hit = NULL;
    const char *first_why = NULL;
    char first_buf[sizeof whybuf];
    for (size_t i = 0; i < n && !hit; i++) {
        const char *cw = NULL;
        if (jwt_check_claims(&t, issuer, cands[i].audience, now, &cw) &&
            claims_match(&t, &cands[i], whybuf, sizeof whybuf, &cw))
            hit = &cands[i];
        else if (!first_why) {
            snprintf(first_buf, sizeof first_buf, "%s", cw);
            first_why = first_buf;
            team_hint = cands[i].team_id;
        }
    }
    if (!hit) {
        snprintf(whybuf, sizeof whybuf, "%s", first_why);
        free(cands);
        jwt_clear(&t);
        return refuse(s, &who, team_hint, issuer, whybuf, why);
    }
    out->publisher = *hit;
    free(cands);

    const char *jti = jwt_claim_str(&t, "jti");
    const json_t *exp = json_object_get(t.claims, "exp");
    if (!jti || !*jti || strlen(jti) > OIDC_JTI_MAX || !text_printable(jti, strlen(jti))) {
        jwt_clear(&t);
        return refuse(s, &who, out->publisher.team_id, issuer, "jti is missing", why);
    }
    int64_t exp_s = json_is_integer(exp) ? json_integer_value(exp) : now;
    e = store_oidc_jti_use(s, issuer, jti, exp_s + JWT_LEEWAY_S, now);
    if (e == PIORA_ECONFLICT) {
        jwt_clear(&t);
        return refuse(s, &who, out->publisher.team_id, issuer, "jti was already used", why);
    }
    if (e != PIORA_OK) {
        jwt_clear(&t);
        return e;
    }

    /* Minted tokens act as the admin who registered the publisher: one who
     * was disabled or removed since (issue 13's offboarding) mints nothing. */
    user_rec owner;
    e = store_user_by_id(s, out->publisher.user_id, &owner);
    if (e == PIORA_ENOTFOUND || (e == PIORA_OK && (owner.disabled_at || owner.removed_at))) {
        jwt_clear(&t);
        return refuse(s, &who, out->publisher.team_id, issuer,
                      "the publisher's owner is disabled", why);
    }
    if (e != PIORA_OK) {
        jwt_clear(&t);
        return e;
    }

    char name[TOKEN_NAME_MAX + 1], scopes[SCOPES_STR_MAX];
    snprintf(name, sizeof name, "via trusted publisher %s", out->publisher.name);
    scopes_format(out->publisher.scopes, ",", scopes, sizeof scopes);
    token_create_req rq = {.user_id = out->publisher.user_id, .name = name, .scopes = scopes,
                           .expires_in = PUBLISHER_TOKEN_LIFETIME_S,
                           .resources = out->publisher.resources[0] ? out->publisher.resources
                                                                    : NULL};
    who.team_id = out->publisher.team_id;
    e = tokens_create(s, &who, &rq, out->secret, &out->token, NULL);
    if (e == PIORA_EINVALID) {
        /* an object the publisher names was deleted since it was registered */
        jwt_clear(&t);
        return refuse(s, &who, out->publisher.team_id, issuer,
                      "the publisher's resources are no longer all the team's objects", why);
    }
    if (e != PIORA_OK) {
        jwt_clear(&t);
        return e;
    }

    char repo[128], ref[128], sha[128], run[128], detail[AUDIT_DETAIL_MAX + 1];
    claim_for_audit(&t, "repository", "project_path", repo, sizeof repo);
    claim_for_audit(&t, "ref", NULL, ref, sizeof ref);
    claim_for_audit(&t, "sha", NULL, sha, sizeof sha);
    claim_for_audit(&t, "run_id", "pipeline_id", run, sizeof run);
    snprintf(detail, sizeof detail,
             "publisher %s (id %lld); repository %s; ref %s; commit %s; run %s",
             out->publisher.name, (long long)out->publisher.id, repo, ref, sha, run);
    audit_event ev = {.action = AUDIT_OIDC_EXCHANGED, .team_id = out->publisher.team_id,
                      .token_id = out->token.id, .token_name = out->token.name,
                      .subject_user_id = out->token.user_id, .detail = detail};
    audit_record(s, &who, &ev);
    jwt_clear(&t);
    return PIORA_OK;
}
