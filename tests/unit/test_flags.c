/* The flag parser every command shares: both value forms, bool flags,
 * positional arguments, help, errors, and the PIORA_* fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/user.h"
#include "core/users.h"

enum { F_EMAIL, F_DB, F_JSON, F_COUNT };

static void reset(flag_def *d)
{
    memset(d, 0, sizeof(flag_def) * F_COUNT);
    d[F_EMAIL] = (flag_def){.name = "email", .kind = FLAG_VALUE};
    d[F_DB] = (flag_def){.name = "database", .env = "PIORA_TEST_DB", .kind = FLAG_VALUE};
    d[F_JSON] = (flag_def){.name = "json", .kind = FLAG_BOOL};
}

static flags_result run(flag_def *d, char *err, const char **pos, size_t maxpos, size_t *npos,
                        char **argv, int argc)
{
    reset(d);
    return flags_parse(d, F_COUNT, argc, argv, pos, maxpos, npos, err, 256);
}

#define ARGV(...) (char *[]){__VA_ARGS__}, (int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *))

static flags_result parse(flag_def *d, char *err, char **argv, int argc)
{
    return run(d, err, NULL, 0, NULL, argv, argc);
}

static void test_both_forms(void **st)
{
    (void)st;
    flag_def d[F_COUNT];
    char err[256];
    unsetenv("PIORA_TEST_DB");
    assert_int_equal(parse(d, err, ARGV("--email", "a@b.c", "--database=x.db", "--json")),
                     FLAGS_OK);
    assert_string_equal(d[F_EMAIL].value, "a@b.c");
    assert_string_equal(d[F_DB].value, "x.db");
    assert_false(d[F_DB].from_env);
    assert_true(d[F_JSON].given);

    /* --name= gives an empty value; a value may contain '='. */
    assert_int_equal(parse(d, err, ARGV("--email=", "--database=a=b")), FLAGS_OK);
    assert_string_equal(d[F_EMAIL].value, "");
    assert_string_equal(d[F_DB].value, "a=b");
    assert_false(d[F_JSON].given);

    /* A value starting with one dash is a value; --x= can carry "--". */
    assert_int_equal(parse(d, err, ARGV("--email", "-x", "--database=--y")), FLAGS_OK);
    assert_string_equal(d[F_EMAIL].value, "-x");
    assert_string_equal(d[F_DB].value, "--y");

    /* The last occurrence wins. */
    assert_int_equal(parse(d, err, ARGV("--email", "a", "--email", "b")), FLAGS_OK);
    assert_string_equal(d[F_EMAIL].value, "b");
}

static void test_missing_value(void **st)
{
    (void)st;
    flag_def d[F_COUNT];
    char err[256];
    assert_int_equal(parse(d, err, ARGV("--email")), FLAGS_ERROR);
    assert_string_equal(err, "flag --email needs a value");
    assert_int_equal(parse(d, err, ARGV("--email", "--json")), FLAGS_ERROR);
    assert_string_equal(err, "flag --email needs a value");
    assert_int_equal(parse(d, err, ARGV("--json=yes")), FLAGS_ERROR);
    assert_string_equal(err, "flag --json takes no value");
}

static void test_unknown(void **st)
{
    (void)st;
    flag_def d[F_COUNT];
    char err[256];
    assert_int_equal(parse(d, err, ARGV("--emial", "x")), FLAGS_ERROR);
    assert_string_equal(err, "unknown flag --emial");
    assert_int_equal(parse(d, err, ARGV("-e", "x")), FLAGS_ERROR);
    assert_string_equal(err, "unknown flag -e");
    /* Only the name is echoed, never the value after '='. */
    assert_int_equal(parse(d, err, ARGV("--password=hunter22")), FLAGS_ERROR);
    assert_string_equal(err, "unknown flag --password");
    /* A prefix of a real flag is not that flag. */
    assert_int_equal(parse(d, err, ARGV("--data", "x")), FLAGS_ERROR);
    /* Stray words are refused without echoing them (they may be secrets). */
    assert_int_equal(parse(d, err, ARGV("hunter22")), FLAGS_ERROR);
    assert_null(strstr(err, "hunter22"));
}

static void test_positional(void **st)
{
    (void)st;
    flag_def d[F_COUNT];
    char err[256];
    const char *pos[2];
    size_t n = 99;
    assert_int_equal(run(d, err, pos, 2, &n, ARGV("7", "--json", "-")), FLAGS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(pos[0], "7");
    assert_string_equal(pos[1], "-");
    assert_true(d[F_JSON].given);
    assert_int_equal(run(d, err, pos, 2, &n, ARGV("--json", "--", "--email")), FLAGS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(pos[0], "--email");
    assert_null(d[F_EMAIL].value);
    assert_int_equal(run(d, err, pos, 1, &n, ARGV("1", "2")), FLAGS_ERROR);
}

static void test_help(void **st)
{
    (void)st;
    flag_def d[F_COUNT];
    char err[256];
    assert_int_equal(parse(d, err, ARGV("--help")), FLAGS_HELP);
    assert_int_equal(parse(d, err, ARGV("-h")), FLAGS_HELP);
    /* Help wins over an error earlier on the line. */
    assert_int_equal(parse(d, err, ARGV("--bogus", "--help")), FLAGS_HELP);
    /* After "--", --help is an argument. */
    const char *pos[1];
    size_t n;
    assert_int_equal(run(d, err, pos, 1, &n, ARGV("--", "--help")), FLAGS_OK);
}

static void test_env(void **st)
{
    (void)st;
    flag_def d[F_COUNT];
    char err[256];
    setenv("PIORA_TEST_DB", "env.db", 1);
    assert_int_equal(parse(d, err, ARGV("--json")), FLAGS_OK);
    assert_string_equal(d[F_DB].value, "env.db");
    assert_true(d[F_DB].from_env);
    /* The flag wins over the environment, in both forms. */
    assert_int_equal(parse(d, err, ARGV("--database", "flag.db")), FLAGS_OK);
    assert_string_equal(d[F_DB].value, "flag.db");
    assert_false(d[F_DB].from_env);
    assert_int_equal(parse(d, err, ARGV("--database=flag2.db")), FLAGS_OK);
    assert_string_equal(d[F_DB].value, "flag2.db");
    /* An empty variable counts as unset; flags without env ignore it. */
    setenv("PIORA_TEST_DB", "", 1);
    assert_int_equal(parse(d, err, ARGV("--json")), FLAGS_OK);
    assert_null(d[F_DB].value);
    assert_null(d[F_EMAIL].value);
    unsetenv("PIORA_TEST_DB");
    assert_int_equal(parse(d, err, ARGV("--json")), FLAGS_OK);
    assert_null(d[F_DB].value);
}

static void test_int(void **st)
{
    (void)st;
    int64_t v = -1;
    assert_true(flags_int("0", 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(flags_int("10", 0, 10, &v));
    assert_int_equal(v, 10);
    assert_false(flags_int("11", 0, 10, &v));
    assert_false(flags_int("-1", 0, 10, &v));
    assert_true(flags_int("-1", -5, 10, &v));
    assert_int_equal(v, -1);
    assert_false(flags_int("", 0, 10, &v));
    assert_false(flags_int(" 1", 0, 10, &v));
    assert_false(flags_int("1 ", 0, 10, &v));
    assert_false(flags_int("+1", 0, 10, &v));
    assert_false(flags_int("1e3", 0, 10000, &v));
    assert_false(flags_int("0x10", 0, 100, &v));
    assert_false(flags_int("99999999999999999999", 0, INT64_MAX, &v));
    assert_true(flags_int("9223372036854775807", 0, INT64_MAX, &v));
    assert_int_equal(v, INT64_MAX);
    assert_false(flags_int(NULL, 0, 1, &v));
}

static void test_listen(void **st)
{
    (void)st;
    char host[256];
    uint16_t port = 0;
    assert_true(flags_listen("127.0.0.1:8080", host, sizeof host, &port));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_true(flags_listen("[::1]:9000", host, sizeof host, &port));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9000);
    assert_true(flags_listen("0.0.0.0:1", host, sizeof host, &port));
    assert_true(flags_listen("localhost:65535", host, sizeof host, &port));
    assert_int_equal(port, 65535);
    assert_true(flags_listen("127.0.0.1:0", host, sizeof host, &port));
    assert_int_equal(port, 0);
    assert_false(flags_listen("127.0.0.1:65536", host, sizeof host, &port));
    assert_false(flags_listen("127.0.0.1", host, sizeof host, &port));
    assert_false(flags_listen("127.0.0.1:", host, sizeof host, &port));
    assert_false(flags_listen(":8080", host, sizeof host, &port));
    assert_false(flags_listen("::1:8080", host, sizeof host, &port));
    assert_false(flags_listen("[::1]8080", host, sizeof host, &port));
    assert_false(flags_listen("[::1]:", host, sizeof host, &port));
    assert_false(flags_listen("[1.2.3.4]:80", host, sizeof host, &port));
    assert_false(flags_listen("a b:80", host, sizeof host, &port));
    assert_false(flags_listen("host:80x", host, sizeof host, &port));
    char small[4];
    assert_false(flags_listen("abcd:80", small, sizeof small, &port));
}

static void test_quote(void **st)
{
    (void)st;
    char q[64];
    flags_quote("abc", q, sizeof q);
    assert_string_equal(q, "abc");
    flags_quote("a\nb\x1b", q, sizeof q);
    assert_string_equal(q, "a?b?");
    flags_quote("xpiora_token_0123456789", q, sizeof q);
    assert_null(strstr(q, "0123"));
    char longarg[200];
    memset(longarg, 'a', sizeof longarg - 1);
    longarg[sizeof longarg - 1] = '\0';
    flags_quote(longarg, q, sizeof q);
    assert_true(strlen(q) < sizeof q);
    assert_non_null(strstr(q, "..."));
}

static void test_email(void **st)
{
    (void)st;
    char out[EMAIL_MAX + 1];
    assert_true(users_email_normalize("Alice@Example.COM", out));
    assert_string_equal(out, "alice@example.com");
    assert_true(users_email_normalize("a.b+tag@sub.example-x.org", out));
    assert_true(users_email_normalize("root@localhost", out));
    const char *bad[] = {"", "a", "@example.com", "alice@", "alice", "a@b@c", "a b@c.d",
                         "a@b c.d", "a@-b.c", "a@b-.c", "a@b..c", "a@.b", "a@b.", ".a@b.c",
                         "a.@b.c", "a..b@c.d", "a@b_c.d", "a\n@b.c", "a@b.c\n", "<a>@b.c",
                         "\xc3\xa9@b.c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (users_email_normalize(bad[i], out))
            fail_msg("accepted \"%s\"", bad[i]);
    char local[80], big[300];
    memset(local, 'a', 65);
    strcpy(local + 65, "@b.c");
    assert_false(users_email_normalize(local, out)); /* local part over 64 */
    /* "a@" + 63.63.63.60 = 254 bytes: the longest accepted. */
    strcpy(big, "a@");
    for (int l = 0; l < 4; l++) {
        size_t n = strlen(big);
        memset(big + n, 'b', l < 3 ? 63 : 60);
        big[n + (l < 3 ? 63 : 60)] = '\0';
        if (l < 3)
            strcat(big, ".");
    }
    assert_int_equal(strlen(big), 254);
    assert_true(users_email_normalize(big, out));
    strcat(big, "b");
    assert_false(users_email_normalize(big, out)); /* 255 bytes */
}

static void test_team(void **st)
{
    (void)st;
    assert_true(users_team_valid("Acme Corp"));
    assert_true(users_team_valid("équipe ✓"));
    assert_false(users_team_valid(""));
    assert_false(users_team_valid("a\tb"));
    assert_false(users_team_valid("a\xc2\x85"));
    assert_false(users_team_valid("\xff"));
    char t[70];
    memset(t, 'x', 64);
    t[64] = '\0';
    assert_true(users_team_valid(t));
    t[64] = 'x', t[65] = '\0';
    assert_false(users_team_valid(t));
}

static int read_pw(const char *input, size_t inlen, char *out, size_t outlen, size_t *len)
{
    FILE *fp = fmemopen((void *)input, inlen, "r");
    assert_non_null(fp);
    int rc = cli_read_password(fp, out, outlen, len);
    fclose(fp);
    return rc;
}

static void test_read_password(void **st)
{
    (void)st;
    char pw[32];
    size_t len = 0;
    assert_int_equal(read_pw("secret pw\nrest", 15, pw, sizeof pw, &len), EXIT_OK);
    assert_string_equal(pw, "secret pw");
    assert_int_equal(len, 9);
    assert_int_equal(read_pw("secret\r\n", 8, pw, sizeof pw, &len), EXIT_OK);
    assert_string_equal(pw, "secret");
    assert_int_equal(read_pw("no newline", 10, pw, sizeof pw, &len), EXIT_OK);
    assert_string_equal(pw, "no newline");
    /* Spaces are part of a password. */
    assert_int_equal(read_pw(" a b \n", 6, pw, sizeof pw, &len), EXIT_OK);
    assert_string_equal(pw, " a b ");
    assert_int_equal(read_pw("\n", 1, pw, sizeof pw, &len), EXIT_FAIL);
    assert_int_equal(read_pw("", 0, pw, sizeof pw, &len), EXIT_FAIL);
    assert_int_equal(read_pw("a\0b\n", 4, pw, sizeof pw, &len), EXIT_FAIL);
    assert_int_equal(read_pw("0123456789012345678901234567890123456789\n", 41, pw, sizeof pw,
                             &len),
                     EXIT_FAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_forms), cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_unknown),    cmocka_unit_test(test_positional),
        cmocka_unit_test(test_help),       cmocka_unit_test(test_env),
        cmocka_unit_test(test_int),        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_quote),      cmocka_unit_test(test_email),
        cmocka_unit_test(test_team),       cmocka_unit_test(test_read_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
