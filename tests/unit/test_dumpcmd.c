/* core/dumpcmd: the exact command lines each engine's backup and restore
 * run (MySQL and MongoDB have no Debian 12 server: this is where they are
 * tested), and that no value can leave its quoted word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/dumpcmd.h"
#include "util/shell.h"

static void backup_is(const db_conn *c, const char *want)
{
    buf_t b;
    buf_init(&b, 4096);
    assert_int_equal(dumpcmd_backup(c, &b), PIORA_OK);
    if (strcmp(b.data, want) != 0)
        fail_msg("got  %s\nwant %s", b.data, want);
    buf_free(&b);
}

static void restore_is(const db_conn *c, const char *source, const char *want)
{
    buf_t b;
    buf_init(&b, 4096);
    assert_int_equal(dumpcmd_restore(c, source, &b), PIORA_OK);
    if (strcmp(b.data, want) != 0)
        fail_msg("got  %s\nwant %s", b.data, want);
    buf_free(&b);
}

static void test_postgresql(void **state)
{
    (void)state;
    db_conn c = {.engine = "postgresql", .name = "shop", .ssh_user = "deploy"};
    backup_is(&c, "exec pg_dump --format=custom --no-password --username='deploy' --dbname='shop'");
    restore_is(&c, "shop",
               "exec pg_restore --clean --if-exists --no-owner --single-transaction --no-password "
               "--username='deploy' --dbname='shop'");
    c.host = "/var/run/postgresql";
    c.port = 5433;
    c.username = "backup";
    backup_is(&c, "exec pg_dump --format=custom --no-password --host='/var/run/postgresql' "
                  "--port=5433 --username='backup' --dbname='shop'");
    c.host = "127.0.0.1";
    c.name = "shop_copy";
    restore_is(&c, "shop",
               "exec pg_restore --clean --if-exists --no-owner --single-transaction --no-password "
               "--host='127.0.0.1' --port=5433 --username='backup' --dbname='shop_copy'");
}

static void test_mysql_mariadb(void **state)
{
    (void)state;
    db_conn c = {.engine = "mysql", .name = "shop", .ssh_user = "deploy"};
    backup_is(&c, "exec mysqldump --single-transaction --routines --triggers --user='deploy' -- 'shop'");
    restore_is(&c, "shop", "exec mysql --batch --user='deploy' -- 'shop'");
    c.port = 3307; /* no host: TCP to this machine, a socket has no port */
    backup_is(&c, "exec mysqldump --single-transaction --routines --triggers --protocol=TCP "
                  "--port=3307 --user='deploy' -- 'shop'");
    c.engine = "mariadb";
    c.host = "/run/mysqld/mysqld.sock";
    c.username = "dumper";
    backup_is(&c, "exec mariadb-dump --single-transaction --routines --triggers "
                  "--socket='/run/mysqld/mysqld.sock' --user='dumper' -- 'shop'");
    c.host = "db.internal";
    c.name = "shop2";
    restore_is(&c, "shop",
               "exec mariadb --batch --host='db.internal' --port=3307 --user='dumper' -- 'shop2'");
}

static void test_redis(void **state)
{
    (void)state;
    db_conn c = {.engine = "redis", .name = "cache", .ssh_user = "deploy"};
    backup_is(&c, "exec redis-cli --rdb -");
    c.host = "127.0.0.1";
    c.port = 6380;
    backup_is(&c, "exec redis-cli -h '127.0.0.1' -p 6380 --rdb -");
    c.host = "/run/redis/redis.sock";
    backup_is(&c, "exec redis-cli -s '/run/redis/redis.sock' --rdb -");
    buf_t b;
    buf_init(&b, 4096);
    assert_int_equal(dumpcmd_restore(&c, "cache", &b), PIORA_EINVALID);
    buf_free(&b);
}

static void test_mongodb(void **state)
{
    (void)state;
    db_conn c = {.engine = "mongodb", .name = "app", .ssh_user = "deploy"};
    /* no username unless the object names one: the tools would prompt */
    backup_is(&c, "exec mongodump --archive --db='app'");
    c.host = "10.0.0.5";
    c.port = 27018;
    c.username = "backup";
    backup_is(&c, "exec mongodump --archive --host='10.0.0.5' --port=27018 --username='backup' "
                  "--db='app'");
    c.name = "app_staging";
    restore_is(&c, "app",
               "exec mongorestore --archive --drop --host='10.0.0.5' --port=27018 "
               "--username='backup' --nsInclude='app.*' --nsFrom='app.*' --nsTo='app_staging.*'");
}

static void test_refused_and_suffix(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 4096);
    db_conn c = {.engine = "oracle", .name = "x", .ssh_user = "u"};
    assert_int_equal(dumpcmd_backup(&c, &b), PIORA_EINVALID);
    c.engine = "postgresql";
    c.name = "";
    assert_int_equal(dumpcmd_backup(&c, &b), PIORA_EINVALID);
    c.name = "x";
    assert_int_equal(dumpcmd_restore(&c, NULL, &b), PIORA_EINVALID);
    buf_free(&b);
    buf_init(&b, 16); /* too small for any command */
    assert_int_equal(dumpcmd_backup(&c, &b), PIORA_ENOMEM);
    buf_free(&b);
    assert_string_equal(dumpcmd_suffix("postgresql"), ".pgdump");
    assert_string_equal(dumpcmd_suffix("mariadb"), ".sql");
    assert_string_equal(dumpcmd_suffix("redis"), ".rdb");
    assert_string_equal(dumpcmd_suffix("mongodb"), ".archive");
    assert_string_equal(dumpcmd_suffix("x"), "");
}

/* Whatever a value holds, it stays one word: run through a real sh, the
 * quoted word comes back byte for byte. */
static void test_quoting(void **state)
{
    (void)state;
    static const char *const values[] = {"it's", "'", "''", "$(id)", "`id`", "a b\tc", "\\", "-x",
                                         "a;b|c&d", "\"q\"", "*", "~root", "!"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        buf_t cmd;
        buf_init(&cmd, 4096);
        buf_puts(&cmd, "printf %s ");
        assert_true(buf_put_shquoted(&cmd, values[i]));
        FILE *p = popen(cmd.data, "r");
        assert_non_null(p);
        char got[256] = "";
        size_t n = fread(got, 1, sizeof got - 1, p);
        got[n] = '\0';
        assert_int_equal(pclose(p), 0);
        if (strcmp(got, values[i]) != 0)
            fail_msg("%s came back as %s", values[i], got);
        buf_free(&cmd);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postgresql),      cmocka_unit_test(test_mysql_mariadb),
        cmocka_unit_test(test_redis),           cmocka_unit_test(test_mongodb),
        cmocka_unit_test(test_refused_and_suffix), cmocka_unit_test(test_quoting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
