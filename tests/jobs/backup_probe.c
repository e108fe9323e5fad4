/* A driver for jobs/backup.h that the black-box tests run against a real sshd
 * and real engines (tests/blackbox/backups-ssh.test.mjs), so a backup and a
 * restore over SSH are tested before the runner (issue 9) calls them.
 *
 *   piora-backup-probe HOST PORT USER KEYFILE PIN|- STORE_DIR ID ENGINE DBNAME
 *                      DBHOST|- DBPORT|0 DBUSER|- dump
 *   ... restore SHA256 SOURCE_NAME
 *
 * Prints one line: RESULT error=<code|ok> sha=<hex|-> size=<n> exit=<n>;
 * the job's log (the tool's stderr) goes to stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jobs/backup.h"

static bool to_stderr(void *ctx, jobs_stream s, const char *data, size_t len)
{
    (void)ctx, (void)s;
    fwrite(data, 1, len, stderr);
    return true;
}

static char *slurp(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return NULL;
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 14 || (strcmp(argv[13], "restore") == 0 && argc != 16)) {
        fprintf(stderr, "usage: see tests/jobs/backup_probe.c\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 2;
    jobs_target t = {.host = argv[1], .port = (unsigned)atoi(argv[2]), .user = argv[3]};
    t.keys[0] = slurp(argv[4]);
    if (!t.keys[0]) {
        fprintf(stderr, "%s: %s\n", argv[4], strerror(errno));
        return 2;
    }
    t.nkeys = 1;
    if (strcmp(argv[5], "-") != 0)
        t.host_key_fingerprint = argv[5];
    const char *dir = argv[6];
    int64_t id = atoll(argv[7]);
    db_conn c = {.engine = argv[8], .name = argv[9], .ssh_user = argv[3]};
    if (strcmp(argv[10], "-") != 0)
        c.host = argv[10];
    c.port = atoll(argv[11]);
    if (strcmp(argv[12], "-") != 0)
        c.username = argv[12];
    backup_job_io io = {.log = to_stderr, .timeout_s = 120};
    backup_outcome out;
    if (strcmp(argv[13], "dump") == 0)
        backup_job_dump(&t, &c, dir, id, &io, &out);
    else
        restore_job_run(&t, &c, argv[15], dir, id, argv[14], &io, &out);
    printf("RESULT error=%s sha=%s size=%llu exit=%d\n", out.error ? out.error : "ok",
           out.sha256[0] ? out.sha256 : "-", (unsigned long long)out.size, out.exit_code);
    fprintf(stderr, "detail: %s\n", out.exec.detail);
    return out.error ? 1 : 0;
}
