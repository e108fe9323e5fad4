/* Validation of client input: each field check with good and bad values,
 * and validate_object on whole bodies (unknown, read-only, wrong type,
 * missing, defaults, PATCH rules, NUL and invalid UTF-8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/model.h"
#include "core/validate.h"

#define GOOD(fn, v) assert_null_msg(fn(v), v)
#define BAD(fn, v) assert_non_null_msg(fn(v), v)

static void assert_null_msg(const char *r, const char *v)
{
    if (r)
        fail_msg("expected %s to be accepted, got: %s", v, r);
}

static void assert_non_null_msg(const char *r, const char *v)
{
    if (!r)
        fail_msg("expected \"%s\" to be rejected", v);
}

static void repeat(char *out, char c, size_t n)
{
    memset(out, c, n);
    out[n] = '\0';
}

static void test_check_name(void **state)
{
    (void)state;
    char buf[128];
    GOOD(check_name, "web-1");
    GOOD(check_name, "db_primary.eu");
    GOOD(check_name, "A");
    repeat(buf, 'a', 64);
    GOOD(check_name, buf);
    repeat(buf, 'a', 65);
    BAD(check_name, buf);
    BAD(check_name, "");
    BAD(check_name, "web 1");
    BAD(check_name, "web/1");
    BAD(check_name, "x'; DROP TABLE servers; --");
    BAD(check_name, "a\"b");
    BAD(check_name, "caf\xc3\xa9");
    BAD(check_name, "tab\there");
    BAD(check_name, "new\nline");
}

static void test_check_ip(void **state)
{
    (void)state;
    GOOD(check_ip, "10.0.0.1");
    GOOD(check_ip, "0.0.0.0");
    GOOD(check_ip, "255.255.255.255");
    GOOD(check_ip, "::1");
    GOOD(check_ip, "2001:db8::8a2e:370:7334");
    GOOD(check_ip, "2001:DB8::1");
    GOOD(check_ip, "::ffff:192.0.2.1");
    BAD(check_ip, "");
    BAD(check_ip, "256.1.1.1");
    BAD(check_ip, "1.2.3");
    BAD(check_ip, "1.2.3.4.5");
    BAD(check_ip, "010.1.1.1");
    BAD(check_ip, "1.2.3.04");
    BAD(check_ip, "::ffff:010.0.2.1");
    BAD(check_ip, " 10.0.0.1");
    BAD(check_ip, "10.0.0.1 ");
    BAD(check_ip, "10.0.0.1\n");
    BAD(check_ip, "fe80::1%eth0");
    BAD(check_ip, "[::1]");
    BAD(check_ip, "1.2.3.4.");
    BAD(check_ip, "1..2.3");
    BAD(check_ip, "example.com");
    BAD(check_ip, "2001:db8:::1");
    BAD(check_ip, "0x7f.0.0.1");
    BAD(check_ip, "1.2.3.4'--");
}

static void test_check_hostname(void **state)
{
    (void)state;
    char buf[300];
    GOOD(check_hostname, "example.com");
    GOOD(check_hostname, "App-1.Example.COM");
    GOOD(check_hostname, "localhost");
    GOOD(check_hostname, "a.b.c.d.e");
    GOOD(check_hostname, "xn--bcher-kva.example");
    repeat(buf, 'a', 63);
    strcat(buf, ".com");
    GOOD(check_hostname, buf);
    repeat(buf, 'a', 64);
    strcat(buf, ".com");
    BAD(check_hostname, buf);
    /* 4 labels of 63 + 3 dots = 255 > 253 */
    char l[64];
    repeat(l, 'b', 63);
    snprintf(buf, sizeof buf, "%s.%s.%s.%s", l, l, l, l);
    BAD(check_hostname, buf);
    BAD(check_hostname, "");
    BAD(check_hostname, "-example.com");
    BAD(check_hostname, "example-.com");
    BAD(check_hostname, "exa mple.com");
    BAD(check_hostname, "example..com");
    BAD(check_hostname, ".example.com");
    BAD(check_hostname, "example.com.");
    BAD(check_hostname, "exa_mple.com");
    BAD(check_hostname, "b\xc3\xbc" "cher.example");
}

static void test_check_ssh_user(void **state)
{
    (void)state;
    GOOD(check_ssh_user, "root");
    GOOD(check_ssh_user, "_deploy");
    GOOD(check_ssh_user, "deploy-user_2");
    GOOD(check_ssh_user, "abcdefghijklmnopqrstuvwxyz012345"); /* 32 */
    BAD(check_ssh_user, "abcdefghijklmnopqrstuvwxyz0123456"); /* 33 */
    BAD(check_ssh_user, "");
    BAD(check_ssh_user, "Root");
    BAD(check_ssh_user, "1root");
    BAD(check_ssh_user, "-root");
    BAD(check_ssh_user, "ro ot");
    BAD(check_ssh_user, "root;id");
    BAD(check_ssh_user, "root$");
}

static void test_check_branch(void **state)
{
    (void)state;
    char buf[300];
    GOOD(check_branch, "main");
    GOOD(check_branch, "feature/login-page");
    GOOD(check_branch, "release-1.2");
    GOOD(check_branch, "v1.0_rc");
    GOOD(check_branch, "fix@home");
    repeat(buf, 'b', 255);
    GOOD(check_branch, buf);
    repeat(buf, 'b', 256);
    BAD(check_branch, buf);
    BAD(check_branch, "");
    BAD(check_branch, "a..b");
    BAD(check_branch, "-main");
    BAD(check_branch, "/main");
    BAD(check_branch, "main/");
    BAD(check_branch, "main.lock");
    BAD(check_branch, "feature/x.lock/y");
    BAD(check_branch, "a@{b");
    BAD(check_branch, "@");
    BAD(check_branch, "has space");
    BAD(check_branch, "a~1");
    BAD(check_branch, "a^1");
    BAD(check_branch, "a:b");
    BAD(check_branch, "a?b");
    BAD(check_branch, "a*b");
    BAD(check_branch, "a[b");
    BAD(check_branch, "a\\b");
    BAD(check_branch, "a\tb");
    BAD(check_branch, "a\x7f");
    BAD(check_branch, "a//b");
    BAD(check_branch, ".hidden");
    BAD(check_branch, "x/.hidden");
    BAD(check_branch, "ends.");
    BAD(check_branch, "bad\xff");
}

static void test_check_repository(void **state)
{
    (void)state;
    char buf[600];
    GOOD(check_repository, "https://github.com/acme/shop.git");
    GOOD(check_repository, "https://git.example.com:8443/team/app");
    GOOD(check_repository, "ssh://git@example.com/acme/shop.git");
    GOOD(check_repository, "ssh://git@example.com:2222/acme/shop.git");
    GOOD(check_repository, "ssh://example.com/srv/repo");
    GOOD(check_repository, "ssh://git@[2001:db8::1]:22/repo.git");
    GOOD(check_repository, "git@github.com:acme/shop.git");
    GOOD(check_repository, "deploy@10.0.0.5:/srv/git/app.git");
    GOOD(check_repository, "acme/shop");
    GOOD(check_repository, "acme/shop.js");
    GOOD(check_repository, "/home/app/shop.git");
    BAD(check_repository, "/home/app/../etc");
    BAD(check_repository, "/home/app shop");
    snprintf(buf, sizeof buf, "https://example.com/");
    memset(buf + strlen(buf), 'a', 512 - strlen(buf));
    buf[512] = '\0';
    GOOD(check_repository, buf);
    buf[512] = 'a';
    buf[513] = '\0';
    BAD(check_repository, buf);
    BAD(check_repository, "");
    BAD(check_repository, "http://example.com/a");
    BAD(check_repository, "ftp://example.com/a");
    BAD(check_repository, "file:///etc/passwd");
    BAD(check_repository, "https://example.com");
    BAD(check_repository, "https://example.com/");
    BAD(check_repository, "https://user:secret@example.com/a");
    BAD(check_repository, "https://exa mple.com/a");
    BAD(check_repository, "https://example.com/a b");
    BAD(check_repository, "https://example.com:0/a");
    BAD(check_repository, "https://example.com:99999/a");
    BAD(check_repository, "https://example.com/a;rm -rf /");
    BAD(check_repository, "https://example.com/$(id)");
    BAD(check_repository, "https://example.com/a\n");
    BAD(check_repository, "git@github.com:");
    BAD(check_repository, "@github.com:a");
    BAD(check_repository, "-oProxyCommand=x@host:a");
    BAD(check_repository, "owner/repo/extra");
    BAD(check_repository, "owner/");
    GOOD(check_repository, "/repo"); /* a path on the server (SPEC 10) */
    BAD(check_repository, "justaname");
    BAD(check_repository, "-x/y");
    BAD(check_repository, "owner/..");
    BAD(check_repository, "own\xc3\xa9r/repo");
}

static void test_check_version_label(void **state)
{
    (void)state;
    GOOD(check_version, "16");
    GOOD(check_version, "8.0.36");
    GOOD(check_version, "7.2-alpine");
    GOOD(check_version, "abcdefghijklmnopqrstuvwxyz012345");
    BAD(check_version, "abcdefghijklmnopqrstuvwxyz0123456");
    BAD(check_version, "");
    BAD(check_version, "1 0");
    BAD(check_version, "1;2");

    GOOD(check_label, "Hetzner");
    GOOD(check_label, "eu-central (Falkenstein)");
    GOOD(check_label, "Z\xc3\xbcrich \xe2\x9c\x93"); /* Zürich ✓ */
    GOOD(check_label, "x'; DROP TABLE servers; --"); /* free text: bound, not refused */
    BAD(check_label, "");
    BAD(check_label, "a\tb");
    BAD(check_label, "a\nb");
    BAD(check_label, "a\x7f");
    BAD(check_label, "a\xc2\x85" "b"); /* U+0085 NEL */
    BAD(check_label, "bad\xff");
    BAD(check_label, "\xc0\xaf"); /* overlong '/' */
    BAD(check_label, "\xed\xa0\x80"); /* surrogate */
    char buf[100];
    repeat(buf, 'x', 64);
    GOOD(check_label, buf);
    repeat(buf, 'x', 65);
    BAD(check_label, buf);
}

/* ---- validate_object ---------------------------------------------------- */

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!j)
        fail_msg("bad test JSON: %s", e.text);
    return j;
}

/* Validates text and returns the outcome; *field gets the first error's field. */
static piora_err run(const resource_desc *d, const char *text, bool create, json_t **values,
                     verrs *errs)
{
    json_t *body = parse(text);
    memset(errs, 0, sizeof *errs);
    piora_err e = validate_object(d, body, create, values, errs);
    json_decref(body);
    return e;
}

static bool has_error(const verrs *e, const char *field, const char *needle)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->items[i].field, field) == 0 &&
            (!needle || strstr(e->items[i].message, needle)))
            return true;
    return false;
}

static void test_create_server_defaults(void **state)
{
    (void)state;
    json_t *v = NULL;
    verrs e;
    assert_int_equal(run(&RES_SERVERS, "{\"name\":\"web-1\",\"ip_address\":\"10.0.0.1\"}", true,
                         &v, &e),
                     PIORA_OK);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "web-1");
    assert_int_equal(json_integer_value(json_object_get(v, "ssh_port")), 22);
    assert_string_equal(json_string_value(json_object_get(v, "ssh_user")), "root");
    assert_string_equal(json_string_value(json_object_get(v, "status")), "unknown");
    assert_true(json_is_null(json_object_get(v, "provider")));
    assert_null(json_object_get(v, "id"));
    json_decref(v);
}

static void test_create_errors(void **state)
{
    (void)state;
    json_t *v = NULL;
    verrs e;
    /* missing required fields */
    assert_int_equal(run(&RES_SERVERS, "{}", true, &v, &e), PIORA_EINVALID);
    assert_null(v);
    assert_true(has_error(&e, "name", "required"));
    assert_true(has_error(&e, "ip_address", "required"));

    /* unknown, read-only, wrong types: each reported */
    assert_int_equal(run(&RES_SERVERS,
                         "{\"name\":\"a\",\"ip_address\":\"10.0.0.1\",\"colour\":\"red\","
                         "\"status\":\"active\",\"id\":5,\"ssh_port\":\"22\"}",
                         true, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "colour", "unknown field"));
    assert_true(has_error(&e, "status", "read-only"));
    assert_true(has_error(&e, "id", "read-only"));
    assert_true(has_error(&e, "ssh_port", "integer"));
    assert_int_equal(e.n, 4);

    /* ranges */
    assert_int_equal(run(&RES_SERVERS, "{\"name\":\"a\",\"ip_address\":\"10.0.0.1\",\"ssh_port\":0}",
                         true, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "ssh_port", NULL));
    assert_int_equal(
        run(&RES_SERVERS, "{\"name\":\"a\",\"ip_address\":\"10.0.0.1\",\"ssh_port\":65536}", true,
            &v, &e),
        PIORA_EINVALID);
    assert_int_equal(
        run(&RES_SERVERS, "{\"name\":\"a\",\"ip_address\":\"10.0.0.1\",\"ssh_port\":22.5}", true,
            &v, &e),
        PIORA_EINVALID);
    assert_int_equal(
        run(&RES_SERVERS, "{\"name\":\"a\",\"ip_address\":\"10.0.0.1\",\"ssh_port\":true}", true,
            &v, &e),
        PIORA_EINVALID);

    /* null only where nullable */
    assert_int_equal(run(&RES_SERVERS, "{\"name\":null,\"ip_address\":\"10.0.0.1\"}", true, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "name", "null"));
    assert_int_equal(
        run(&RES_SERVERS, "{\"name\":\"a\",\"ip_address\":\"10.0.0.1\",\"region\":null}", true,
            &v, &e),
        PIORA_OK);
    json_decref(v);

    /* not an object */
    assert_int_equal(run(&RES_SERVERS, "[1,2]", true, &v, &e), PIORA_EBADREQ);
    assert_int_equal(run(&RES_SERVERS, "\"x\"", true, &v, &e), PIORA_EBADREQ);
}

static void test_strings_nul_utf8_length(void **state)
{
    (void)state;
    json_t *v = NULL;
    verrs e;
    /* an embedded NUL (JSON \u0000) */
    assert_int_equal(run(&RES_SERVERS,
                         "{\"name\":\"a\",\"ip_address\":\"10.0.0.1\",\"provider\":\"x\\u0000y\"}",
                         true, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "provider", "UTF-8"));
    assert_int_equal(run(&RES_SERVERS, "{\"name\":\"a\\u0000\",\"ip_address\":\"10.0.0.1\"}", true,
                         &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "name", NULL));

    /* invalid UTF-8 straight into validate_object (jansson refuses it when
     * decoding; a json_stringn_nocheck value gets here) */
    json_t *body = json_pack("{s:s,s:s}", "name", "a", "ip_address", "10.0.0.1");
    json_object_set_new(body, "region", json_stringn_nocheck("\xff\xfe", 2));
    memset(&e, 0, sizeof e);
    assert_int_equal(validate_object(&RES_SERVERS, body, true, &v, &e), PIORA_EINVALID);
    assert_true(has_error(&e, "region", "UTF-8"));
    json_decref(body);

    /* overlong deploy_script (max 65536 bytes) */
    size_t n = 65537;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    body = json_pack("{s:s,s:i,s:s,s:s}", "name", "app", "server_id", 1, "repository", "acme/app",
                     "deploy_script", big);
    memset(&e, 0, sizeof e);
    assert_int_equal(validate_object(&RES_APPLICATIONS, body, true, &v, &e), PIORA_EINVALID);
    assert_true(has_error(&e, "deploy_script", "at most"));
    json_decref(body);
    big[n - 1] = '\0';
    body = json_pack("{s:s,s:i,s:s,s:s}", "name", "app", "server_id", 1, "repository", "acme/app",
                     "deploy_script", big);
    memset(&e, 0, sizeof e);
    assert_int_equal(validate_object(&RES_APPLICATIONS, body, true, &v, &e), PIORA_OK);
    assert_string_equal(json_string_value(json_object_get(v, "branch")), "main");
    json_decref(v);
    json_decref(body);
    free(big);

    /* SQL metacharacters in a name are simply an invalid name */
    assert_int_equal(run(&RES_SERVERS,
                         "{\"name\":\"x' OR '1'='1\",\"ip_address\":\"10.0.0.1\"}", true, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "name", NULL));
}

/* The fields a dump tool needs (issue 11): no password among them, each
 * value something the engine client can take as one quoted argument. */
static void test_database_backup_fields(void **state)
{
    (void)state;
    json_t *v = NULL;
    verrs e;
    assert_int_equal(run(&RES_DATABASES,
                         "{\"name\":\"main\",\"engine\":\"postgresql\",\"server_id\":3}", true,
                         &v, &e),
                     PIORA_OK);
    assert_true(json_is_null(json_object_get(v, "host")));
    assert_true(json_is_null(json_object_get(v, "port")));
    assert_true(json_is_null(json_object_get(v, "username")));
    assert_true(json_is_null(json_object_get(v, "backup_schedule")));
    assert_int_equal(json_integer_value(json_object_get(v, "backup_keep")), 7);
    json_decref(v);

    assert_int_equal(run(&RES_DATABASES,
                         "{\"host\":\"/var/run/postgresql\",\"port\":5433,\"username\":\"app_ro\","
                         "\"backup_schedule\":\"15 3 * * mon-fri\",\"backup_keep\":30}",
                         false, &v, &e),
                     PIORA_OK);
    json_decref(v);
    assert_int_equal(run(&RES_DATABASES, "{\"host\":\"db.internal\",\"port\":null}", false, &v,
                         &e),
                     PIORA_OK);
    json_decref(v);
    assert_int_equal(run(&RES_DATABASES, "{\"host\":\"::1\"}", false, &v, &e), PIORA_OK);
    json_decref(v);

    static const char *const bad[][2] = {
        {"{\"host\":\"a b\"}", "host"},
        {"{\"host\":\"$(id)\"}", "host"},
        {"{\"host\":\"/run/../etc\"}", "host"},
        {"{\"host\":\"-oProxyCommand=x\"}", "host"},
        {"{\"port\":0}", "port"},
        {"{\"port\":65536}", "port"},
        {"{\"username\":\"-U\"}", "username"},
        {"{\"username\":\"a;b\"}", "username"},
        {"{\"backup_schedule\":\"every day\"}", "backup_schedule"},
        {"{\"backup_schedule\":\"* * * *\"}", "backup_schedule"},
        {"{\"backup_schedule\":\"61 * * * *\"}", "backup_schedule"},
        {"{\"backup_keep\":0}", "backup_keep"},
        {"{\"backup_keep\":null}", "backup_keep"},
        {"{\"password\":\"x\"}", "password"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (run(&RES_DATABASES, bad[i][0], false, &v, &e) == PIORA_OK)
            fail_msg("accepted %s", bad[i][0]);
        if (!has_error(&e, bad[i][1], NULL))
            fail_msg("%s: no error on %s", bad[i][0], bad[i][1]);
    }
}

static void test_enum_and_ref(void **state)
{
    (void)state;
    json_t *v = NULL;
    verrs e;
    assert_int_equal(run(&RES_DATABASES,
                         "{\"name\":\"main\",\"engine\":\"postgresql\",\"server_id\":3,"
                         "\"version\":\"16\"}",
                         true, &v, &e),
                     PIORA_OK);
    assert_int_equal(json_integer_value(json_object_get(v, "server_id")), 3);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "pending");
    json_decref(v);

    assert_int_equal(run(&RES_DATABASES,
                         "{\"name\":\"main\",\"engine\":\"oracle\",\"server_id\":3}", true, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "engine", "postgresql"));
    assert_int_equal(run(&RES_DATABASES,
                         "{\"name\":\"main\",\"engine\":\"PostgreSQL\",\"server_id\":3}", true, &v,
                         &e),
                     PIORA_EINVALID);
    assert_int_equal(run(&RES_DATABASES,
                         "{\"name\":\"main\",\"engine\":\"redis\",\"server_id\":0}", true, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "server_id", NULL));
    assert_int_equal(run(&RES_DATABASES,
                         "{\"name\":\"main\",\"engine\":\"redis\",\"server_id\":\"3\"}", true, &v,
                         &e),
                     PIORA_EINVALID);
    assert_int_equal(run(&RES_DATABASES,
                         "{\"name\":\"main\",\"engine\":\"redis\",\"server_id\":-1}", true, &v, &e),
                     PIORA_EINVALID);

    /* backups: only database_id may be given */
    assert_int_equal(run(&RES_BACKUPS, "{\"database_id\":7}", true, &v, &e), PIORA_OK);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "pending");
    json_decref(v);
    assert_int_equal(run(&RES_BACKUPS, "{\"database_id\":7,\"sha256\":\"ab\"}", true, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "sha256", "read-only"));
}

static void test_patch_rules(void **state)
{
    (void)state;
    json_t *v = NULL;
    verrs e;
    assert_int_equal(run(&RES_SERVERS, "{}", false, &v, &e), PIORA_EINVALID);
    assert_int_equal(e.n, 1);
    assert_int_equal(run(&RES_SERVERS, "{\"region\":\"eu\"}", false, &v, &e), PIORA_OK);
    /* a PATCH writes only what it was given: no defaults */
    assert_int_equal(json_object_size(v), 1);
    json_decref(v);
    assert_int_equal(run(&RES_DATABASES, "{\"engine\":\"mysql\"}", false, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "engine", "creation"));
    assert_int_equal(run(&RES_SERVERS, "{\"created_at\":\"2020-01-01T00:00:00Z\"}", false, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "created_at", "read-only"));
    assert_int_equal(run(&RES_SERVERS, "{\"ip_address\":\"999.1.1.1\"}", false, &v, &e),
                     PIORA_EINVALID);
    assert_true(has_error(&e, "ip_address", "IPv4"));
}

static void test_verrs_bounds(void **state)
{
    (void)state;
    verrs e = {0};
    for (int i = 0; i < VERRS_MAX + 5; i++)
        verrs_add(&e, "f", "error %d", i);
    assert_int_equal(e.n, VERRS_MAX);

    /* a long multibyte field name is cut on a character boundary */
    char name[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(name, "\xc3\xa9");
    memset(&e, 0, sizeof e);
    verrs_add(&e, name, "x");
    size_t n = strlen(e.items[0].field);
    assert_true(n < sizeof e.items[0].field);
    assert_int_equal(n % 2, 0);

    /* many unknown fields: errors stop at VERRS_MAX, outcome still EINVALID */
    json_t *body = json_object();
    char key[16];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "k%d", i);
        json_object_set_new(body, key, json_integer(i));
    }
    json_t *v = NULL;
    memset(&e, 0, sizeof e);
    assert_int_equal(validate_object(&RES_SERVERS, body, false, &v, &e), PIORA_EINVALID);
    assert_int_equal(e.n, VERRS_MAX);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_name),
        cmocka_unit_test(test_check_ip),
        cmocka_unit_test(test_check_hostname),
        cmocka_unit_test(test_check_ssh_user),
        cmocka_unit_test(test_check_branch),
        cmocka_unit_test(test_check_repository),
        cmocka_unit_test(test_check_version_label),
        cmocka_unit_test(test_create_server_defaults),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_strings_nul_utf8_length),
        cmocka_unit_test(test_enum_and_ref),
        cmocka_unit_test(test_database_backup_fields),
        cmocka_unit_test(test_patch_rules),
        cmocka_unit_test(test_verrs_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
