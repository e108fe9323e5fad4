/* The team SSH key service (SPEC 10, Keys): one Ed25519 pair per team, made
 * on first use, rotated with the previous pair kept as a fallback until it is
 * deleted; every change audited. Private halves are sealed with the master key
 * (core/masterkey.h) and opened only for the runner. */
#ifndef PIORA_CORE_SSHKEYS_H
#define PIORA_CORE_SSHKEYS_H
#include <jansson.h>
#include <stdint.h>

#include "auth/sshkey.h"
#include "core/actor.h"
#include "store/store.h"

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
