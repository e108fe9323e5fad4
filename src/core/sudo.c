/* Sudo mode: the window rule and the re-authentication that restarts it. */
#include "core/sudo.h"

#include <sodium.h>

#include "auth/password.h"
#include "core/audit.h"
#include "core/mfa.h"
#include "util/clock.h"

bool sudo_fresh(const session_rec *sess, int64_t now, int64_t window_s)
{
    return sess->auth_at > 0 && now - sess->auth_at <= window_s;
}

piora_err sudo_reauth(store_t *s, const actor *who, const user_rec *u, int64_t session_id,
                      const char *password, size_t password_len, const char *code)
{
    char hash[PASSWORD_HASH_MAX];
    piora_err e = store_user_password_hash(s, u->id, hash, sizeof hash);
    if (e != PIORA_OK)
        return e;
    bool ok = password && password_verify(hash, password, password_len);
    sodium_memzero(hash, sizeof hash);
    audit_event ev = {.action = ok ? AUDIT_REAUTH : AUDIT_SIGNIN_FAILED, .team_id = u->team_id,
                      .email = u->email};
    if (!ok) {
        audit_record(s, who, &ev);
        return PIORA_EAUTH;
    }
    if (u->totp_on && (e = mfa_check(s, who, u, code, NULL)) != PIORA_OK)
        return e == PIORA_EAUTH ? PIORA_ECONFLICT : e;
    e = store_session_reauth(s, session_id, clock_now());
    if (e == PIORA_OK)
        audit_record(s, who, &ev);
    return e;
}
