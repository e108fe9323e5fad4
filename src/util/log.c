#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"

static log_level min_level = LOG_INFO;

void log_set_level(log_level lvl) { min_level = lvl; }

void log_msg(log_level lvl, const char *fmt, ...)
{
    if (lvl < min_level)
        return;
    static const char *names[] = {"debug", "info", "warn", "error"};
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(clock_now(), ts);
    buf_t b;
    buf_init(&b, 4096);
    buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", ts, names[lvl]);
    json_put_str(&b, msg);
    buf_puts(&b, "}\n");
    if (!b.failed)
        fputs(b.data, stderr);
    buf_free(&b);
}
