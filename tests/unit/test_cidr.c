/* auth/cidr.c and auth/grant.c: the address matcher of SPEC 11 and the
 * text forms of a token's limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/cidr.h"
#include "auth/grant.h"

static bool parse(const char *s, cidr_t *c) { return cidr_parse(s, strlen(s), c, NULL); }

static bool in(const char *block, const char *addr)
{
    cidr_t c;
    uint8_t a[16];
    assert_true(parse(block, &c));
    assert_true(cidr_addr_parse(addr, strlen(addr), a));
    return cidr_contains(&c, a);
}

static void test_edges(void **state)
{
    (void)state;
    /* /0: every address of its family only. */
    assert_true(in("0.0.0.0/0", "203.0.113.7"));
    assert_true(in("0.0.0.0/0", "255.255.255.255"));
    assert_false(in("0.0.0.0/0", "2001:db8::1"));
    assert_true(in("::/0", "2001:db8::1"));
    assert_true(in("::/0", "203.0.113.7"));
    /* /32 and /128: exactly one address. */
    assert_true(in("203.0.113.7/32", "203.0.113.7"));
    assert_false(in("203.0.113.7/32", "203.0.113.8"));
    assert_true(in("203.0.113.7", "203.0.113.7"));
    assert_true(in("2001:db8::1/128", "2001:db8::1"));
    assert_false(in("2001:db8::1/128", "2001:db8::2"));
    /* Blocks, with a length that is not a multiple of 8. */
    assert_true(in("203.0.113.0/24", "203.0.113.255"));
    assert_false(in("203.0.113.0/24", "203.0.114.0"));
    assert_true(in("10.0.0.0/9", "10.127.255.255"));
    assert_false(in("10.0.0.0/9", "10.128.0.0"));
    assert_true(in("2001:db8:1234::/48", "2001:db8:1234:ffff::1"));
    assert_false(in("2001:db8:1234::/48", "2001:db8:1235::1"));
    assert_true(in("2001:db8::/33", "2001:db8:7fff::1"));
    assert_false(in("2001:db8::/33", "2001:db8:8000::1"));
}

static void test_mapped_is_ipv4(void **state)
{
    (void)state;
    assert_true(in("203.0.113.0/24", "::ffff:203.0.113.9"));
    assert_true(in("::ffff:203.0.113.0/120", "203.0.113.9"));
    assert_false(in("::ffff:203.0.113.0/120", "203.0.114.9"));
    cidr_t c;
    char t[CIDR_TEXT_MAX];
    assert_true(parse("::ffff:203.0.113.0/120", &c));
    cidr_format(&c, t);
    assert_string_equal(t, "203.0.113.0/24");
    assert_true(parse("::ffff:10.1.2.3", &c));
    cidr_format(&c, t);
    assert_string_equal(t, "10.1.2.3");
    assert_true(parse("2001:DB8:0:0::/32", &c));
    cidr_format(&c, t);
    assert_string_equal(t, "2001:db8::/32");
    assert_true(parse("0.0.0.0/0", &c));
    cidr_format(&c, t);
    assert_string_equal(t, "0.0.0.0/0");
}

static void test_bad_input(void **state)
{
    (void)state;
    cidr_t c;
    static const char *const bad[] = {
        "", "/", "/24", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/", "1.2.3.4/33",
        "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/08", "1.2.3.4/8/8", "1.2.3.4 ", " 1.2.3.4",
        "1.2.3.4/2a", "2001:db8::/129", "2001:db8::g", "fe80::1%eth0", "[2001:db8::1]",
        "2001:db8::1:80:", "::ffff:01.2.3.4", "1.2.3.4:80", "localhost", "0x7f.0.0.1",
        "1.2.3.4/1234",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        if (cidr_parse(bad[i], strlen(bad[i]), &c, &why))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_non_null(why);
    }
    /* A NUL inside the given length is not an address. */
    assert_false(cidr_parse("1.2.3.4\0", 8, &c, NULL));
    uint8_t a[16];
    assert_false(cidr_addr_parse("1.2.3.4/32", 10, a));
}

static void test_host_bits(void **state)
{
    (void)state;
    cidr_t c;
    const char *why = NULL;
    assert_false(cidr_parse("203.0.113.7/24", 14, &c, &why));
    assert_non_null(strstr(why, "host bits"));
    assert_false(parse("2001:db8::1/64", &c));
    assert_false(parse("10.0.0.1/0", &c));
    assert_false(parse("::1/0", &c));
    assert_true(parse("203.0.113.0/24", &c));
    assert_int_equal(c.bits, 96 + 24);
}

static void test_addrs(void **state)
{
    (void)state;
    token_addrs a;
    char err[200], out[ADDRS_TEXT_MAX];
    assert_true(addrs_parse(NULL, &a, err, sizeof err));
    assert_false(a.limited);
    assert_true(addrs_allow(&a, "198.51.100.1"));
    /* An empty list is not "everywhere". */
    assert_false(addrs_parse("", &a, err, sizeof err));
    assert_non_null(strstr(err, "0.0.0.0/0"));
    assert_false(addrs_parse(" ,\n ", &a, err, sizeof err));
    assert_true(addrs_parse("203.0.113.0/24\n2001:db8::/32, 203.0.113.0/24", &a, err, sizeof err));
    assert_true(a.limited);
    assert_int_equal(a.n, 2);
    addrs_format(&a, out, sizeof out);
    assert_string_equal(out, "203.0.113.0/24,2001:db8::/32");
    assert_true(addrs_allow(&a, "203.0.113.1"));
    assert_true(addrs_allow(&a, "::ffff:203.0.113.1"));
    assert_false(addrs_allow(&a, "198.51.100.1"));
    assert_false(addrs_allow(&a, ""));
    assert_false(addrs_allow(&a, NULL));
    assert_false(addrs_allow(&a, "garbage"));
    char many[40 * 33] = "";
    size_t used = 0;
    for (int i = 0; i < 33; i++)
        used += (size_t)snprintf(many + used, sizeof many - used, "10.0.0.%d,", i);
    assert_false(addrs_parse(many, &a, err, sizeof err));
    assert_non_null(strstr(err, "32"));
}

static void test_grant(void **state)
{
    (void)state;
    token_grant g;
    char err[200], out[GRANT_TEXT_MAX];
    assert_true(grant_parse(NULL, &g, err, sizeof err));
    assert_false(g.limited);
    assert_int_equal(grant_fingerprint(&g), 0);
    assert_true(grant_parse("", &g, err, sizeof err));
    assert_true(g.limited);
    assert_int_equal(g.n, 0);
    assert_true(grant_parse("applications:4, servers:2,servers:1 server:2 database:7", &g, err,
                            sizeof err));
    grant_format(&g, out, sizeof out);
    assert_string_equal(out, "servers:1,servers:2,applications:4,databases:7");
    assert_true(grant_has(&g, GRANT_SERVER, 2));
    assert_false(grant_has(&g, GRANT_APPLICATION, 2));
    assert_int_equal(grant_count(&g, GRANT_SERVER), 2);
    token_grant h;
    assert_true(grant_parse(out, &h, err, sizeof err));
    assert_int_equal(grant_fingerprint(&g), grant_fingerprint(&h));
    assert_true(grant_parse("servers:1", &h, err, sizeof err));
    assert_true(grant_fingerprint(&g) != grant_fingerprint(&h));
    static const char *const bad[] = {"servers", "servers:", "servers:0", "servers:-1",
                                      "widgets:1", "servers:1x", ":1",
                                      "servers:99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (grant_parse(bad[i], &g, err, sizeof err))
            fail_msg("accepted \"%s\"", bad[i]);
    char many[GRANT_TEXT_MAX] = "";
    size_t used = 0;
    for (int i = 1; i <= GRANT_IDS_MAX + 1; i++)
        used += (size_t)snprintf(many + used, sizeof many - used, "servers:%d,", i);
    assert_false(grant_parse(many, &g, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),      cmocka_unit_test(test_mapped_is_ipv4),
        cmocka_unit_test(test_bad_input),  cmocka_unit_test(test_host_bits),
        cmocka_unit_test(test_addrs),      cmocka_unit_test(test_grant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
