/* POST /servers/{id}/check (SPEC 10, Host keys): connect, check the host
 * key, authenticate, run nothing; record trust on first use (audited), and
 * the server's status and checked_at. The SSH work is a hook that app/ fills
 * from jobs/ (core/ knows no SSH library): see jobs/probe.c. Slow: call it
 * off the HTTP polling threads. */
#ifndef PIORA_CORE_SERVERCHECK_H
#define PIORA_CORE_SERVERCHECK_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/sshkey.h"
#include "core/actor.h"
#include "store/store.h"

typedef enum server_probe_status {
    PROBE_REACHABLE,
    PROBE_UNREACHABLE,
    PROBE_AUTH_FAILED,
    PROBE_HOST_KEY_MISMATCH,
    PROBE_INTERNAL
} server_probe_status;

typedef struct server_probe {
    const char *host;
    unsigned port;
    const char *user;
    const char *pinned;           /* NULL: trust on first use */
    const char *const *keys;      /* OpenSSH private key texts, current first */
    size_t nkeys;
} server_probe;

typedef server_probe_status (*server_probe_fn)(const server_probe *p, char fingerprint[SSHKEY_FP_MAX],
                                               char *detail, size_t detail_len);

void servercheck_set_probe(server_probe_fn fn);

/* *out: {"status", "host_key_fingerprint", "detail"}. ENOTFOUND for no such
 * server of the team; EINTERNAL when no probe or master key is set. */
piora_err servercheck_run(store_t *s, const actor *who, int64_t team_id, const char *team_name,
                          int64_t server_id, json_t **out);

/* Audits a host key pin set (fingerprint) or cleared (NULL) by a write of
 * the server object (POST or PATCH /servers). */
void servercheck_note_pin(store_t *s, const actor *who, int64_t team_id, const char *fingerprint);

/* A job authenticated to a server whose host key was not pinned: pin the
 * key it saw (trust on first use, SPEC 10), audited as the runner's. */
void servercheck_trust_first_use(store_t *s, int64_t team_id, int64_t server_id,
                                 const char *fingerprint);

#endif
