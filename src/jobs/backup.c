#include "jobs/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"

#define CMD_MAX 4096

typedef struct dump_ctx {
    backup_writer w;
    bool write_failed;
    const backup_job_io *io;
} dump_ctx;

/* stdout is the dump, byte for byte; stderr is the tool's messages */
static bool dump_output(void *arg, jobs_stream s, const char *data, size_t len)
{
    dump_ctx *d = arg;
    if (s == JOBS_STDERR)
        return d->io && d->io->log ? d->io->log(d->io->log_ctx, s, data, len) : true;
    if (backup_writer_write(&d->w, data, len) != PIORA_OK) {
        d->write_failed = true;
        return false; /* stops the run: a dump we cannot store is no backup */
    }
    return true;
}

static void outcome_init(backup_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->exit_code = -1;
}

/* The command on its own line, exec'ed: the tool is the script's process, so
 * its exit status is the script's and (for a restore) it reads exactly the
 * bytes after this line from stdin. */
static bool script_of(buf_t *b, piora_err e)
{
    return e == PIORA_OK && buf_putc(b, '\n') && !b->failed;
}

void backup_job_dump(const jobs_target *t, const db_conn *c, const char *dir, int64_t id,
                     const backup_job_io *io, backup_outcome *out)
{
    outcome_init(out);
    buf_t cmd;
    buf_init(&cmd, CMD_MAX);
    if (!script_of(&cmd, dumpcmd_backup(c, &cmd))) {
        buf_free(&cmd);
        out->error = "dump_failed";
        return;
    }
    dump_ctx d = {.io = io};
    if (backup_writer_begin(&d.w, dir, id, BACKUP_FILE_SUFFIX) != PIORA_OK) {
        buf_free(&cmd);
        out->error = "dump_failed";
        snprintf(out->exec.detail, sizeof out->exec.detail, "cannot write into the backup store");
        return;
    }
    jobs_exec_req req = {
        .script = cmd.data,
        .script_len = cmd.len,
        .output = dump_output,
        .output_ctx = &d,
        .cancelled = io ? io->cancelled : NULL,
        .cancel_ctx = io ? io->cancel_ctx : NULL,
        .timeout_s = io ? io->timeout_s : 0,
    };
    jobs_exec_result r = jobs_exec_run(t, &req, &out->exec);
    buf_free(&cmd);
    out->exit_code = out->exec.exit_code;
    if (r != JOBS_EXEC_OK || out->exit_code != 0 || d.write_failed) {
        backup_writer_abort(&d.w);
        /* a store that could not write stopped the run: still no dump */
        out->error = (r == JOBS_EXEC_OK || d.write_failed) ? "dump_failed" : jobs_exec_code(r);
        return;
    }
    if (backup_writer_commit(&d.w, out->sha256, &out->size) != PIORA_OK) {
        out->error = "dump_failed";
        snprintf(out->exec.detail, sizeof out->exec.detail, "cannot sync the dump into the store");
        return;
    }
}

typedef struct file_input {
    int fd;
    bool failed;
} file_input;

static ssize_t file_read(void *arg, char *buf, size_t cap)
{
    file_input *in = arg;
    for (;;) {
        ssize_t n = read(in->fd, buf, cap);
        if (n >= 0)
            return n;
        if (errno != EINTR) {
            in->failed = true;
            return -1;
        }
    }
}

static bool restore_output(void *arg, jobs_stream s, const char *data, size_t len)
{
    const backup_job_io *io = arg;
    return io && io->log ? io->log(io->log_ctx, s, data, len) : true;
}

void restore_job_run(const jobs_target *t, const db_conn *c, const char *source_name,
                     const char *dir, int64_t id, const char *expected_sha256,
                     const backup_job_io *io, backup_outcome *out)
{
    outcome_init(out);
    char path[BACKUPSTORE_PATH_MAX];
    if (backupstore_path(dir, id, BACKUP_FILE_SUFFIX, path) != PIORA_OK) {
        out->error = "restore_failed";
        return;
    }
    /* every byte checked before a byte is sent: a changed file restores
     * nothing, and the target is untouched */
    if (backupstore_sha256_file(path, out->sha256, &out->size) != PIORA_OK || !expected_sha256 ||
        strcmp(out->sha256, expected_sha256) != 0) {
        out->error = "checksum_mismatch";
        return;
    }
    buf_t cmd;
    buf_init(&cmd, CMD_MAX);
    if (!script_of(&cmd, dumpcmd_restore(c, source_name, &cmd))) {
        buf_free(&cmd);
        out->error = "restore_failed";
        return;
    }
    /* read again as it is sent: the store is Piora's own 0700 directory of
     * 0600 files, so only its owner could change it between check and send */
    file_input in = {.fd = open(path, O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0) {
        buf_free(&cmd);
        out->error = "restore_failed";
        return;
    }
    jobs_exec_req req = {
        .script = cmd.data,
        .script_len = cmd.len,
        .input = file_read,
        .input_ctx = &in,
        .output = restore_output,
        .output_ctx = (void *)io,
        .cancelled = io ? io->cancelled : NULL,
        .cancel_ctx = io ? io->cancel_ctx : NULL,
        .timeout_s = io ? io->timeout_s : 0,
    };
    jobs_exec_result r = jobs_exec_run(t, &req, &out->exec);
    close(in.fd);
    buf_free(&cmd);
    out->exit_code = out->exec.exit_code;
    if (r == JOBS_EXEC_OK && out->exit_code == 0)
        return;
    out->error = (r == JOBS_EXEC_OK || r == JOBS_EXEC_INPUT_FAILED) ? "restore_failed"
                                                                     : jobs_exec_code(r);
}
