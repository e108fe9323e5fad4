/* The master key: loaded once from its file at start, held here for the
 * services that seal what the database must not give away on its own (the
 * teams' SSH private keys, users' TOTP keys). A copy of the database
 * without this file opens none of them. */
#include "core/masterkey.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t master_key[SSHKEY_MASTER_LEN];
static atomic_bool master_set;

void masterkey_set(const uint8_t master[SSHKEY_MASTER_LEN])
{
    memcpy(master_key, master, SSHKEY_MASTER_LEN);
    atomic_store(&master_set, true);
}

bool masterkey_have(void) { return atomic_load(&master_set); }

bool masterkey_seal(const char *plain, uint8_t *sealed, size_t cap, size_t *sealed_len)
{
    return atomic_load(&master_set) && sshkey_seal(master_key, plain, sealed, cap, sealed_len);
}

bool masterkey_open(const uint8_t *sealed, size_t len, char *out, size_t cap)
{
    return atomic_load(&master_set) && sshkey_open(master_key, sealed, len, out, cap);
}

#define SEALED_PREFIX "sealed1:"

bool masterkey_seal_text(const char *plain, char *out, size_t cap)
{
    uint8_t box[MASTERKEY_SEALED_TEXT_MAX];
    size_t n = 0;
    size_t pre = sizeof SEALED_PREFIX - 1;
    if (cap <= pre || !masterkey_seal(plain, box, sizeof box, &n))
        return false;
    bool ok = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) <= cap - pre;
    if (ok) {
        memcpy(out, SEALED_PREFIX, pre);
        sodium_bin2base64(out + pre, cap - pre, box, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    }
    sodium_memzero(box, sizeof box);
    return ok;
}

bool masterkey_open_text(const char *stored, char *out, size_t cap)
{
    size_t pre = sizeof SEALED_PREFIX - 1;
    if (strncmp(stored, SEALED_PREFIX, pre) != 0) {
        size_t n = strlen(stored);
        if (n + 1 > cap)
            return false;
        memcpy(out, stored, n + 1);
        return true;
    }
    uint8_t box[MASTERKEY_SEALED_TEXT_MAX];
    size_t n = 0;
    bool ok = sodium_base642bin(box, sizeof box, stored + pre, strlen(stored + pre), NULL, &n,
                                NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
              masterkey_open(box, n, out, cap);
    sodium_memzero(box, sizeof box);
    return ok;
}

static piora_err fail(char *err, size_t errlen, piora_err e, const char *fmt, const char *path,
                      const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, path, why);
    return e;
}

piora_err masterkey_load(const char *path, bool may_create, uint8_t out[SSHKEY_MASTER_LEN],
                         char *err, size_t errlen)
{
    if (!path || !*path)
        return fail(err, errlen, PIORA_EINVALID, "%s%s", "", "no master key file named");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && may_create) {
        /* O_EXCL: two nodes (or two starts) racing must not both write one. */
        int wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (wfd >= 0) {
            uint8_t k[SSHKEY_MASTER_LEN];
            randombytes_buf(k, sizeof k);
            ssize_t w = write(wfd, k, sizeof k);
            sodium_memzero(k, sizeof k);
            bool ok = w == (ssize_t)sizeof k && fsync(wfd) == 0;
            close(wfd);
            if (!ok) {
                unlink(path);
                return fail(err, errlen, PIORA_EINTERNAL, "cannot write the master key file %s: %s",
                            path, strerror(errno));
            }
        } else if (errno != EEXIST) {
            return fail(err, errlen, PIORA_EINTERNAL, "cannot create the master key file %s: %s",
                        path, strerror(errno));
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0)
        return fail(err, errlen, PIORA_ENOTFOUND, "cannot open the master key file %s: %s", path,
                    strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, PIORA_EINVALID, "the master key file %s is %s", path,
                    "not a regular file");
    }
    if (st.st_mode & 077) {
        close(fd);
        return fail(err, errlen, PIORA_EINVALID, "the master key file %s is %s", path,
                    "readable by others (chmod 600 it)");
    }
    uint8_t buf[SSHKEY_MASTER_LEN + 1];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n != SSHKEY_MASTER_LEN) {
        sodium_memzero(buf, sizeof buf);
        return fail(err, errlen, PIORA_EINVALID, "the master key file %s is %s", path,
                    "not 32 bytes");
    }
    memcpy(out, buf, SSHKEY_MASTER_LEN);
    sodium_memzero(buf, sizeof buf);
    return PIORA_OK;
}

bool masterkey_path(const char *explicit_path, const char *database, char *out, size_t len)
{
    if (explicit_path && *explicit_path) {
        int n = snprintf(out, len, "%s", explicit_path);
        return n > 0 && (size_t)n < len;
    }
    if (!database || strstr(database, "://"))
        return false;
    const char *slash = strrchr(database, '/');
    int n = slash ? snprintf(out, len, "%.*s/piora.key", (int)(slash - database), database)
                  : snprintf(out, len, "piora.key");
    return n > 0 && (size_t)n < len;
}
