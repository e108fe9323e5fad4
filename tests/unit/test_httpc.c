/* cli/httpc: what PIORA_URL and PIORA_API_TOKEN may hold, the base URL's
 * forms, the headers it reads (X-Log-Complete, Retry-After), the size cap,
 * and what it sends, against a one-answer HTTP server on a loopback port in
 * a thread of this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/httpc.h"

typedef struct one_answer {
    int lfd;
    int port;
    const char *answer; /* the whole HTTP answer */
    char request[4096]; /* what came in */
    pthread_t th;
} one_answer;

static void *serve_one(void *arg)
{
    one_answer *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    size_t got = 0;
    /* the request is headers only or a small body: read until the blank line
     * and then whatever body arrived with it */
    while (got < sizeof s->request - 1) {
        ssize_t n = read(fd, s->request + got, sizeof s->request - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        s->request[got] = 0;
        char *end = strstr(s->request, "\r\n\r\n");
        if (end && (strncmp(s->request, "GET", 3) == 0 || strstr(end + 4, "}")))
            break;
    }
    size_t len = strlen(s->answer), off = 0;
    while (off < len) {
        ssize_t n = write(fd, s->answer + off, len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(fd);
    return NULL;
}

static void start(one_answer *s, const char *answer)
{
    memset(s, 0, sizeof *s);
    s->answer = answer;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 1), 0);
    socklen_t al = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, serve_one, s), 0);
}

static void finish(one_answer *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
}

static void test_new_refuses_bad_inputs(void **state)
{
    (void)state;
    char err[HTTPC_ERR_MAX];
    assert_null(httpc_new("ftp://h", "t", err, sizeof err));
    assert_non_null(strstr(err, "http"));
    assert_null(httpc_new("http://h x", "t", err, sizeof err));
    assert_null(httpc_new("http://h\n", "t", err, sizeof err));
    assert_null(httpc_new("http://h", "", err, sizeof err));
    assert_null(httpc_new("http://h", "tok en", err, sizeof err));
    assert_null(httpc_new("http://h", "tok\r\nX-Evil: 1", err, sizeof err));
    char big[4096];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big, "http://", 7);
    assert_null(httpc_new(big, "t", err, sizeof err));
    assert_null(httpc_new("http://h", big + 7, err, sizeof err));
    httpc *c = httpc_new("HTTPS://piora.example.com/api/v1/", "t", err, sizeof err);
    assert_non_null(c);
    httpc_free(c);
}

static void test_sends_token_json_and_reads_headers(void **state)
{
    (void)state;
    one_answer s;
    start(&s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Log-Complete: true\r\n"
              "Retry-After: 7\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    char base[64], err[HTTPC_ERR_MAX];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/api/v1/", s.port);
    httpc *c = httpc_new(base, "piora_token_abc", err, sizeof err);
    assert_non_null(c);
    httpc_resp r;
    assert_true(httpc_request(c, "POST", "/applications/3/deploy", "{\"ref\":\"v1\"}", 1024, NULL,
                              NULL, &r, err, sizeof err));
    finish(&s);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 5);
    assert_string_equal(r.body, "hello");
    assert_true(r.has_log_complete && r.log_complete);
    assert_int_equal(r.retry_after, 7);
    /* the base's /api/v1/ is not doubled */
    assert_non_null(strstr(s.request, "POST /api/v1/applications/3/deploy HTTP/1.1\r\n"));
    assert_non_null(strstr(s.request, "Authorization: Bearer piora_token_abc\r\n"));
    assert_non_null(strstr(s.request, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(s.request, "{\"ref\":\"v1\"}"));
    httpc_resp_free(&r);
    httpc_free(c);
}

static size_t sunk;
static bool sink(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    (void)data;
    sunk += len;
    return true;
}

static void test_caps_the_answer(void **state)
{
    (void)state;
    static char answer[8192];
    int n = snprintf(answer, sizeof answer,
                     "HTTP/1.1 200 OK\r\nX-Log-Complete: false\r\nConnection: close\r\n\r\n");
    memset(answer + n, 'x', 5000);
    answer[n + 5000] = 0;
    one_answer s;
    start(&s, answer);
    char base[64], err[HTTPC_ERR_MAX];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", s.port);
    httpc *c = httpc_new(base, "t", err, sizeof err);
    httpc_resp r;
    /* no Content-Length: the cap is found while reading */
    assert_false(httpc_request(c, "GET", "/deployments/1/log?offset=0", NULL, 1000, NULL, NULL, &r,
                               err, sizeof err));
    finish(&s);
    assert_non_null(strstr(err, "too large"));
    assert_null(r.body);

    /* streamed to a sink, the same answer fits a larger cap */
    start(&s, answer);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", s.port);
    httpc_free(c);
    c = httpc_new(base, "t", err, sizeof err);
    sunk = 0;
    assert_true(httpc_request(c, "GET", "/deployments/1/log?offset=0", NULL, 10000, sink, NULL, &r,
                              err, sizeof err));
    finish(&s);
    assert_int_equal(sunk, 5000);
    assert_int_equal(r.len, 5000);
    assert_true(r.has_log_complete);
    assert_false(r.log_complete);
    httpc_free(c);
}

static void test_closed_port_fails_with_reason(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd); /* a port nothing listens on */
    char base[64], err[HTTPC_ERR_MAX];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", ntohs(a.sin_port));
    httpc *c = httpc_new(base, "piora_token_secret", err, sizeof err);
    httpc_resp r;
    assert_false(httpc_request(c, "GET", "/deployments/1", NULL, 100, NULL, NULL, &r, err, sizeof err));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(err, "onnect"));
    assert_null(strstr(err, "secret"));
    httpc_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refuses_bad_inputs),
        cmocka_unit_test(test_sends_token_json_and_reads_headers),
        cmocka_unit_test(test_caps_the_answer),
        cmocka_unit_test(test_closed_port_fails_with_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
