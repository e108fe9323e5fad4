#include "util/shell.h"

bool buf_put_shquoted(buf_t *b, const char *s)
{
    buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            buf_puts(b, "'\\''");
        else
            buf_putc(b, *s);
    }
    return buf_putc(b, '\'') && !b->failed;
}
