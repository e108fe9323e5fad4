/* The monitoring layer on its own: trusted proxies and X-Forwarded-For,
 * request ids, the usage queue end to end (query strings cut, strings
 * cleaned and bounded, drops counted, retention), and the metrics text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/token.h"
#include "core/usage.h"
#include "monitor/metrics.h"
#include "monitor/proxies.h"
#include "monitor/reqid.h"
#include "monitor/usagelog.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "fixture.h"

static void client(const char *peer, const char *xff, const char *want)
{
    char out[ADDR_MAX];
    proxies_client_addr(peer, xff, out, sizeof out);
    if (strcmp(out, want) != 0)
        fail_msg("peer %s, XFF '%s': got %s, want %s", peer, xff ? xff : "(none)", out, want);
}

static void test_proxies(void **state)
{
    (void)state;
    char err[160];
    /* none configured: the header is never believed */
    assert_true(proxies_parse("", err, sizeof err));
    client("10.0.0.1", "203.0.113.5", "10.0.0.1");

    assert_true(proxies_parse("10.0.0.0/8, 192.168.1.1 ,::1,fd00::/8", err, sizeof err));
    assert_true(proxies_trusted("10.200.3.4"));
    assert_true(proxies_trusted("192.168.1.1"));
    assert_false(proxies_trusted("192.168.1.2"));
    assert_true(proxies_trusted("::1"));
    assert_true(proxies_trusted("fd12::5"));
    assert_false(proxies_trusted("fe80::1"));
    assert_false(proxies_trusted("garbage"));

    /* an untrusted peer: its header is ignored */
    client("198.51.100.7", "203.0.113.5", "198.51.100.7");
    /* a trusted peer: the right-most untrusted hop is the client */
    client("10.0.0.1", "203.0.113.5", "203.0.113.5");
    client("10.0.0.1", "1.1.1.1, 203.0.113.5, 10.1.1.1", "203.0.113.5");
    /* a client cannot hide behind a forged left part */
    client("10.0.0.1", "6.6.6.6,203.0.113.5", "203.0.113.5");
    /* every hop trusted: the left-most one */
    client("10.0.0.1", "10.9.9.9, 192.168.1.1", "10.9.9.9");
    /* garbage stops the walk at the last believed address */
    client("10.0.0.1", "203.0.113.5, not-an-ip", "10.0.0.1");
    client("10.0.0.1", "x, 10.2.2.2", "10.2.2.2");
    client("10.0.0.1", "", "10.0.0.1");
    client("10.0.0.1", NULL, "10.0.0.1");
    client("::1", "2001:db8::1", "2001:db8::1");

    assert_false(proxies_parse("10.0.0.0/33", err, sizeof err));
    assert_false(proxies_parse("10.0.0.1, nope", err, sizeof err));
    assert_non_null(strstr(err, "nope"));
    assert_false(proxies_parse("::1/129", err, sizeof err));
    assert_false(proxies_parse("1.2.3.4/", err, sizeof err));
    assert_false(proxies_parse("1.2.3.4:80", err, sizeof err));
    proxies_free();
}

static void test_reqid(void **state)
{
    (void)state;
    assert_true(reqid_valid("abc-123_X.y", 11));
    assert_false(reqid_valid("", 0));
    assert_false(reqid_valid("a b", 3));
    assert_false(reqid_valid("a\"b", 3));
    assert_false(reqid_valid("é", strlen("é")));
    char long_id[130];
    memset(long_id, 'a', sizeof long_id);
    assert_true(reqid_valid(long_id, 128));
    assert_false(reqid_valid(long_id, 129));
    char a[REQID_NEW_LEN + 1], b[REQID_NEW_LEN + 1];
    reqid_new(a);
    reqid_new(b);
    assert_int_equal(strlen(a), 16);
    assert_true(reqid_valid(a, strlen(a)));
    assert_string_not_equal(a, b);
}

static void test_clean(void **state)
{
    (void)state;
    char out[8];
    assert_int_equal(usagelog_clean(out, sizeof out, "abc", 3), 3);
    assert_string_equal(out, "abc");
    /* cut to fit, never in the middle of a character */
    assert_int_equal(usagelog_clean(out, sizeof out, "abcdeé", strlen("abcdeé")), 7);
    assert_string_equal(out, "abcdeé");
    assert_int_equal(usagelog_clean(out, sizeof out, "abcdefé", strlen("abcdefé")), 6);
    assert_string_equal(out, "abcdef");
    /* controls and invalid bytes become '?' */
    usagelog_clean(out, sizeof out, "a\nb\x01\xff", 5);
    assert_string_equal(out, "a?b??");
    usagelog_clean(out, sizeof out, "\xc2\x85x", 3); /* C1 NEL */
    assert_string_equal(out, "?x"); /* one character, one mark */
    usagelog_clean(out, sizeof out, NULL, 0);
    assert_string_equal(out, "");
}

static void test_redact(void **state)
{
    (void)state;
    char s[] = "/api/v1/piora_token_AbC123xyz/x?piora_token_Q9-rest piora_token_";
    usagelog_redact(s);
    assert_string_equal(s, "/api/v1/piora_token_*********/x?piora_token_**-rest piora_token_");
    char none[] = "/api/v1/servers";
    usagelog_redact(none);
    assert_string_equal(none, "/api/v1/servers");
}

/* Issue 8 item 10: percent-encoding or leaving the prefix out must not
 * get a token past the mask. */
static void test_redact_encoded_and_unprefixed(void **state)
{
    (void)state;
    char tok[TOKEN_LEN + 1];
    assert_int_equal(token_generate(tok), PIORA_OK);
    const char *body = tok + TOKEN_PREFIX_LEN; /* 36 characters */
    char s[256], want[256];

    /* %70 is 'p': the prefix is there once decoded. */
    snprintf(s, sizeof s, "/x/%%70iora_token_%s/y", body);
    snprintf(want, sizeof want, "/x/%%70iora_token_%.36s/y", "************************************");
    usagelog_redact(s);
    assert_string_equal(s, want);

    /* An encoded character inside the body: its three bytes are masked. */
    snprintf(s, sizeof s, "/x/piora_token_%%%02X%s", (unsigned)body[0], body + 1);
    usagelog_redact(s);
    assert_null(strstr(s, body + 1));
    assert_string_equal(s + strlen("/x/piora_token_"), "**************************************");

    /* No prefix at all: the 36-character run with a valid checksum. */
    snprintf(s, sizeof s, "/api/v1/servers/%s?x", body);
    usagelog_redact(s);
    assert_string_equal(s, "/api/v1/servers/************************************?x");
    snprintf(s, sizeof s, "ab%scd", body); /* inside a longer run */
    usagelog_redact(s);
    assert_string_equal(s, "ab************************************cd");

    /* The same run with a wrong checksum is left alone. */
    snprintf(s, sizeof s, "/%s", body);
    s[36] = s[36] == '0' ? '1' : '0';
    char copy[256];
    memcpy(copy, s, sizeof copy);
    usagelog_redact(s);
    assert_string_equal(s, copy);
}

typedef fixture_db fixture;

static int setup(void **state)
{
    log_set_level(LOG_WARN);
    return fixture_db_setup(state, "monitor");
}

static int teardown(void **state)
{
    return fixture_db_teardown(state);
}

static json_t *rows_of(store_t *s, int64_t token, int64_t *total)
{
    json_t *items = NULL;
    assert_int_equal(usage_list(s, token, NULL, 0, 100000, &items, total), PIORA_OK);
    return items;
}

static void test_usage_queue(void **state)
{
    fixture *fx = *state;
    usagelog_opts o = {.db_url = fx->path, .flush_ms = 60000, .queue_bytes = 1u << 20};
    assert_int_equal(usagelog_start(&o), PIORA_OK);
    assert_true(usagelog_running());
    int64_t now = clock_now();
    char ua[600];
    memset(ua, 'u', sizeof ua - 1);
    ua[sizeof ua - 1] = '\0';
    usagelog_note(5, now, "GET", "/api/v1/servers?page=2&secret=hunter2", 200, "192.0.2.1", ua);
    usagelog_note(5, now + 1, "DELETE", "/api/v1/servers/9", 403, "192.0.2.1", "curl/8\n");
    usagelog_note(6, now, "GET", "/api/v1/token", 401, "2001:db8::1", NULL);
    usagelog_note(0, now, "GET", "/ignored", 200, "x", NULL); /* no token: not logged */
    assert_int_equal(usagelog_depth(), 3);
    /* nothing is written before a flush: the request path never waits on it */
    int64_t total = -1;
    json_decref(rows_of(fx->s, 5, &total));
    assert_int_equal(total, 0);
    assert_int_equal(usagelog_flush(), PIORA_OK);
    assert_int_equal(usagelog_depth(), 0);
    assert_int_equal(usagelog_written(), 3);

    json_t *items = rows_of(fx->s, 5, &total);
    assert_int_equal(total, 2);
    json_t *a = json_array_get(items, 1), *b = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(a, "path")), "/api/v1/servers");
    assert_int_equal(strlen(json_string_value(json_object_get(a, "user_agent"))),
                     USAGE_UA_MAX - 1);
    assert_string_equal(json_string_value(json_object_get(b, "user_agent")), "curl/8?");
    assert_int_equal(json_integer_value(json_object_get(b, "status")), 403);
    json_decref(items);
    items = rows_of(fx->s, 6, &total);
    assert_int_equal(total, 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "addr")),
                        "2001:db8::1");
    json_decref(items);

    /* identical requests of one second share a row */
    for (int i = 0; i < 50; i++)
        usagelog_note(8, now, "GET", i % 2 ? "/api/v1/token?a=1" : "/api/v1/token", 200,
                      "192.0.2.9", "poller");
    usagelog_note(8, now, "GET", "/api/v1/token", 304, "192.0.2.9", "poller");
    usagelog_note(8, now + 1, "GET", "/api/v1/token", 200, "192.0.2.9", "poller");
    uint64_t w0 = usagelog_written();
    assert_int_equal(usagelog_flush(), PIORA_OK);
    assert_int_equal(usagelog_written() - w0, 52);
    items = rows_of(fx->s, 8, &total);
    assert_int_equal(total, 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "status")), 304);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 2), "count")), 50);
    json_decref(items);

    /* what is queued at stop is written */
    usagelog_note(6, now + 2, "GET", "/api/v1/token", 200, "192.0.2.2", "x");
    usagelog_stop();
    assert_false(usagelog_running());
    json_decref(rows_of(fx->s, 6, &total));
    assert_int_equal(total, 2);
    usagelog_note(6, now + 3, "GET", "/after-stop", 200, "x", "x"); /* ignored */
}

static void test_usage_queue_full_drops(void **state)
{
    fixture *fx = *state;
    /* the smallest queue: 8 shards of 4 KiB each (~250 entries in all) */
    usagelog_opts o = {.db_url = fx->path, .flush_ms = 60000, .queue_bytes = 1};
    assert_int_equal(usagelog_start(&o), PIORA_OK);
    uint64_t d0 = usagelog_dropped();
    /* At least 5000 notes, and on until some were dropped: the writer is
     * kicked at half full and drains while we fill, and under a slow build
     * (ThreadSanitizer) it can keep up with the first few thousand. */
    int sent = 0;
    while (sent < 5000 || (usagelog_dropped() == d0 && sent < 500000)) {
        usagelog_note(7, clock_now(), "GET", "/api/v1/servers", 200, "192.0.2.1",
                      "a user agent long enough to fill the shard quickly, a user agent");
        sent++;
    }
    uint64_t dropped = usagelog_dropped() - d0;
    usagelog_stop(); /* before any assertion, so a failure leaves no writer running */
    assert_true(dropped > 0);
    int64_t total = 0, requests = 0;
    json_t *items = rows_of(fx->s, 7, &total);
    for (size_t i = 0; i < json_array_size(items); i++)
        requests += json_integer_value(json_object_get(json_array_get(items, i), "count"));
    json_decref(items);
    assert_int_equal((uint64_t)requests + dropped, (uint64_t)sent);
}

static void test_usage_retention_at_start(void **state)
{
    fixture *fx = *state;
    usage_entry v[12];
    memset(v, 0, sizeof v);
    int64_t now = clock_now();
    for (int i = 0; i < 12; i++) {
        v[i].token_id = 3;
        v[i].time = i < 2 ? now - 100 * 86400 : now - i; /* two rows past 90 days */
        v[i].status = 200;
        strcpy(v[i].method, "GET");
        strcpy(v[i].path, "/api/v1/token");
        strcpy(v[i].addr, "192.0.2.1");
    }
    assert_int_equal(store_usage_insert(fx->s, v, 12), PIORA_OK);
    usagelog_opts o = {.db_url = fx->path, .retention_s = 90 * 86400, .max_rows = 5};
    assert_int_equal(usagelog_start(&o), PIORA_OK);
    int64_t total = 0;
    json_t *items = rows_of(fx->s, 3, &total);
    assert_int_equal(total, 5);
    char t[RFC3339_LEN];
    clock_fmt_rfc3339(now - 2, t); /* the newest five: now-2 .. now-6 */
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "time")), t);
    json_decref(items);
    usagelog_stop();
}

static void test_metrics_text(void **state)
{
    (void)state;
    static const char *methods[] = {"GET", "POST"};
    static const char *patterns[] = {"/api/v1/servers", "/api/v1/servers/{id}"};
    metrics_init(methods, patterns, 2);
    metrics_set_build("1.2.3");
    metrics_request(metrics_slot_route(0), 200, 300000);
    metrics_request(metrics_slot_route(0), 200, 2000000);
    metrics_request(metrics_slot_route(1), 404, 1000);
    metrics_request(metrics_slot_unmatched(0), 404, 1000);
    metrics_request(metrics_slot_route(1), 1000, 1000); /* out of range: "other" */
    metrics_auth_failure(MR_REVOKED);
    metrics_auth_failure(MR_INSUFFICIENT_SCOPE);
    metrics_rate_limited(ML_TOKEN);
    metrics_db(MD_TOKEN_LOOKUP, 50000);
    metrics_gauges g = {.usage_queue_depth = 4, .usage_dropped = 2, .lastused_dropped = 1};
    buf_t b;
    buf_init(&b, 1u << 20);
    metrics_render(&b, &g);
    assert_false(b.failed);
    const char *want[] = {
        "piora_http_requests_total{method=\"GET\",route=\"/api/v1/servers\",status=\"200\"} 2\n",
        "piora_http_requests_total{method=\"POST\",route=\"/api/v1/servers/{id}\",status=\"404\"} 1\n",
        "piora_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n",
        "status=\"other\"} 1\n",
        "piora_http_request_duration_seconds_bucket{le=\"0.0005\"} 4\n",
        "piora_http_request_duration_seconds_bucket{le=\"+Inf\"} 5\n",
        "piora_http_request_duration_seconds_count 5\n",
        "piora_auth_failures_total{reason=\"revoked\"} 1\n",
        "piora_auth_failures_total{reason=\"insufficient_scope\"} 1\n",
        "piora_auth_failures_total{reason=\"missing\"} 0\n",
        "piora_rate_limited_total{limiter=\"token\"} 1\n",
        "piora_db_duration_seconds_count{op=\"token_lookup\"} 1\n",
        "piora_usage_log_queue_depth 4\n",
        "piora_usage_log_dropped_total 2\n",
        "piora_last_used_dropped_total 1\n",
        "piora_build_info{version=\"1.2.3\"} 1\n",
        "# TYPE piora_http_request_duration_seconds histogram\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(b.data, want[i]))
            fail_msg("metrics lack: %s\n%s", want[i], b.data);
    /* a hostile version string never becomes a label */
    metrics_set_build("1\"} 9\n#");
    buf_reset(&b);
    metrics_render(&b, &g);
    assert_non_null(strstr(b.data, "piora_build_info{version=\"1.2.3\"} 1\n"));
    buf_free(&b);
}

static void gauges_fixed(metrics_gauges *g)
{
    g->usage_queue_depth = 7;
    g->inflight = 3;
}

/* The scrape reads the gauges through the reader app/ registers (none:
 * zeros), so api/metrics.c needs to know no module that owns one. */
static void test_metrics_scrape_reads_registered_gauges(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 1u << 20);
    metrics_set_gauges(NULL);
    metrics_scrape(&b);
    assert_non_null(strstr(b.data, "piora_usage_log_queue_depth 0\n"));
    metrics_set_gauges(gauges_fixed);
    buf_reset(&b);
    metrics_scrape(&b);
    assert_false(b.failed);
    assert_non_null(strstr(b.data, "piora_usage_log_queue_depth 7\n"));
    assert_non_null(strstr(b.data, "piora_http_requests_in_flight 3\n"));
    metrics_set_gauges(NULL);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxies),
        cmocka_unit_test(test_metrics_scrape_reads_registered_gauges),
        cmocka_unit_test(test_reqid),
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_redact_encoded_and_unprefixed),
        cmocka_unit_test_setup_teardown(test_usage_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_queue_full_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_retention_at_start, setup, teardown),
        cmocka_unit_test(test_metrics_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
