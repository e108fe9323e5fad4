/* The change-feed listener of a serving process (pg_listen.h).
 *
 * Why a heartbeat and not NOTIFY alone: NOTIFY is lost while a listener
 * reconnects (DESIGN.md measured 38 of 2000 across one reconnect), and a
 * connection that died quietly delivers nothing while looking fine. So the
 * listener is trusted only while it has recently *proved* its view: every
 * PG_FEED_BEAT_MS it re-reads every counter of change_feed on its own
 * connection, observes them, and only then stamps itself healthy with the
 * time the read was *sent* (a read sent at t sees every commit before t, so
 * "healthy until t + window" never covers a commit it could have missed).
 * After a reconnect it LISTENs first and reads second, so nothing committed
 * in between falls through, and it is unhealthy until that read is done.
 * While unhealthy, pg_change_poll reads the feed itself on every call.
 *
 * Acknowledgements: after observing counters the listener writes them to
 * change_acks (node, kind, n, beat_at), at once for a NOTIFY and at least
 * every PG_FEED_ACK_REFRESH_MS from the heartbeat, so a revoking writer
 * can wait until every live node has seen its counter. The row is written
 * after change_observe() has moved this process's generation, never in
 * the same statement as the read: an ack visible before the generation
 * moved would let the writer return while this node still trusts a cached
 * token.
 *
 * Everything on this connection is asynchronous with a deadline (no query
 * waits longer than PG_FEED_ANSWER_MS, a connect no longer than
 * PG_FEED_CONNECT_MS), and a pipe wakes the thread to stop.
 *
 * A slow answer is not a lost connection. The health window runs on the
 * clock: a heartbeat still unanswered after PG_FEED_HEALTH_MS has already
 * made the node distrust its caches, so waiting on for the answer costs
 * nothing in safety. Dropping the connection then (as this did after
 * 400 ms) made a busy node worse: a new backend to fork and a LISTEN and
 * read to redo while every request read the feed itself (bench/cluster.sh
 * saw a node under wrk reconnect three times and answer 503s for seconds).
 * So only a connection closed, broken, or silent for PG_FEED_ANSWER_MS
 * (under the 3 s after which writers stop waiting for this node's acks)
 * is dropped. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store/change_backend.h"
#include "store/postgres/pg_listen.h"
#include "store/store_backend.h"
#include "util/log.h"
#include "util/num.h"

#define PG_FEED_ANSWER_MS 2500
#define PG_FEED_CONNECT_MS 2000
#define PG_FEED_ACK_REFRESH_MS 1000
#define PG_FEED_PRUNE_MS 60000
#define PG_FEED_RETRY_MIN_MS 50
#define PG_FEED_RETRY_MAX_MS 1000
#define MS (INT64_C(1000000))

static const char listen_sql[] = "LISTEN " PG_FEED_CHANNEL;
static const char read_sql[] = "SELECT kind, n FROM change_feed";
/* GREATEST: a NOTIFY's ack and a heartbeat's may pass each other. */
static const char ack_sql[] =
    "INSERT INTO change_acks (node_id, kind, n, beat_at) "
    "SELECT $1, w.kind, w.n, now() FROM unnest($2::text[], $3::bigint[]) AS w(kind, n) "
    "ON CONFLICT (node_id, kind) DO UPDATE "
    "SET n = GREATEST(change_acks.n, EXCLUDED.n), beat_at = EXCLUDED.beat_at";
static const char forget_sql[] = "DELETE FROM change_acks WHERE node_id = $1";
/* Rows of nodes killed without a goodbye: long past any wait. */
static const char prune_sql[] =
    "DELETE FROM change_acks WHERE beat_at < now() - interval '10 minutes'";

static struct {
    pthread_mutex_t mu; /* start/stop only */
    bool running;
    pthread_t thread;
    int wake[2];
    atomic_bool stop;
    char *url;
    char node[64];
    PGconn *c;
    int64_t counters[CHANGE__COUNT]; /* last observed by this thread; -1 unknown */
    bool have[CHANGE__COUNT];
    int64_t acked_ns;  /* last ack of every kind */
    int64_t pruned_ns;
    int64_t beat_ns;   /* when the last heartbeat was sent */
    bool was_up;       /* connected once: the next connect is a reconnect */
    bool down_logged;
    atomic_int_fast64_t confirmed_ns; /* 0: unhealthy */
    atomic_uint_fast64_t reconnects, notifies, beats;
} L = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = {-1, -1}};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool pg_feed_healthy(void)
{
    int64_t c = atomic_load_explicit(&L.confirmed_ns, memory_order_acquire);
    return c != 0 && mono_ns() - c < PG_FEED_HEALTH_MS * MS;
}

const char *pg_feed_node_id(void) { return L.node; }

void pg_feed_get_stats(pg_feed_stats *out)
{
    out->reconnects = atomic_load(&L.reconnects);
    out->notifies = atomic_load(&L.notifies);
    out->beats = atomic_load(&L.beats);
    out->healthy = pg_feed_healthy();
    pthread_mutex_lock(&L.mu);
    out->running = L.running;
    pthread_mutex_unlock(&L.mu);
}

/* ---- waiting on the socket with a deadline and the stop pipe ------------ */

/* True when the socket is ready for `events` before `end`; false on the
 * deadline, a stop request or an error. */
static bool wait_sock(int events, int64_t end)
{
    for (;;) {
        if (atomic_load(&L.stop))
            return false;
        int64_t left = end - mono_ns();
        if (left <= 0)
            return false;
        struct pollfd p[2] = {{.fd = PQsocket(L.c), .events = (short)events},
                              {.fd = L.wake[0], .events = POLLIN}};
        if (p[0].fd < 0)
            return false;
        int ms = (int)((left + MS - 1) / MS);
        int n = poll(p, 2, ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (p[1].revents & POLLIN))
            return false;
        if (p[0].revents)
            return true;
    }
}

/* One statement, asynchronously, within PG_FEED_ANSWER_MS. The first result
 * (PQclear it), or NULL when the connection failed or the deadline passed
 * (the caller drops the connection: its state is unknown). */
static PGresult *query(const char *sql, int n, const char *const *vals)
{
    if (!PQsendQueryParams(L.c, sql, n, NULL, vals, NULL, NULL, 0))
        return NULL;
    int64_t end = mono_ns() + PG_FEED_ANSWER_MS * MS;
    for (;;) {
        int f = PQflush(L.c);
        if (f < 0)
            return NULL;
        if (f == 0)
            break;
        if (!wait_sock(POLLOUT | POLLIN, end) || !PQconsumeInput(L.c))
            return NULL;
    }
    PGresult *first = NULL;
    for (;;) {
        while (!PQisBusy(L.c)) {
            PGresult *r = PQgetResult(L.c);
            if (!r)
                return first;
            if (first)
                PQclear(r);
            else
                first = r;
        }
        if (!wait_sock(POLLIN, end) || !PQconsumeInput(L.c)) {
            PQclear(first);
            return NULL;
        }
    }
}

static bool query_ok(const char *sql, int n, const char *const *vals, ExecStatusType want)
{
    PGresult *r = query(sql, n, vals);
    bool ok = r && PQresultStatus(r) == want;
    PQclear(r);
    return ok;
}

/* ---- observing and acknowledging ----------------------------------------- */

/* One counter read from the feed or a payload. True when it is new to this
 * thread (so it needs an ack). */
static bool note_counter(change_kind k, int64_t n)
{
    change_observe(k, n);
    if (L.have[k] && L.counters[k] >= n)
        return false;
    L.have[k] = true;
    L.counters[k] = n;
    return true;
}

/* Writes this node's counters of the kinds in mask (those it has seen). */
static bool ack(unsigned mask)
{
    char kinds[160] = "{", nums[CHANGE__COUNT * 24 + 4] = "{";
    size_t kl = 1, nl = 1;
    int count = 0;
    for (int k = 0; k < CHANGE__COUNT; k++) {
        if (!(mask & CHANGE_BIT(k)) || !L.have[k])
            continue;
        int a = snprintf(kinds + kl, sizeof kinds - kl, "%s%s", count ? "," : "",
                         change_kind_name((change_kind)k));
        int b = snprintf(nums + nl, sizeof nums - nl, "%s%lld", count ? "," : "",
                         (long long)L.counters[k]);
        if (a < 0 || b < 0 || (size_t)a >= sizeof kinds - kl || (size_t)b >= sizeof nums - nl)
            return false;
        kl += (size_t)a;
        nl += (size_t)b;
        count++;
    }
    if (!count)
        return true;
    if (kl + 2 > sizeof kinds || nl + 2 > sizeof nums)
        return false;
    memcpy(kinds + kl, "}", 2);
    memcpy(nums + nl, "}", 2);
    const char *vals[3] = {L.node, kinds, nums};
    return query_ok(ack_sql, 3, vals, PGRES_COMMAND_OK);
}

/* A payload is "<kind> <counter>" (pg_change_note). Anything else (a kind
 * of a newer piora, a stranger's NOTIFY on the channel) is ignored: the
 * heartbeat reads every counter anyway. */
static bool parse_payload(const char *p, change_kind *k, int64_t *n)
{
    const char *sp = p ? strchr(p, ' ') : NULL;
    if (!sp || sp == p || (size_t)(sp - p) >= 32)
        return false;
    char name[32];
    memcpy(name, p, (size_t)(sp - p));
    name[sp - p] = '\0';
    return change_kind_parse(name, k) && num_parse_i64(sp + 1, 0, INT64_MAX, n);
}

/* Observes every queued notification; the kinds whose counters were new. */
static unsigned drain_notifies(void)
{
    unsigned fresh = 0;
    PGnotify *nt;
    for (int i = 0; i < 10000 && (nt = PQnotifies(L.c)) != NULL; i++) {
        change_kind k;
        int64_t n;
        if (parse_payload(nt->extra, &k, &n)) {
            atomic_fetch_add(&L.notifies, 1);
            if (note_counter(k, n))
                fresh |= CHANGE_BIT(k);
        }
        PQfreemem(nt);
    }
    return fresh;
}

/* NOTIFYs that arrived: observe, then ack, a few rounds while more come
 * (each ack is a round trip during which the next ones queue up). */
static bool handle_notifies(void)
{
    for (int round = 0; round < 8; round++) {
        unsigned fresh = drain_notifies();
        if (!fresh)
            return true;
        if (!ack(fresh))
            return false;
    }
    return true;
}

/* Re-reads every counter, observes, acks what is new (every kind once per
 * PG_FEED_ACK_REFRESH_MS, as the node's sign of life), and only then
 * stamps the listener healthy with the time the read was sent. */
static bool beat(void)
{
    int64_t sent = mono_ns();
    L.beat_ns = sent;
    PGresult *r = query(read_sql, 0, NULL);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQnfields(r) != 2) {
        PQclear(r);
        return false;
    }
    unsigned fresh = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        change_kind k;
        int64_t n;
        if (change_kind_parse(PQgetvalue(r, i, 0), &k) &&
            num_parse_i64(PQgetvalue(r, i, 1), 0, INT64_MAX, &n) && note_counter(k, n))
            fresh |= CHANGE_BIT(k);
    }
    PQclear(r);
    fresh |= drain_notifies();
    if (sent - L.acked_ns >= PG_FEED_ACK_REFRESH_MS * MS) {
        if (!ack(CHANGE_ALL))
            return false;
        L.acked_ns = sent;
    } else if (fresh && !ack(fresh)) {
        return false;
    }
    if (sent - L.pruned_ns >= PG_FEED_PRUNE_MS * MS) {
        L.pruned_ns = sent;
        if (!query_ok(prune_sql, 0, NULL, PGRES_COMMAND_OK))
            return false;
    }
    atomic_store_explicit(&L.confirmed_ns, sent, memory_order_release);
    atomic_fetch_add(&L.beats, 1);
    return true;
}

/* ---- the connection -------------------------------------------------------- */

static void drop(const char *why)
{
    atomic_store_explicit(&L.confirmed_ns, 0, memory_order_release);
    if (L.c) {
        if (!L.down_logged && !atomic_load(&L.stop)) {
            log_warn("change feed: listener connection lost (%s); this node reads the feed "
                     "from the database on every request until it is back",
                     why);
            L.down_logged = true;
        }
        PQfinish(L.c);
        L.c = NULL;
    }
}

/* libpq prints notices (and the FATAL of a terminated backend) on stderr;
 * the log is JSON lines, and drop() says what happened. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Connects without blocking past PG_FEED_CONNECT_MS or a stop request. */
static bool connect_db(void)
{
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *vals[] = {L.url, "piora-listen", NULL};
    L.c = PQconnectStartParams(keys, vals, 1);
    if (!L.c || PQstatus(L.c) == CONNECTION_BAD) {
        PQfinish(L.c);
        L.c = NULL;
        return false;
    }
    int64_t end = mono_ns() + PG_FEED_CONNECT_MS * MS;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED ||
            !wait_sock(st == PGRES_POLLING_READING ? POLLIN : POLLOUT, end)) {
            PQfinish(L.c);
            L.c = NULL;
            return false;
        }
        st = PQconnectPoll(L.c);
    }
    PQsetNoticeProcessor(L.c, quiet, NULL);
    if (PQsetnonblocking(L.c, 1) != 0) {
        PQfinish(L.c);
        L.c = NULL;
        return false;
    }
    return true;
}

/* LISTEN before the first read: a commit after the read is notified, one
 * before it is in the read. Healthy only once both are done. */
static bool come_up(void)
{
    if (!connect_db())
        return false;
    memset(L.have, 0, sizeof L.have);
    L.acked_ns = 0;
    if (!query_ok(listen_sql, 0, NULL, PGRES_COMMAND_OK) || !beat()) {
        drop("setup failed");
        return false;
    }
    if (L.was_up)
        atomic_fetch_add(&L.reconnects, 1);
    if (L.down_logged || !L.was_up)
        log_info("change feed: listening as node %s", L.node);
    L.was_up = true;
    L.down_logged = false;
    return true;
}

static void pause_ms(int64_t ms)
{
    struct pollfd p = {.fd = L.wake[0], .events = POLLIN};
    if (!atomic_load(&L.stop))
        poll(&p, 1, (int)ms);
}

static void *listen_main(void *arg)
{
    (void)arg;
    int64_t retry = PG_FEED_RETRY_MIN_MS;
    while (!atomic_load(&L.stop)) {
        if (!L.c) {
            if (!come_up()) {
                if (!L.down_logged && !atomic_load(&L.stop)) {
                    log_warn("change feed: cannot reach the database; this node reads the feed "
                             "from the database on every request until it can");
                    L.down_logged = true;
                }
                pause_ms(retry);
                retry = retry * 2 > PG_FEED_RETRY_MAX_MS ? PG_FEED_RETRY_MAX_MS : retry * 2;
                continue;
            }
            retry = PG_FEED_RETRY_MIN_MS;
        }
        /* Notifications libpq read while it waited for an answer (the
         * heartbeat's read, an ack) are in its queue, no longer on the
         * socket: poll() would not see them until the next beat, 100 ms
         * later (bench/cluster.sh measured that tail in 1% of revokes). */
        if (!handle_notifies()) {
            drop("ack failed");
            continue;
        }
        int64_t due = L.beat_ns + PG_FEED_BEAT_MS * MS;
        int64_t now = mono_ns();
        if (now < due) {
            if (wait_sock(POLLIN, due)) {
                if (!PQconsumeInput(L.c) || !handle_notifies()) {
                    drop("read failed");
                    continue;
                }
                continue;
            }
            if (atomic_load(&L.stop))
                break;
            if (PQstatus(L.c) == CONNECTION_BAD) {
                drop("connection closed");
                continue;
            }
        }
        if (!beat())
            drop("heartbeat failed");
    }
    if (L.c) {
        /* Writers stop waiting for this node at once. The stop byte is
         * taken out of the pipe first so that the goodbye can be waited for
         * (pg_feed_stop writes it right after setting stop). */
        char b;
        ssize_t got = read(L.wake[0], &b, 1);
        (void)got;
        atomic_store(&L.stop, false);
        const char *vals[1] = {L.node};
        query_ok(forget_sql, 1, vals, PGRES_COMMAND_OK);
        atomic_store(&L.stop, true);
        drop("stopping");
    }
    return NULL;
}

static void make_node_id(void)
{
    char host[40] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        store_copy(host, sizeof host, "node");
    host[sizeof host - 1] = '\0';
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        rnd = (uint32_t)mono_ns();
    snprintf(L.node, sizeof L.node, "%s-%ld-%08x", host, (long)getpid(), rnd);
}

bool pg_feed_start(const char *url, char *msg, size_t msglen)
{
    pthread_mutex_lock(&L.mu);
    if (L.running) {
        pthread_mutex_unlock(&L.mu);
        return true;
    }
    free(L.url);
    L.url = strdup(url);
    if (!L.url || pipe(L.wake) != 0) {
        if (msg && msglen)
            snprintf(msg, msglen, "change feed: out of resources");
        pthread_mutex_unlock(&L.mu);
        return false;
    }
    make_node_id();
    atomic_store(&L.stop, false);
    L.beat_ns = 0;
    L.pruned_ns = 0;
    if (pthread_create(&L.thread, NULL, listen_main, NULL) != 0) {
        close(L.wake[0]);
        close(L.wake[1]);
        L.wake[0] = L.wake[1] = -1;
        L.node[0] = '\0';
        if (msg && msglen)
            snprintf(msg, msglen, "change feed: cannot start its thread");
        pthread_mutex_unlock(&L.mu);
        return false;
    }
    L.running = true;
    pthread_mutex_unlock(&L.mu);
    return true;
}

void pg_feed_stop(void)
{
    pthread_mutex_lock(&L.mu);
    if (!L.running) {
        pthread_mutex_unlock(&L.mu);
        return;
    }
    atomic_store(&L.stop, true);
    ssize_t w = write(L.wake[1], "x", 1);
    (void)w;
    pthread_join(L.thread, NULL);
    close(L.wake[0]);
    close(L.wake[1]);
    L.wake[0] = L.wake[1] = -1;
    L.running = false;
    /* L.node stays: a writer still running elsewhere may read it (it only
     * excludes this process from the acks it waits for) */
    atomic_store(&L.confirmed_ns, 0);
    pthread_mutex_unlock(&L.mu);
}
