/* Settings > API Tokens: the session-authenticated endpoints the seed's
 * steps walk through. A user manages their own tokens; every change goes
 * through the token service (core/tokens.h), which commits and moves the
 * tokens generation (store/change.h), so a revoked secret gets 401 on its
 * very next use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tokens.h"
#include "core/usage.h"
#include "http/response.h"
#include "util/clock.h"
#include "util/num.h"
#include "web/internal.h"

#define DAY 86400
#define FLAG_AGE_S (90 * DAY)    /* SPEC 5: rotate after 90 days */
#define FLAG_UNUSED_S (90 * DAY) /* unused for 90 days */
#define FLAG_EXPIRING_S (7 * DAY)
#define CSV_ROWS_MAX 10000

/* The list object of SPEC 2 plus what the dashboard shows beside it: the
 * last client address and the warning flags. */
static json_t *token_json(const token_rec *t, int64_t now)
{
    json_t *o = tokens_to_json(t, now);
    json_t *flags = json_array();
    if (token_rec_status(t, now) == TOKEN_ACTIVE) {
        int64_t secret_age = now - (t->updated_at ? t->updated_at : t->created_at);
        if (secret_age > FLAG_AGE_S)
            json_array_append_new(flags, json_string("rotate"));
        int64_t idle_since = t->last_used_at ? t->last_used_at : t->created_at;
        if (now - idle_since > FLAG_UNUSED_S)
            json_array_append_new(flags, json_string("unused"));
        if (t->expires_at && t->expires_at - now <= FLAG_EXPIRING_S)
            json_array_append_new(flags, json_string("expiring"));
    }
    json_object_set_new(o, "flags", flags);
    json_object_set_new(o, "owner", t->owner_email[0] ? json_string(t->owner_email) : json_null());
    if (!json_object_get(o, "last_used_addr"))
        json_object_set_new(o, "last_used_addr",
                            t->last_used_addr[0] ? json_string(t->last_used_addr) : json_null());
    return o;
}

/* GET /web/api/tokens?page&per_page[&owner=all]: the signed-in user's
 * tokens, newest first, one page with the API lists' meta {page, per_page,
 * total}. owner=all (admins only): every token of the team, each with its
 * owner's email, so an admin can find and revoke what a member left. */
void web_tokens_list(req_t *r, web_ctx *c)
{
    page_req p;
    if (!web_paging(r, &p))
        return;
    const char *owner = req_query(r, "owner");
    bool all = owner && strcmp(owner, "all") == 0;
    if (owner && *owner && !all && strcmp(owner, "me") != 0) {
        web_field_error(r, "owner", "Use owner=me or owner=all.");
        return;
    }
    if (all && !c->user.is_admin) {
        resp_problem(r, 403, "forbidden", "Only a team admin can list every member's tokens.",
                     NULL);
        return;
    }
    token_rec *v = NULL;
    size_t n = 0;
    piora_err e = tokens_list(r->store, all ? 0 : c->user.id, &v, &n);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    if (all) { /* the store lists every team's; an admin sees their own team only */
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (v[i].team_id == c->user.team_id)
                v[k++] = v[i];
        n = k;
    }
    int64_t now = clock_now();
    json_t *data = json_array();
    /* newest first: the k-th shown is v[n - 1 - k] */
    for (int64_t k = p.offset; k < (int64_t)n && k < p.offset + p.per_page; k++)
        json_array_append_new(data, token_json(&v[(int64_t)n - 1 - k], now));
    free(v);
    resp_json(r, 200, json_pack("{s:o, s:o}", "data", data, "meta", paging_meta(&p, (int64_t)n)));
}

/* The user's own token, or a 404 answered. */
static bool own_token(req_t *r, web_ctx *c, token_rec *t)
{
    piora_err e = tokens_get(r->store, r->id, c->user.id, t);
    if (e == PIORA_OK && t->hidden_at) /* removed from the list: gone from the dashboard */
        e = PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        resp_error(r, e, e == PIORA_ENOTFOUND ? "No such token." : NULL);
        return false;
    }
    return true;
}

/* The user's own token or, for an admin, any token of the team (to see
 * and revoke, never to regenerate: that would hand the admin its secret). */
static bool team_token(req_t *r, web_ctx *c, token_rec *t)
{
    if (!c->user.is_admin)
        return own_token(r, c, t);
    piora_err e = tokens_get(r->store, r->id, 0, t);
    if (e == PIORA_OK && (t->team_id != c->user.team_id || t->hidden_at))
        e = PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        resp_error(r, e, e == PIORA_ENOTFOUND ? "No such token." : NULL);
        return false;
    }
    return true;
}

void web_tokens_get(req_t *r, web_ctx *c)
{
    token_rec t;
    if (team_token(r, c, &t))
        resp_json(r, 200, token_json(&t, clock_now()));
}

/* The expiry choices of SPEC 2: "7" ... "365" days, "never", or "custom"
 * with expires_at (YYYY-MM-DD or RFC 3339). Absent: 90 days. */
static bool parse_expiry(req_t *r, const json_t *body, token_create_req *rq)
{
    const char *ex = web_json_str(body, "expiry");
    json_t *raw = json_object_get(body, "expiry");
    if (raw && !ex) {
        web_field_error(r, "expiry", "Choose an expiry.");
        return false;
    }
    if (!ex || strcmp(ex, "90") == 0) {
        rq->expires_in = EXPIRES_DEFAULT_S;
        return true;
    }
    if (strcmp(ex, "never") == 0) {
        rq->expires_in = EXPIRES_NEVER;
        return true;
    }
    if (strcmp(ex, "custom") == 0) {
        const char *at = web_json_str(body, "expires_at");
        int64_t t = 0;
        if (!at || !clock_parse_rfc3339(at, &t)) {
            web_field_error(r, "expires_at", "Enter a date like 2027-01-31.");
            return false;
        }
        rq->expires_at = t;
        return true;
    }
    static const struct {
        const char *name;
        int64_t days;
    } choices[] = {{"7", 7}, {"30", 30}, {"60", 60}, {"180", 180}, {"365", 365}};
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        if (strcmp(ex, choices[i].name) == 0) {
            rq->expires_in = choices[i].days * DAY;
            return true;
        }
    }
    web_field_error(r, "expiry", "Choose 7, 30, 60, 90, 180 or 365 days, a date, or no expiry.");
    return false;
}

/* POST /web/api/tokens {name, scopes: [...], expiry, expires_at}: the
 * secret is in this answer and nowhere else, ever. */
void web_tokens_create(req_t *r, web_ctx *c)
{
    if (!web_sudo_check(r, c))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    token_create_req rq = {.user_id = c->user.id, .name = web_json_str(body, "name"),
                           .note = web_json_str(body, "note")};
    json_t *note = json_object_get(body, "note");
    if (note && !json_is_null(note) && !json_is_string(note)) {
        json_decref(body);
        web_field_error(r, "note", "The note is text, at most 500 characters.");
        return;
    }
    char scopes[SCOPES_STR_MAX] = "";
    size_t used = 0; /* strlen(scopes) */
    json_t *arr = json_object_get(body, "scopes");
    size_t i;
    json_t *it;
    bool scopes_ok = json_is_array(arr) && json_array_size(arr) <= 32;
    json_array_foreach(arr, i, it)
    {
        const char *s = json_string_value(it);
        size_t len = s ? strlen(s) : 0;
        /* room for a comma, the scope and the terminator */
        if (!s || len > 64 || used + len + 2 > sizeof scopes) {
            scopes_ok = false;
            break;
        }
        if (used)
            scopes[used++] = ',';
        memcpy(scopes + used, s, len + 1);
        used += len;
    }
    if (!scopes_ok) {
        json_decref(body);
        web_field_error(r, "scopes", "Select at least one scope.");
        return;
    }
    rq.scopes = scopes;
    if (!rq.name) {
        json_decref(body);
        web_field_error(r, "name", "Name the token, e.g. ci-cd-pipeline.");
        return;
    }
    if (!parse_expiry(r, body, &rq)) {
        json_decref(body);
        return;
    }
    /* SPEC 11: {"resources": {"servers": [ids], ...} or null, "allowed_ips":
     * ["203.0.113.0/24", ...] or the textarea's text, or null}. */
    verrs errs = {0};
    char resbuf[GRANT_TEXT_MAX], ipbuf[ADDRS_TEXT_MAX];
    if (!tokens_limits_from_json(json_object_get(body, "resources"),
                                 json_object_get(body, "allowed_ips"), resbuf, sizeof resbuf,
                                 &rq.resources, ipbuf, sizeof ipbuf, &rq.allowed_ips, &errs)) {
        json_decref(body);
        resp_validation(r, &errs);
        return;
    }
    char secret[TOKEN_LEN + 1];
    token_rec t;
    actor who = web_actor(r, c);
    piora_err e = tokens_create(r->store, &who, &rq, secret, &t, &errs);
    json_decref(body);
    if (e == PIORA_EINVALID) {
        resp_validation(r, &errs);
        return;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    json_t *o = token_json(&t, clock_now());
    json_object_set_new(o, "token", json_string(secret));
    memset(secret, 0, sizeof secret);
    resp_json(r, 201, o);
}

/* POST /web/api/tokens/{id}/revoke: 401 for that token from now on. */
void web_tokens_revoke(req_t *r, web_ctx *c)
{
    token_rec t;
    if (!team_token(r, c, &t))
        return;
    actor who = web_actor(r, c);
    piora_err e = tokens_revoke(r->store, &who, t.id, t.user_id);
    if (e == PIORA_OK)
        e = tokens_get(r->store, t.id, t.user_id, &t);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    resp_json(r, 200, token_json(&t, clock_now()));
}

/* PATCH /web/api/tokens/{id} {name?, note?}: rename and (re)write the
 * note, by the owner or a team admin, as revoking. note null or "" clears
 * it. */
void web_tokens_update(req_t *r, web_ctx *c)
{
    token_rec t;
    if (!team_token(r, c, &t))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    json_t *name = json_object_get(body, "name"), *note = json_object_get(body, "note");
    verrs errs = {0};
    if (!json_is_object(body) || (!name && !note))
        verrs_add(&errs, "name", "Give a new name or note.");
    if (name && !json_is_string(name))
        verrs_add(&errs, "name", "Name the token, e.g. ci-cd-pipeline.");
    if (note && !json_is_null(note) && !json_is_string(note))
        verrs_add(&errs, "note", "The note is text, at most 500 characters.");
    actor who = web_actor(r, c);
    piora_err e = errs.n ? PIORA_EINVALID : PIORA_OK;
    if (e == PIORA_OK)
        e = tokens_update(r->store, &who, t.id, t.user_id, json_string_value(name), note != NULL,
                          json_string_value(note), &errs);
    json_decref(body);
    if (e == PIORA_OK)
        e = tokens_get(r->store, t.id, t.user_id, &t);
    if (e == PIORA_EINVALID) {
        resp_validation(r, &errs);
        return;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, e == PIORA_ENOTFOUND ? "No such token." : NULL);
        return;
    }
    resp_json(r, 200, token_json(&t, clock_now()));
}

/* DELETE /web/api/tokens/{id}: a revoked or expired token leaves the list
 * (204); its secret still answers 401 revoked and the audit log keeps it.
 * 409 while it is active. */
void web_tokens_remove(req_t *r, web_ctx *c)
{
    token_rec t;
    if (!team_token(r, c, &t))
        return;
    actor who = web_actor(r, c);
    piora_err e = tokens_remove_from_list(r->store, &who, t.id, t.user_id);
    if (e == PIORA_ECONFLICT) {
        resp_problem(r, 409, "conflict",
                     "An active token cannot be removed from the list; revoke it first.", NULL);
        return;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, e == PIORA_ENOTFOUND ? "No such token." : NULL);
        return;
    }
    resp_empty(r, 204);
}

/* POST /web/api/tokens/{id}/regenerate: same id, name and scopes, a new
 * secret shown once; the old one answers 401 revoked. */
void web_tokens_regenerate(req_t *r, web_ctx *c)
{
    token_rec t;
    if (!own_token(r, c, &t) || !web_sudo_check(r, c))
        return;
    char secret[TOKEN_LEN + 1];
    actor who = web_actor(r, c);
    piora_err e = tokens_regenerate(r->store, &who, t.id, c->user.id, secret, &t);
    if (e == PIORA_ECONFLICT) {
        resp_problem(r, 409, "conflict", "A revoked token cannot be regenerated; create a new one.",
                     NULL);
        return;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    json_t *o = token_json(&t, clock_now());
    json_object_set_new(o, "token", json_string(secret));
    memset(secret, 0, sizeof secret);
    resp_json(r, 200, o);
}

/* ?since=: a date / RFC 3339 time, or a duration back from now ("24h",
 * "7d"). ?status=: one HTTP status. */
static bool usage_filters(req_t *r, usage_filter *f)
{
    memset(f, 0, sizeof *f);
    const char *since = req_query(r, "since");
    if (since && *since) {
        int64_t d = 0;
        if (clock_parse_rfc3339(since, &f->since)) {
        } else if (tokens_parse_duration(since, &d) && d > 0) {
            f->since = clock_now() - d;
        } else {
            web_field_error(r, "since", "Use a date (2026-11-01) or a duration (24h, 7d).");
            return false;
        }
    }
    const char *st = req_query(r, "status");
    if (st && *st) {
        int64_t v = 0;
        if (!num_parse_i64(st, 100, 599, &v)) {
            web_field_error(r, "status", "Use an HTTP status such as 401.");
            return false;
        }
        f->status = (int)v;
    }
    return true;
}

/* A CSV cell: quoted, quotes doubled, and a leading = + - @ defused so a
 * spreadsheet never runs a path or user agent as a formula. */
static void csv_cell(buf_t *b, const char *v, bool last)
{
    buf_putc(b, '"');
    if (v && strchr("=+-@\t\r", v[0]) && v[0])
        buf_putc(b, '\'');
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '"')
            buf_putc(b, '"');
        buf_putc(b, *p);
    }
    buf_puts(b, last ? "\"\r\n" : "\",");
}

static void usage_csv(req_t *r, const token_rec *t, const usage_filter *f)
{
    buf_t b;
    buf_init(&b, 8u << 20);
    /* count: identical requests of one second share a row (usage log). */
    buf_puts(&b, "time,method,path,status,addr,user_agent,count\r\n");
    int64_t off = 0, total = 0;
    while (off < CSV_ROWS_MAX) {
        json_t *items = NULL;
        piora_err e = usage_list(r->store, t->id, f, off, 500, &items, &total);
        if (e != PIORA_OK) {
            buf_free(&b);
            resp_error(r, e, NULL);
            return;
        }
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            char status[24];
            snprintf(status, sizeof status, "%lld",
                     (long long)json_integer_value(json_object_get(it, "status")));
            csv_cell(&b, web_json_str(it, "time"), false);
            csv_cell(&b, web_json_str(it, "method"), false);
            csv_cell(&b, web_json_str(it, "path"), false);
            csv_cell(&b, status, false);
            csv_cell(&b, web_json_str(it, "addr"), false);
            csv_cell(&b, web_json_str(it, "user_agent"), false);
            json_int_t n = json_integer_value(json_object_get(it, "count"));
            snprintf(status, sizeof status, "%lld", (long long)(n > 0 ? n : 1));
            csv_cell(&b, status, true);
        }
        size_t got = json_array_size(items);
        json_decref(items);
        off += (int64_t)got;
        if (got == 0 || off >= total)
            break;
    }
    if (b.failed) {
        buf_free(&b);
        resp_problem(r, 500, "internal_error", "The export is too large.", NULL);
        return;
    }
    char cd[96];
    snprintf(cd, sizeof cd, "attachment; filename=\"token-%lld-usage.csv\"", (long long)t->id);
    resp_header(r, "Content-Disposition", cd);
    resp_raw(r, 200, "text/csv; charset=utf-8", b.data, b.len);
    buf_free(&b);
}

/* GET /web/api/tokens/{id}/usage[?since&status&page&per_page&format=csv]:
 * the token's usage log (SPEC 5, 6), newest first. */
void web_tokens_usage(req_t *r, web_ctx *c)
{
    token_rec t;
    if (!team_token(r, c, &t))
        return;
    usage_filter f;
    if (!usage_filters(r, &f))
        return;
    const char *fmt = req_query(r, "format");
    if (fmt && strcmp(fmt, "csv") == 0) {
        usage_csv(r, &t, &f);
        return;
    }
    page_req p;
    if (!web_paging(r, &p))
        return;
    json_t *items = NULL;
    int64_t total = 0;
    piora_err e = usage_list(r->store, t.id, &f, p.offset, p.per_page, &items, &total);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    resp_json(r, 200,
              json_pack("{s:o, s:o, s:o}", "data", items, "meta", paging_meta(&p, total), "token",
                        token_json(&t, clock_now())));
}
