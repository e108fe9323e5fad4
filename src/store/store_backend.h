/* Private to store/: how a backend plugs in behind store.h.
 *
 * Dispatch is a small table of function pointers rather than link-time
 * symbols, so that one binary can carry SQLite and (later) PostgreSQL and
 * pick by URL at store_open(): store_common.c owns the public functions and
 * forwards each to s->ops. The indirect call costs nothing next to a query.
 * A backend's connection struct starts with `struct store` (its ops). The
 * table's members come from store_fns.h, one per store function. */
#ifndef PIORA_STORE_BACKEND_H
#define PIORA_STORE_BACKEND_H

#include "store/store.h"

struct store {
    const struct store_ops *ops;
};

typedef struct store_ops {
    void (*close)(store_t *s);
    /* the change feed's backend half (change.h) */
    piora_err (*change_poll)(store_t *s, unsigned *moved);
    void (*change_wait_visible)(store_t *s);
    void (*change_settle)(store_t *s, unsigned kinds); /* NULL: nothing to wait for */
#define STORE_FN(ret, name, params, args) ret(*name) params;
#include "store/store_fns.h"
} store_ops;

/* The SQLite backend: path is a file name. */
store_t *sqlite_store_open(const char *path, char *msg, size_t msglen);

/* The PostgreSQL backend: url is a libpq URI. _existing refuses a database
 * never migrated instead of migrating it (store_open_existing()). */
store_t *pg_store_open(const char *url, char *msg, size_t msglen);
store_t *pg_store_open_existing(const char *url, char *msg, size_t msglen);

/* Tests only: the busy timeout of one connection (default 5000 ms). */
void sqlite_store_set_busy_timeout(store_t *s, int ms);

/* A remote backend's answer to store_change_poll_nowait() (store.h): true
 * when its generations are known current without a round trip (its change
 * listener is connected and caught up). Registered once, before serving. */
void store_set_change_nowait(bool (*fn)(void));

/* Shared helper: copies src into a fixed buffer, always terminated. */
void store_copy(char *dst, size_t dstlen, const char *src);

#endif
