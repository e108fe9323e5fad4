/* Placeholders so the binary links while the PostgreSQL team and job
 * functions are written (pgjobs deletes this file as it lands them): each
 * fails with PIORA_EINTERNAL and says so once. */
#include <stdatomic.h>

#include "store/postgres/pg_internal.h"
#include "util/log.h"

#define PG_TODO(name)                                                        \
    do {                                                                     \
        static atomic_flag logged = ATOMIC_FLAG_INIT;                        \
        if (!atomic_flag_test_and_set(&logged))                              \
            log_error("store: PostgreSQL %s not built yet", name);          \
    } while (0)

piora_err pg_user_offboard(store_t *s, int64_t user_id, bool remove, int64_t now, int64_t *revoked)
{
    (void)s; (void)user_id; (void)remove; (void)now; (void)revoked;
    PG_TODO("user_offboard");
    return PIORA_EINTERNAL;
}

piora_err pg_user_enable(store_t *s, int64_t user_id)
{
    (void)s; (void)user_id;
    PG_TODO("user_enable");
    return PIORA_EINTERNAL;
}

piora_err pg_user_set_admin(store_t *s, int64_t user_id, bool is_admin)
{
    (void)s; (void)user_id; (void)is_admin;
    PG_TODO("user_set_admin");
    return PIORA_EINTERNAL;
}

piora_err pg_invite_create(store_t *s, int64_t team_id, const char *email, bool is_admin, int64_t invited_by,
          const uint8_t digest[SESSION_DIGEST_LEN], int64_t now, int64_t expires_at,
          invite_rec *out)
{
    (void)s; (void)team_id; (void)email; (void)is_admin; (void)invited_by; (void)digest; (void)now; (void)expires_at; (void)out;
    PG_TODO("invite_create");
    return PIORA_EINTERNAL;
}

piora_err pg_invite_by_digest(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], int64_t now, invite_rec *out)
{
    (void)s; (void)digest; (void)now; (void)out;
    PG_TODO("invite_by_digest");
    return PIORA_EINTERNAL;
}

piora_err pg_invite_list(store_t *s, int64_t team_id, int64_t now, invite_rec **out, size_t *n)
{
    (void)s; (void)team_id; (void)now; (void)out; (void)n;
    PG_TODO("invite_list");
    return PIORA_EINTERNAL;
}

piora_err pg_invite_revoke(store_t *s, int64_t team_id, int64_t id, int64_t now, invite_rec *out)
{
    (void)s; (void)team_id; (void)id; (void)now; (void)out;
    PG_TODO("invite_revoke");
    return PIORA_EINTERNAL;
}

piora_err pg_invite_accept(store_t *s, const uint8_t digest[SESSION_DIGEST_LEN], const char *password_hash,
          int64_t now, user_rec *out)
{
    (void)s; (void)digest; (void)password_hash; (void)now; (void)out;
    PG_TODO("invite_accept");
    return PIORA_EINTERNAL;
}

piora_err pg_session_reauth(store_t *s, int64_t session_id, int64_t now)
{
    (void)s; (void)session_id; (void)now;
    PG_TODO("session_reauth");
    return PIORA_EINTERNAL;
}

piora_err pg_totp_get(store_t *s, int64_t user_id, bool pending, char *out, size_t outlen,
          int64_t *last_step)
{
    (void)s; (void)user_id; (void)pending; (void)out; (void)outlen; (void)last_step;
    PG_TODO("totp_get");
    return PIORA_EINTERNAL;
}

piora_err pg_totp_set_pending(store_t *s, int64_t user_id, const char *key_b32)
{
    (void)s; (void)user_id; (void)key_b32;
    PG_TODO("totp_set_pending");
    return PIORA_EINTERNAL;
}

piora_err pg_totp_enable(store_t *s, int64_t user_id, int64_t last_step, const uint8_t (*digests)[32], size_t n)
{
    (void)s; (void)user_id; (void)last_step; (void)digests; (void)n;
    PG_TODO("totp_enable");
    return PIORA_EINTERNAL;
}

piora_err pg_totp_use_step(store_t *s, int64_t user_id, int64_t step)
{
    (void)s; (void)user_id; (void)step;
    PG_TODO("totp_use_step");
    return PIORA_EINTERNAL;
}

piora_err pg_totp_use_recovery(store_t *s, int64_t user_id, const uint8_t digest[32], int64_t now)
{
    (void)s; (void)user_id; (void)digest; (void)now;
    PG_TODO("totp_use_recovery");
    return PIORA_EINTERNAL;
}

piora_err pg_totp_disable(store_t *s, int64_t user_id)
{
    (void)s; (void)user_id;
    PG_TODO("totp_disable");
    return PIORA_EINTERNAL;
}

piora_err pg_team_set_require_2fa(store_t *s, int64_t team_id, bool on)
{
    (void)s; (void)team_id; (void)on;
    PG_TODO("team_set_require_2fa");
    return PIORA_EINTERNAL;
}

piora_err pg_session_set_mfa_pending(store_t *s, int64_t session_id)
{
    (void)s; (void)session_id;
    PG_TODO("session_set_mfa_pending");
    return PIORA_EINTERNAL;
}

piora_err pg_deploy_queue(store_t *s, int64_t team_id, int64_t application_id, const char *ref,
          const job_trigger *trig, int64_t max_queued, int64_t now, int64_t *id)
{
    (void)s; (void)team_id; (void)application_id; (void)ref; (void)trig; (void)max_queued; (void)now; (void)id;
    PG_TODO("deploy_queue");
    return PIORA_EINTERNAL;
}

piora_err pg_deploy_claim(store_t *s, const char *owner, int64_t now, int64_t lease_until, int64_t per_server,
          deploy_claim *out)
{
    (void)s; (void)owner; (void)now; (void)lease_until; (void)per_server; (void)out;
    PG_TODO("deploy_claim");
    return PIORA_EINTERNAL;
}

piora_err pg_job_heartbeat(store_t *s, const char *owner, int64_t lease_until)
{
    (void)s; (void)owner; (void)lease_until;
    PG_TODO("job_heartbeat");
    return PIORA_EINTERNAL;
}

piora_err pg_job_expire(store_t *s, int64_t now, int64_t *n)
{
    (void)s; (void)now; (void)n;
    PG_TODO("job_expire");
    return PIORA_EINTERNAL;
}

piora_err pg_deploy_cancel_asked(store_t *s, int64_t id, bool *yes)
{
    (void)s; (void)id; (void)yes;
    PG_TODO("deploy_cancel_asked");
    return PIORA_EINTERNAL;
}

piora_err pg_deploy_finish(store_t *s, int64_t id, const char *owner, const char *status, const char *error,
          const char *commit, int exit_code, int64_t now)
{
    (void)s; (void)id; (void)owner; (void)status; (void)error; (void)commit; (void)exit_code; (void)now;
    PG_TODO("deploy_finish");
    return PIORA_EINTERNAL;
}

piora_err pg_deploy_cancel(store_t *s, int64_t team_id, int64_t id, int64_t now, deploy_cancel_outcome *out)
{
    (void)s; (void)team_id; (void)id; (void)now; (void)out;
    PG_TODO("deploy_cancel");
    return PIORA_EINTERNAL;
}

piora_err pg_job_log_append(store_t *s, int64_t id, const char *data, size_t len, int64_t cap, const char *marker)
{
    (void)s; (void)id; (void)data; (void)len; (void)cap; (void)marker;
    PG_TODO("job_log_append");
    return PIORA_EINTERNAL;
}

piora_err pg_job_log_read(store_t *s, int64_t team_id, int64_t id, int64_t offset, size_t max, char **buf,
          size_t *len, bool *complete)
{
    (void)s; (void)team_id; (void)id; (void)offset; (void)max; (void)buf; (void)len; (void)complete;
    PG_TODO("job_log_read");
    return PIORA_EINTERNAL;
}

piora_err pg_sshkey_get(store_t *s, int64_t team_id, sshkey_rec out[2], size_t *n)
{
    (void)s; (void)team_id; (void)out; (void)n;
    PG_TODO("sshkey_get");
    return PIORA_EINTERNAL;
}

piora_err pg_sshkey_put_first(store_t *s, int64_t team_id, const sshkey_rec *k)
{
    (void)s; (void)team_id; (void)k;
    PG_TODO("sshkey_put_first");
    return PIORA_EINTERNAL;
}

piora_err pg_sshkey_rotate(store_t *s, int64_t team_id, const sshkey_rec *k)
{
    (void)s; (void)team_id; (void)k;
    PG_TODO("sshkey_rotate");
    return PIORA_EINTERNAL;
}

piora_err pg_sshkey_delete_previous(store_t *s, int64_t team_id)
{
    (void)s; (void)team_id;
    PG_TODO("sshkey_delete_previous");
    return PIORA_EINTERNAL;
}
