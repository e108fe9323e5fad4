/* The settings table of `piora serve` (core/config.c, app/settings.c):
 * the defaults it gives, flags and environment read through it with
 * today's one-line errors, and docs/configuration.md kept in step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/settings.h"
#include "cli/cli.h"
#include "core/config.h"

#define ARGV(...) (int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)), (char *[]){__VA_ARGS__}

/* settings_parse with stderr captured into err (one line expected). */
static bool parse(int argc, char **argv, piora_config *cfg, int *rc, char *err, size_t errlen)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), STDERR_FILENO);
    bool go = settings_parse(argc, argv, cfg, rc);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(err, 1, errlen - 1, tmp);
    err[n] = '\0';
    fclose(tmp);
    return go;
}

/* The values config_defaults set by hand before the table existed. */
static void test_defaults(void **st)
{
    (void)st;
    piora_config c;
    config_defaults(&c);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8080);
    assert_string_equal(c.database, "./piora.db");
    assert_int_equal(c.rate_limit, 1000);
    assert_int_equal(c.auth_fail_limit, 30);
    assert_int_equal(c.revoke_limit, 10);
    assert_int_equal(c.threads, 0);
    assert_int_equal(c.max_connections, 1024);
    assert_int_equal(c.idle_timeout_s, 30);
    assert_int_equal(c.max_header_bytes, 16384);
    assert_int_equal(c.touch_interval_s, 15);
    assert_int_equal(c.session_idle_s, 1800);
    assert_int_equal(c.session_lifetime_s, 43200);
    assert_int_equal(c.secure_cookies, 0);
    assert_int_equal(c.signin_limit, 10);
    assert_int_equal(c.usage_log, 1);
    assert_int_equal(c.usage_retention_days, 90);
    assert_int_equal(c.usage_max_rows, 10000);
    assert_int_equal(c.usage_flush_s, 1);
    assert_int_equal(c.last_used, 1);
    assert_int_equal(c.access_log, 1);
    assert_string_equal(c.trusted_proxies, "");
}

/* Every field is named by exactly one row, and every row's field lies
 * inside piora_config. */
static void test_rows(void **st)
{
    (void)st;
    for (size_t i = 0; i < config_settings_count; i++) {
        const config_setting *s = &config_settings[i];
        assert_true(s->offset + s->size <= sizeof(piora_config));
        assert_non_null(s->help);
        assert_non_null(s->doc);
        assert_int_equal(strncmp(s->env, "PIORA_", 6), 0);
        for (size_t j = 0; j < i; j++) {
            assert_true(config_settings[j].offset != s->offset);
            assert_true(strcmp(config_settings[j].flag, s->flag) != 0);
            assert_true(strcmp(config_settings[j].env, s->env) != 0);
        }
    }
}

static void test_flags_and_env(void **st)
{
    (void)st;
    piora_config c;
    int rc = -1;
    char err[512];
    unsetenv("PIORA_RATE_LIMIT");
    setenv("PIORA_THREADS", "4", 1);
    setenv("PIORA_USAGE_LOG", "off", 1);
    setenv("PIORA_MAX_HEADER_BYTES", "8192", 1);
    assert_true(parse(ARGV("serve", "--listen", "[::1]:9000", "--rate-limit=600", "--threads",
                           "8", "--access-log=false", "--trusted-proxies", "10.0.0.0/8",
                           "--database=/tmp/x.db"),
                      &c, &rc, err, sizeof err));
    assert_int_equal(rc, EXIT_OK);
    assert_string_equal(err, "");
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 9000);
    assert_int_equal(c.rate_limit, 600);
    assert_int_equal(c.threads, 8);            /* the flag wins */
    assert_int_equal(c.usage_log, 0);          /* from the environment */
    assert_int_equal(c.max_header_bytes, 8192); /* a size_t field */
    assert_int_equal(c.access_log, 0);
    assert_string_equal(c.trusted_proxies, "10.0.0.0/8");
    assert_string_equal(c.database, "/tmp/x.db");
    assert_int_equal(c.idle_timeout_s, 30); /* untouched: its default */
    unsetenv("PIORA_THREADS");
    unsetenv("PIORA_USAGE_LOG");
    unsetenv("PIORA_MAX_HEADER_BYTES");
}

/* The one-line errors and exit statuses of before the table. */
static void test_errors(void **st)
{
    (void)st;
    piora_config c;
    int rc = -1;
    char err[512];
    assert_false(parse(ARGV("serve", "--listen", "127.0.0.1:65536"), &c, &rc, err, sizeof err));
    assert_int_equal(rc, EXIT_USAGE);
    assert_string_equal(err, "piora: invalid --listen '127.0.0.1:65536': expected HOST:PORT or "
                             "[IPv6]:PORT, port 0-65535 (see 'piora serve --help')\n");
    assert_false(parse(ARGV("serve", "--last-used-interval=61"), &c, &rc, err, sizeof err));
    assert_int_equal(rc, EXIT_USAGE);
    assert_string_equal(err, "piora: invalid --last-used-interval '61': expected an integer "
                             "from 1 to 60 (see 'piora serve --help')\n");
    assert_false(parse(ARGV("serve", "--usage-log", "maybe"), &c, &rc, err, sizeof err));
    assert_string_equal(err, "piora: invalid --usage-log 'maybe': expected on or off (see "
                             "'piora serve --help')\n");
    setenv("PIORA_RATE_LIMIT", "many", 1);
    assert_false(parse(ARGV("serve"), &c, &rc, err, sizeof err));
    assert_int_equal(rc, EXIT_USAGE);
    assert_string_equal(err, "piora: invalid PIORA_RATE_LIMIT 'many': expected an integer "
                             "from 0 to 1000000000 (see 'piora serve --help')\n");
    unsetenv("PIORA_RATE_LIMIT");
    char big[5000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(parse(ARGV("serve", "--database", big), &c, &rc, err, sizeof err));
    assert_int_equal(rc, EXIT_USAGE);
    assert_non_null(strstr(err, "': too long (see 'piora serve --help')"));
    assert_false(parse(ARGV("serve", "--trusted-proxies", "1.2.3.4/99"), &c, &rc, err,
                       sizeof err));
    assert_non_null(strstr(err, "piora: invalid --trusted-proxies '1.2.3.4/99': "));
    assert_false(parse(ARGV("serve", "--threads"), &c, &rc, err, sizeof err));
    assert_string_equal(err, "piora: flag --threads needs a value (see 'piora serve --help')\n");
    assert_false(parse(ARGV("serve", "--secure-cookies", "2"), &c, &rc, err, sizeof err));
    assert_string_equal(err, "piora: invalid --secure-cookies '2': expected an integer from 0 "
                             "to 1 (see 'piora serve --help')\n");
}

static char *render(void (*write)(FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    assert_non_null(m);
    write(m);
    assert_int_equal(fclose(m), 0);
    return text;
}

/* Every row in --help with its variable and default, no line too wide. */
static void test_usage(void **st)
{
    (void)st;
    char *u = render(settings_write_usage);
    assert_int_equal(strncmp(u, "Usage: piora serve [flags]\n", 27), 0);
    for (size_t i = 0; i < config_settings_count; i++) {
        const config_setting *s = &config_settings[i];
        char flag[80], env[400], def[300];
        snprintf(flag, sizeof flag, "  --%s %s ", s->flag, s->metavar);
        config_default_text(s, def, sizeof def);
        snprintf(env, sizeof env, "(%s, default %s)", s->env, def);
        assert_non_null(strstr(u, flag));
        assert_non_null(strstr(u, env));
    }
    for (const char *line = u; *line;) {
        size_t n = strcspn(line, "\n");
        assert_true(n <= 79);
        line += n + (line[n] != '\0');
    }
    free(u);
}

/* docs/configuration.md holds, between its markers, the table that
 * settings_write_markdown renders: a new or changed row fails here until
 * the doc is regenerated (the expected block is printed). */
static void test_doc_in_step(void **st)
{
    (void)st;
    static const char begin[] = "<!-- settings:begin (generated from core/config.c; "
                                "tests/unit/test_settings.c checks it) -->\n";
    static const char end[] = "<!-- settings:end -->\n";
    FILE *f = fopen(PIORA_SOURCE_DIR "/docs/configuration.md", "r");
    assert_non_null(f);
    static char doc[1 << 16];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    char *b = strstr(doc, begin), *e = b ? strstr(b, end) : NULL;
    assert_non_null(b);
    assert_non_null(e);
    b += sizeof begin - 1;
    *e = '\0';
    char *want = render(settings_write_markdown);
    if (strcmp(b, want) != 0)
        fail_msg("docs/configuration.md is out of step with the settings table; the block "
                 "between the markers should be:\n%s",
                 want);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_rows),
        cmocka_unit_test(test_flags_and_env), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_usage),      cmocka_unit_test(test_doc_in_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
