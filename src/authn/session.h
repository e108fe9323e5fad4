/* The dashboard's authentication, beside the bearer path of authn.h: the
 * session cookie -> stored session -> user, idle and absolute expiry, the
 * throttled touch of last_seen_at, and for state-changing methods the
 * Origin / Sec-Fetch-Site check and the CSRF token. It knows no HTTP
 * library: http/pipeline.c hands it header values and maps outcomes. */
#ifndef PIORA_AUTHN_SESSION_H
#define PIORA_AUTHN_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/principal.h"
#include "store/store.h"
#include "util/err.h"

/* The touch of last_seen_at is written at most this often per session, so
 * a dashboard request costs no write; idle expiry is exact to this. */
#define SESSION_TOUCH_EVERY_S 60

/* Who is signed in for this request. who acts as the user with every
 * scope: the dashboard is the user, not a token (token_id 0). */
typedef struct authn_session {
    session_rec sess;
    user_rec user;
    principal_t who;
} authn_session;

/* What the request says, as header values (NULL when absent). origin,
 * sec_fetch_site, host and csrf are read only when state_changing. */
typedef struct session_facts {
    const char *cookie;
    bool state_changing; /* any method but GET and HEAD */
    const char *origin;
    const char *sec_fetch_site;
    const char *host;
    const char *csrf;    /* X-CSRF-Token */
} session_facts;

typedef enum session_outcome {
    SESSION_OK,
    SESSION_NONE,        /* 401 signed_out: no cookie, or no such session */
    SESSION_EXPIRED,     /* 401 session_expired (the session is deleted) */
    SESSION_BAD_ORIGIN,  /* 403 csrf_failed: another site sent it */
    SESSION_BAD_CSRF,    /* 403 csrf_failed: the CSRF token is missing or wrong */
    SESSION_UNAVAILABLE  /* the store failed: *err says how */
} session_outcome;

/* How long a session lives without a request; authn_init() sets it from
 * the configuration. */
void authn_session_configure(int64_t idle_s);

/* The session of this request. On SESSION_OK *out is filled (and its
 * last_seen_at touched when due); on SESSION_BAD_ORIGIN and
 * SESSION_BAD_CSRF *out is filled too but must not be acted on; on
 * SESSION_UNAVAILABLE *err is set. */
session_outcome authn_session_verify(store_t *s, const session_facts *f, authn_session *out,
                                     piora_err *err);

/* Alive at now: before its absolute end and used within idle_s. */
bool session_live(const session_rec *s, int64_t now, int64_t idle_s);
/* Whether this request should write last_seen_at. */
bool session_needs_touch(const session_rec *s, int64_t now, int64_t idle_s);

#endif
