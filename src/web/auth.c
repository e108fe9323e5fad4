/* First-run setup, sign-in and sign-out (the per-request session check is
 * authn/session.c's, run by the pipeline).
 *
 * Sign-in answers the same words, status and (near enough) time for an
 * unknown email and a wrong password (core/signin.c verifies an unknown
 * email against a dummy hash made at start, signin_init). Failed
 * attempts are limited per client address (per /64 for IPv6) and per
 * account (GCRA, see auth/ratelimit.h): an attempt takes its slot before
 * any hashing, atomically, and a success gives it back, so concurrent
 * tries cannot all pass one check. Every Argon2id run (sign-in, setup)
 * is deferred to the hashing pool (req_defer) with the connection
 * suspended; setup first checks its secret and "no users yet", which
 * cost no hash, and is limited per address too. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth/password.h"
#include "auth/ratelimit.h"
#include "auth/session.h"
#include "core/mfa.h"
#include "core/signin.h"
#include "core/sudo.h"
#include "core/team.h"
#include "core/users.h"
#include "http/response.h"
#include "util/clock.h"
#include "util/log.h"
#include "web/internal.h"
#include "web/web.h"

web_settings web_cfg = {1800, 43200, false, 10, "", 600};

static ratelimit_t *rl_addr, *rl_account, *rl_setup;

void web_init(const piora_config *cfg)
{
    web_cfg.idle_s = cfg->session_idle_s > 0 ? cfg->session_idle_s : 1800;
    web_cfg.lifetime_s = cfg->session_lifetime_s > 0 ? cfg->session_lifetime_s : 43200;
    web_cfg.secure_cookies = cfg->secure_cookies != 0;
    web_cfg.signin_limit = cfg->signin_limit;
    web_cfg.sudo_window_s = cfg->sudo_window_s > 0 ? cfg->sudo_window_s : 600;
    size_t n = strnlen(cfg->public_url, sizeof web_cfg.public_url - 1);
    while (n && cfg->public_url[n - 1] == '/')
        n--;
    memcpy(web_cfg.public_url, cfg->public_url, n);
    web_cfg.public_url[n] = '\0';
    webauth_init(cfg);
}

void web_shutdown(void) { webauth_free(); }

void webauth_init(const piora_config *cfg)
{
    (void)cfg;
    webauth_free();
    rl_addr = ratelimit_new(web_cfg.signin_limit, 60, 4096);
    rl_account = ratelimit_new(web_cfg.signin_limit, 60, 4096);
    rl_setup = ratelimit_new(web_cfg.signin_limit, 60, 4096);
    signin_init();
}

void webauth_free(void)
{
    ratelimit_free(rl_addr);
    ratelimit_free(rl_account);
    ratelimit_free(rl_setup);
    rl_addr = rl_account = rl_setup = NULL;
}

/* An address's key for the sign-in and setup limits: IPv6 by its /64 (one
 * host is usually handed a whole /64, and hopping inside it must not buy
 * more tries), IPv4 and IPv4-mapped addresses whole. */
uint64_t webauth_addr_key(const char *addr)
{
    struct in6_addr a6;
    if (addr && inet_pton(AF_INET6, addr, &a6) == 1 && !IN6_IS_ADDR_V4MAPPED(&a6)) {
        memset(a6.s6_addr + 8, 0, 8);
        char net[INET6_ADDRSTRLEN];
        if (inet_ntop(AF_INET6, &a6, net, sizeof net))
            return ratelimit_key(net);
    }
    return ratelimit_key(addr ? addr : "");
}

static void answer_throttled(req_t *r, int64_t wait, const char *detail)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)(wait > 0 ? wait : 1));
    resp_header(r, "Retry-After", v);
    resp_problem(r, 429, "rate_limited", detail, NULL);
}

/* Takes one slot from each limiter given (NULL: skipped) before any
 * hashing; when one refuses, what was taken is given back and r answered
 * 429. true: r is refused. */
static bool throttle_take(req_t *r, ratelimit_t *a, uint64_t akey, ratelimit_t *u, uint64_t ukey,
                          const char *detail)
{
    int64_t now = clock_mono_ns();
    if (a) {
        ratelimit_result ra = ratelimit_take(a, akey, now);
        if (!ra.allowed) {
            answer_throttled(r, ra.retry_after, detail);
            return true;
        }
    }
    if (u) {
        ratelimit_result ru = ratelimit_take(u, ukey, now);
        if (!ru.allowed) {
            if (a)
                ratelimit_refund(a, akey, now);
            answer_throttled(r, ru.retry_after, detail);
            return true;
        }
    }
    return false;
}

static void throttle_refund(ratelimit_t *a, uint64_t akey, ratelimit_t *u, uint64_t ukey)
{
    int64_t now = clock_mono_ns();
    if (a)
        ratelimit_refund(a, akey, now);
    if (u)
        ratelimit_refund(u, ukey, now);
}

bool webauth_account_take(req_t *r, const char *email)
{
    return throttle_take(r, rl_addr, webauth_addr_key(r->client_addr), rl_account,
                         ratelimit_key(email),
                         "Too many wrong passwords; wait a minute and try again.");
}

void webauth_account_refund(const char *client_addr, const char *email)
{
    throttle_refund(rl_addr, webauth_addr_key(client_addr), rl_account, ratelimit_key(email));
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
    return json_pack("{s:{s:I, s:s, s:s, s:b, s:b, s:b, s:b}, s:s, s:s, s:I}", "user", "id",
                     (json_int_t)u->id, "email", u->email, "team", u->team_name, "is_admin",
                     u->is_admin, "totp_enabled", u->totp_on, "team_requires_2fa",
                     u->team_requires_2fa, "must_enrol", u->team_requires_2fa && !u->totp_on,
                     "csrf", s->csrf, "expires_at", ts, "idle_timeout",
                     (json_int_t)web_cfg.idle_s);
}

/* A new session's secret (for the cookie only), its digest (for the store)
 * and CSRF token, handed to the sign-in service as one. */
typedef struct fresh_session {
    char secret[SESSION_SECRET_LEN + 1];
    char csrf[SESSION_SECRET_LEN + 1];
    uint8_t digest[SESSION_DIGEST_LEN];
    signin_session ss;
} fresh_session;

static void fresh_session_make(fresh_session *f)
{
    session_secret(f->secret);
    session_secret(f->csrf);
    session_digest(f->secret, SESSION_SECRET_LEN, f->digest);
    f->ss = (signin_session){.digest = f->digest, .csrf = f->csrf,
                             .lifetime_s = web_cfg.lifetime_s, .idle_s = web_cfg.idle_s};
}

/* secure is web_request_secure(r), read before the request was deferred
 * (a pool thread does not read the connection's headers). */
static void cookie_set(req_t *r, fresh_session *f, bool secure)
{
    char v[SET_COOKIE_MAX];
    session_cookie_format(v, f->secret, web_cfg.lifetime_s, secure);
    resp_header_add(r, "Set-Cookie", v);
    sodium_memzero(f->secret, sizeof f->secret);
}

/* Starts a fresh session for u, sets its cookie and answers `status` with
 * the session's JSON: the last step of setup, an accepted invitation and a
 * second factor passed. Answers the problem itself when the session cannot
 * be started. secure as for cookie_set(). */
static void session_start_reply(req_t *r, const actor *who, const user_rec *u, int status,
                                bool secure)
{
    fresh_session f;
    fresh_session_make(&f);
    session_rec s;
    piora_err e = signin_start(r->store, who, u, &f.ss, &s);
    if (e != PIORA_OK) {
        sodium_memzero(f.secret, sizeof f.secret);
        resp_error(r, e, "The session could not be started.");
        return;
    }
    cookie_set(r, &f, secure);
    resp_json(r, status, webauth_session_json(u, &s));
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
    bool setup_open = false;
    signin_setup_open(r->store, &setup_open);
    bool expired = r->session_expired; /* the pipeline cleared its cookie */
    resp_problem(r, 401, expired ? "session_expired" : "signed_out",
                 expired ? "Your session expired; sign in again." : "Sign in to use the dashboard.",
                 json_pack("{s:b}", "setup_required", setup_open));
}

/* ---- first-run setup ---------------------------------------------------- */

bool web_setup_link(store_t *s, const char *base, char *out, size_t outlen)
{
    char secret[SESSION_SECRET_LEN + 1];
    uint8_t digest[SESSION_DIGEST_LEN];
    session_secret(secret);
    session_digest(secret, SESSION_SECRET_LEN, digest);
    if (signin_setup_offer(s, digest) != PIORA_OK)
        return false;
    snprintf(out, outlen, "%s/setup#%s", base, secret);
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
    piora_err e = setup_digest(body, digest) ? signin_setup_check(r->store, digest) : PIORA_ENOTFOUND;
    json_decref(body);
    if (e == PIORA_ENOTFOUND)
        setup_link_invalid(r);
    else if (e != PIORA_OK)
        resp_error(r, e, NULL);
    else
        resp_json(r, 200, json_pack("{s:b}", "valid", 1));
}

/* The slow half of setup, on the hashing pool: body and digest were
 * checked on the polling thread. */
typedef struct setup_job {
    json_t *body;
    uint8_t digest[SESSION_DIGEST_LEN];
    bool secure;
} setup_job;

static void setup_run(req_t *r, void *ctx)
{
    setup_job *j = ctx;
    if (!r)
        goto done;
    const char *pw = web_json_str(j->body, "password");
    user_create_req rq = {.email = web_json_str(j->body, "email"),
                          .team = web_json_str(j->body, "team"),
                          .is_admin = true,
                          .password = pw,
                          .password_len = pw ? strlen(pw) : 0,
                          .setup_digest = j->digest};
    actor who = web_actor(r, NULL);
    who.channel = CHANNEL_SETUP;
    user_rec u;
    unsigned bad = 0;
    piora_err e = users_create(r->store, &who, &rq, &u, &bad);
    if (e == PIORA_EINVALID) {
        verrs errs = {0};
        web_users_errors(&errs, bad, "password");
        resp_validation(r, &errs);
        goto done;
    }
    if (e == PIORA_ENOTFOUND) {
        setup_link_invalid(r);
        goto done;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        goto done;
    }
    log_info("web: first admin created through the setup link (user %lld)", (long long)u.id);
    session_start_reply(r, &who, &u, 201, j->secure);
done:
    json_decref(j->body);
    free(j);
}

/* POST /web/api/setup {secret, email, password, team}: the first admin.
 * Everything that costs no hash comes first: the origin, the address's
 * limit, the secret's shape, "no users yet" and the secret itself. */
void web_setup(req_t *r)
{
    if (!same_origin(r))
        return;
    if (throttle_take(r, rl_setup, webauth_addr_key(r->client_addr), NULL, 0,
                      "Too many setup attempts from this address; wait a minute."))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    setup_job *j = calloc(1, sizeof *j);
    int64_t users = 1;
    piora_err e = j ? store_user_count(r->store, &users) : PIORA_ENOMEM;
    if (e == PIORA_OK)
        e = users == 0 && setup_digest(body, j->digest) ? store_setup_check(r->store, j->digest)
                                                         : PIORA_ENOTFOUND;
    if (e != PIORA_OK) {
        json_decref(body);
        free(j);
        if (e == PIORA_ENOTFOUND)
            setup_link_invalid(r);
        else
            resp_error(r, e, NULL);
        return;
    }
    j->body = body;
    j->secure = web_request_secure(r);
    if (!req_defer(r, setup_run, j)) {
        json_decref(body);
        free(j);
    }
}

/* ---- invitations: the invitee's side ------------------------------------ */

static void invite_link_invalid(req_t *r)
{
    resp_problem(r, 404, "invite_invalid",
                 "This invitation link was used, revoked or has expired (links last 7 days). "
                 "Ask a team admin for a new one.",
                 NULL);
}

/* POST /web/api/invite/check {secret}: who the link invites, before the
 * invitee chooses a password. */
void web_invite_check(req_t *r)
{
    if (!same_origin(r))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    invite_rec inv;
    piora_err e = team_invite_check(r->store, web_json_str(body, "secret"), &inv);
    json_decref(body);
    if (e == PIORA_ENOTFOUND) {
        invite_link_invalid(r);
        return;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(inv.expires_at, ts);
    resp_json(r, 200, json_pack("{s:s, s:s, s:b, s:s}", "email", inv.email, "team",
                                inv.team_name, "is_admin", inv.is_admin, "expires_at", ts));
}

typedef struct invite_job {
    json_t *body; /* owns secret and password */
    bool secure;
} invite_job;

static void invite_run(req_t *r, void *ctx)
{
    invite_job *j = ctx;
    if (!r)
        goto done;
    const char *pw = web_json_str(j->body, "password");
    actor who = web_actor(r, NULL);
    user_rec u;
    unsigned bad = 0;
    piora_err e = team_invite_accept(r->store, &who, web_json_str(j->body, "secret"), pw,
                                     pw ? strlen(pw) : 0, &u, &bad);
    if (e == PIORA_EINVALID) {
        verrs errs = {0};
        web_users_errors(&errs, bad, "password");
        resp_validation(r, &errs);
        goto done;
    }
    if (e == PIORA_ENOTFOUND) {
        invite_link_invalid(r);
        goto done;
    }
    if (e == PIORA_ECONFLICT) {
        resp_problem(r, 409, "conflict", "A user with this email exists already: sign in instead.",
                     NULL);
        goto done;
    }
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        goto done;
    }
    session_start_reply(r, &who, &u, 201, j->secure);
done:
    json_decref(j->body);
    free(j);
}

/* POST /web/api/invite/accept {secret, password}: creates the invitee's
 * account and signs them in. The secret is checked before any hash. */
void web_invite_accept(req_t *r)
{
    if (!same_origin(r))
        return;
    if (throttle_take(r, rl_setup, webauth_addr_key(r->client_addr), NULL, 0,
                      "Too many attempts from this address; wait a minute."))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    piora_err e = team_invite_check(r->store, web_json_str(body, "secret"), NULL);
    invite_job *j = e == PIORA_OK ? calloc(1, sizeof *j) : NULL;
    if (e == PIORA_OK && !j)
        e = PIORA_ENOMEM;
    if (e != PIORA_OK) {
        json_decref(body);
        if (e == PIORA_ENOTFOUND)
            invite_link_invalid(r);
        else
            resp_error(r, e, NULL);
        return;
    }
    j->body = body;
    j->secure = web_request_secure(r);
    if (!req_defer(r, invite_run, j)) {
        json_decref(body);
        free(j);
    }
}

/* ---- sign-in and sign-out ----------------------------------------------- */

/* The slow half of sign-in, on the hashing pool; its slots were taken. */
typedef struct signin_job {
    json_t *body; /* owns email and password */
    const char *email, *password;
    size_t password_len;
    char norm[EMAIL_MAX + 1];
    bool secure;
} signin_job;

static void signin_run(req_t *r, void *ctx)
{
    signin_job *j = ctx;
    if (!r)
        goto done;
    fresh_session f;
    fresh_session_make(&f);
    actor who = web_actor(r, NULL);
    user_rec u;
    session_rec s;
    piora_err e = signin_password(r->store, &who, j->email, j->password, j->password_len, &f.ss,
                                  &u, &s);
    if (e == PIORA_EAUTH) {
        sodium_memzero(f.secret, sizeof f.secret);
        resp_problem(r, 401, "invalid_credentials", "Wrong email or password.", NULL);
        goto done;
    }
    /* Not a wrong password: the slots taken for it go back. */
    webauth_account_refund(r->client_addr, j->norm);
    if (e != PIORA_OK) {
        sodium_memzero(f.secret, sizeof f.secret);
        resp_error(r, e, "The session could not be started.");
        goto done;
    }
    if (s.mfa_pending) {
        /* The pending session's secret is the ticket of the second step;
         * no cookie until the code is right. */
        resp_json(r, 200, json_pack("{s:s, s:s}", "second_factor", "totp", "ticket", f.secret));
        sodium_memzero(f.secret, sizeof f.secret);
        goto done;
    }
    cookie_set(r, &f, j->secure);
    resp_json(r, 200, webauth_session_json(&u, &s));
done:
    json_decref(j->body);
    free(j);
}

#define MFA_TICKET_S 300 /* the second step must follow the password within 5 minutes */

/* POST /web/api/signin/totp {ticket, code | recovery_code}: the second
 * step. A wrong code counts against the account as a wrong password does. */
void web_signin_totp(req_t *r)
{
    if (!same_origin(r))
        return;
    json_t *body = req_json_body(r);
    if (!body)
        return;
    const char *ticket = web_json_str(body, "ticket");
    session_rec pend;
    user_rec u;
    uint8_t digest[SESSION_DIGEST_LEN];
    piora_err e = PIORA_ENOTFOUND;
    if (ticket && session_secret_valid(ticket, strlen(ticket))) {
        session_digest(ticket, SESSION_SECRET_LEN, digest);
        e = store_session_by_digest(r->store, digest, &pend);
    }
    if (e == PIORA_OK && (!pend.mfa_pending || clock_now() - pend.created_at > MFA_TICKET_S))
        e = PIORA_ENOTFOUND;
    if (e == PIORA_OK)
        e = store_user_by_id(r->store, pend.user_id, &u);
    if (e != PIORA_OK) {
        json_decref(body);
        if (e == PIORA_ENOTFOUND)
            resp_problem(r, 401, "signin_expired", "Sign in again: that step has expired.", NULL);
        else
            resp_error(r, e, NULL);
        return;
    }
    if (webauth_account_take(r, u.email)) {
        json_decref(body);
        return;
    }
    actor who = web_actor(r, NULL);
    who.user_id = u.id;
    who.team_id = u.team_id;
    who.email = u.email;
    e = mfa_check(r->store, &who, &u, web_json_str(body, "code"),
                  web_json_str(body, "recovery_code"));
    json_decref(body);
    if (e == PIORA_EAUTH) {
        resp_problem(r, 401, "invalid_code", "Wrong or used code.", NULL);
        return;
    }
    webauth_account_refund(r->client_addr, u.email);
    if (e != PIORA_OK) {
        resp_error(r, e, NULL);
        return;
    }
    store_session_delete(r->store, pend.id);
    session_start_reply(r, &who, &u, 200, web_request_secure(r));
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
    signin_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(body);
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    *j = (signin_job){.body = body, .email = raw_email, .password = pw, .password_len = pwlen,
                      .secure = web_request_secure(r)};
    signin_email(raw_email, j->norm);
    if (throttle_take(r, rl_addr, webauth_addr_key(r->client_addr), rl_account,
                      ratelimit_key(j->norm),
                      "Too many failed sign-ins; wait a minute and try again.")) {
        json_decref(body);
        free(j);
        return;
    }
    if (!req_defer(r, signin_run, j)) {
        webauth_account_refund(r->client_addr, j->norm);
        json_decref(body);
        free(j);
    }
}

/* POST /web/api/signout */
void web_signout(req_t *r, web_ctx *c)
{
    actor who = web_actor(r, c);
    signin_end(r->store, &who, c->sess.id); /* the cookie goes whatever the store says */
    cookie_clear(r);
    resp_empty(r, 204);
}

/* ---- sudo mode ------------------------------------------------------------ */

bool web_sudo_check(req_t *r, const web_ctx *c)
{
    if (sudo_fresh(&c->sess, clock_now(), web_cfg.sudo_window_s))
        return true;
    resp_problem(r, 403, "reauth_required",
                 "Confirm your password to continue: this needs a sign-in within the last "
                 "minutes.",
                 json_pack("{s:I}", "sudo_window", (json_int_t)web_cfg.sudo_window_s));
    return false;
}

typedef struct reauth_job {
    json_t *body; /* owns the password */
    user_rec user;
    int64_t session_id;
} reauth_job;

static void reauth_run(req_t *r, void *ctx)
{
    reauth_job *j = ctx;
    if (!r)
        goto done;
    const char *pw = web_json_str(j->body, "password");
    actor who = web_actor(r, NULL);
    who.user_id = j->user.id;
    who.team_id = j->user.team_id;
    who.email = j->user.email;
    piora_err e = sudo_reauth(r->store, &who, &j->user, j->session_id, pw, pw ? strlen(pw) : 0,
                              web_json_str(j->body, "code"));
    if (e != PIORA_EAUTH && e != PIORA_ECONFLICT)
        webauth_account_refund(r->client_addr, j->user.email);
    if (e == PIORA_EAUTH)
        web_field_error(r, "password", "That is not your password.");
    else if (e == PIORA_ECONFLICT)
        web_field_error(r, "code", "That code is not right or was used.");
    else if (e != PIORA_OK)
        resp_error(r, e, NULL);
    else
        resp_empty(r, 204);
done:
    json_decref(j->body);
    free(j);
}

/* POST /web/api/session/reauth {password}: restarts the sudo window. The
 * password is limited as a sign-in is (a stolen session must not guess it). */
void web_session_reauth(req_t *r, web_ctx *c)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    reauth_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(body);
        resp_error(r, PIORA_ENOMEM, NULL);
        return;
    }
    j->body = body;
    j->user = c->user;
    j->session_id = c->sess.id;
    if (webauth_account_take(r, j->user.email)) {
        json_decref(body);
        free(j);
        return;
    }
    if (!req_defer(r, reauth_run, j)) {
        webauth_account_refund(r->client_addr, j->user.email);
        json_decref(body);
        free(j);
    }
}
