/* Sudo mode (issue 13), as GitHub's: a session may create or regenerate a
 * token only within a window after its user last gave their password; past
 * it they give it again, which restarts the window. */
#ifndef PIORA_CORE_SUDO_H
#define PIORA_CORE_SUDO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/actor.h"
#include "store/store.h"

/* Whether the session's last password check is within window_s of now. */
bool sudo_fresh(const session_rec *sess, int64_t now, int64_t window_s);

/* Checks the user's password (Argon2id: call from a worker) and, with
 * two-factor sign-in on, a current code; when both match, restarts the
 * session's window and records "signin.reauth". A wrong password records
 * "signin.failed" and answers PIORA_EAUTH; a wrong code ECONFLICT. */
piora_err sudo_reauth(store_t *s, const actor *who, const user_rec *u, int64_t session_id,
                      const char *password, size_t password_len, const char *code);

#endif
