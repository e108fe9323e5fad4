/* A growable byte buffer with a hard cap. Appends past the cap (or a failed
 * allocation) set `failed` and are dropped; callers check once at the end
 * instead of after every append. The data is always NUL-terminated. */
#ifndef PIORA_UTIL_BUF_H
#define PIORA_UTIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;   /* hard cap on len */
    bool failed;  /* an append was dropped: over max or out of memory */
} buf_t;

void buf_init(buf_t *b, size_t max);
void buf_free(buf_t *b);
void buf_reset(buf_t *b);
bool buf_append(buf_t *b, const void *p, size_t n);
bool buf_puts(buf_t *b, const char *s);
bool buf_putc(buf_t *b, char c);
bool buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/* Takes ownership of the data (caller frees); the buffer is left empty. */
char *buf_steal(buf_t *b, size_t *len);

#endif
