/* Two-factor sign-in (issue 13): TOTP enrolment with recovery codes, the
 * check of a code or recovery code, disabling, and a team's requirement.
 * The key is shown during enrolment only; afterwards it is never returned
 * or logged. Recovery codes are shown once and stored as SHA-256 digests
 * (they carry 80 random bits, so a fast hash is enough). */
#ifndef PIORA_CORE_MFA_H
#define PIORA_CORE_MFA_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/totp.h"
#include "core/actor.h"
#include "store/store.h"

#define MFA_RECOVERY_CODES 10
#define MFA_RECOVERY_LEN 19 /* xxxx-xxxx-xxxx-xxxx: 16 base32 characters */
#define MFA_URI_MAX 1024 /* an escaped email (3 x 254) and the rest */

/* Starts (or restarts) enrolment: a new key, kept pending until confirmed.
 * key_b32 gets it in base32, uri the otpauth:// URI for an authenticator. */
piora_err mfa_enrol_start(store_t *s, const user_rec *u, char key_b32[TOTP_B32_LEN + 1],
                          char uri[MFA_URI_MAX]);

/* Confirms enrolment with a code of the pending key: the second factor is
 * on and codes gets the recovery codes (shown once). EAUTH: wrong code;
 * ENOTFOUND: no enrolment started. */
piora_err mfa_enrol_confirm(store_t *s, const actor *who, const user_rec *u, const char *code,
                            char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_LEN + 1]);

/* The second step: a current code (each usable once) or an unused
 * recovery code. EAUTH when neither matches (recorded as "signin.failed"). */
piora_err mfa_check(store_t *s, const actor *who, const user_rec *u, const char *code,
                    const char *recovery_code);

/* Turns the second factor off, given the password (Argon2id: call from a
 * worker) and a current code. EAUTH: wrong password; ECONFLICT: wrong code. */
piora_err mfa_disable(store_t *s, const actor *who, const user_rec *u, const char *password,
                      size_t password_len, const char *code);

piora_err mfa_team_require(store_t *s, const actor *who, int64_t team_id, bool on);

#endif
