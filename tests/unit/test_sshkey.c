/* auth/sshkey.c: the pair is one OpenSSH itself reads (ssh-keygen derives the
 * same public key and fingerprint from the private text), and sealing opens
 * only with the same master key and untouched bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/sshkey.h"

static void run_capture(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
}

static void test_openssh_reads_the_pair(void **state) {
    (void)state;
    sshkey_pair k;
    assert_true(sshkey_generate("piora-acme", &k));
    assert_true(strncmp(k.public_line, "ssh-ed25519 AAAA", 16) == 0);
    assert_non_null(strstr(k.public_line, " piora-acme"));
    assert_true(strncmp(k.fingerprint, "SHA256:", 7) == 0);
    assert_int_equal(strlen(k.fingerprint), 7 + 43);

    char path[] = "/tmp/piora-sshkey-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, k.private_text, strlen(k.private_text)), (ssize_t)strlen(k.private_text));
    close(fd);
    chmod(path, 0600);

    char cmd[256], got[512];
    snprintf(cmd, sizeof cmd, "ssh-keygen -y -f %s", path);
    run_capture(cmd, got, sizeof got);
    /* -y prints "type base64 comment" */
    assert_true(strncmp(got, k.public_line, strlen(k.public_line)) == 0);
    snprintf(cmd, sizeof cmd, "ssh-keygen -l -E sha256 -f %s", path);
    run_capture(cmd, got, sizeof got);
    assert_non_null(strstr(got, k.fingerprint));
    unlink(path);

    sshkey_pair k2;
    assert_true(sshkey_generate("piora-acme", &k2));
    assert_string_not_equal(k.fingerprint, k2.fingerprint);
    sshkey_wipe(&k);
    sshkey_wipe(&k2);
    assert_int_equal(k.private_text[0], 0);
}

static void test_seal_open(void **state) {
    (void)state;
    uint8_t master[SSHKEY_MASTER_LEN], other[SSHKEY_MASTER_LEN];
    memset(master, 7, sizeof master);
    memset(other, 8, sizeof other);
    sshkey_pair k;
    assert_true(sshkey_generate("piora-t", &k));
    uint8_t sealed[SSHKEY_SEALED_MAX];
    size_t n = 0;
    assert_true(sshkey_seal(master, k.private_text, sealed, sizeof sealed, &n));
    assert_null(memmem(sealed, n, "OPENSSH", 7));
    char back[SSHKEY_PRIVATE_MAX];
    assert_true(sshkey_open(master, sealed, n, back, sizeof back));
    assert_string_equal(back, k.private_text);
    assert_false(sshkey_open(other, sealed, n, back, sizeof back));
    sealed[n - 1] ^= 1;
    assert_false(sshkey_open(master, sealed, n, back, sizeof back));
    assert_false(sshkey_open(master, sealed, 10, back, sizeof back));
    assert_false(sshkey_seal(master, k.private_text, sealed, 20, &n));
    assert_false(sshkey_generate(NULL, &k));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openssh_reads_the_pair),
        cmocka_unit_test(test_seal_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
