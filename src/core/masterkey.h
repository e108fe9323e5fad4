/* The master key (docs/architecture.md, layer table): the file that
 * seals the secrets the database keeps for teams and users, and the
 * sealing itself. Set once at start by serve and by the CLI commands that
 * need it; every service that seals or opens calls here. */
#ifndef PIORA_CORE_MASTERKEY_H
#define PIORA_CORE_MASTERKEY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/sshkey.h"
#include "util/err.h"

/* Reads the 32-byte master key file at path; when the file does not exist
 * and may_create, makes it (mode 0600, random). Refuses a file of another
 * size or one that others may read. err (may be NULL) gets why. */
piora_err masterkey_load(const char *path, bool may_create, uint8_t out[SSHKEY_MASTER_LEN],
                         char *err, size_t errlen);
/* The master key file's path: explicit if given, else piora.key beside the
 * SQLite file database names (false for a URL: then it must be given). */
bool masterkey_path(const char *explicit_path, const char *database, char *out, size_t len);
/* The master key the services below seal and open with (set once, at start). */
void masterkey_set(const uint8_t master[SSHKEY_MASTER_LEN]);
bool masterkey_have(void);
/* sshkey_seal() and sshkey_open() with the key held here; false without one. */
bool masterkey_seal(const char *plain, uint8_t *sealed, size_t cap, size_t *sealed_len);
bool masterkey_open(const uint8_t *sealed, size_t len, char *out, size_t cap);

/* Short secrets the store keeps for a user (the TOTP key): sealed with the
 * master key as text, "sealed1:" + base64url of nonce || secretbox, so a
 * copy of the database alone gives no second factor away. False without a
 * master key or when out is too small. */
#define MASTERKEY_SEALED_TEXT_MAX 192
bool masterkey_seal_text(const char *plain, char *out, size_t cap);
/* Opens what masterkey_seal_text made. A value without the prefix is a row
 * written before sealing and comes back as it is. False when the master key
 * is another one, the text was changed, or out is too small. */
bool masterkey_open_text(const char *stored, char *out, size_t cap);

#endif
