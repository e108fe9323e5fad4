#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf_t *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void buf_free(buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

static bool buf_reserve(buf_t *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > b->max || b->len > b->max - extra) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

bool buf_append(buf_t *b, const void *p, size_t n)
{
    if (!buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool buf_puts(buf_t *b, const char *s) { return buf_append(b, s, strlen(s)); }

bool buf_putc(buf_t *b, char c) { return buf_append(b, &c, 1); }

bool buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || !buf_reserve(b, (size_t)n)) {
        b->failed = true;
        return false;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return true;
}

bool buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return ok;
}

char *buf_steal(buf_t *b, size_t *len)
{
    char *d = b->data;
    if (len)
        *len = b->len;
    if (!d) {
        d = calloc(1, 1);
        if (len)
            *len = 0;
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
