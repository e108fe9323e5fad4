/* Dashboard sessions: the primitives that need no HTTP and no database, so
 * they are unit-tested alone (tests/unit/test_session.c): secrets, cookie
 * parsing and formatting, the CSRF comparison and the Origin /
 * Sec-Fetch-Site check. authn/session.c joins them to the store for every
 * request; web/auth.c uses them to sign in, set up and sign out. */
#ifndef PIORA_AUTH_SESSION_H
#define PIORA_AUTH_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_COOKIE "piora_session"
/* base64url (no padding) of 32 bytes from the CSPRNG */
#define SESSION_SECRET_LEN 43
#define SET_COOKIE_MAX 256
/* SHA-256: the length of what the database keeps of a secret (the store's
 * SESSION_DIGEST_LEN, checked equal in authn/session.c) */
#define SESSION_HASH_LEN 32

/* Fills out with a new random secret (session id, CSRF token, setup
 * secret) and its NUL. */
void session_secret(char out[SESSION_SECRET_LEN + 1]);
/* True when s has the exact shape of a secret (length and alphabet). */
bool session_secret_valid(const char *s, size_t len);
/* SHA-256 of the secret: what the database keeps. */
void session_digest(const char *secret, size_t len, uint8_t out[SESSION_HASH_LEN]);

/* Finds piora_session in a Cookie header. false when absent or not of the
 * secret's shape (a forged cookie costs no lookup). */
bool session_cookie_get(const char *cookie_header, char out[SESSION_SECRET_LEN + 1]);
/* The Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, Max-Age,
 * Secure when asked. secret NULL: the cookie that clears it. */
void session_cookie_format(char out[SET_COOKIE_MAX], const char *secret, int64_t max_age,
                           bool secure);

/* Constant-time comparison of the session's CSRF token with the one the
 * request sent (NULL: false). */
bool csrf_matches(const char *expected, const char *given);

/* A state-changing request must come from the dashboard's own pages:
 * Sec-Fetch-Site, when sent, is "same-origin"; Origin, when sent, names
 * the Host the request was sent to. Clients that send neither (curl) are
 * left to the CSRF token. */
bool origin_allowed(const char *origin, const char *sec_fetch_site, const char *host);

#endif
