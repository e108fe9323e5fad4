/* cluster/redis.c against a real redis-server started here (a child on a
 * free loopback port, no persistence, stopped by pid): the URL rules, the
 * Lua GCRA giving the answers of auth/ratelimit.c, key expiry, a SCRIPT
 * FLUSH, and Redis stopped, hung and started again. redis-server must be
 * installed (scripts/deps.sh); without it this test fails, it does not
 * skip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "auth/ratelimit.h"
#include "cluster/redis.h"
#include "util/clock.h"

/* generous, so a loaded machine does not make Redis look down; the hung
 * case checks that the call ends with it */
#define TIMEOUT_MS 400

static pid_t redis_pid = -1;
static int redis_port;
static char redis_dir[64];

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        fail_msg("cannot find a free port");
    int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static redisContext *raw(void)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void redis_start(void)
{
    char port[16];
    snprintf(port, sizeof port, "%d", redis_port);
    redis_pid = fork();
    if (redis_pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save",
               "", "--appendonly", "no", "--dir", redis_dir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        int st;
        if (waitpid(redis_pid, &st, WNOHANG) == redis_pid)
            fail_msg("redis-server exited at once (is it installed? scripts/deps.sh)");
        redisContext *c = raw();
        if (c) {
            redisReply *r = redisCommand(c, "PING");
            bool ok = r && r->type == REDIS_REPLY_STATUS;
            freeReplyObject(r);
            redisFree(c);
            if (ok)
                return;
        }
        sleep_ms(25);
    }
    fail_msg("redis-server did not answer PING within 5 s");
}

static void redis_stop(void)
{
    if (redis_pid <= 0)
        return;
    kill(redis_pid, SIGCONT);
    kill(redis_pid, SIGTERM);
    waitpid(redis_pid, NULL, 0);
    redis_pid = -1;
}

static int setup(void **st)
{
    (void)st;
    snprintf(redis_dir, sizeof redis_dir, "/tmp/piora-redis-unit-XXXXXX");
    if (!mkdtemp(redis_dir))
        return -1;
    redis_port = free_port();
    redis_start();
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", redis_port);
    return redis_limits_start(url, TIMEOUT_MS) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    redis_limits_stop();
    redis_stop();
    rmdir(redis_dir);
    return 0;
}

static void test_url(void **st)
{
    (void)st;
    redis_url u;
    char why[128];
    assert_true(redis_url_parse("redis://cache.internal", &u, why, sizeof why));
    assert_string_equal(u.host, "cache.internal");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_true(redis_url_parse("redis://10.0.0.5:6380/2", &u, why, sizeof why));
    assert_string_equal(u.host, "10.0.0.5");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);
    assert_true(redis_url_parse("redis://[::1]:7000/", &u, why, sizeof why));
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    static const char *const bad[] = {
        "", "cache:6379", "http://cache", "redis://", "redis://:6379", "redis://h:0",
        "redis://h:65536", "redis://h:12x", "redis://h:/1", "redis://h/-1", "redis://h/x",
        "redis://h/70000", "redis://user:pw@h", "redis://h?db=1", "redis://[::1", "redis://h h",
        "redis://h:1:2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        if (redis_url_parse(bad[i], &u, why, sizeof why))
            fail_msg("accepted %s", bad[i]);
        assert_true(why[0] != '\0');
    }
}

/* The same sequence through Redis and through the node's own limiter gives
 * the same answers. */
static void test_same_as_local(void **st)
{
    (void)st;
    ratelimit_t *own = ratelimit_new(5, 60, 64);
    uint64_t before = redis_limits_fallbacks();
    for (int i = 1; i <= 7; i++) {
        redis_gcra g;
        assert_true(redis_gcra_take("token", 42, 5, 60, &g));
        ratelimit_result l = ratelimit_take(own, 42, clock_mono_ns());
        assert_int_equal(g.allowed, l.allowed);
        assert_int_equal(g.remaining, l.remaining);
        assert_int_equal(g.retry_after, l.retry_after);
        int64_t reset = clock_now() + g.reset_in_s;
        assert_true(reset >= l.reset - 1 && reset <= l.reset + 1);
        assert_int_equal(g.allowed, i <= 5);
        if (!g.allowed)
            assert_true(g.retry_after >= 11 && g.retry_after <= 12);
    }
    /* Another key and another budget start full. */
    redis_gcra g;
    assert_true(redis_gcra_take("token", 43, 5, 60, &g));
    assert_true(g.allowed);
    assert_int_equal(g.remaining, 4);
    assert_true(redis_gcra_take("addr", 42, 5, 60, &g));
    assert_true(g.allowed);
    assert_int_equal(g.remaining, 4);
    assert_int_equal(redis_limits_fallbacks(), before);
    assert_true(redis_limits_up());
    ratelimit_free(own);
}

/* 4 per 4 s: T is 1 s, so after the burst one more request is back after
 * a second, not before (the margins allow 800 ms of scheduling delay). */
static void test_refill(void **st)
{
    (void)st;
    redis_gcra g;
    for (int i = 0; i < 4; i++) {
        assert_true(redis_gcra_take("addr", 7, 4, 4, &g));
        assert_true(g.allowed);
    }
    assert_true(redis_gcra_take("addr", 7, 4, 4, &g));
    assert_false(g.allowed);
    assert_int_equal(g.retry_after, 1);
    sleep_ms(1200);
    assert_true(redis_gcra_take("addr", 7, 4, 4, &g));
    assert_true(g.allowed);
    assert_int_equal(g.remaining, 0);
    assert_true(redis_gcra_take("addr", 7, 4, 4, &g));
    assert_false(g.allowed);
}

/* The key lives in database 3, names no secret, and expires when its TAT
 * has passed (a minute's burst spent: about a minute). */
static void test_key_ttl(void **st)
{
    (void)st;
    redis_gcra g;
    assert_true(redis_gcra_take("authfail", 0xabcdef, 10, 60, &g));
    redisContext *c = raw();
    assert_non_null(c);
    redisReply *r = redisCommand(c, "SELECT 3");
    freeReplyObject(r);
    r = redisCommand(c, "PTTL piora:rl:authfail:0000000000abcdef");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    /* one request of 10/min: T = 6 s, plus the 1 s margin */
    assert_true(r->integer > 5000 && r->integer <= 7000);
    freeReplyObject(r);
    r = redisCommand(c, "DBSIZE");
    assert_true(r->integer >= 1);
    freeReplyObject(r);
    redisFree(c);
}

/* SCRIPT FLUSH (or a failover) drops the script: the next call loads it
 * again and still decides, without a fallback. */
static void test_noscript(void **st)
{
    (void)st;
    redisContext *c = raw();
    assert_non_null(c);
    redisReply *r = redisCommand(c, "SCRIPT FLUSH");
    freeReplyObject(r);
    redisFree(c);
    uint64_t before = redis_limits_fallbacks();
    redis_gcra g;
    assert_true(redis_gcra_take("token", 900, 3, 60, &g));
    assert_true(g.allowed);
    assert_int_equal(g.remaining, 2);
    assert_int_equal(redis_limits_fallbacks(), before);
}

/* Redis stopped: the call says "decide yourself" at once and counts it;
 * while down nobody waits; started again, shared decisions resume within
 * about a second (the retry period). Hung (SIGSTOP): the call gives up
 * within the command timeout. */
static void test_down_and_back(void **st)
{
    (void)st;
    redis_gcra g;
    assert_true(redis_gcra_take("token", 1000, 3, 60, &g));
    redis_stop();
    uint64_t before = redis_limits_fallbacks();
    int64_t t0 = clock_mono_ns();
    for (int i = 0; i < 50; i++)
        assert_false(redis_gcra_take("token", 1000, 3, 60, &g));
    /* all 50 together in less than one timeout: none of them waited */
    assert_true(clock_mono_ns() - t0 < TIMEOUT_MS * 1000000LL);
    assert_int_equal(redis_limits_fallbacks(), before + 50);
    assert_false(redis_limits_up());

    redis_start();
    bool back = false;
    t0 = clock_mono_ns();
    while (!back && clock_mono_ns() - t0 < 3000 * 1000000LL) {
        back = redis_gcra_take("token", 1000, 3, 60, &g);
        if (!back)
            sleep_ms(50);
    }
    assert_true(back);
    assert_true(redis_limits_up());
    /* a new, empty server: the budget starts full */
    assert_true(g.allowed);
    assert_int_equal(g.remaining, 2);

    kill(redis_pid, SIGSTOP);
    t0 = clock_mono_ns();
    assert_false(redis_gcra_take("token", 1000, 3, 60, &g));
    int64_t took = clock_mono_ns() - t0;
    assert_true(took >= (TIMEOUT_MS - 10) * 1000000LL && took < (TIMEOUT_MS + 600) * 1000000LL);
    /* the next call does not wait (a quarter of the timeout leaves room
     * for a loaded scheduler, not for another wait) */
    t0 = clock_mono_ns();
    assert_false(redis_gcra_take("token", 1000, 3, 60, &g));
    assert_true(clock_mono_ns() - t0 < TIMEOUT_MS / 4 * 1000000LL);
    kill(redis_pid, SIGCONT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url),         cmocka_unit_test(test_same_as_local),
        cmocka_unit_test(test_refill),      cmocka_unit_test(test_key_ttl),
        cmocka_unit_test(test_noscript),    cmocka_unit_test(test_down_and_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
