/* The work of a backup job and of a restore job, on one server over SSH
 * (jobs/exec.h), for the runner to call once it has claimed the job: a dump
 * streamed into the backup store with its SHA-256 and size computed on the
 * way, and a stored dump checked against its recorded SHA-256 before it is
 * streamed into the engine's restore tool. Neither touches the job's row:
 * the runner records the outcome (status, error, size_bytes, sha256). */
#ifndef PIORA_JOBS_BACKUP_H
#define PIORA_JOBS_BACKUP_H

#include <stdint.h>

#include "core/backupstore.h"
#include "core/dumpcmd.h"
#include "jobs/exec.h"

typedef struct backup_job_io {
    jobs_output_fn log; /* the job's log gets stderr (and a restore's stdout); may be NULL */
    void *log_ctx;
    jobs_cancel_fn cancelled;
    void *cancel_ctx;
    int64_t timeout_s;
} backup_job_io;

typedef struct backup_outcome {
    /* NULL on success, else SPEC 10's code: "dump_failed", "restore_failed",
     * "checksum_mismatch", or jobs_exec_code()'s ("unreachable", ...) */
    const char *error;
    char sha256[SHA256_HEX_LEN]; /* a dump's; a restore's: the file's as checked */
    uint64_t size;
    int exit_code;
    jobs_exec_out exec;
} backup_outcome;

/* Runs the dump of c on t and stores it as backup `id` in dir. On success
 * the file is in place (renamed after fsync); on any failure no file is. */
void backup_job_dump(const jobs_target *t, const db_conn *c, const char *dir, int64_t id,
                     const backup_job_io *io, backup_outcome *out);

/* Restores backup `id` (from dir, taken of source_name) into target c on t.
 * The file's SHA-256 must equal expected_sha256 before anything connects:
 * a mismatch is "checksum_mismatch" and nothing is sent. */
void restore_job_run(const jobs_target *t, const db_conn *c, const char *source_name,
                     const char *dir, int64_t id, const char *expected_sha256,
                     const backup_job_io *io, backup_outcome *out);

#endif
