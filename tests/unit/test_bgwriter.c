/* The background-writer shape (util/bgwriter.c) and its three writers:
 * ticks, kicks and the final flush; every start-failure path, reached by
 * fault injection, gives back what it acquired (the ASan build checks
 * leaks with detect_leaks=1) and a later start succeeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authn/lastused.h"
#include "monitor/accesslog.h"
#include "monitor/usagelog.h"
#include "store/store.h"
#include "util/bgwriter.h"
#include "util/clock.h"
#include "util/log.h"
#include "fixture.h"

/* ---- the shape on its own ---------------------------------------------- */

typedef struct probe {
    _Atomic int opens, closes, setups, teardowns, ticks, finals;
    int conn; /* what conn_open hands out */
    void *buf;
} probe;

static void *p_open(void *arg, char *msg, size_t len)
{
    (void)msg, (void)len;
    probe *p = arg;
    p->opens++;
    return &p->conn;
}
static void p_close(void *arg, void *conn)
{
    probe *p = arg;
    assert_ptr_equal(conn, &p->conn);
    p->closes++;
}
static piora_err p_setup(void *arg, void *conn)
{
    probe *p = arg;
    assert_ptr_equal(conn, &p->conn);
    p->buf = bgwriter_malloc(64);
    if (!p->buf)
        return PIORA_ENOMEM;
    p->setups++;
    return PIORA_OK;
}
static void p_teardown(void *arg, void *conn)
{
    (void)conn;
    probe *p = arg;
    free(p->buf);
    p->buf = NULL;
    p->teardowns++;
}
static void p_tick(void *arg, void *conn)
{
    (void)conn;
    ((probe *)arg)->ticks++;
}
static void p_final(void *arg, void *conn)
{
    probe *p = arg;
    assert_ptr_equal(conn, &p->conn);
    p->finals++;
}

static bgwriter_conf probe_conf(probe *p, int64_t period_ms)
{
    return (bgwriter_conf){.name = "probe", .period_ms = period_ms, .arg = p,
                           .conn_open = p_open, .conn_close = p_close, .setup = p_setup,
                           .teardown = p_teardown, .tick = p_tick, .final = p_final};
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_shape(void **st)
{
    (void)st;
    static bgwriter w = BGWRITER_INIT;
    probe p = {0};
    bgwriter_conf c = probe_conf(&p, 60000);
    assert_int_equal(bgwriter_start(&w, &c), PIORA_OK);
    assert_true(bgwriter_started(&w));
    assert_int_equal(bgwriter_start(&w, &c), PIORA_EINTERNAL); /* already running */
    /* A kick runs a tick long before the minute is up. */
    bgwriter_kick(&w);
    for (int i = 0; i < 200 && p.ticks == 0; i++)
        sleep_ms(5);
    assert_true(p.ticks >= 1);
    bgwriter_stop(&w);
    assert_false(bgwriter_started(&w));
    assert_int_equal(p.finals, 1);
    assert_int_equal(p.teardowns, 1);
    assert_int_equal(p.closes, 1);
    bgwriter_stop(&w); /* a second stop is a no-op */
    assert_int_equal(p.finals, 1);

    /* The period alone drives ticks too. */
    probe q = {0};
    c = probe_conf(&q, 10);
    assert_int_equal(bgwriter_start(&w, &c), PIORA_OK);
    for (int i = 0; i < 200 && q.ticks < 3; i++)
        sleep_ms(5);
    bgwriter_stop(&w);
    assert_true(q.ticks >= 3);
}

/* Fault points of the probe: open, its one allocation, the thread. Each
 * failing start unwinds exactly what came before it. */
static void test_shape_faults(void **st)
{
    (void)st;
    static bgwriter w = BGWRITER_INIT;
    const piora_err want[] = {PIORA_EDB, PIORA_ENOMEM, PIORA_EINTERNAL};
    for (int n = 1; n <= 3; n++) {
        probe p = {0};
        bgwriter_conf c = probe_conf(&p, 60000);
        bgwriter_fault_inject(n);
        assert_int_equal(bgwriter_start(&w, &c), want[n - 1]);
        assert_false(bgwriter_started(&w));
        assert_int_equal(p.opens, p.closes);
        assert_int_equal(p.setups, p.teardowns);
        assert_null(p.buf);
        assert_int_equal(p.ticks + p.finals, 0);
    }
    bgwriter_fault_inject(0);
    probe p = {0};
    bgwriter_conf c = probe_conf(&p, 60000);
    assert_int_equal(bgwriter_start(&w, &c), PIORA_OK);
    bgwriter_stop(&w);
    assert_int_equal(p.opens, 1);
    assert_int_equal(p.closes, 1);
}

/* ---- the three writers ------------------------------------------------- */

static int fixture_db_setup_bg(void **state) { return fixture_db_setup(state, "bgwriter"); }

/* Makes every fault point of a start fail in turn: each failing start must
 * report an error and leave no running writer, until the first n past the
 * writer's last point, where start succeeds. Returns how many points the
 * start has. */
static int walk_faults(bool (*start)(void *), void (*stop)(void), void *arg)
{
    for (int n = 1; n < 100; n++) {
        bgwriter_fault_inject(n);
        bool ok = start(arg);
        int passed = bgwriter_fault_points();
        bgwriter_fault_inject(0);
        if (ok) {
            assert_true(passed < n); /* no fault was due: the walk is over */
            stop();
            return n - 1;
        }
        assert_true(passed == n);
        stop(); /* a stop after a failed start is harmless */
    }
    fail_msg("start never succeeded");
    return -1;
}

static bool start_lastused(void *arg)
{
    return lastused_start(arg, 60, 1024) == PIORA_OK;
}

static void test_lastused_faults(void **state)
{
    fixture_db *fx = *state;
    /* connection, note table, thread */
    assert_int_equal(walk_faults(start_lastused, lastused_stop, fx->path), 3);

    /* A later start works end to end: the final flush writes the note. */
    user_rec u;
    assert_true(fixture_user(fx->s, "lu@example.com", "t", false, &u));
    token_new tn = {.user_id = u.id, .name = "lu", .scopes = SCOPE_SERVERS_READ,
                    .hint = "piora_token_abcd\xe2\x80\xa6wxyz"};
    memset(tn.digest, 7, sizeof tn.digest);
    token_rec t;
    assert_int_equal(store_token_insert(fx->s, &tn, &t), PIORA_OK);
    assert_true(start_lastused(fx->path));
    int64_t now = clock_now();
    lastused_note(t.id, now, "192.0.2.7");
    lastused_stop();
    assert_int_equal(store_token_by_id(fx->s, t.id, &t), PIORA_OK);
    assert_int_equal(t.last_used_at, now);
    assert_string_equal(t.last_used_addr, "192.0.2.7");
}

static bool start_usagelog(void *arg)
{
    usagelog_opts o = {.db_url = arg, .flush_ms = 60000, .queue_bytes = 1u << 16};
    return usagelog_start(&o) == PIORA_OK;
}

static void test_usagelog_faults(void **state)
{
    fixture_db *fx = *state;
    /* connection, batch, 8 shards x 2 arenas, thread */
    assert_int_equal(walk_faults(start_usagelog, usagelog_stop, fx->path), 1 + 1 + 16 + 1);
    assert_false(usagelog_running());

    assert_true(start_usagelog(fx->path));
    assert_true(usagelog_running());
    uint64_t w0 = usagelog_written();
    usagelog_note(3, clock_now(), "GET", "/api/v1/servers", 200, "192.0.2.1", "t");
    usagelog_stop(); /* the final flush writes it */
    assert_int_equal(usagelog_written() - w0, 1);
}

static bool start_accesslog(void *arg)
{
    return accesslog_start(*(int *)arg);
}

static void test_accesslog_faults(void **state)
{
    fixture_db *fx = *state;
    char path[FIXTURE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/access.log", fx->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    /* two buffers, thread */
    assert_int_equal(walk_faults(start_accesslog, accesslog_stop, &fd), 3);
    assert_false(accesslog_running());

    assert_true(start_accesslog(&fd));
    access_entry e = {.method = "GET", .raw_uri = "/healthz?x=1", .status = 200,
                      .addr = "192.0.2.1", .request_id = "r1"};
    accesslog_write(&e);
    accesslog_stop(); /* the final flush writes it */
    char line[512] = "";
    ssize_t n = pread(fd, line, sizeof line - 1, 0);
    assert_true(n > 0);
    assert_non_null(strstr(line, "\"path\":\"/healthz\""));
    assert_non_null(strstr(line, "\"request_id\":\"r1\""));
    close(fd);
    unlink(path);
}

int main(void)
{
    log_set_level((log_level)(LOG_ERROR + 1)); /* the injected failures log */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_shape_faults),
        cmocka_unit_test_setup_teardown(test_lastused_faults, fixture_db_setup_bg,
                                        fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_usagelog_faults, fixture_db_setup_bg,
                                        fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_accesslog_faults, fixture_db_setup_bg,
                                        fixture_db_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
