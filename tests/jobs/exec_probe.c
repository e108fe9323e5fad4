/* A driver for jobs/exec.h that the black-box tests run against a real sshd
 * (tests/blackbox/jobs-exec.test.mjs), so exec is tested before the runner
 * exists and apart from it.
 *
 *   piora-exec-probe HOST PORT USER KEYFILE[,KEYFILE2] PIN|- TIMEOUT_S check|run
 *   piora-exec-probe genkey FILE     (a pair from auth/sshkey.c: private text
 *                                     to FILE, 0600; the public line on stdout)
 *
 * run: the script is this process's stdin up to a line "--piora-input--",
 * the rest streams as the script's input. stdout gets "O <len>\n<bytes>" and
 * "E <len>\n<bytes>" records in arrival order, then one result line:
 *   RESULT code=<code|ok> exit=<n> key=<i> fp=<fingerprint>
 * SIGUSR1 cancels. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/sshkey.h"
#include "jobs/exec.h"

static volatile sig_atomic_t cancel_flag;
static void on_usr1(int sig) { (void)sig; cancel_flag = 1; }
static bool is_cancelled(void *ctx) { (void)ctx; return cancel_flag != 0; }

static bool on_output(void *ctx, jobs_stream s, const char *data, size_t len) {
    (void)ctx;
    printf("%c %zu\n", s == JOBS_STDOUT ? 'O' : 'E', len);
    fwrite(data, 1, len, stdout);
    fflush(stdout);
    return true;
}

typedef struct input { const char *p; size_t left; } input;
static ssize_t on_input(void *ctx, char *buf, size_t cap) {
    input *in = ctx;
    size_t n = in->left < cap ? in->left : cap;
    memcpy(buf, in->p, n);
    in->p += n;
    in->left -= n;
    return (ssize_t)n;
}

static char *slurp(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    if (!b) return NULL;
    size_t r;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb) { free(b); return NULL; }
            b = nb;
            cap *= 2;
        }
    }
    b[n] = '\0';
    *len = n;
    return b;
}

/* Piora's own key format, so the test proves libssh and sshd take it. */
static int genkey(const char *path) {
    sshkey_pair k;
    if (!sshkey_generate("piora-probe", &k)) return 1;
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fputs(k.private_text, f);
    fclose(f);
    printf("%s\n%s\n", k.public_line, k.fingerprint);
    sshkey_wipe(&k);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "genkey") == 0) {
        umask(077);
        return genkey(argv[2]);
    }
    if (argc != 8) {
        fprintf(stderr, "usage: piora-exec-probe HOST PORT USER KEYS PIN|- TIMEOUT_S check|run\n");
        return 2;
    }
    signal(SIGUSR1, on_usr1);
    jobs_target t = {.host = argv[1], .port = (unsigned)atoi(argv[2]), .user = argv[3]};
    char *keyfiles = argv[4];
    char *save = NULL;
    for (char *k = strtok_r(keyfiles, ",", &save); k && t.nkeys < JOBS_EXEC_MAX_KEYS; k = strtok_r(NULL, ",", &save)) {
        FILE *f = fopen(k, "r");
        if (!f) { fprintf(stderr, "%s: %s\n", k, strerror(errno)); return 2; }
        size_t n;
        t.keys[t.nkeys++] = slurp(f, &n);
        fclose(f);
    }
    if (strcmp(argv[5], "-") != 0) t.host_key_fingerprint = argv[5];
    jobs_exec_out out;
    jobs_exec_result r;
    if (strcmp(argv[7], "check") == 0) {
        r = jobs_exec_run(&t, NULL, &out);
    } else {
        size_t len;
        char *all = slurp(stdin, &len);
        if (!all) return 2;
        const char *mark = "--piora-input--\n";
        char *m = strstr(all, mark);
        input in = {0};
        size_t script_len = len;
        if (m) {
            script_len = (size_t)(m - all);
            in.p = m + strlen(mark);
            in.left = len - (size_t)(in.p - all);
        }
        jobs_exec_req req = {
            .script = all, .script_len = script_len,
            .input = m ? on_input : NULL, .input_ctx = &in,
            .output = on_output, .cancelled = is_cancelled,
            .timeout_s = atoi(argv[6]),
        };
        r = jobs_exec_run(&t, &req, &out);
        free(all);
    }
    const char *code = jobs_exec_code(r);
    printf("RESULT code=%s exit=%d key=%d fp=%s\n", code ? code : "ok", out.exit_code, out.key_index,
           out.fingerprint[0] ? out.fingerprint : "-");
    fprintf(stderr, "detail: %s\n", out.detail);
    for (size_t i = 0; i < t.nkeys; i++) free((char *)t.keys[i]);
    return r == JOBS_EXEC_OK ? 0 : 1;
}
