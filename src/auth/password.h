/* Password hashing with Argon2id (libsodium's crypto_pwhash_str, which
 * embeds salt and parameters in the string). */
#ifndef PIORA_AUTH_PASSWORD_H
#define PIORA_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define PASSWORD_MIN_LEN 8
#define PASSWORD_MAX_LEN 1024

/* EINVALID when the password is shorter than PASSWORD_MIN_LEN or longer than
 * PASSWORD_MAX_LEN; ENOMEM when hashing fails. */
piora_err password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);
/* Constant-time as far as libsodium allows; false on any mismatch. */
bool password_verify(const char *hash, const char *pw, size_t len);
/* Argon2id runs (hashes and verifications) since start, for /metrics. */
uint64_t password_hash_count(void);

#endif
