/* Sign-in answers the same words, status and (near enough) time for an
 * unknown email and a wrong password: an unknown email is verified against
 * a dummy Argon2id hash made once with the same parameters. */
#include "core/signin.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth/password.h"
#include "core/audit.h"
#include "core/users.h"
#include "util/clock.h"
#include "util/log.h"

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_MAX];

static void dummy_make(void)
{
    char junk[33];
    uint8_t raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(junk, sizeof junk, raw, sizeof raw);
    if (password_hash(junk, strlen(junk), dummy_hash) != PIORA_OK)
        log_error("signin: cannot make the dummy password hash");
    sodium_memzero(junk, sizeof junk);
}

void signin_init(void) { pthread_once(&dummy_once, dummy_make); }

bool signin_email(const char *raw, char out[EMAIL_MAX + 1])
{
    if (users_email_normalize(raw, out))
        return true;
    snprintf(out, EMAIL_MAX + 1, "%.*s", EMAIL_MAX, raw ? raw : "");
    return false;
}

/* The actor of a session's entries is its user, whoever asked. */
static actor as_user(const actor *who, const user_rec *u)
{
    actor a = *who;
    a.user_id = u->id;
    a.team_id = u->team_id;
    a.email = u->email;
    return a;
}

static piora_err session_open(store_t *s, const actor *who, const user_rec *u,
                              const signin_session *ss, session_rec *out)
{
    int64_t now = clock_now();
    store_session_prune(s, now, now - ss->idle_s);
    return store_session_insert(s, ss->digest, u->id, ss->csrf, now, now + ss->lifetime_s,
                                who->addr, out);
}

piora_err signin_password(store_t *s, const actor *who, const char *email, const char *password,
                          size_t password_len, const signin_session *ss, user_rec *u,
                          session_rec *out)
{
    signin_init();
    char norm[EMAIL_MAX + 1];
    bool shaped = signin_email(email, norm);
    /* A disabled user's right password gets the answer of a wrong one, at
     * the same cost: the sign-in form tells nobody which accounts exist. */
    bool found = shaped && store_user_by_email(s, norm, u) == PIORA_OK && !u->disabled_at &&
                 !u->removed_at;
    char hash[PASSWORD_HASH_MAX];
    if (!found || store_user_password_hash(s, u->id, hash, sizeof hash) != PIORA_OK) {
        found = false;
        memcpy(hash, dummy_hash, sizeof hash);
    }
    bool ok = password_verify(hash, password ? password : "", password ? password_len : 0) &&
              found;
    sodium_memzero(hash, sizeof hash);
    if (!ok) {
        audit_event ev = {.action = AUDIT_SIGNIN_FAILED, .team_id = found ? u->team_id : 0,
                          .email = norm};
        actor nobody = *who;
        nobody.user_id = 0;
        nobody.team_id = 0;
        nobody.email = NULL;
        audit_record(s, &nobody, &ev);
        return PIORA_EAUTH;
    }
    if (u->totp_on) {
        /* As GitHub: the code is asked for after a right password. The
         * session stays unusable until the second step replaces it. */
        piora_err e = session_open(s, who, u, ss, out);
        if (e == PIORA_OK)
            e = store_session_set_mfa_pending(s, out->id);
        if (e == PIORA_OK)
            out->mfa_pending = true;
        return e;
    }
    return signin_start(s, who, u, ss, out);
}

piora_err signin_start(store_t *s, const actor *who, const user_rec *u, const signin_session *ss,
                       session_rec *out)
{
    piora_err e = session_open(s, who, u, ss, out);
    if (e != PIORA_OK)
        return e;
    actor self = as_user(who, u);
    audit_event ev = {.action = AUDIT_SIGNIN, .team_id = u->team_id, .email = u->email};
    audit_record(s, &self, &ev);
    return PIORA_OK;
}

piora_err signin_end(store_t *s, const actor *who, int64_t session_id)
{
    piora_err e = store_session_delete(s, session_id);
    audit_event ev = {.action = AUDIT_SIGNOUT, .team_id = who->team_id, .email = who->email};
    audit_record(s, who, &ev);
    return e;
}

piora_err signin_setup_open(store_t *s, bool *open)
{
    int64_t users = 0;
    piora_err e = store_user_count(s, &users);
    if (e == PIORA_OK)
        *open = users == 0;
    return e;
}

piora_err signin_setup_offer(store_t *s, const uint8_t *digest)
{
    return store_setup_put(s, digest, clock_now());
}

piora_err signin_setup_check(store_t *s, const uint8_t *digest)
{
    return store_setup_check(s, digest);
}
