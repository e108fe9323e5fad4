/* monitor/proxies.c: --trusted-proxies takes the strict blocks of
 * util/cidr.h (a typo refuses the start, the list is empty after a refusal),
 * and X-Forwarded-For is believed only from a trusted peer and only up to
 * the right-most hop that is not a proxy, so a client cannot pick its own
 * address by sending the header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "monitor/proxies.h"

static const char *client(const char *peer, const char *xff)
{
    static char out[64];
    proxies_client_addr(peer, xff, out, sizeof out);
    return out;
}

static void test_parse_is_strict_and_all_or_nothing(void **state)
{
    (void)state;
    char err[160] = "";
    assert_true(proxies_parse("", err, sizeof err));
    assert_false(proxies_any());
    assert_true(proxies_parse(" 127.0.0.1 , 10.0.0.0/8,, 2001:db8::/32 ", err, sizeof err));
    assert_true(proxies_any());
    assert_true(proxies_trusted("10.200.3.4"));
    assert_true(proxies_trusted("::ffff:10.200.3.4")); /* one address to every rule */
    assert_true(proxies_trusted("2001:db8:1::9"));
    assert_true(proxies_trusted("127.0.0.1"));
    assert_false(proxies_trusted("127.0.0.2"));
    assert_false(proxies_trusted("11.0.0.1"));
    assert_false(proxies_trusted("10.0.0.1:443"));
    assert_false(proxies_trusted(NULL));

    /* host bits set: a typo more often than not, never silently widened */
    assert_false(proxies_parse("127.0.0.1,10.0.0.1/8", err, sizeof err));
    assert_non_null(strstr(err, "'10.0.0.1/8'"));
    assert_false(proxies_any()); /* the earlier entries are gone too */
    assert_false(proxies_trusted("127.0.0.1"));
    assert_false(proxies_parse("10.0.0.0/99", err, sizeof err));
    assert_non_null(strstr(err, "'10.0.0.0/99'"));
    assert_false(proxies_parse("proxy.internal", err, sizeof err));
    assert_false(proxies_parse("010.0.0.1", err, sizeof err));
    assert_false(proxies_parse("[::1]", err, sizeof err));

    char many[64 * 16 + 32] = "";
    size_t at = 0;
    for (int i = 0; i < 65; i++)
        at += (size_t)snprintf(many + at, sizeof many - at, "%s10.0.%d.1", i ? "," : "", i);
    assert_false(proxies_parse(many, err, sizeof err));
    assert_non_null(strstr(err, "more than 64"));
    proxies_free();
}

static void test_forwarded_for_is_believed_from_trusted_hops_only(void **state)
{
    (void)state;
    char err[160] = "";
    assert_true(proxies_parse("127.0.0.1,10.0.0.0/8", err, sizeof err));

    /* an untrusted peer's header is ignored: it is the client */
    assert_string_equal(client("203.0.113.50", "198.51.100.7"), "203.0.113.50");
    /* a trusted peer, no header: the peer */
    assert_string_equal(client("127.0.0.1", NULL), "127.0.0.1");
    assert_string_equal(client("127.0.0.1", ""), "127.0.0.1");
    /* one proxy */
    assert_string_equal(client("127.0.0.1", "198.51.100.7"), "198.51.100.7");
    /* a client that sends its own header behind two proxies: the right-most
     * untrusted hop, not the made-up left one */
    assert_string_equal(client("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.2"), "198.51.100.7");
    /* every hop a proxy: the left-most is the best we know */
    assert_string_equal(client("127.0.0.1", "10.0.0.3,10.0.0.2"), "10.0.0.3");
    /* a malformed hop stops the walk at the last address believed */
    assert_string_equal(client("127.0.0.1", "198.51.100.7, bogus"), "127.0.0.1");
    assert_string_equal(client("127.0.0.1", "bogus, 10.0.0.2"), "10.0.0.2");
    assert_string_equal(client("127.0.0.1", "198.51.100.7:5000"), "127.0.0.1");
    /* canonical text: one client is one address to the per-address limits */
    assert_string_equal(client("127.0.0.1", "::ffff:198.51.100.7"), "198.51.100.7");
    assert_string_equal(client("127.0.0.1", "2001:DB8:0:0::1"), "2001:db8::1");
    /* empty items are skipped */
    assert_string_equal(client("127.0.0.1", " , ,198.51.100.7"), "198.51.100.7");

    /* at most 32 hops are walked: past them the last one believed stands */
    char chain[40 * 12] = "";
    size_t at = 0;
    at += (size_t)snprintf(chain, sizeof chain, "198.51.100.7");
    for (int i = 0; i < 40; i++)
        at += (size_t)snprintf(chain + at, sizeof chain - at, ",10.0.0.%d", i + 1);
    assert_string_equal(client("127.0.0.1", chain), "10.0.0.9");
    proxies_free();
    assert_string_equal(client("127.0.0.1", "198.51.100.7"), "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_is_strict_and_all_or_nothing),
        cmocka_unit_test(test_forwarded_for_is_believed_from_trusted_hops_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
