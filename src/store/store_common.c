/* The backend-independent half of store.h: choosing a backend by URL,
 * forwarding each call to it (see store_backend.h for why a table of
 * function pointers), the per-thread connections and the token status
 * rules. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/postgres/pg_listen.h"
#include "store/store_backend.h"
#include "util/log.h"
#include "util/num.h"

/* ---- connections ------------------------------------------------------- */

static bool url_is_postgres(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

static store_t *open_url(const char *url, bool create, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = '\0';
    if (!url || !*url) {
        if (msg && msglen)
            snprintf(msg, msglen, "no database given");
        return NULL;
    }
    if (url_is_postgres(url))
        return create ? pg_store_open(url, msg, msglen) : pg_store_open_existing(url, msg, msglen);
    return sqlite_store_open(url, msg, msglen);
}

store_t *store_open(const char *url, char *msg, size_t msglen)
{
    return open_url(url, true, msg, msglen);
}

store_t *store_open_existing(const char *url, char *msg, size_t msglen)
{
    return open_url(url, false, msg, msglen);
}

bool store_feed_start(const char *url, char *msg, size_t msglen)
{
    if (!url || !url_is_postgres(url))
        return true; /* SQLite: every connection polls data_version itself */
    if (!pg_feed_start(url, msg, msglen))
        return false;
    /* While the listener is healthy a poll needs no round trip, so a
     * polling thread may trust its caches (http/pipeline.c); otherwise it
     * hands the request to the store pool, whose poll reads the feed. */
    store_set_change_nowait(pg_feed_healthy);
    return true;
}

void store_feed_stop(void)
{
    store_set_change_nowait(NULL);
    pg_feed_stop();
}

void store_feed_get_stats(store_feed_stats *out)
{
    pg_feed_stats st;
    pg_feed_get_stats(&st);
    *out = (store_feed_stats){.running = st.running, .healthy = st.healthy,
                              .reconnects = st.reconnects, .notifies = st.notifies};
}

void store_close(store_t *s)
{
    if (s)
        s->ops->close(s);
}

void store_copy(char *dst, size_t dstlen, const char *src)
{
    if (!dstlen)
        return;
    size_t n = src ? strlen(src) : 0;
    if (n >= dstlen)
        n = dstlen - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- one connection per thread ----------------------------------------- */

/* The URL is set once before worker threads start; each thread opens its
 * own connection on first use. A pthread key's destructor closes it when a
 * thread exits; the main thread's connection is closed by
 * store_thread_release() (at process exit the OS reclaims it, and every
 * commit is already durable in the WAL). */
static char *thread_url;
static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static _Thread_local store_t *thread_store;

static void thread_store_destroy(void *p)
{
    store_close(p);
}

static void thread_key_make(void)
{
    pthread_key_create(&thread_key, thread_store_destroy);
}

void store_thread_init(const char *url)
{
    pthread_once(&thread_key_once, thread_key_make);
    char *copy = url ? strdup(url) : NULL;
    free(thread_url);
    thread_url = copy;
}

store_t *store_thread(void)
{
    if (thread_store)
        return thread_store;
    if (!thread_url) {
        log_error("store: store_thread() before store_thread_init()");
        return NULL;
    }
    char msg[256];
    store_t *s = store_open(thread_url, msg, sizeof msg);
    if (!s) {
        log_error("store: cannot open the database: %s", msg);
        return NULL;
    }
    thread_store = s;
    pthread_setspecific(thread_key, s);
    return s;
}

void store_thread_release(void)
{
    if (!thread_store)
        return;
    pthread_once(&thread_key_once, thread_key_make);
    pthread_setspecific(thread_key, NULL);
    store_close(thread_store);
    thread_store = NULL;
}

/* ---- remote stores and the polling threads ------------------------------ */

/* The test switch (store.h: store_is_remote): read once, and the delay only
 * when the switch is on, so no setting of production can slow the store. */
static pthread_once_t test_once = PTHREAD_ONCE_INIT;
static bool test_remote;
static _Atomic int test_delay_ms;

static void test_env_read(void)
{
    const char *v = getenv("PIORA_TEST_STORE_REMOTE");
    test_remote = v && strcmp(v, "1") == 0;
    if (!test_remote)
        return;
    int64_t ms = 0;
    const char *d = getenv("PIORA_TEST_STORE_DELAY_MS");
    if (d && !num_parse_i64(d, 0, 10000, &ms)) {
        log_error("store: PIORA_TEST_STORE_DELAY_MS must be 0-10000; ignored");
        ms = 0;
    }
    atomic_store(&test_delay_ms, (int)ms);
    log_info("store: PIORA_TEST_STORE_REMOTE is set: the database counts as remote%s "
             "(tests only)",
             ms ? " and every store call is delayed" : "");
}

bool store_is_remote(const char *url)
{
    pthread_once(&test_once, test_env_read);
    return (url && url_is_postgres(url)) || test_remote;
}

static _Atomic(bool (*)(void)) change_nowait;

void store_set_change_nowait(bool (*fn)(void)) { atomic_store(&change_nowait, fn); }

bool store_change_poll_nowait(void)
{
    if (!thread_url)
        return false;
    if (url_is_postgres(thread_url)) {
        bool (*fn)(void) = atomic_load(&change_nowait);
        return fn && fn();
    }
    /* SQLite: opening and polling are local file work, as on every request
     * of a local store (the test delay is on the store functions only). */
    store_t *s = store_thread();
    return s && change_poll(s, NULL) == PIORA_OK;
}

/* Relaxed: a plain load where the switch is off (every store call pays it). */
static void test_delay(void)
{
    int ms = atomic_load_explicit(&test_delay_ms, memory_order_relaxed);
    if (!ms)
        return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- token status rules ------------------------------------------------- */

token_status token_rec_status(const token_rec *t, int64_t now)
{
    if (t->revoked_at != 0)
        return TOKEN_REVOKED;
    if (t->expires_at != 0 && now >= t->expires_at)
        return TOKEN_EXPIRED;
    return TOKEN_ACTIVE;
}

const char *token_status_name(token_status st)
{
    switch (st) {
    case TOKEN_ACTIVE: return "active";
    case TOKEN_EXPIRED: return "expired";
    case TOKEN_REVOKED: return "revoked";
    }
    return "revoked";
}

/* ---- forwarders ---------------------------------------------------------- */

/* store_<name>(params) { return s->ops-><name>(args); } for every entry. */
#define STORE_FN(ret, name, params, args) \
    ret store_##name params                   \
    {                                         \
        test_delay();                         \
        return s->ops->name args;             \
    }
#include "store/store_fns.h"
