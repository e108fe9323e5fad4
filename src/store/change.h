/* Change detection: how in-memory caches of database state learn that the
 * data under them moved, whoever wrote it (a thread of this process,
 * another process such as the CLI, later another node).
 *
 * Writes are sorted into kinds. Every write transaction, through any
 * backend, says which kinds it changed, and this process keeps one
 * generation per kind: a counter that moves after every committed change
 * of that kind that the process has noticed. A cache tags each entry with
 * the generation(s) it depends on, read *before* the database read that
 * fills it, and trusts the entry only while they are unchanged. So a write
 * of one kind never empties a cache that depends on another: the usage
 * log's batch every second leaves cached tokens and list pages alone.
 *
 * Writes through this process's own connections move the generation as
 * they commit. Writes by anyone else are noticed by change_poll(), which a
 * serving thread calls at the start of every request. */
#ifndef PIORA_STORE_CHANGE_H
#define PIORA_STORE_CHANGE_H

#include <stdint.h>

#include "util/err.h"

typedef struct store store_t;

typedef enum change_kind {
    CHANGE_TOKENS,   /* a token's existence, secret, scopes, expiry, revocation */
    CHANGE_USERS,    /* users and teams (membership, role, password) */
    CHANGE_OBJECTS,  /* resources: servers, applications, databases, ... */
    CHANGE_SESSIONS, /* dashboard sessions and the first-run setup secret */
    CHANGE_MONITOR,  /* audit log, usage log, tokens' last-used times */
    CHANGE__COUNT
} change_kind;

#define CHANGE_BIT(k) (1u << (k))
#define CHANGE_ALL ((1u << CHANGE__COUNT) - 1)

/* The process's generation of the kinds in the mask `kinds` (CHANGE_BIT
 * values or'ed): it differs from an earlier answer for the same mask if
 * and only if a change of one of those kinds was noticed in between.
 * Safe from any thread; never blocks. */
uint64_t change_generation(unsigned kinds);

/* Brings the generations up to date with changes committed by others
 * (other connections, processes, nodes) since this connection last
 * looked. Cheap enough to call once per request: a backend may answer from
 * a recent look, within the bound change_wait_visible() waits out. *moved
 * (may be NULL) receives the kinds whose generation this call moved. On
 * failure every generation is moved (a cache must not trust what it
 * cannot check) and the error is returned. */
piora_err change_poll(store_t *s, unsigned *moved);

/* Called after a committed write that every reader must see at once (a
 * revocation): returns when every reader will see it, i.e. once any
 * change_poll() that starts afterwards, on any connection of any process,
 * leaves that process's generations moved past the write. */
void change_wait_visible(store_t *s);

/* Called at the end of every request that may have written: returns once
 * every serving process of the cluster sees what this thread committed of
 * `kinds` (CHANGE_BIT values) since its last wait, so that the next
 * request, on any node, answers from the same data (SPEC 1: any node
 * answers any request the same way). At once when this thread committed
 * none of them, and always at once on a backend whose only serving process
 * is this one (SQLite: its commits move this process's generations as they
 * happen). Never waits for what it was not told: a revocation that must
 * be seen by other processes of one SQLite file says change_wait_visible(). */
void change_settle(store_t *s, unsigned kinds);

/* The name of a kind, as backends store it ("tokens", "users", ...). */
const char *change_kind_name(change_kind k);

#endif
