/* The account service: input rules shared by the CLI and the dashboard,
 * and the one place that creates users and changes passwords. */
#ifndef PIORA_CORE_USERS_H
#define PIORA_CORE_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/actor.h"
#include "store/store.h"

/* A sane email (local@domain, <= 254 bytes, local part <= 64, a domain of
 * letters, digits and hyphens in dot-separated labels; "root@localhost" is
 * fine: the address is never mailed), lower-cased into out. */
bool users_email_normalize(const char *in, char out[EMAIL_MAX + 1]);
/* A team name: 1-64 bytes of UTF-8 without control characters (C0, DEL, C1). */
bool users_team_valid(const char *t);
/* A new password's length: PASSWORD_MIN_LEN to PASSWORD_MAX_LEN bytes. */
bool users_password_valid(size_t len);

/* Which rules an input broke (PIORA_EINVALID): bits of *bad. Each front end
 * words them its own way (a field error, a CLI usage message). */
enum {
    USERS_BAD_EMAIL = 1u << 0,
    USERS_BAD_TEAM = 1u << 1,
    USERS_BAD_PASSWORD = 1u << 2, /* the new password's length */
    USERS_BAD_CURRENT = 1u << 3   /* the current password does not match */
};

typedef struct user_create_req {
    const char *email;      /* as typed: normalized (lower-cased) here */
    const char *team;       /* created if new, else joined */
    bool is_admin;
    const char *password;   /* plain; hashed here, never kept */
    size_t password_len;
    /* First-run setup: the digest (SESSION_DIGEST_LEN bytes) of the setup
     * link's secret, consumed in the same transaction; the user is then
     * the first admin and its own actor. NULL otherwise. */
    const uint8_t *setup_digest;
} user_create_req;

/* Normalizes and checks the input, hashes the password, stores the user
 * and records "user.created" from who. PIORA_EINVALID with *bad; ECONFLICT:
 * the email is taken; ENOTFOUND: the setup link is used or unknown. */
piora_err users_create(store_t *s, const actor *who, const user_create_req *rq, user_rec *out,
                       unsigned *bad);

typedef struct password_set_req {
    int64_t user_id;
    const char *current;     /* must match the stored password; NULL: not asked (the CLI) */
    const char *password;    /* the new one */
    size_t password_len;
    int64_t keep_session_id; /* the session asking (the dashboard), or 0: ends them all */
} password_set_req;

/* The members of a team (*out malloc'd, free it): a team sees only its
 * own members, and not the removed ones. */
piora_err users_list_team(store_t *s, int64_t team_id, user_rec **out, size_t *n);

/* Checks the current and the new password (both reported in *bad on
 * PIORA_EINVALID), stores the new hash, ends every session of the user but
 * keep_session_id (whoever changes it: a stolen session must not outlive a
 * reset from the CLI) and records "password.changed" from who. ENOTFOUND:
 * no such user. */
piora_err users_set_password(store_t *s, const actor *who, const password_set_req *rq,
                             unsigned *bad);

#endif
