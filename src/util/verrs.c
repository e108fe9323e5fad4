#include "util/verrs.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/json.h"

/* Cuts s (NUL-terminated, at most cap-1 bytes) back to the last complete
 * UTF-8 sequence, so a truncated field name or message never turns into
 * invalid UTF-8 in the JSON of the 422 answer. */
static void utf8_trim_tail(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && !utf8_valid(s, n))
        n--;
    s[n] = '\0';
}

void verrs_add(verrs *e, const char *field, const char *fmt, ...)
{
    if (e->n >= VERRS_MAX)
        return;
    verr *v = &e->items[e->n++];
    snprintf(v->field, sizeof v->field, "%s", field ? field : "");
    utf8_trim_tail(v->field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
    utf8_trim_tail(v->message);
}
