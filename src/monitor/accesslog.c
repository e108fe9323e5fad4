/* Access-log lines: formatted by the worker (no allocation), appended to a
 * double buffer, written by one background writer. See accesslog.h for why. */
#include "monitor/accesslog.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor/usagelog.h"
#include "util/clock.h"
#include "util/bgwriter.h"

#define BUF_BYTES (1u << 20)
#define FLUSH_MS 50
#define LINE_MAX_BYTES 4096
#define LOG_PATH_MAX 1024

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *active, *spare;
static size_t used;
static int out_fd = -1;
static _Atomic bool running;
static _Atomic uint64_t dropped;

static bgwriter writer = BGWRITER_INIT;

bool accesslog_running(void) { return atomic_load_explicit(&running, memory_order_relaxed); }
uint64_t accesslog_dropped(void) { return atomic_load(&dropped); }

/* Appends s as a JSON string; s is already clean UTF-8 without controls
 * (usagelog_clean), so only quotes and backslashes need escaping. */
static size_t put_str(char *o, size_t room, const char *s)
{
    size_t n = 0;
    if (room < 3)
        return 0;
    o[n++] = '"';
    for (; *s && n + 3 < room; s++) {
        if (*s == '"' || *s == '\\')
            o[n++] = '\\';
        o[n++] = *s;
    }
    o[n++] = '"';
    return n;
}

static void write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(out_fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* a closed stdout: nothing sensible to do */
        }
        p += w;
        n -= (size_t)w;
    }
}

static void flush_now(void)
{
    pthread_mutex_lock(&mu);
    char *full = active;
    size_t n = used;
    active = spare;
    spare = full;
    used = 0;
    bgwriter_rearm(&writer);
    pthread_mutex_unlock(&mu);
    if (n)
        write_all(full, n);
}

void accesslog_write(const access_entry *e)
{
    if (!accesslog_running())
        return;
    char line[LINE_MAX_BYTES];
    char path[LOG_PATH_MAX], method[16], addr[64], rid[136];
    const char *q = e->raw_uri ? strchr(e->raw_uri, '?') : NULL;
    size_t plen = e->raw_uri ? (q ? (size_t)(q - e->raw_uri) : strlen(e->raw_uri)) : 0;
    usagelog_clean(path, sizeof path, e->raw_uri, plen);
    usagelog_redact(path);
    usagelog_clean(method, sizeof method, e->method, e->method ? strlen(e->method) : 0);
    usagelog_clean(addr, sizeof addr, e->addr, e->addr ? strlen(e->addr) : 0);
    usagelog_clean(rid, sizeof rid, e->request_id, e->request_id ? strlen(e->request_id) : 0);

    int64_t ms = clock_now_ms();
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(ms / 1000, ts); /* "...:40Z": the milliseconds go before the Z */
    size_t n = 0;
    n += (size_t)snprintf(line + n, sizeof line - n, "{\"time\":\"%.19s.%03dZ\",\"method\":", ts,
                          (int)(ms % 1000));
    n += put_str(line + n, sizeof line - n, method);
    n += (size_t)snprintf(line + n, sizeof line - n, ",\"path\":");
    n += put_str(line + n, sizeof line - n, path);
    n += (size_t)snprintf(line + n, sizeof line - n, ",\"status\":%d,\"duration_ms\":%.3f", e->status,
                          (double)e->duration_us / 1000.0);
    if (e->token_id > 0)
        n += (size_t)snprintf(line + n, sizeof line - n, ",\"token_id\":%lld",
                              (long long)e->token_id);
    else
        n += (size_t)snprintf(line + n, sizeof line - n, ",\"token_id\":null");
    n += (size_t)snprintf(line + n, sizeof line - n, ",\"addr\":");
    n += put_str(line + n, sizeof line - n, addr);
    n += (size_t)snprintf(line + n, sizeof line - n, ",\"request_id\":");
    n += put_str(line + n, sizeof line - n, rid);
    if (n + 2 >= sizeof line)
        return; /* cannot happen with the bounds above; never write half a line */
    line[n++] = '}';
    line[n++] = '\n';

    pthread_mutex_lock(&mu);
    if (!active || used + n > BUF_BYTES) {
        pthread_mutex_unlock(&mu);
        atomic_fetch_add(&dropped, 1);
        return;
    }
    memcpy(active + used, line, n);
    used += n;
    bool half = used > BUF_BYTES / 2;
    pthread_mutex_unlock(&mu);
    if (half)
        bgwriter_kick(&writer);
}

static void writer_tick(void *arg, void *conn)
{
    (void)arg, (void)conn;
    flush_now();
}

/* The two buffers; fd is where lines go. */
static piora_err writer_setup(void *arg, void *conn)
{
    (void)conn;
    char *a = bgwriter_malloc(BUF_BYTES);
    char *b = a ? bgwriter_malloc(BUF_BYTES) : NULL;
    if (!b) {
        free(a);
        return PIORA_ENOMEM;
    }
    pthread_mutex_lock(&mu);
    active = a;
    spare = b;
    used = 0;
    out_fd = *(const int *)arg;
    pthread_mutex_unlock(&mu);
    return PIORA_OK;
}

static void writer_teardown(void *arg, void *conn)
{
    (void)arg, (void)conn;
    pthread_mutex_lock(&mu);
    free(active);
    free(spare);
    active = spare = NULL;
    used = 0;
    pthread_mutex_unlock(&mu);
}

bool accesslog_start(int fd)
{
    const bgwriter_conf conf = {
        .name = "access log",
        .period_ms = FLUSH_MS,
        .arg = &fd,
        .setup = writer_setup,
        .teardown = writer_teardown,
        .tick = writer_tick,
        .final = writer_tick,
    };
    if (bgwriter_start(&writer, &conf) != PIORA_OK)
        return false;
    atomic_store(&running, true);
    return true;
}

void accesslog_stop(void)
{
    atomic_store(&running, false);
    bgwriter_stop(&writer);
}
