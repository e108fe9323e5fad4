/* The access log of SPEC 6: one JSON line per request on standard output.
 * Workers format the line on their stack and copy it into a buffer under a
 * mutex held only for that copy; a background writer (util/bgwriter.h)
 * writes the buffer out (every 50 ms, or sooner when it fills), so a slow
 * reader of standard output costs dropped lines (counted), never a stalled
 * worker. */
#ifndef PIORA_MONITOR_ACCESSLOG_H
#define PIORA_MONITOR_ACCESSLOG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct access_entry {
    const char *method;
    const char *raw_uri;   /* the query string is cut off here */
    int status;
    int64_t duration_us;
    int64_t token_id;      /* 0: null */
    const char *addr;
    const char *request_id;
} access_entry;

/* fd: where lines go (1 for standard output). false when the buffers or
 * the thread cannot be had; nothing is left behind, a later start may
 * succeed. */
bool accesslog_start(int fd);
bool accesslog_running(void);
void accesslog_write(const access_entry *e);
/* Stops the writer after it has written what is buffered. */
void accesslog_stop(void);
uint64_t accesslog_dropped(void);

#endif
