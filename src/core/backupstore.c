#include "core/backupstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static piora_err mkdir_p(const char *dir)
{
    char p[BACKUPSTORE_PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof p)
        return PIORA_EINVALID;
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return PIORA_EDB;
        p[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return PIORA_EDB;
    return PIORA_OK;
}

piora_err backupstore_open_dir(const char *dir, int *removed)
{
    if (removed)
        *removed = 0;
    piora_err e = mkdir_p(dir);
    if (e != PIORA_OK)
        return e;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return PIORA_EDB;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return PIORA_EDB;
    }
    /* a temporary file is a writer that never finished: its job is failed
     * (or lost) and its bytes are not a dump */
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strncmp(ent->d_name, BACKUPSTORE_TMP_PREFIX, sizeof BACKUPSTORE_TMP_PREFIX - 1) != 0)
            continue;
        if (unlinkat(dfd, ent->d_name, 0) == 0 && removed)
            (*removed)++;
    }
    closedir(d);
    return PIORA_OK;
}

static char store_dir[BACKUPSTORE_PATH_MAX - 64];

piora_err backupstore_configure(const char *database, const char *backup_dir, int *removed)
{
    int n;
    if (backup_dir && backup_dir[0]) {
        n = snprintf(store_dir, sizeof store_dir, "%s", backup_dir);
    } else {
        /* beside the SQLite file; a database URL has no "beside" */
        const char *slash = strstr(database, "://") ? NULL : strrchr(database, '/');
        if (slash)
            n = snprintf(store_dir, sizeof store_dir, "%.*s/backups", (int)(slash - database),
                         database);
        else
            n = snprintf(store_dir, sizeof store_dir, "backups");
        if (slash == database)
            n = snprintf(store_dir, sizeof store_dir, "/backups");
    }
    if (n < 0 || (size_t)n >= sizeof store_dir) {
        store_dir[0] = '\0';
        return PIORA_EINVALID;
    }
    while (n > 1 && store_dir[n - 1] == '/')
        store_dir[--n] = '\0';
    return backupstore_open_dir(store_dir, removed);
}

const char *backupstore_dir(void) { return store_dir; }

piora_err backupstore_path(const char *dir, int64_t id, const char *suffix,
                           char out[BACKUPSTORE_PATH_MAX])
{
    int n = snprintf(out, BACKUPSTORE_PATH_MAX, "%s/backup-%lld%s", dir, (long long)id,
                     suffix ? suffix : "");
    return (n < 0 || n >= BACKUPSTORE_PATH_MAX) ? PIORA_EINVALID : PIORA_OK;
}

piora_err backup_writer_begin(backup_writer *w, const char *dir, int64_t id, const char *suffix)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    if (snprintf(w->dir, sizeof w->dir, "%s", dir) >= (int)sizeof w->dir)
        return PIORA_EINVALID;
    piora_err e = backupstore_path(dir, id, suffix, w->final);
    if (e != PIORA_OK)
        return e;
    /* the random part keeps two nodes that somehow run the same backup from
     * writing into one temporary file */
    int n = snprintf(w->tmp, sizeof w->tmp, "%s/" BACKUPSTORE_TMP_PREFIX "%lld-%08x%s", dir,
                     (long long)id, (unsigned)randombytes_random(), suffix ? suffix : "");
    if (n < 0 || n >= (int)sizeof w->tmp)
        return PIORA_EINVALID;
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0)
        return PIORA_EDB;
    crypto_hash_sha256_init(&w->sha);
    return PIORA_OK;
}

piora_err backup_writer_write(backup_writer *w, const void *p, size_t n)
{
    if (w->fd < 0)
        return PIORA_EINTERNAL;
    crypto_hash_sha256_update(&w->sha, p, n);
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(w->fd, c, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return PIORA_EDB;
        }
        c += k;
        n -= (size_t)k;
        w->size += (uint64_t)k;
    }
    return PIORA_OK;
}

static void to_hex(const unsigned char *d, char hex[SHA256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < crypto_hash_sha256_BYTES; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

piora_err backup_writer_commit(backup_writer *w, char hex[SHA256_HEX_LEN], uint64_t *size)
{
    if (w->fd < 0)
        return PIORA_EINTERNAL;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&w->sha, digest);
    bool ok = fsync(w->fd) == 0;
    ok = close(w->fd) == 0 && ok;
    w->fd = -1;
    if (!ok || rename(w->tmp, w->final) != 0) {
        unlink(w->tmp);
        w->tmp[0] = '\0';
        return PIORA_EDB;
    }
    w->tmp[0] = '\0';
    /* the rename itself must survive a power cut before "completed" is set */
    int dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        if (dfd >= 0)
            close(dfd);
        unlink(w->final);
        return PIORA_EDB;
    }
    close(dfd);
    to_hex(digest, hex);
    *size = w->size;
    return PIORA_OK;
}

void backup_writer_abort(backup_writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    if (w->tmp[0]) {
        unlink(w->tmp);
        w->tmp[0] = '\0';
    }
}

piora_err backupstore_sha256_file(const char *path, char hex[SHA256_HEX_LEN], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? PIORA_ENOTFOUND : PIORA_EDB;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    static _Thread_local unsigned char chunk[CHUNK];
    uint64_t total = 0;
    for (;;) {
        ssize_t k = read(fd, chunk, sizeof chunk);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            return PIORA_EDB;
        }
        if (k == 0)
            break;
        crypto_hash_sha256_update(&st, chunk, (unsigned long long)k);
        total += (uint64_t)k;
    }
    close(fd);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, digest);
    to_hex(digest, hex);
    *size = total;
    return PIORA_OK;
}

piora_err backupstore_remove(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return PIORA_EDB;
    return PIORA_OK;
}
