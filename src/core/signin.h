/* The sign-in service: checking an email and password, starting and ending
 * a dashboard session, and the audit entries of each. The front end keeps
 * what is its own: the cookie (it makes the session secret and hands in only
 * its digest), the CSRF checks and the per-address limiter. */
#ifndef PIORA_CORE_SIGNIN_H
#define PIORA_CORE_SIGNIN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/actor.h"
#include "store/store.h"

/* The new session's facts as the front end makes them. */
typedef struct signin_session {
    const uint8_t *digest; /* SESSION_DIGEST_LEN bytes: of the cookie's secret */
    const char *csrf;      /* the session's CSRF token */
    int64_t lifetime_s;    /* absolute lifetime */
    int64_t idle_s;        /* idle timeout: older idle sessions are pruned first */
} signin_session;

/* Makes the dummy hash that an unknown email is verified against, so that
 * it costs what a wrong password costs. Idempotent; signin_password calls
 * it too, but a server calls it at start so that no sign-in pays for it. */
void signin_init(void);

/* The email as sign-in looks it up and records it: normalized when it is
 * well-formed (true), else the text as typed, cut to EMAIL_MAX (false). */
bool signin_email(const char *raw, char out[EMAIL_MAX + 1]);

/* Verifies the password of the account with this email (an unknown email
 * against the dummy hash), then starts the session. Records "signin" or
 * "signin.failed" (with the email tried) from who. PIORA_EAUTH: wrong email
 * or password, the same answer for both. A user with two-factor sign-in
 * gets a session with mfa_pending set (nothing recorded yet): it signs in
 * nothing until the second step (web/auth.c) replaces it. */
piora_err signin_password(store_t *s, const actor *who, const char *email, const char *password,
                          size_t password_len, const signin_session *ss, user_rec *u,
                          session_rec *out);

/* Starts a session for u, who has just proved who they are (first-run
 * setup), and records "signin" with u as the actor. */
piora_err signin_start(store_t *s, const actor *who, const user_rec *u, const signin_session *ss,
                       session_rec *out);

/* First-run setup is open while there is no user: the dashboard offers
 * it then. On a store failure *open is left as it was. */
piora_err signin_setup_open(store_t *s, bool *open);
/* Stores the digest (SESSION_DIGEST_LEN bytes) of a new one-time setup
 * secret, replacing any unused one; users_create consumes it. */
piora_err signin_setup_offer(store_t *s, const uint8_t *digest);
/* OK while the setup secret with this digest is unused, else ENOTFOUND. */
piora_err signin_setup_check(store_t *s, const uint8_t *digest);

/* Ends the session and records "signout" from who (the signed-in user). */
piora_err signin_end(store_t *s, const actor *who, int64_t session_id);

#endif
