/* The scheduler's clock is clock_now(), and in tests that plus an offset
 * read on every tick from the file PIORA_TEST_CLOCK_FILE names: a test moves
 * time to just before a slot instead of waiting for it. The variable is read
 * once, at start, from the environment of whoever starts the process; no
 * request can set or change it, and without it nothing reads any file. */
#include "app/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/schedule.h"
#include "store/store.h"
#include "util/bgwriter.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/num.h"

static bgwriter writer = BGWRITER_INIT;
static char db_url[4096];
static char clock_file[4096];

static int64_t test_offset(void)
{
    if (!clock_file[0])
        return 0;
    FILE *f = fopen(clock_file, "r");
    if (!f)
        return 0;
    char buf[32] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    int64_t off = 0;
    /* ten years either way is more than any test needs */
    if (!num_parse_i64(buf, -315360000, 315360000, &off))
        return 0;
    return off;
}

static void *sched_open(void *arg, char *msg, size_t msglen)
{
    (void)arg;
    return store_open(db_url, msg, msglen);
}

static void sched_close(void *arg, void *conn)
{
    (void)arg;
    store_close(conn);
}

static void sched_tick(void *arg, void *conn)
{
    (void)arg;
    schedule_stats st = {0};
    piora_err e = schedule_tick(conn, clock_now() + test_offset(), &st);
    if (e != PIORA_OK)
        log_error("schedule: pass failed: %s", piora_strerror(e));
    if (st.queued || st.pruned)
        log_info("schedule: %d backup(s) queued, %d old scheduled backup(s) removed", st.queued,
                 st.pruned);
}

piora_err scheduler_start(const piora_config *cfg)
{
    snprintf(db_url, sizeof db_url, "%s", cfg->database);
    const char *cf = getenv("PIORA_TEST_CLOCK_FILE");
    snprintf(clock_file, sizeof clock_file, "%s", cf ? cf : "");
    if (clock_file[0])
        log_info("schedule: PIORA_TEST_CLOCK_FILE is set: the scheduler's clock is moved by "
                 "that file (tests only)");
    const bgwriter_conf conf = {
        .name = "backup scheduler",
        .period_ms = (int64_t)cfg->schedule_interval_s * 1000,
        .conn_open = sched_open,
        .conn_close = sched_close,
        .tick = sched_tick,
    };
    return bgwriter_start(&writer, &conf);
}

void scheduler_stop(void) { bgwriter_stop(&writer); }
