/* The per-token usage log of SPEC 6, write side: requests append to a
 * bounded in-memory queue and never wait for the database; one background
 * thread writes the queue in batches (every flush interval, or sooner when
 * it fills), applies retention, and writes what is left on graceful stop.
 * A full queue drops the entry and counts it (usagelog_dropped()). The
 * writer merges identical requests of one token in one second (method,
 * path, status, address, user agent) within one batch into one row with a
 * count (batches are about a second apart, so rarely two rows). */
#ifndef PIORA_MONITOR_USAGELOG_H
#define PIORA_MONITOR_USAGELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

typedef struct usagelog_opts {
    const char *db_url;
    unsigned flush_ms;         /* write at least this often; default 1000 */
    size_t queue_bytes;        /* queue capacity (~120 bytes per entry, half of it
                                  filling while the other half is written); 16 MiB */
    int64_t retention_s;       /* delete rows older than this; 0: keep */
    int64_t max_rows;          /* newest rows kept per token, denied requests
                                  counted apart (store_fns.h: usage_prune); 0: no cap */
    unsigned prune_interval_s; /* how often retention runs; default 60 */
} usagelog_opts;

/* Opens the writer's own connection, allocates the queue and starts the
 * thread (util/bgwriter.h). PIORA_EDB, PIORA_ENOMEM or PIORA_EINTERNAL
 * leave nothing behind; a later start may succeed. */
piora_err usagelog_start(const usagelog_opts *o);
/* True between start and stop: notes are being taken. */
bool usagelog_running(void);

/* One request of a known token. raw_uri may hold a query string: it is cut
 * at '?'. Strings are cut to the usage_entry bounds on a character
 * boundary; invalid UTF-8 and control characters become '?'. Never blocks
 * on I/O: a short lock on one of several queue shards, a copy, done. */
void usagelog_note(int64_t token_id, int64_t time, const char *method, const char *raw_uri,
                   int status, const char *addr, const char *user_agent);

/* Writes everything queued now (the writer thread calls it; so does stop). */
piora_err usagelog_flush(void);
/* Final flush, then stops the thread and closes its connection. */
void usagelog_stop(void);

uint64_t usagelog_dropped(void); /* entries lost to a full queue or a failed write */
uint64_t usagelog_written(void); /* requests written (a row may stand for several) */
uint64_t usagelog_depth(void);   /* entries waiting in the queue */

/* Copies at most srclen bytes of src into dst (dstlen > 0), cut on a
 * character boundary so that dst is valid UTF-8 with no control
 * characters (invalid bytes and controls become '?'). Returns the length. */
size_t usagelog_clean(char *dst, size_t dstlen, const char *src, size_t srclen);

/* Masks anything that may be a Piora token in s (in place, same length;
 * monitor/redact.c): a client that puts its token in a URL path or a header
 * must not have it copied into the logs. Read percent-decoded ("%70iora_"
 * is "piora_"), two things become '*' in s: the base62 run after each
 * "piora_token_", and any 36 base62 characters whose last six are the
 * token checksum of the first 30 (a token without its prefix). A masked
 * "%41" becomes "***". Past REDACT_MAX bytes, everything is masked. */
#define REDACT_MAX 4096
void usagelog_redact(char *s);

#endif
