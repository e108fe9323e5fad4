/* Placeholders for the users, tokens, token notes and sessions sections
 * until pg_users.c, pg_tokens.c, pg_token_notes.c and pg_sessions.c land
 * (pgcore removes this file): each fails with PIORA_EINTERNAL, once said. */
#include <stdatomic.h>

#include "store/postgres/pg_internal.h"
#include "util/log.h"

#define PG_TODO(name)                                                        \
    do {                                                                     \
        static atomic_flag logged = ATOMIC_FLAG_INIT;                        \
        if (!atomic_flag_test_and_set(&logged))                              \
            log_error("store: PostgreSQL %s not built yet", name);          \
    } while (0)

piora_err pg_user_create(store_t *s, const char *email, const char *team_name, bool is_admin,
          const char *password_hash, user_rec *out)
{
    (void)s; (void)email; (void)team_name; (void)is_admin; (void)password_hash; (void)out;
    PG_TODO("user_create");
    return PIORA_EINTERNAL;
}

piora_err pg_user_by_email(store_t *s, const char *email, user_rec *out)
{
    (void)s; (void)email; (void)out;
    PG_TODO("user_by_email");
    return PIORA_EINTERNAL;
}

piora_err pg_user_by_id(store_t *s, int64_t id, user_rec *out)
{
    (void)s; (void)id; (void)out;
    PG_TODO("user_by_id");
    return PIORA_EINTERNAL;
}

piora_err pg_user_password_hash(store_t *s, int64_t user_id, char *out, size_t outlen)
{
    (void)s; (void)user_id; (void)out; (void)outlen;
    PG_TODO("user_password_hash");
    return PIORA_EINTERNAL;
}

piora_err pg_user_set_password(store_t *s, int64_t user_id, const char *password_hash)
{
    (void)s; (void)user_id; (void)password_hash;
    PG_TODO("user_set_password");
    return PIORA_EINTERNAL;
}

piora_err pg_user_list(store_t *s, user_rec **out, size_t *n)
{
    (void)s; (void)out; (void)n;
    PG_TODO("user_list");
    return PIORA_EINTERNAL;
}

piora_err pg_user_count(store_t *s, int64_t *n)
{
    (void)s; (void)n;
    PG_TODO("user_count");
    return PIORA_EINTERNAL;
}

piora_err pg_token_insert(store_t *s, const token_new *t, token_rec *out)
{
    (void)s; (void)t; (void)out;
    PG_TODO("token_insert");
    return PIORA_EINTERNAL;
}

piora_err pg_token_by_digest(store_t *s, const uint8_t digest[TOKEN_DIGEST_LEN], token_rec *out)
{
    (void)s; (void)digest; (void)out;
    PG_TODO("token_by_digest");
    return PIORA_EINTERNAL;
}

piora_err pg_token_by_id(store_t *s, int64_t id, token_rec *out)
{
    (void)s; (void)id; (void)out;
    PG_TODO("token_by_id");
    return PIORA_EINTERNAL;
}

piora_err pg_token_list(store_t *s, int64_t user_id, token_rec **out, size_t *n)
{
    (void)s; (void)user_id; (void)out; (void)n;
    PG_TODO("token_list");
    return PIORA_EINTERNAL;
}

piora_err pg_token_revoke(store_t *s, int64_t id, int64_t now)
{
    (void)s; (void)id; (void)now;
    PG_TODO("token_revoke");
    return PIORA_EINTERNAL;
}

piora_err pg_token_regenerate(store_t *s, int64_t id, const uint8_t digest[TOKEN_DIGEST_LEN], const char *hint,
          int64_t new_expires_at, int64_t now, token_rec *out)
{
    (void)s; (void)id; (void)digest; (void)hint; (void)new_expires_at; (void)now; (void)out;
    PG_TODO("token_regenerate");
    return PIORA_EINTERNAL;
}

piora_err pg_token_touch(store_t *s, const token_touch *v, size_t n)
{
    (void)s; (void)v; (void)n;
    PG_TODO("token_touch");
    return PIORA_EINTERNAL;
}

piora_err pg_token_rename(store_t *s, int64_t id, const char *name, int64_t now)
{
    (void)s; (void)id; (void)name; (void)now;
    PG_TODO("token_rename");
    return PIORA_EINTERNAL;
}

piora_err pg_token_set_note(store_t *s, int64_t id, const char *note, int64_t now)
{
    (void)s; (void)id; (void)note; (void)now;
    PG_TODO("token_set_note");
    return PIORA_EINTERNAL;
}

piora_err pg_token_hide(store_t *s, int64_t id, int64_t now)
{
    (void)s; (void)id; (void)now;
    PG_TODO("token_hide");
    return PIORA_EINTERNAL;
}

piora_err pg_session_insert(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], int64_t user_id, const char *csrf,
          int64_t now, int64_t expires_at, const char *addr, session_rec *out)
{
    (void)s; (void)digest; (void)user_id; (void)csrf; (void)now; (void)expires_at; (void)addr; (void)out;
    PG_TODO("session_insert");
    return PIORA_EINTERNAL;
}

piora_err pg_session_by_digest(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], session_rec *out)
{
    (void)s; (void)digest; (void)out;
    PG_TODO("session_by_digest");
    return PIORA_EINTERNAL;
}

piora_err pg_session_touch(store_t *s, int64_t id, int64_t now)
{
    (void)s; (void)id; (void)now;
    PG_TODO("session_touch");
    return PIORA_EINTERNAL;
}

piora_err pg_session_delete(store_t *s, int64_t id)
{
    (void)s; (void)id;
    PG_TODO("session_delete");
    return PIORA_EINTERNAL;
}

piora_err pg_session_delete_user(store_t *s, int64_t user_id, int64_t keep_id)
{
    (void)s; (void)user_id; (void)keep_id;
    PG_TODO("session_delete_user");
    return PIORA_EINTERNAL;
}

piora_err pg_session_prune(store_t *s, int64_t now, int64_t idle_before)
{
    (void)s; (void)now; (void)idle_before;
    PG_TODO("session_prune");
    return PIORA_EINTERNAL;
}

piora_err pg_setup_put(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], int64_t now)
{
    (void)s; (void)digest; (void)now;
    PG_TODO("setup_put");
    return PIORA_EINTERNAL;
}

piora_err pg_setup_check(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN])
{
    (void)s; (void)digest;
    PG_TODO("setup_check");
    return PIORA_EINTERNAL;
}

piora_err pg_setup_complete(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], const char *email,
          const char *team_name, const char *password_hash, int64_t now, user_rec *out)
{
    (void)s; (void)digest; (void)email; (void)team_name; (void)password_hash; (void)now; (void)out;
    PG_TODO("setup_complete");
    return PIORA_EINTERNAL;
}

piora_err pg_user_insert_tx(pg_store *s, const char *email, const char *team_name, bool is_admin,
                            const char *password_hash, int64_t now, int64_t *uid)
{
    (void)s; (void)email; (void)team_name; (void)is_admin; (void)password_hash; (void)now; (void)uid;
    PG_TODO("user_insert_tx");
    return PIORA_EINTERNAL;
}
