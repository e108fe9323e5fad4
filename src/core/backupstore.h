/* The backup store: a directory of finished dumps (SPEC 10, --backup-dir).
 * A dump is written under a temporary name while its SHA-256 and size are
 * computed, synced, and renamed to its final name only once it is complete,
 * so a name without the temporary prefix is always a whole dump; a failed or
 * interrupted one is removed (or, after a crash, by the next start).
 * It is core/ rather than jobs/ because both sides use it: the runner writes
 * and checks dumps, the download handler (api/) reads them. */
#ifndef PIORA_CORE_BACKUPSTORE_H
#define PIORA_CORE_BACKUPSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "util/err.h"

#define BACKUPSTORE_PATH_MAX 4352 /* a 4096-byte directory plus a file name */
#define BACKUPSTORE_TMP_PREFIX ".partial-"
#define SHA256_HEX_LEN 65        /* 64 hex digits + NUL */
/* Every stored dump is "backup-<id>.dump" whatever its engine: the name
 * needs nothing but the id (the download adds the engine's own suffix to
 * the name it offers). */
#define BACKUP_FILE_SUFFIX ".dump"

/* The process's backup store, set once at start before any thread reads it:
 * backup_dir, or when empty "backups" beside the SQLite file `database`.
 * Creates it and removes stale temporary files (backupstore_open_dir). */
piora_err backupstore_configure(const char *database, const char *backup_dir, int *removed);
/* The configured directory ("" before backupstore_configure). */
const char *backupstore_dir(void);

/* Creates dir (mode 0700) if missing and removes every temporary file a
 * crashed writer left in it; *removed (may be NULL) counts them. */
piora_err backupstore_open_dir(const char *dir, int *removed);

/* The final path of backup `id` with an engine's suffix. */
piora_err backupstore_path(const char *dir, int64_t id, const char *suffix,
                           char out[BACKUPSTORE_PATH_MAX]);

typedef struct backup_writer {
    int fd;
    char tmp[BACKUPSTORE_PATH_MAX];
    char final[BACKUPSTORE_PATH_MAX];
    char dir[BACKUPSTORE_PATH_MAX];
    crypto_hash_sha256_state sha;
    uint64_t size;
} backup_writer;

/* Starts writing backup id (O_EXCL, mode 0600, under the temporary prefix). */
piora_err backup_writer_begin(backup_writer *w, const char *dir, int64_t id, const char *suffix);
/* Appends bytes; PIORA_EDB on a write error (a full disk). */
piora_err backup_writer_write(backup_writer *w, const void *p, size_t n);
/* fsync, rename into place, fsync the directory; hex gets the SHA-256.
 * On failure the temporary file is gone and there is no final file. */
piora_err backup_writer_commit(backup_writer *w, char hex[SHA256_HEX_LEN], uint64_t *size);
/* Drops the temporary file (safe after a failed commit, and twice). */
void backup_writer_abort(backup_writer *w);

/* Reads a stored dump whole and computes its SHA-256 and size, in a fixed
 * buffer: PIORA_ENOTFOUND when it is missing. */
piora_err backupstore_sha256_file(const char *path, char hex[SHA256_HEX_LEN], uint64_t *size);

/* Removes a stored dump; a missing file is not an error. */
piora_err backupstore_remove(const char *path);

#endif
