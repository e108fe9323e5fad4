/* core/backupstore: a dump is visible under its final name only when whole,
 * with the SHA-256 of exactly its bytes; nothing else is ever left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>

#include "core/backupstore.h"

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void make_dir(char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/piora-bstore-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void test_commit(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    char base[64], dir[128];
    make_dir(base, sizeof base);
    snprintf(dir, sizeof dir, "%s/a/b", base); /* made on open, like a fresh --backup-dir */
    assert_int_equal(backupstore_open_dir(dir, NULL), PIORA_OK);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    backup_writer w;
    assert_int_equal(backup_writer_begin(&w, dir, 42, ".pgdump"), PIORA_OK);
    char path[BACKUPSTORE_PATH_MAX];
    assert_int_equal(backupstore_path(dir, 42, ".pgdump", path), PIORA_OK);
    static unsigned char data[300000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7);
    for (size_t off = 0; off < sizeof data; off += 1000)
        assert_int_equal(backup_writer_write(&w, data + off, 1000), PIORA_OK);
    assert_int_not_equal(access(path, F_OK), 0); /* not visible while it is written */
    char hex[SHA256_HEX_LEN];
    uint64_t size = 0;
    assert_int_equal(backup_writer_commit(&w, hex, &size), PIORA_OK);
    assert_int_equal(size, sizeof data);
    unsigned char want[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(want, data, sizeof data);
    char want_hex[SHA256_HEX_LEN];
    sodium_bin2hex(want_hex, sizeof want_hex, want, sizeof want);
    assert_string_equal(hex, want_hex);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, (off_t)sizeof data);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(count_entries(dir), 1);

    char again[SHA256_HEX_LEN];
    uint64_t sz2 = 0;
    assert_int_equal(backupstore_sha256_file(path, again, &sz2), PIORA_OK);
    assert_string_equal(again, want_hex);
    assert_int_equal(sz2, sizeof data);

    assert_int_equal(backupstore_remove(path), PIORA_OK);
    assert_int_equal(backupstore_remove(path), PIORA_OK);
    assert_int_equal(backupstore_sha256_file(path, again, &sz2), PIORA_ENOTFOUND);
    assert_int_equal(count_entries(dir), 0);
}

static void test_abort_and_stale(void **state)
{
    (void)state;
    char dir[64];
    make_dir(dir, sizeof dir);
    backup_writer w;
    assert_int_equal(backup_writer_begin(&w, dir, 7, ".sql"), PIORA_OK);
    assert_int_equal(backup_writer_write(&w, "partial", 7), PIORA_OK);
    backup_writer_abort(&w);
    backup_writer_abort(&w);
    assert_int_equal(count_entries(dir), 0);

    /* a writer that died (the process killed) leaves its temporary file;
     * the next start removes it, and only it */
    backup_writer dead;
    assert_int_equal(backup_writer_begin(&dead, dir, 8, ".sql"), PIORA_OK);
    assert_int_equal(backup_writer_write(&dead, "half a dump", 11), PIORA_OK);
    close(dead.fd);
    char keep[256];
    snprintf(keep, sizeof keep, "%s/backup-1.sql", dir);
    FILE *f = fopen(keep, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(count_entries(dir), 2);
    int removed = -1;
    assert_int_equal(backupstore_open_dir(dir, &removed), PIORA_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(access(keep, F_OK), 0);
    unlink(keep);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit),
        cmocka_unit_test(test_abort_and_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
