#include "authn/session.h"

#include <stdatomic.h>
#include <string.h>

#include "auth/session.h"
#include "util/clock.h"

_Static_assert(SESSION_HASH_LEN == SESSION_DIGEST_LEN, "one digest length for sessions");

static _Atomic int64_t idle_seconds = 1800;

void authn_session_configure(int64_t idle_s)
{
    atomic_store(&idle_seconds, idle_s > 0 ? idle_s : 1800);
}

bool session_live(const session_rec *s, int64_t now, int64_t idle_s)
{
    return now < s->expires_at && now - s->last_seen_at < idle_s;
}

bool session_needs_touch(const session_rec *s, int64_t now, int64_t idle_s)
{
    int64_t every = idle_s / 4 < SESSION_TOUCH_EVERY_S ? idle_s / 4 : SESSION_TOUCH_EVERY_S;
    return now - s->last_seen_at >= (every > 0 ? every : 1);
}

/* Cookie -> session -> user. An expired session is deleted here, so the
 * next request with the same cookie is simply signed out; a session whose
 * user is gone is deleted too. */
static session_outcome session_load(store_t *s, const char *cookie, authn_session *out,
                                    piora_err *err)
{
    char secret[SESSION_SECRET_LEN + 1];
    if (!session_cookie_get(cookie, secret))
        return SESSION_NONE;
    uint8_t digest[SESSION_DIGEST_LEN];
    session_digest(secret, SESSION_SECRET_LEN, digest);
    piora_err e = store_session_by_digest(s, digest, &out->sess);
    if (e == PIORA_ENOTFOUND)
        return SESSION_NONE;
    if (e != PIORA_OK) {
        *err = e;
        return SESSION_UNAVAILABLE;
    }
    if (out->sess.mfa_pending) /* the password is not a sign-in without its second factor */
        return SESSION_NONE;
    int64_t now = clock_now();
    int64_t idle_s = atomic_load(&idle_seconds);
    if (!session_live(&out->sess, now, idle_s)) {
        store_session_delete(s, out->sess.id);
        return SESSION_EXPIRED;
    }
    e = store_user_by_id(s, out->sess.user_id, &out->user);
    /* Offboarding deletes the sessions; a sign-in racing it must not
     * leave one behind. */
    if (e == PIORA_OK && (out->user.disabled_at || out->user.removed_at))
        e = PIORA_ENOTFOUND;
    if (e == PIORA_ENOTFOUND) {
        store_session_delete(s, out->sess.id);
        return SESSION_NONE;
    }
    if (e != PIORA_OK) {
        *err = e;
        return SESSION_UNAVAILABLE;
    }
    if (session_needs_touch(&out->sess, now, idle_s) &&
        store_session_touch(s, out->sess.id, now) == PIORA_OK)
        out->sess.last_seen_at = now;
    memset(&out->who, 0, sizeof out->who);
    out->who.user_id = out->user.id;
    out->who.team_id = out->user.team_id;
    out->who.scopes = SCOPE_ALL;
    out->who.effective = SCOPE_ALL;
    return SESSION_OK;
}

session_outcome authn_session_verify(store_t *s, const session_facts *f, authn_session *out,
                                     piora_err *err)
{
    session_outcome o = session_load(s, f->cookie, out, err);
    if (o != SESSION_OK || !f->state_changing)
        return o;
    if (!origin_allowed(f->origin, f->sec_fetch_site, f->host))
        return SESSION_BAD_ORIGIN;
    if (!csrf_matches(out->sess.csrf, f->csrf))
        return SESSION_BAD_CSRF;
    return SESSION_OK;
}
