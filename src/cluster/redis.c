#include "cluster/redis.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/num.h"

#define RETRY_NS 1000000000LL /* at most one reconnect per second while down */
#define US_PER_S 1000000LL
#define KEY_MAX 64

/* GCRA (as auth/ratelimit.c) in microseconds of Redis's clock.
 * KEYS[1]: the key; ARGV[1]: limit (> 0); ARGV[2]: T, microseconds between
 * requests at the sustained rate. The key holds the theoretical arrival time
 * (TAT) and expires when it passes, because a key whose TAT is past is
 * exactly a fresh one: memory stays bounded by the keys in use. Numbers are
 * written with %d: Lua 5.1's tostring keeps 14 digits and a microsecond
 * epoch has 16. Returns {allowed, remaining, seconds to full quota,
 * retry after}. */
const char redis_gcra_script[] =
    "local limit = tonumber(ARGV[1])\n"
    "local T = tonumber(ARGV[2])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1])) or now\n"
    "if tat < now then tat = now end\n"
    "local tau = T * (limit - 1)\n"
    "if tat - now > tau then\n"
    "  local wait = math.ceil((tat - tau - now) / 1000000)\n"
    "  if wait < 1 then wait = 1 end\n"
    "  return {0, 0, math.ceil((tat - now) / 1000000), wait}\n"
    "end\n"
    "tat = tat + T\n"
    "redis.call('SET', KEYS[1], string.format('%d', tat), 'PX',\n"
    "           string.format('%d', math.ceil((tat - now) / 1000) + 1000))\n"
    "local room = T * limit - (tat - now)\n"
    "local remaining = 0\n"
    "if room > 0 then remaining = math.floor(room / T) end\n"
    "if remaining > limit then remaining = limit end\n"
    "return {1, remaining, math.ceil((tat - now) / 1000000), 0}\n";

static redis_url target;
static int timeout_ms = 100; /* to connect, and for each call */
static _Atomic bool configured;
static _Atomic bool up;
/* Moves each time Redis is marked down: a thread's connection made under an
 * older epoch is dropped, so after an outage every thread reconnects (and
 * reloads the script) instead of trusting a socket to a restarted server. */
static _Atomic uint64_t epoch;
static _Atomic int64_t next_try_ns;
static _Atomic uint64_t fallbacks;

typedef struct conn {
    redisContext *c;
    uint64_t epoch;
    char sha[41];
} conn;

static pthread_key_t conn_key;
static pthread_once_t conn_once = PTHREAD_ONCE_INIT;

static void conn_free(void *p)
{
    conn *k = p;
    if (k == NULL)
        return;
    if (k->c)
        redisFree(k->c);
    free(k);
}

static void conn_key_make(void) { pthread_key_create(&conn_key, conn_free); }

bool redis_url_parse(const char *url, redis_url *out, char *why, size_t whylen)
{
    static const char scheme[] = "redis://";
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (url == NULL || strncmp(url, scheme, sizeof scheme - 1) != 0) {
        snprintf(why, whylen, "expected redis://HOST[:PORT][/N]");
        return false;
    }
    const char *p = url + sizeof scheme - 1, *host, *hend;
    if (strpbrk(p, "@?#")) {
        snprintf(why, whylen, "no user, password, query or fragment: redis://HOST[:PORT][/N]");
        return false;
    }
    if (*p == '[') {
        host = p + 1;
        hend = strchr(host, ']');
        if (hend == NULL) {
            snprintf(why, whylen, "an IPv6 address needs its closing ']'");
            return false;
        }
        p = hend + 1;
    } else {
        host = p;
        hend = p + strcspn(p, ":/");
        p = hend;
    }
    size_t hlen = (size_t)(hend - host);
    if (hlen == 0 || hlen >= sizeof out->host) {
        snprintf(why, whylen, "the host is empty or longer than %d characters",
                 REDIS_HOST_MAX - 1);
        return false;
    }
    for (const char *c = host; c < hend; c++) {
        if (!(*c == '.' || *c == '-' || *c == ':' || *c == '_' || (*c >= '0' && *c <= '9') ||
              (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))) {
            snprintf(why, whylen, "the host has a character a host name cannot have");
            return false;
        }
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';

    char num[16];
    if (*p == ':') {
        p++;
        size_t n = strcspn(p, "/");
        int64_t v;
        if (n == 0 || n >= sizeof num) {
            snprintf(why, whylen, "the port must be 1-65535");
            return false;
        }
        memcpy(num, p, n);
        num[n] = '\0';
        if (!num_parse_i64(num, 1, 65535, &v)) {
            snprintf(why, whylen, "the port must be 1-65535");
            return false;
        }
        out->port = (int)v;
        p += n;
    }
    if (*p == '/') {
        p++;
        if (*p != '\0') {
            int64_t v;
            size_t n = strlen(p);
            if (n >= sizeof num || (memcpy(num, p, n + 1), !num_parse_i64(num, 0, 65535, &v))) {
                snprintf(why, whylen, "the database number must be 0-65535");
                return false;
            }
            out->db = (int)v;
        }
    } else if (*p != '\0') {
        snprintf(why, whylen, "expected redis://HOST[:PORT][/N]");
        return false;
    }
    return true;
}

static struct timeval ms_tv(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

static void conn_close(conn *k)
{
    if (k->c)
        redisFree(k->c);
    k->c = NULL;
}

/* The first failure seen under the current epoch marks Redis down, once:
 * a late failure on an older connection says nothing about a server that
 * answered since. */
static void mark_down(uint64_t seen_epoch, const char *why)
{
    uint64_t e = seen_epoch;
    if (!atomic_compare_exchange_strong(&epoch, &e, seen_epoch + 1))
        return;
    atomic_store(&next_try_ns, clock_mono_ns() + RETRY_NS);
    if (atomic_exchange(&up, false))
        log_warn("rate limits: Redis at %s:%d is not answering (%s): each node limits on its "
                 "own until it is back",
                 target.host, target.port, why);
}

static void mark_up(void)
{
    if (!atomic_exchange(&up, true))
        log_info("rate limits: Redis at %s:%d/%d answers again: limits are shared by every node",
                 target.host, target.port, target.db);
}

/* This thread's connection for the current epoch, made (with SELECT and
 * SCRIPT LOAD) when missing. NULL with *why set on failure. */
static conn *conn_get(uint64_t cur, const char **why)
{
    pthread_once(&conn_once, conn_key_make);
    conn *k = pthread_getspecific(conn_key);
    if (k == NULL) {
        k = calloc(1, sizeof *k);
        if (k == NULL || pthread_setspecific(conn_key, k) != 0) {
            free(k);
            *why = "out of memory";
            return NULL;
        }
    }
    if (k->c && k->epoch == cur)
        return k;
    conn_close(k);
    k->c = redisConnectWithTimeout(target.host, target.port, ms_tv(timeout_ms));
    if (k->c == NULL) {
        *why = "out of memory";
        return NULL;
    }
    if (k->c->err || redisSetTimeout(k->c, ms_tv(timeout_ms)) != REDIS_OK) {
        *why = k->c->errstr[0] ? k->c->errstr : "cannot connect";
        static _Thread_local char copy[128];
        snprintf(copy, sizeof copy, "%s", *why);
        *why = copy;
        conn_close(k);
        return NULL;
    }
    redisReply *r;
    if (target.db != 0) {
        r = redisCommand(k->c, "SELECT %d", target.db);
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (!ok) {
            *why = "SELECT failed";
            conn_close(k);
            return NULL;
        }
    }
    r = redisCommand(k->c, "SCRIPT LOAD %s", redis_gcra_script);
    bool ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
    if (ok)
        memcpy(k->sha, r->str, 41);
    freeReplyObject(r);
    if (!ok) {
        *why = "SCRIPT LOAD failed";
        conn_close(k);
        return NULL;
    }
    k->epoch = cur;
    return k;
}

static bool reply_int(const redisReply *r, int64_t lo, int64_t hi, int64_t *out)
{
    if (r->type != REDIS_REPLY_INTEGER || r->integer < lo || r->integer > hi)
        return false;
    *out = r->integer;
    return true;
}

static bool fallback(void)
{
    atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
    return false;
}

bool redis_gcra_take(const char *limiter, uint64_t key, int64_t limit, int64_t window_s,
                     redis_gcra *out)
{
    if (!atomic_load(&configured) || limit <= 0 || window_s <= 0)
        return false;
    uint64_t cur = atomic_load(&epoch);
    if (!atomic_load(&up)) {
        /* Down: one thread a second may try again; everyone else decides
         * alone at once. */
        int64_t now = clock_mono_ns(), at = atomic_load(&next_try_ns);
        if (now < at || !atomic_compare_exchange_strong(&next_try_ns, &at, now + RETRY_NS))
            return fallback();
    }
    const char *why = "";
    conn *k = conn_get(cur, &why);
    if (k == NULL) {
        mark_down(cur, why);
        return fallback();
    }

    char kbuf[KEY_MAX], lbuf[24], tbuf[24];
    snprintf(kbuf, sizeof kbuf, "piora:rl:%.16s:%016llx", limiter, (unsigned long long)key);
    snprintf(lbuf, sizeof lbuf, "%lld", (long long)limit);
    int64_t t_us = window_s * US_PER_S / limit;
    snprintf(tbuf, sizeof tbuf, "%lld", (long long)(t_us < 1 ? 1 : t_us));
    redisReply *r = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        r = redisCommand(k->c, "EVALSHA %s 1 %s %s %s", k->sha, kbuf, lbuf, tbuf);
        /* A SCRIPT FLUSH (or a failover to a replica that never saw the
         * script) answers NOSCRIPT: load it again and retry once. */
        if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 &&
            attempt == 0) {
            freeReplyObject(r);
            r = redisCommand(k->c, "SCRIPT LOAD %s", redis_gcra_script);
            bool ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
            if (ok)
                memcpy(k->sha, r->str, 41);
            freeReplyObject(r);
            r = NULL;
            if (!ok)
                break;
            continue;
        }
        break;
    }
    int64_t allowed = 0, remaining = 0, reset = 0, retry = 0;
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
              reply_int(r->element[0], 0, 1, &allowed) &&
              reply_int(r->element[1], 0, limit, &remaining) &&
              reply_int(r->element[2], 0, INT64_C(1) << 40, &reset) &&
              reply_int(r->element[3], 0, INT64_C(1) << 40, &retry);
    if (!ok) {
        /* hiredis reports its read timeout as EAGAIN's text */
        char copy[128];
        if (k->c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
            snprintf(copy, sizeof copy, "no answer within %d ms", timeout_ms);
        else
            snprintf(copy, sizeof copy, "%s",
                     k->c->err                         ? k->c->errstr
                     : r && r->type == REDIS_REPLY_ERROR ? "an error reply"
                                                         : "an unexpected reply");
        freeReplyObject(r);
        conn_close(k);
        mark_down(cur, copy);
        return fallback();
    }
    freeReplyObject(r);
    /* a read, not an exchange, on the hot path: every thread's answer
     * would otherwise write the one shared line */
    if (!atomic_load_explicit(&up, memory_order_relaxed))
        mark_up();
    out->allowed = allowed == 1;
    out->remaining = remaining;
    out->reset_in_s = reset;
    out->retry_after = out->allowed ? 0 : (retry < 1 ? 1 : retry);
    return true;
}

bool redis_gcra_local_now(void)
{
    if (!atomic_load(&configured))
        return true;
    if (atomic_load(&up) || clock_mono_ns() >= atomic_load(&next_try_ns))
        return false;
    atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
    return true;
}

bool redis_limits_start(const char *url, int timeout)
{
    char why[128];
    if (!redis_url_parse(url, &target, why, sizeof why) || timeout < 1 || timeout > 60000)
        return false;
    timeout_ms = timeout;
    atomic_store(&up, true);
    atomic_store(&configured, true);
    const char *cwhy = "";
    uint64_t cur = atomic_load(&epoch);
    if (conn_get(cur, &cwhy) != NULL) {
        log_info("rate limits: shared by every node through Redis at %s:%d/%d", target.host,
                 target.port, target.db);
        return true;
    }
    /* Not fatal: the node serves with its own limits and keeps trying. */
    atomic_store(&up, false);
    atomic_fetch_add(&epoch, 1);
    atomic_store(&next_try_ns, clock_mono_ns() + RETRY_NS);
    log_warn("rate limits: Redis at %s:%d is not answering (%s): this node limits on its own "
             "until it answers",
             target.host, target.port, cwhy);
    return true;
}

void redis_limits_stop(void)
{
    atomic_store(&configured, false);
    pthread_once(&conn_once, conn_key_make);
    /* The key's destructor runs for threads that exit, not for the one
     * that calls exit(): this (main) thread's connection goes now. */
    conn *k = pthread_getspecific(conn_key);
    pthread_setspecific(conn_key, NULL);
    conn_free(k);
}

bool redis_limits_configured(void) { return atomic_load(&configured); }
bool redis_limits_up(void) { return atomic_load(&configured) && atomic_load(&up); }
uint64_t redis_limits_fallbacks(void) { return atomic_load(&fallbacks); }
