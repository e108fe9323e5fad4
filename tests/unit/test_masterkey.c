/* core/masterkey.c: the key file is made once (0600, 32 random bytes) and
 * refused when others may read it or it has another size; its default path
 * sits beside a SQLite file and must be named for a database URL; sealed
 * text (the TOTP keys) opens only with the same key and unchanged bytes, and
 * a value stored before sealing reads as it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/masterkey.h"

static char dir[] = "/tmp/piora-masterkey-XXXXXX";

static void path_in_dir(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < cap);
}

static void write_bytes(const char *path, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    uint8_t b[64];
    memset(b, 0x5a, sizeof b);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_load_makes_the_file_once_and_refuses_bad_ones(void **state)
{
    (void)state;
    char path[256], err[256];
    uint8_t a[SSHKEY_MASTER_LEN], b[SSHKEY_MASTER_LEN];
    path_in_dir(path, sizeof path, "piora.key");

    assert_int_equal(masterkey_load(path, false, a, err, sizeof err), PIORA_ENOTFOUND);
    assert_non_null(strstr(err, path));
    assert_int_equal(masterkey_load(path, true, a, err, sizeof err), PIORA_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, SSHKEY_MASTER_LEN);
    /* the second start reads the same key, it does not make another */
    assert_int_equal(masterkey_load(path, true, b, err, sizeof err), PIORA_OK);
    assert_memory_equal(a, b, sizeof a);
    uint8_t zero[SSHKEY_MASTER_LEN] = {0};
    assert_memory_not_equal(a, zero, sizeof a);

    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(masterkey_load(path, true, b, err, sizeof err), PIORA_EINVALID);
    assert_non_null(strstr(err, "readable by others"));

    char short_path[256];
    path_in_dir(short_path, sizeof short_path, "short.key");
    write_bytes(short_path, SSHKEY_MASTER_LEN - 1, 0600);
    assert_int_equal(masterkey_load(short_path, true, b, err, sizeof err), PIORA_EINVALID);
    assert_non_null(strstr(err, "not 32 bytes"));
    write_bytes(short_path, SSHKEY_MASTER_LEN + 1, 0600);
    assert_int_equal(masterkey_load(short_path, true, b, err, sizeof err), PIORA_EINVALID);

    assert_int_equal(masterkey_load(dir, true, b, err, sizeof err), PIORA_EINVALID);
    assert_non_null(strstr(err, "not a regular file"));

    /* a symbolic link is not followed (someone else's file behind it) */
    char link_path[256];
    path_in_dir(link_path, sizeof link_path, "link.key");
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(symlink(path, link_path), 0);
    assert_int_not_equal(masterkey_load(link_path, true, b, err, sizeof err), PIORA_OK);
    assert_int_equal(masterkey_load("", true, b, err, sizeof err), PIORA_EINVALID);

    unlink(link_path);
    unlink(short_path);
    unlink(path);
}

static void test_default_path_is_beside_the_sqlite_file(void **state)
{
    (void)state;
    char out[128];
    assert_true(masterkey_path(NULL, "/var/lib/piora/piora.db", out, sizeof out));
    assert_string_equal(out, "/var/lib/piora/piora.key");
    assert_true(masterkey_path(NULL, "piora.db", out, sizeof out));
    assert_string_equal(out, "piora.key");
    assert_true(masterkey_path("/etc/piora/key", "postgres://db/piora", out, sizeof out));
    assert_string_equal(out, "/etc/piora/key");
    /* a cluster's nodes must share one file: it is never guessed */
    assert_false(masterkey_path(NULL, "postgres://db/piora", out, sizeof out));
    assert_false(masterkey_path(NULL, "/a/very/long/directory/piora.db", out, 10));
}

static void test_sealed_text_opens_only_unchanged_with_its_key(void **state)
{
    (void)state;
    const char *plain = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    char sealed[MASTERKEY_SEALED_TEXT_MAX], back[64];
    assert_false(masterkey_have());
    assert_false(masterkey_seal_text(plain, sealed, sizeof sealed)); /* no key yet */

    uint8_t key[SSHKEY_MASTER_LEN], other[SSHKEY_MASTER_LEN];
    memset(key, 3, sizeof key);
    memset(other, 4, sizeof other);
    masterkey_set(key);
    assert_true(masterkey_have());
    assert_true(masterkey_seal_text(plain, sealed, sizeof sealed));
    assert_true(strncmp(sealed, "sealed1:", 8) == 0);
    assert_null(strstr(sealed, "JBSWY3DP"));
    assert_true(masterkey_open_text(sealed, back, sizeof back));
    assert_string_equal(back, plain);

    /* two seals of one text differ (a fresh nonce each) */
    char again[MASTERKEY_SEALED_TEXT_MAX];
    assert_true(masterkey_seal_text(plain, again, sizeof again));
    assert_string_not_equal(again, sealed);

    /* one character of the stored value changed: refused, not garbage */
    char tampered[MASTERKEY_SEALED_TEXT_MAX];
    memcpy(tampered, sealed, sizeof tampered);
    size_t at = strlen(tampered) - 5;
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    assert_false(masterkey_open_text(tampered, back, sizeof back));
    tampered[8] = '\0'; /* the prefix and nothing after it */
    assert_false(masterkey_open_text(tampered, back, sizeof back));
    assert_false(masterkey_open_text("sealed1:!!not base64!!", back, sizeof back));

    /* the answer does not fit: refused rather than cut */
    assert_false(masterkey_open_text(sealed, back, 8));
    assert_false(masterkey_seal_text(plain, again, 20));

    /* a value written before sealing comes back as it is */
    assert_true(masterkey_open_text("JBSWY3DPEHPK3PXP", back, sizeof back));
    assert_string_equal(back, "JBSWY3DPEHPK3PXP");

    /* another master key (a wrong --secret-key-file) opens nothing */
    masterkey_set(other);
    assert_false(masterkey_open_text(sealed, back, sizeof back));
    masterkey_set(key);
    assert_true(masterkey_open_text(sealed, back, sizeof back));
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_makes_the_file_once_and_refuses_bad_ones),
        cmocka_unit_test(test_default_path_is_beside_the_sqlite_file),
        cmocka_unit_test(test_sealed_text_opens_only_unchanged_with_its_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
