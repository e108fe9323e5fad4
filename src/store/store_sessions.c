/* The backend-independent half of the dashboard's storage: forwarding the
 * session and setup calls of store.h to the backend (kept out of
 * store_common.c so the dashboard's storage reads in one place). */
#include "store/store_backend.h"

piora_err store_session_insert(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN],
                               int64_t user_id, const char *csrf, int64_t now,
                               int64_t expires_at, const char *addr, session_rec *out)
{
    return s->ops->session_insert(s, digest, user_id, csrf, now, expires_at, addr, out);
}

piora_err store_session_by_digest(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN],
                                  session_rec *out)
{
    return s->ops->session_by_digest(s, digest, out);
}

piora_err store_session_touch(store_t *s, int64_t id, int64_t now)
{
    return s->ops->session_touch(s, id, now);
}

piora_err store_session_delete(store_t *s, int64_t id) { return s->ops->session_delete(s, id); }

piora_err store_session_delete_user(store_t *s, int64_t user_id, int64_t keep_id)
{
    return s->ops->session_delete_user(s, user_id, keep_id);
}

piora_err store_session_prune(store_t *s, int64_t now, int64_t idle_before)
{
    return s->ops->session_prune(s, now, idle_before);
}

piora_err store_setup_put(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], int64_t now)
{
    return s->ops->setup_put(s, digest, now);
}

piora_err store_setup_check(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN])
{
    return s->ops->setup_check(s, digest);
}

piora_err store_setup_complete(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN],
                               const char *email, const char *team_name,
                               const char *password_hash, int64_t now, user_rec *out)
{
    return s->ops->setup_complete(s, digest, email, team_name, password_hash, now, out);
}
