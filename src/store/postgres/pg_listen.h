/* Private to the PostgreSQL backend: the change-feed listener (pg_listen.c),
 * one per serving process. It holds its own connection, LISTENs on the
 * change channel, turns NOTIFY payloads into change_observe() calls,
 * confirms the connection with a heartbeat that re-reads every counter, and
 * acknowledges the counters it has observed in change_acks, so that a
 * revoking writer on any node (pg_change_wait_visible) knows when every
 * live node has seen its commit. */
#ifndef PIORA_STORE_PG_LISTEN_H
#define PIORA_STORE_PG_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The listener heartbeats every PG_FEED_BEAT_MS; it is healthy while its
 * last confirmed heartbeat was *sent* less than PG_FEED_HEALTH_MS ago. A
 * revoking writer waits at most PG_FEED_WAIT_MS for acknowledgements:
 * longer than the health window, so a node that could not acknowledge has
 * stopped trusting its cache by the time the writer returns. A node whose
 * acknowledgements are older than PG_FEED_LIVE_MS is not waited for (it
 * was killed, or has been unhealthy for that long). */
#define PG_FEED_BEAT_MS 100
#define PG_FEED_HEALTH_MS 500
#define PG_FEED_WAIT_MS 1000
#define PG_FEED_LIVE_MS 3000

/* The channel pg_change_note NOTIFYs on, payload "<kind> <counter>". */
#define PG_FEED_CHANNEL "piora_change"

/* Starts the listener thread for the database at url (a libpq URI). Never
 * waits for the database: the listener connects in its own thread, and is
 * unhealthy until its first heartbeat. False only when the thread cannot
 * be started (msg says why). A second call is a no-op. */
bool pg_feed_start(const char *url, char *msg, size_t msglen);
/* Stops the thread and removes this node's acknowledgements (so writers
 * stop waiting for it at once). */
void pg_feed_stop(void);

/* True while this process's generations are known to be current up to
 * PG_FEED_HEALTH_MS ago. Safe from any thread; never blocks. */
bool pg_feed_healthy(void);

/* This process's name in change_acks ("" when no listener was started:
 * the CLI, whose writes wait for every serving node). */
const char *pg_feed_node_id(void);

/* Counters for /metrics and the tests: reconnects of the listener, NOTIFY
 * payloads received, heartbeats confirmed. */
typedef struct pg_feed_stats {
    uint64_t reconnects;
    uint64_t notifies;
    uint64_t beats;
    bool healthy;
    bool running;
} pg_feed_stats;
void pg_feed_get_stats(pg_feed_stats *out);

#endif
