/* How a deployment runs (SPEC 10, docs/jobs.md): two SSH runs on the
 * application's server. The first checks the repository out at the ref into
 * ~/piora/apps/<application id> and prints only the commit on stdout (git's
 * own output goes to stderr, into the log), so the runner tells
 * checkout_failed from script_failed without parsing what a script prints.
 * The second runs deploy_script there with the PIORA_* variables.
 *
 * Backups and restores (issue 11, docs/backups.md) are claimed the same way
 * (store section "backup jobs") and run by jobs/backup.c; a worker asks
 * for the two kinds in turn, so neither starves the other.
 *
 * Leases: each worker claims in one write transaction; the lease thread
 * renews every lease this process holds once a second and ends expired
 * leases of any node (a dead one) as lost. The owner id is random per
 * process, so after a crash and restart the old leases are nobody's. */
#include "jobs/runner.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/audit.h"
#include "core/backupstore.h"
#include "core/deploys.h"
#include "core/servercheck.h"
#include "core/sshkeys.h"
#include "jobs/backup.h"
#include "jobs/exec.h"
#include "store/store.h"
#include "util/bgwriter.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/shell.h"

#define RUNNER_MAX_WORKERS 64
#define IDLE_POLL_MS 500
#define LOG_FLUSH_BYTES (64 * 1024)
#define LOG_FLUSH_MS 250
#define CANCEL_CHECK_MS 1000
#define COMMIT_MAX 64

static runner_conf conf;
static char db_url[4096];
static char owner[JOB_OWNER_MAX + 1];
static pthread_t workers[RUNNER_MAX_WORKERS];
static unsigned nworkers;
static atomic_bool stopping;
static pthread_mutex_t idle_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
static bgwriter lease_writer = BGWRITER_INIT;

typedef enum job_kind { KIND_DEPLOYMENT, KIND_BACKUP, KIND_RESTORE } job_kind;

/* One running job's state, shared by the exec callbacks. */
typedef struct job_ctx {
    store_t *st;
    int64_t id;
    job_kind kind;
    buf_t pending;           /* log bytes not yet appended */
    int64_t flushed_ms;
    int64_t cancel_checked_ms;
    bool cancel;
    bool capture;            /* stdout is the checkout's commit, not log */
    char commit[COMMIT_MAX + 2];
    size_t commit_len;
} job_ctx;

static void log_flush(job_ctx *j)
{
    if (j->pending.len) {
        piora_err e = j->kind == KIND_DEPLOYMENT
                          ? store_job_log_append(j->st, j->id, j->pending.data, j->pending.len,
                                                 DEPLOY_LOG_CAP, DEPLOY_LOG_MARKER)
                          : store_bjob_log_append(j->st,
                                                  j->kind == KIND_BACKUP ? BJOB_BACKUP
                                                                         : BJOB_RESTORE,
                                                  j->id, j->pending.data, j->pending.len,
                                                  DEPLOY_LOG_CAP, DEPLOY_LOG_MARKER);
        if (e != PIORA_OK)
            log_warn("runner: %s %lld: log append failed: %s",
                     j->kind == KIND_DEPLOYMENT ? "deployment"
                     : j->kind == KIND_BACKUP   ? "backup"
                                                : "restore",
                     (long long)j->id, piora_strerror(e));
    }
    buf_reset(&j->pending);
    j->flushed_ms = clock_now_ms();
}

static void log_text(job_ctx *j, const char *data, size_t len)
{
    if (j->pending.len + len > LOG_FLUSH_BYTES)
        log_flush(j);
    if (len > LOG_FLUSH_BYTES) {
        buf_append(&j->pending, data, len); /* pending is empty: one chunk */
        log_flush(j);
        return;
    }
    buf_append(&j->pending, data, len);
    j->pending.failed = false;
}

static bool on_output(void *ctx, jobs_stream s, const char *data, size_t len)
{
    job_ctx *j = ctx;
    if (j->capture && s == JOBS_STDOUT) {
        size_t room = sizeof j->commit - 1 - j->commit_len;
        size_t take = len < room ? len : room;
        memcpy(j->commit + j->commit_len, data, take);
        j->commit_len += take;
        j->commit[j->commit_len] = '\0';
        return true;
    }
    log_text(j, data, len);
    if (clock_now_ms() - j->flushed_ms >= LOG_FLUSH_MS)
        log_flush(j);
    return true;
}

static bool on_poll(void *ctx)
{
    job_ctx *j = ctx;
    int64_t now = clock_now_ms();
    if (j->pending.len && now - j->flushed_ms >= LOG_FLUSH_MS)
        log_flush(j);
    if (!j->cancel && now - j->cancel_checked_ms >= CANCEL_CHECK_MS) {
        j->cancel_checked_ms = now;
        bool asked = false;
        piora_err e = j->kind == KIND_DEPLOYMENT
                          ? store_deploy_cancel_asked(j->st, j->id, &asked)
                          : store_bjob_cancel_asked(
                                j->st, j->kind == KIND_BACKUP ? BJOB_BACKUP : BJOB_RESTORE,
                                j->id, &asked);
        if (e == PIORA_OK && asked)
            j->cancel = true;
    }
    return j->cancel || atomic_load(&stopping);
}

static void put_app_dir(buf_t *b, int64_t app_id)
{
    buf_printf(b, "\"$HOME/piora/apps/%lld\"", (long long)app_id);
}

static bool checkout_script(const deploy_claim *c, buf_t *b)
{
    buf_puts(b, "exec 3>&1 1>&2\nrepo=");
    /* owner/repo is GitHub shorthand (docs/api.md); every other form is
     * what git on the server takes as it is. */
    if (c->repository[0] != '/' && !strchr(c->repository, ':')) {
        char url[600];
        snprintf(url, sizeof url, "https://github.com/%s.git", c->repository);
        buf_put_shquoted(b, url);
    } else {
        buf_put_shquoted(b, c->repository);
    }
    buf_puts(b, "\nref=");
    buf_put_shquoted(b, c->ref);
    buf_puts(b, "\ndir=");
    put_app_dir(b, c->application_id);
    buf_puts(b,
             "\nmkdir -p \"$HOME/piora/apps\" || exit 1\n"
             "if [ -d \"$dir/.git\" ]; then\n"
             "  git -C \"$dir\" remote set-url origin \"$repo\" || exit 1\n"
             "  git -C \"$dir\" fetch -q --force --tags --prune origin "
             "'+refs/heads/*:refs/remotes/origin/*' || exit 1\n"
             "else\n"
             "  rm -rf \"$dir\" && git clone -q --no-checkout -- \"$repo\" \"$dir\" || exit 1\n"
             "fi\n"
             "c=$(git -C \"$dir\" rev-parse -q --verify \"refs/remotes/origin/$ref^{commit}\" ||\n"
             "    git -C \"$dir\" rev-parse -q --verify \"refs/tags/$ref^{commit}\" ||\n"
             "    git -C \"$dir\" rev-parse -q --verify \"$ref^{commit}\") || {\n"
             "  echo \"piora: no branch, tag or commit $ref in $repo\"; exit 1; }\n"
             "git -C \"$dir\" -c advice.detachedHead=false checkout -q --force --detach \"$c\" "
             "|| exit 1\n"
             "git -C \"$dir\" reset -q --hard \"$c\" || exit 1\n"
             "echo \"$c\" >&3\n");
    return !b->failed;
}

static bool deploy_script(const deploy_claim *c, const char *commit, buf_t *b)
{
    buf_printf(b, "export PIORA_APPLICATION_ID=%lld PIORA_DEPLOYMENT_ID=%lld PIORA_REF=",
               (long long)c->application_id, (long long)c->id);
    buf_put_shquoted(b, c->ref);
    buf_printf(b, " PIORA_COMMIT=%s\ncd ", commit);
    put_app_dir(b, c->application_id);
    buf_puts(b, " || exit 1\n");
    if (c->script) {
        buf_puts(b, c->script);
        size_t n = strlen(c->script);
        if (n == 0 || c->script[n - 1] != '\n')
            buf_putc(b, '\n');
    }
    return !b->failed;
}

static bool commit_ok(const char *s)
{
    size_t n = strlen(s);
    if (n != 40 && n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

typedef struct outcome {
    const char *status; /* succeeded, failed, cancelled */
    const char *error;
    int exit_code;
} outcome;

/* A connection-level failure of either run. */
static outcome exec_failure(jobs_exec_result r, const job_ctx *j)
{
    if (r == JOBS_EXEC_CANCELLED)
        return (outcome){j->cancel ? "cancelled" : "failed", j->cancel ? "cancelled" : "lost", -1};
    if (r == JOBS_EXEC_TIMEOUT)
        return (outcome){"failed", "timeout", -1};
    if (r == JOBS_EXEC_AUTH_FAILED || r == JOBS_EXEC_HOST_KEY_MISMATCH)
        return (outcome){"failed", jobs_exec_code(r), -1};
    return (outcome){"failed", "unreachable", -1};
}

static void note_line(job_ctx *j, const char *fmt, const char *arg)
{
    char line[512];
    int n = snprintf(line, sizeof line, fmt, arg);
    if (n > 0)
        log_text(j, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static outcome run_deploy(store_t *st, const deploy_claim *c, job_ctx *j, char commit[COMMIT_MAX + 1])
{
    commit[0] = '\0';
    int64_t started = clock_now();
    char keys[2][SSHKEY_PRIVATE_MAX];
    size_t nkeys = 0;
    if (sshkeys_private(st, c->team_id, keys, &nkeys) != PIORA_OK || nkeys == 0) {
        note_line(j, "piora: the team has no SSH key yet (GET /api/v1/ssh-key makes it)%s\n", "");
        return (outcome){"failed", "auth_failed", -1};
    }
    jobs_target t = {.host = c->host, .port = c->port, .user = c->user,
                     .host_key_fingerprint = c->host_key[0] ? c->host_key : NULL};
    for (size_t i = 0; i < nkeys; i++)
        t.keys[t.nkeys++] = keys[i];

    outcome o = {"failed", "unreachable", -1};
    buf_t script;
    buf_init(&script, 1u << 20);
    jobs_exec_out out;
    if (!checkout_script(c, &script)) {
        o.error = "checkout_failed";
        goto done;
    }
    jobs_exec_req req = {.script = script.data, .script_len = script.len,
                         .output = on_output, .output_ctx = j,
                         .cancelled = on_poll, .cancel_ctx = j,
                         .timeout_s = conf.timeout_s};
    j->capture = true;
    jobs_exec_result r = jobs_exec_run(&t, &req, &out);
    j->capture = false;
    if (!t.host_key_fingerprint && out.key_index >= 0 && out.fingerprint[0])
        servercheck_trust_first_use(st, c->team_id, c->server_id, out.fingerprint);
    if (r != JOBS_EXEC_OK) {
        note_line(j, "piora: %s\n", out.detail);
        o = exec_failure(r, j);
        goto done;
    }
    while (j->commit_len && (j->commit[j->commit_len - 1] == '\n' || j->commit[j->commit_len - 1] == '\r'))
        j->commit[--j->commit_len] = '\0';
    if (out.exit_code != 0 || !commit_ok(j->commit)) {
        o = (outcome){"failed", "checkout_failed", -1};
        goto done;
    }
    snprintf(commit, COMMIT_MAX + 1, "%s", j->commit);
    note_line(j, "piora: checked out %s\n", commit);

    buf_reset(&script);
    if (!deploy_script(c, commit, &script)) {
        o.error = "script_failed";
        goto done;
    }
    int64_t left = (int64_t)conf.timeout_s - (clock_now() - started);
    req.script = script.data;
    req.script_len = script.len;
    req.timeout_s = left > 1 ? left : 1;
    r = jobs_exec_run(&t, &req, &out);
    if (r != JOBS_EXEC_OK) {
        note_line(j, "piora: %s\n", out.detail);
        o = exec_failure(r, j);
        goto done;
    }
    o = out.exit_code == 0 ? (outcome){"succeeded", NULL, 0}
                           : (outcome){"failed", "script_failed", out.exit_code};
done:
    buf_free(&script);
    sshkeys_wipe_private(keys);
    return o;
}

static void run_one(store_t *st, deploy_claim *c)
{
    job_ctx j = {.st = st, .id = c->id, .flushed_ms = clock_now_ms(),
                 .cancel_checked_ms = clock_now_ms()};
    buf_init(&j.pending, 2 * LOG_FLUSH_BYTES);
    log_info("runner: deployment %lld of application %lld started", (long long)c->id,
             (long long)c->application_id);
    char commit[COMMIT_MAX + 1];
    outcome o = run_deploy(st, c, &j, commit);
    if (o.error && strcmp(o.error, "script_failed") == 0) {
        char code[16];
        snprintf(code, sizeof code, "%d", o.exit_code);
        note_line(&j, "piora: the deploy script exited with %s\n", code);
    }
    log_flush(&j);
    buf_free(&j.pending);
    piora_err e = store_deploy_finish(st, c->id, owner, o.status, o.error,
                                      commit[0] ? commit : NULL, o.exit_code, clock_now());
    if (e != PIORA_OK)
        log_warn("runner: deployment %lld: outcome not recorded: %s", (long long)c->id,
                 piora_strerror(e));
    log_info("runner: deployment %lld %s%s%s", (long long)c->id, o.status, o.error ? ": " : "",
             o.error ? o.error : "");
}

static void note_audit(store_t *st, const bjob_claim *c, const char *error)
{
    bool backup = c->kind == BJOB_BACKUP;
    actor who = {.channel = CHANNEL_RUNNER, .team_id = c->team_id};
    audit_event ev = {.action = backup ? (error ? AUDIT_BACKUP_FAILED : AUDIT_BACKUP_COMPLETED)
                                       : (error ? AUDIT_RESTORE_FAILED : AUDIT_RESTORE_COMPLETED),
                      .team_id = c->team_id, .detail = error,
                      .object_kind = backup ? "backup" : "restore", .object_id = c->id};
    if (audit_record(st, &who, &ev) != PIORA_OK)
        log_warn("audit: the outcome of %s %lld not recorded", ev.object_kind, (long long)c->id);
}

/* A backup or a restore: one SSH run (jobs/backup.c), its stderr (and a
 * restore tool's stdout) in the log, its outcome recorded exactly. */
static void run_bjob(store_t *st, const bjob_claim *c)
{
    const bool backup = c->kind == BJOB_BACKUP;
    const char *what = backup ? "backup" : "restore";
    job_ctx j = {.st = st, .id = c->id, .kind = backup ? KIND_BACKUP : KIND_RESTORE,
                 .flushed_ms = clock_now_ms(), .cancel_checked_ms = clock_now_ms()};
    buf_init(&j.pending, 2 * LOG_FLUSH_BYTES);
    log_info("runner: %s %lld of database %lld started", what, (long long)c->id,
             (long long)c->database_id);
    backup_outcome out;
    memset(&out, 0, sizeof out);
    out.exec.key_index = -1;
    const char *error = NULL;
    char keys[2][SSHKEY_PRIVATE_MAX];
    size_t nkeys = 0;
    if (sshkeys_private(st, c->team_id, keys, &nkeys) != PIORA_OK || nkeys == 0) {
        note_line(&j, "piora: the team has no SSH key yet (GET /api/v1/ssh-key makes it)%s\n", "");
        error = "auth_failed";
    } else {
        jobs_target t = {.host = c->host, .port = c->port, .user = c->user,
                         .host_key_fingerprint = c->host_key[0] ? c->host_key : NULL};
        for (size_t i = 0; i < nkeys; i++)
            t.keys[t.nkeys++] = keys[i];
        db_conn conn = {.engine = c->engine, .name = c->name,
                        .host = c->db_host[0] ? c->db_host : NULL, .port = c->db_port,
                        .username = c->db_user[0] ? c->db_user : NULL, .ssh_user = c->user};
        backup_job_io io = {.log = on_output, .log_ctx = &j, .cancelled = on_poll,
                            .cancel_ctx = &j, .timeout_s = conf.timeout_s};
        if (backup)
            backup_job_dump(&t, &conn, backupstore_dir(), c->backup_id, &io, &out);
        else
            restore_job_run(&t, &conn, c->source_name, backupstore_dir(), c->backup_id,
                            c->sha256, &io, &out);
        sshkeys_wipe_private(keys);
        if (!t.host_key_fingerprint && out.exec.key_index >= 0 && out.exec.fingerprint[0])
            servercheck_trust_first_use(st, c->team_id, c->server_id, out.exec.fingerprint);
        error = out.error;
        /* stopped by a cancel asked for it, or by this node stopping */
        if (error && strcmp(error, jobs_exec_code(JOBS_EXEC_CANCELLED)) == 0)
            error = j.cancel ? "cancelled" : "lost";
        if (error && out.exec.detail[0])
            note_line(&j, "piora: %s\n", out.exec.detail);
        if (error && strcmp(error, "checksum_mismatch") == 0)
            note_line(&j, "piora: the stored file's SHA-256 is not the one recorded when the "
                          "dump was written; nothing was sent%s\n", "");
        else if (error && out.exit_code > 0) {
            char code[16];
            snprintf(code, sizeof code, "%d", out.exit_code);
            note_line(&j, backup ? "piora: the dump tool exited with %s\n"
                                 : "piora: the restore tool exited with %s\n", code);
        }
    }
    if (!error) {
        char size[24];
        snprintf(size, sizeof size, "%llu", (unsigned long long)out.size);
        note_line(&j, backup ? "piora: stored %s bytes\n"
                             : "piora: restored %s bytes, their SHA-256 checked first\n", size);
    }
    log_flush(&j);
    buf_free(&j.pending);
    piora_err e = store_bjob_finish(st, c->kind, c->id, owner, error, backup ? out.sha256 : NULL,
                                    (int64_t)out.size, clock_now());
    if (e != PIORA_OK) {
        log_warn("runner: %s %lld: outcome not recorded: %s", what, (long long)c->id,
                 piora_strerror(e));
        /* The row no longer says this node holds it (lost, or deleted): a
         * file no completed row points at is not a backup. */
        char path[BACKUPSTORE_PATH_MAX];
        if (backup && !error &&
            backupstore_path(backupstore_dir(), c->backup_id, BACKUP_FILE_SUFFIX, path) == PIORA_OK)
            (void)backupstore_remove(path);
        return;
    }
    note_audit(st, c, error);
    log_info("runner: %s %lld %s%s%s", what, (long long)c->id, error ? "failed" : "completed",
             error ? ": " : "", error ? error : "");
}

static void idle_wait(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += IDLE_POLL_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&idle_mu);
    if (!atomic_load(&stopping))
        pthread_cond_timedwait(&idle_cv, &idle_mu, &ts);
    pthread_mutex_unlock(&idle_mu);
}

static void *worker_main(void *arg)
{
    (void)arg;
    char msg[256];
    store_t *st = store_open(db_url, msg, sizeof msg);
    if (!st) {
        log_error("runner: cannot open the database: %s", msg);
        return NULL;
    }
    bool backups_first = false;
    while (!atomic_load(&stopping)) {
        bool ran = false;
        for (int round = 0; round < 2 && !ran; round++) {
            int64_t now = clock_now();
            piora_err e;
            if ((round == 0) == backups_first) {
                bjob_claim b;
                e = store_bjob_claim(st, owner, now, now + conf.lease_s, conf.per_server, &b);
                if (e == PIORA_OK) {
                    run_bjob(st, &b);
                    ran = true;
                }
            } else {
                deploy_claim c;
                e = store_deploy_claim(st, owner, now, now + conf.lease_s, conf.per_server, &c);
                if (e == PIORA_OK) {
                    run_one(st, &c);
                    free(c.script);
                    ran = true;
                }
            }
            if (e != PIORA_OK && e != PIORA_ENOTFOUND && e != PIORA_EBUSY)
                log_warn("runner: claim failed: %s", piora_strerror(e));
        }
        backups_first = !backups_first;
        if (!ran)
            idle_wait();
    }
    store_close(st);
    return NULL;
}

static void *lease_open(void *arg, char *msg, size_t msglen)
{
    (void)arg;
    return store_open(db_url, msg, msglen);
}

static void lease_close(void *arg, void *conn)
{
    (void)arg;
    store_close(conn);
}

static void lease_tick(void *arg, void *conn)
{
    (void)arg;
    int64_t now = clock_now();
    if (store_job_heartbeat(conn, owner, now + conf.lease_s) != PIORA_OK ||
        store_bjob_heartbeat(conn, owner, now + conf.lease_s) != PIORA_OK)
        log_warn("runner: lease renewal failed");
    int64_t lost = 0, blost = 0;
    if (store_job_expire(conn, now, &lost) == PIORA_OK && lost)
        log_warn("runner: %lld deployment(s) lost (their node stopped renewing its lease)",
                 (long long)lost);
    if (store_bjob_expire(conn, now, &blost) == PIORA_OK && blost)
        log_warn("runner: %lld backup or restore job(s) lost (their node stopped renewing its "
                 "lease)", (long long)blost);
}

piora_err runner_start(const runner_conf *c)
{
    conf = *c;
    if (conf.workers == 0 || conf.workers > RUNNER_MAX_WORKERS || conf.lease_s < 2 ||
        conf.per_server == 0)
        return PIORA_EINVALID;
    snprintf(db_url, sizeof db_url, "%s", c->database);
    conf.database = db_url;
    uint8_t raw[JOB_OWNER_MAX / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(owner, sizeof owner, raw, sizeof raw);
    atomic_store(&stopping, false);
    /* Renewed every second: a lease of 2 s or more never lapses while its
     * node lives, and a dead node's jobs are lost within lease + 1 s. */
    const bgwriter_conf lc = {.name = "job leases", .period_ms = 1000, .conn_open = lease_open,
                              .conn_close = lease_close, .tick = lease_tick};
    piora_err e = bgwriter_start(&lease_writer, &lc);
    if (e != PIORA_OK)
        return e;
    for (nworkers = 0; nworkers < conf.workers; nworkers++)
        if (pthread_create(&workers[nworkers], NULL, worker_main, NULL) != 0)
            break;
    if (nworkers == 0) {
        bgwriter_stop(&lease_writer);
        return PIORA_ENOMEM;
    }
    log_info("runner: %u worker(s), %u job(s) per server, lease %u s, timeout %u s", nworkers,
             conf.per_server, conf.lease_s, conf.timeout_s);
    return PIORA_OK;
}

void runner_stop(void)
{
    if (nworkers == 0)
        return;
    pthread_mutex_lock(&idle_mu);
    atomic_store(&stopping, true);
    pthread_cond_broadcast(&idle_cv);
    pthread_mutex_unlock(&idle_mu);
    for (unsigned i = 0; i < nworkers; i++)
        pthread_join(workers[i], NULL);
    nworkers = 0;
    bgwriter_stop(&lease_writer);
}
