/* last_used_at without a write per request: requests note (token, time,
 * address) in a fixed-size in-memory table; one background thread writes
 * the noted rows in one transaction every interval (<= 60 s, so the stored
 * time is never more than that behind), and once more at shutdown. */
#ifndef PIORA_AUTHN_LASTUSED_H
#define PIORA_AUTHN_LASTUSED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Starts the writer (util/bgwriter.h) with its own connection to db_url
 * and a table of at least slots notes. PIORA_EDB, PIORA_ENOMEM or
 * PIORA_EINTERNAL leave nothing behind; a later start may succeed. */
piora_err lastused_start(const char *db_url, unsigned interval_s, uint32_t slots);
/* Cheap: one striped lock and a slot write. Drops (and counts) the note
 * when the table is full of other tokens' unwritten notes. */
void lastused_note(int64_t token_id, int64_t now, const char *addr);
/* The noted, not yet written use of token_id: true with its time and
 * address (addr holds addrlen bytes, NUL-terminated) when there is one.
 * Readers merge it so a token's last use shows at once, not a flush later. */
bool lastused_lookup(int64_t token_id, int64_t *used_at, char *addr, size_t addrlen);
/* Writes what is buffered now (the writer thread calls it; so does stop). */
piora_err lastused_flush(void);
/* Final flush, then stops the thread. */
void lastused_stop(void);
uint64_t lastused_dropped(void);

#endif
