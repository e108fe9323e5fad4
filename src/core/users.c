/* The account service. The shape of the names people give accounts is one
 * rule for the CLI and the dashboard (a user made by one must be able to sign
 * in through the other), and so are creating a user and changing a password:
 * both hash here (auth/password.h) and write their own audit entry. The plain
 * password lives only in the caller's buffer and the hash only on the stack. */
#include "core/users.h"

#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "auth/password.h"
#include "core/audit.h"
#include "util/clock.h"
#include "util/json.h"

bool users_email_normalize(const char *in, char out[EMAIL_MAX + 1])
{
    if (!in)
        return false;
    size_t n = strlen(in);
    if (n < 3 || n > EMAIL_MAX)
        return false;
    const char *at = strchr(in, '@');
    if (!at || at == in || strchr(at + 1, '@') || at - in > 64)
        return false;
    for (const char *p = in; p < at; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>[\\]", c))
            return false;
    }
    if (in[0] == '.' || at[-1] == '.' || strstr(in, ".."))
        return false;
    /* The domain: dot-separated labels of letters, digits and hyphens. */
    const char *d = at + 1;
    size_t label = 0;
    if (!*d)
        return false;
    for (const char *p = d; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            if (label == 0 || p[-1] == '-')
                return false;
            label = 0;
        } else if (isalnum(c) || c == '-') {
            if (label == 0 && c == '-')
                return false;
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    if (label == 0 || d[strlen(d) - 1] == '-')
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    return true;
}

bool users_team_valid(const char *t)
{
    if (!t)
        return false;
    size_t n = strlen(t);
    if (n == 0 || n > TEAM_NAME_MAX || !utf8_valid(t, n))
        return false;
    const unsigned char *p = (const unsigned char *)t;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            return false;
        if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            return false;
    }
    return true;
}

bool users_password_valid(size_t len)
{
    return len >= PASSWORD_MIN_LEN && len <= PASSWORD_MAX_LEN;
}

piora_err users_list_team(store_t *s, int64_t team_id, user_rec **out, size_t *n)
{
    user_rec *v = NULL;
    size_t all = 0;
    piora_err e = store_user_list(s, &v, &all);
    if (e != PIORA_OK)
        return e;
    size_t k = 0;
    for (size_t i = 0; i < all; i++)
        if (v[i].team_id == team_id && !v[i].removed_at)
            v[k++] = v[i];
    *out = v;
    *n = k;
    return PIORA_OK;
}

piora_err users_create(store_t *s, const actor *who, const user_create_req *rq, user_rec *out,
                       unsigned *bad)
{
    unsigned local = 0;
    if (!bad)
        bad = &local;
    *bad = 0;
    char email[EMAIL_MAX + 1];
    if (!users_email_normalize(rq->email, email))
        *bad |= USERS_BAD_EMAIL;
    if (!users_team_valid(rq->team))
        *bad |= USERS_BAD_TEAM;
    if (!rq->password || !users_password_valid(rq->password_len))
        *bad |= USERS_BAD_PASSWORD;
    if (*bad)
        return PIORA_EINVALID;

    char hash[PASSWORD_HASH_MAX];
    piora_err e = password_hash(rq->password, rq->password_len, hash);
    user_rec u;
    if (e == PIORA_OK && rq->setup_digest)
        e = store_setup_complete(s, rq->setup_digest, email, rq->team, hash, clock_now(), &u);
    else if (e == PIORA_OK)
        e = store_user_create(s, email, rq->team, rq->is_admin, hash, &u);
    sodium_memzero(hash, sizeof hash);
    if (e != PIORA_OK)
        return e;

    /* The first admin has nobody above them: they create themselves. */
    actor self = *who;
    if (rq->setup_digest) {
        self.user_id = u.id;
        self.team_id = u.team_id;
        self.email = u.email;
    }
    audit_event ev = {.action = AUDIT_USER_CREATED, .team_id = u.team_id,
                      .subject_user_id = u.id, .email = u.email};
    audit_record(s, &self, &ev); /* a failure is logged; the user exists either way */
    if (out)
        *out = u;
    return PIORA_OK;
}

piora_err users_set_password(store_t *s, const actor *who, const password_set_req *rq,
                             unsigned *bad)
{
    unsigned local = 0;
    if (!bad)
        bad = &local;
    *bad = 0;
    user_rec u;
    piora_err e = store_user_by_id(s, rq->user_id, &u);
    if (e != PIORA_OK)
        return e;
    char hash[PASSWORD_HASH_MAX];
    if (rq->current) {
        e = store_user_password_hash(s, u.id, hash, sizeof hash);
        if (e != PIORA_OK)
            return e;
        if (!password_verify(hash, rq->current, strlen(rq->current)))
            *bad |= USERS_BAD_CURRENT;
    }
    if (!rq->password || !users_password_valid(rq->password_len))
        *bad |= USERS_BAD_PASSWORD;
    if (*bad)
        return PIORA_EINVALID;

    e = password_hash(rq->password, rq->password_len, hash);
    if (e == PIORA_OK)
        e = store_user_set_password(s, u.id, hash);
    sodium_memzero(hash, sizeof hash);
    if (e != PIORA_OK)
        return e;
    store_session_delete_user(s, u.id, rq->keep_session_id);
    audit_event ev = {.action = AUDIT_PASSWORD_CHANGED, .team_id = u.team_id,
                      .subject_user_id = u.id, .email = u.email};
    audit_record(s, who, &ev);
    return PIORA_OK;
}
