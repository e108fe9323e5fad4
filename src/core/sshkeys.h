/* The team SSH key service (SPEC 10, Keys): one Ed25519 pair per team, made
 * on first use, rotated with the previous pair kept as a fallback until it is
 * deleted; every change audited. Private halves are sealed with the master key
 * (sshkeys_master_load) and opened only for the runner. */
#ifndef PIORA_CORE_SSHKEYS_H
#define PIORA_CORE_SSHKEYS_H
#include <jansson.h>
#include <stdint.h>

#include "auth/sshkey.h"
#include "core/actor.h"
#include "store/store.h"

/* Reads the 32-byte master key file at path; when the file does not exist
 * and may_create, makes it (mode 0600, random). Refuses a file of another
 * size or one that others may read. err (may be NULL) gets why. */
piora_err sshkeys_master_load(const char *path, bool may_create, uint8_t out[SSHKEY_MASTER_LEN],
                              char *err, size_t errlen);
/* The master key file's path: explicit if given, else piora.key beside the
 * SQLite file database names (false for a URL: then it must be given). */
bool sshkeys_master_path(const char *explicit_path, const char *database, char *out, size_t len);
/* The master key the services below seal and open with (set once, at start). */
void sshkeys_set_master(const uint8_t master[SSHKEY_MASTER_LEN]);
bool sshkeys_have_master(void);

/* Short secrets the store keeps for a user (the TOTP key): sealed with the
 * master key as text, "sealed1:" + base64url of nonce || secretbox, so a
 * copy of the database alone gives no second factor away. False without a
 * master key or when out is too small. */
#define SSHKEYS_SEALED_TEXT_MAX 192
bool sshkeys_seal_text(const char *plain, char *out, size_t cap);
/* Opens what sshkeys_seal_text made. A value without the prefix is a row
 * written before sealing and comes back as it is. False when the master key
 * is another one, the text was changed, or out is too small. */
bool sshkeys_open_text(const char *stored, char *out, size_t cap);

/* {"public_key", "fingerprint", "created_at", "previous": null | {same}}.
 * Makes the team's first pair (audited) when it has none; that needs the
 * master key (PIORA_EINTERNAL without one). */
piora_err sshkeys_show(store_t *s, const actor *who, int64_t team_id, const char *team_name,
                       json_t **out);
/* A new current pair; the current one becomes previous (audited). */
piora_err sshkeys_rotate(store_t *s, const actor *who, int64_t team_id, const char *team_name,
                         json_t **out);
/* ENOTFOUND when there is no previous pair. */
piora_err sshkeys_delete_previous(store_t *s, const actor *who, int64_t team_id);

/* For the runner: the team's private keys in OpenSSH text, current first
 * (keys[0]) then previous; *n of them. sshkeys_wipe_private() after use. */
piora_err sshkeys_private(store_t *s, int64_t team_id, char keys[2][SSHKEY_PRIVATE_MAX], size_t *n);
void sshkeys_wipe_private(char keys[2][SSHKEY_PRIVATE_MAX]);

#endif
