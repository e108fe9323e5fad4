/* First-run setup, sign-in and sign-out (the per-request session check is
 * authn/session.c's, run by the pipeline).
 *
 * Sign-in answers the same words, status and (near enough) time for an
 * unknown email and a wrong password: an unknown email is verified against
 * a dummy Argon2id hash made at start with the same parameters. Failed
 * attempts are limited per client address and per account (GCRA, see
 * auth/ratelimit.h); a throttled attempt is refused before any hashing. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/password.h"
#include "auth/ratelimit.h"
#include "auth/session.h"
#include "authn/authn.h"
#include "core/audit.h"
#include "core/users.h"
#include "http/response.h"
#include "util/clock.h"
#include "util/log.h"
#include "web/internal.h"
#include "web/web.h"

web_settings web_cfg = {1800, 43200, false, 10};

static ratelimit_t *rl_addr, *rl_account;
static char dummy_hash[PASSWORD_HASH_MAX];

void web_init(const piora_config *cfg)
{
    web_cfg.idle_s = cfg->session_idle_s > 0 ? cfg->session_idle_s : 1800;
    web_cfg.lifetime_s = cfg->session_lifetime_s > 0 ? cfg->session_lifetime_s : 43200;
    web_cfg.secure_cookies = cfg->secure_cookies != 0;
    web_cfg.signin_limit = cfg->signin_limit;
    webauth_init(cfg);
}

void web_shutdown(void) { webauth_free(); }

void webauth_init(const piora_config *cfg)
{
    (void)cfg;
    webauth_free();
    rl_addr = ratelimit_new(web_cfg.signin_limit, 60, 4096);
    rl_account = ratelimit_new(web_cfg.signin_limit, 60, 4096);
    char junk[SESSION_SECRET_LEN + 1];
    session_secret(junk);
    if (password_hash(junk, strlen(junk), dummy_hash) != PIORA_OK)
        log_error("web: cannot make the dummy password hash");
}

void webauth_free(void)
{
    ratelimit_free(rl_addr);
    ratelimit_free(rl_account);
    rl_addr = rl_account = NULL;
}

/* ---- cookies and the session object ------------------------------------ */

static void cookie_clear(req_t *r)
{
    char v[SET_COOKIE_MAX];
    session_cookie_format(v, NULL, 0, web_request_secure(r));
    resp_header_add(r, "Set-Cookie", v);
}

json_t *webauth_session_json(const user_rec *u, const session_rec *s)
{
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(s->expires_at, ts);
    return json_pack("{s:{s:I, s:s, s:s, s:b}, s:s, s:s, s:I}", "user", "id", (json_int_t)u->id,
                     "email", u->email, "team", u->team_name, "is_admin", u->is_admin, "csrf",
                     s->csrf, "expires_at", ts, "idle_timeout", (json_int_t)web_cfg.idle_s);
}

bool webauth_start_session(req_t *r, const user_rec *u, session_rec *out)
{
    char secret[SESSION_SECRET_LEN + 1], csrf[SESSION_SECRET_LEN + 1];
    uint8_t digest[SESSION_DIGEST_LEN];
    session_secret(secret);
    session_secret(csrf);
    session_digest(secret, SESSION_SECRET_LEN, digest);
    int64_t now = clock_now();
    store_session_prune(r->store, now, now - web_cfg.idle_s);
    piora_err e = store_session_insert(r->store, digest, u->id, csrf, now,
                                       now + web_cfg.lifetime_s, r->client_addr, out);
    if (e != PIORA_OK) {
        resp_error(r, e, "The session could not be started.");
        return false;
    }
    char v[SET_COOKIE_MAX];
    session_cookie_format(v, secret, web_cfg.lifetime_s, web_request_secure(r));
    resp_header_add(r, "Set-Cookie", v);
    return true;
}

static bool same_origin(req_t *r)
{
    if (origin_allowed(req_header(r, "Origin"), req_header(r, "Sec-Fetch-Site"),
                       req_header(r, "Host")))
        return true;
    resp_problem(r, 403, "csrf_failed", "The request did not come from this dashboard.", NULL);
    return false;
}

/* GET /web/api/session: who is signed in (and the CSRF token for the
 * page's script), or 401 saying whether first-run setup is still open. */
void web_session_get(req_t *r)
{
    if (r->session) {
        resp_json(r, 200, webauth_session_json(&r->session->user, &r->session->sess));
        return;
    }
    int64_t users = 1;
    store_user_count(r->store, &users);
    bool expired = r->session_expired; /* the pipeline cleared its cookie */
    resp_problem(r, 401, expired ? "session_expired" : "signed_out",
                 expired ? "Your session expired; sign in again." : "Sign in to use the dashboard.",
                 json_pack("{s:b}", "setup_required", users == 0));
}

/* ---- first-run setup ---------------------------------------------------- */

bool web_setup_link(store_t *s, const char *host, unsigned port, char *out, size_t outlen)
{
    char secret[SESSION_SECRET_LEN + 1];
    uint8_t digest[SESSION_DIGEST_LEN];
    session_secret(secret);
    session_digest(secret, SESSION_SECRET_LEN, digest);
    if (store_setup_put(s, digest, clock_now()) != PIORA_OK)
        return false;
    const char *h = host;
    bool v6 = strchr(host, ':') != NULL;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "") == 0) {
        h = "127.0.0.1";
    } else if (strcmp(host, "::") == 0) {
        h = "::1";
    }
    snprintf(out, outlen, "http://%s%s%s:%u/setup#%s", v6 ? "[" : "", h, v6 ? "]" : "", port,
             secret);
    return true;
}

static void setup_link_invalid(req_t *r)
{
    resp_problem(r, 404, "setup_link_invalid",
                 "This setup link was already used or is not valid. Sign in instead; on an "
                 "empty database, restarting piora serve prints a new link.",
                 NULL);
}

static bool setup_digest(const json_t *body, uint8_t digest[SESSION_DIGEST_LEN])
{
    const char *secret = web_json_str(body, "secret");
    if (!secret || !session_secret_valid(secret, strlen(secret)))
        return false;
    session_digest(secret, SESSION_SECRET_LEN, digest);
    return true;
}

/* POST /web/api/setup/check {secret}: is the link still good? */
void web_setup_check(req_t *r)
{
    if (!same_origin(r))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    uint8_t digest[SESSION_DIGEST_LEN];
    piora_err e = setup_digest(body, digest) ? store_setup_check(r->store, digest) : PIORA_ENOTFOUND;
    json_decref(body);
    if (e == PIORA_ENOTFOUND)
        setup_link_invalid(r);
    else if (e != PIORA_OK)
        resp_error(r, e, NULL);
    else
        resp_json(r, 200, json_pack("{s:b}", "valid", 1));
}

/* POST /web/api/setup {secret, email, password, team}: the first admin. */
void web_setup(req_t *r)
{
    if (!same_origin(r))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    uint8_t digest[SESSION_DIGEST_LEN];
    char email[EMAIL_MAX + 1];
    const char *pw = web_json_str(body, "password");
    const char *team = web_json_str(body, "team");
    verrs errs = {0};
    if (!setup_digest(body, digest)) {
        json_decref(body);
        setup_link_invalid(r);
        return;
    }
    if (!users_email_normalize(web_json_str(body, "email"), email))
        verrs_add(&errs, "email", "Enter an email address like name@example.com.");
    if (!team || !users_team_valid(team))
        verrs_add(&errs, "team", "Enter a team name of 1 to 64 characters.");
    size_t pwlen = pw ? strlen(pw) : 0;
    web_new_password_check(&errs, "password", pwlen);
    if (errs.n) {
        json_decref(body);
        resp_validation(r, &errs);
        return;
    }
    char hash[PASSWORD_HASH_MAX];
    piora_err e = password_hash(pw, pwlen, hash);
    user_rec u;
    if (e == PIORA_OK)
        e = store_setup_complete(r->store, digest, email, team, hash, clock_now(), &u);
    json_decref(body);
    if (e == PIORA_ENOTFOUND) {
        setup_link_invalid(r);
        return;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    audit_event ev = {.action = AUDIT_USER_CREATED, .via = AUDIT_VIA_SETUP, .team_id = u.team_id,
                      .actor_user_id = u.id, .subject_user_id = u.id, .email = u.email,
                      .addr = r->client_addr};
    audit_record(r->store, &ev);
    log_info("web: first admin created through the setup link (user %lld)", (long long)u.id);
    session_rec s;
    if (!webauth_start_session(r, &u, &s))
        return;
    ev.action = AUDIT_SIGNIN;
    ev.subject_user_id = 0;
    audit_record(r->store, &ev);
    resp_json(r, 201, webauth_session_json(&u, &s));
}

/* ---- sign-in and sign-out ----------------------------------------------- */

static bool throttled(req_t *r, uint64_t akey, uint64_t ukey)
{
    if (!rl_addr || !rl_account)
        return false;
    int64_t now = clock_mono_ns();
    ratelimit_result a = ratelimit_peek(rl_addr, akey, now);
    ratelimit_result u = ratelimit_peek(rl_account, ukey, now);
    if (a.allowed && u.allowed)
        return false;
    int64_t wait = a.retry_after > u.retry_after ? a.retry_after : u.retry_after;
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)(wait > 0 ? wait : 1));
    resp_header(r, "Retry-After", v);
    resp_problem(r, 429, "rate_limited", "Too many failed sign-ins; wait a minute and try again.",
                 NULL);
    return true;
}

/* POST /web/api/signin {email, password} */
void web_signin(req_t *r)
{
    if (!same_origin(r))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    const char *raw_email = web_json_str(body, "email");
    const char *pw = web_json_str(body, "password");
    size_t pwlen = pw ? strlen(pw) : 0;
    if (!raw_email || !*raw_email || !pw || !pwlen || pwlen > PASSWORD_MAX_LEN) {
        verrs errs = {0};
        if (!raw_email || !*raw_email)
            verrs_add(&errs, "email", "Enter your email address.");
        if (!pw || !pwlen)
            verrs_add(&errs, "password", "Enter your password.");
        else if (pwlen > PASSWORD_MAX_LEN)
            verrs_add(&errs, "password", "That password is too long.");
        json_decref(body);
        resp_validation(r, &errs);
        return;
    }
    char email[EMAIL_MAX + 1];
    bool shaped = users_email_normalize(raw_email, email);
    if (!shaped)
        snprintf(email, sizeof email, "%.*s", EMAIL_MAX, raw_email);
    uint64_t akey = authn_addr_key(r->client_addr ? r->client_addr : "");
    uint64_t ukey = authn_addr_key(email);
    if (throttled(r, akey, ukey)) {
        json_decref(body);
        return;
    }
    user_rec u;
    bool found = shaped && store_user_by_email(r->store, email, &u) == PIORA_OK;
    char hash[PASSWORD_HASH_MAX];
    if (!found || store_user_password_hash(r->store, u.id, hash, sizeof hash) != PIORA_OK) {
        found = false;
        memcpy(hash, dummy_hash, sizeof hash);
    }
    bool ok = password_verify(hash, pw, pwlen) && found;
    json_decref(body);
    audit_event ev = {.action = ok ? AUDIT_SIGNIN : AUDIT_SIGNIN_FAILED,
                      .via = AUDIT_VIA_DASHBOARD, .team_id = found ? u.team_id : 0,
                      .actor_user_id = ok ? u.id : 0, .email = email, .addr = r->client_addr};
    if (!ok) {
        int64_t now = clock_mono_ns();
        if (rl_addr && rl_account) {
            ratelimit_take(rl_addr, akey, now);
            ratelimit_take(rl_account, ukey, now);
        }
        audit_record(r->store, &ev);
        resp_problem(r, 401, "invalid_credentials", "Wrong email or password.", NULL);
        return;
    }
    session_rec s;
    if (!webauth_start_session(r, &u, &s))
        return;
    audit_record(r->store, &ev);
    resp_json(r, 200, webauth_session_json(&u, &s));
}

/* POST /web/api/signout */
void web_signout(req_t *r, web_ctx *c)
{
    store_session_delete(r->store, c->sess.id);
    cookie_clear(r);
    audit_event ev = {.action = AUDIT_SIGNOUT, .via = AUDIT_VIA_DASHBOARD,
                      .team_id = c->user.team_id, .actor_user_id = c->user.id,
                      .email = c->user.email, .addr = r->client_addr};
    audit_record(r->store, &ev);
    resp_empty(r, 204);
}
