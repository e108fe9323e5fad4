/* `piora deploy APP_ID [--ref R] [--wait]` (SPEC 7, 10): an API client for
 * CI. It never opens the database: it talks to the server at PIORA_URL with
 * the token in PIORA_API_TOKEN (an environment variable only, so that it is
 * not in the process list or the shell history, and never printed).
 *
 * Exit statuses, for a CI step to tell what went wrong:
 *   0  queued (without --wait) or succeeded (with --wait)
 *   1  the deployment ran and did not succeed (failed or cancelled); its
 *      error code is on stderr
 *   2  bad command line, or PIORA_URL / PIORA_API_TOKEN missing or malformed
 *   3  the API refused (401, 403, 404, 429, ...) or could not be reached, or
 *      answered something that is not Piora's
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/httpc.h"

#define EXIT_DEPLOY_FAILED 1
#define EXIT_API 3

/* An answer holding a deployment or a problem is a few KiB; 1 MiB is far. */
#define JSON_MAX ((size_t)1 << 20)
/* One log answer is at most the whole log (capped at 16 MiB by SPEC 10),
 * plus the marker line. */
#define LOG_CHUNK_MAX (((size_t)16 << 20) + 4096)
#define REF_MAX 255
/* Transport errors or 5xx in a row that --wait rides out (a server
 * restarting) before it gives up. */
#define WAIT_RETRIES 8
#define POLL_IDLE_MS 500

static const char usage[] =
    "Usage: piora deploy APP_ID [--ref REF] [--wait]\n"
    "\n"
    "Starts a deployment of application APP_ID through the API of the Piora\n"
    "server at $PIORA_URL (e.g. https://piora.example.com), authenticated with\n"
    "the token in $PIORA_API_TOKEN (scope applications:deploy). The token is\n"
    "read from the environment only and never printed.\n"
    "\n"
    "  --ref REF   branch, tag or commit to deploy (default: the application's\n"
    "              branch)\n"
    "  --wait      follow the deployment's log on standard output until it\n"
    "              ends; exit 0 only if it succeeded\n"
    "\n"
    "Without --wait, prints the new deployment's id on standard output. With\n"
    "--wait, standard output is the log and the id and outcome go to standard\n"
    "error.\n"
    "\n"
    "Exit status:\n"
    "  0  queued (without --wait), or succeeded (with --wait)\n"
    "  1  the deployment failed or was cancelled; its error code (e.g.\n"
    "     script_failed, checkout_failed, unreachable, cancelled) on stderr\n"
    "  2  bad command line, or PIORA_URL / PIORA_API_TOKEN not set\n"
    "  3  the API refused (401, 403, 404, 429, ...) or could not be reached\n";

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* "HTTP 404 not_found: application 9 not found" from a problem body, or
 * the bare status when the body is not one. */
static int api_error(const char *what, const httpc_resp *r)
{
    json_t *p = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(p, "code"));
    const char *detail = json_string_value(json_object_get(p, "detail"));
    cli_fail("%s: HTTP %ld%s%s%s%s", what, r->status, code ? " " : "", code ? code : "",
             detail ? ": " : "", detail ? detail : "");
    json_decref(p);
    return EXIT_API;
}

/* The log as it arrives: text as is, but control characters other than
 * newline and tab escaped as \xHH, so a deploy script's output cannot steer
 * the terminal of whoever reads the CI log. */
static bool write_log(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];
        if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f) {
            if (printf("\\x%02x", ch) < 0)
                return false;
        } else if (putchar(ch) == EOF) {
            return false;
        }
    }
    return fflush(stdout) == 0;
}

/* GET /deployments/{id} into *dep. EXIT_OK, EXIT_API, or -1 for a
 * transient failure worth retrying (transport, 5xx). */
static int get_deployment(httpc *c, int64_t id, json_t **dep, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof path, "/deployments/%lld", (long long)id);
    httpc_resp r;
    if (!httpc_request(c, "GET", path, NULL, JSON_MAX, NULL, NULL, &r, err, errlen))
        return -1;
    int rc = EXIT_OK;
    if (r.status >= 500) {
        snprintf(err, errlen, "HTTP %ld", r.status);
        rc = -1;
    } else if (r.status != 200) {
        rc = api_error("reading the deployment", &r);
    } else {
        *dep = json_loadb(r.body, r.len, 0, NULL);
        if (!json_is_object(*dep) || !json_is_string(json_object_get(*dep, "status"))) {
            json_decref(*dep);
            *dep = NULL;
            cli_fail("reading the deployment: the answer is not a deployment");
            rc = EXIT_API;
        }
    }
    httpc_resp_free(&r);
    return rc;
}

static bool final_status(const char *s)
{
    return strcmp(s, "succeeded") == 0 || strcmp(s, "failed") == 0 ||
           strcmp(s, "cancelled") == 0;
}

/* The outcome of a finished deployment: one line on stderr, and the exit
 * status. */
static int report(int64_t id, json_t *dep)
{
    const char *status = json_string_value(json_object_get(dep, "status"));
    if (strcmp(status, "succeeded") == 0) {
        const char *commit = json_string_value(json_object_get(dep, "commit"));
        fprintf(stderr, "deployment %lld succeeded", (long long)id);
        if (commit) {
            fputs(" at commit ", stderr);
            cli_put(stderr, commit);
        }
        fputc('\n', stderr);
        return EXIT_OK;
    }
    const char *error = json_string_value(json_object_get(dep, "error"));
    json_t *code = json_object_get(dep, "exit_code");
    if (!error)
        error = strcmp(status, "cancelled") == 0 ? "cancelled" : "unknown";
    if (json_is_integer(code))
        cli_fail("deployment %lld %s: %s (exit code %lld)", (long long)id, status, error,
                 (long long)json_integer_value(code));
    else
        cli_fail("deployment %lld %s: %s", (long long)id, status, error);
    return EXIT_DEPLOY_FAILED;
}

/* Follows the log from offset 0 until X-Log-Complete, then reads the
 * outcome. Transient failures (the server restarting) are retried with a
 * growing pause; a 4xx ends the wait. */
static int follow(httpc *c, int64_t id)
{
    uint64_t offset = 0;
    int fails = 0;
    char err[HTTPC_ERR_MAX];
    for (;;) {
        char path[96];
        snprintf(path, sizeof path, "/deployments/%lld/log?offset=%llu", (long long)id,
                 (unsigned long long)offset);
        httpc_resp r;
        bool ok = httpc_request(c, "GET", path, NULL, LOG_CHUNK_MAX, write_log, NULL, &r, err,
                                sizeof err);
        offset += r.sunk; /* what reached stdout, even from a cut answer */
        bool complete = false, check_status = false;
        if (ok && r.status == 200) {
            fails = 0;
            complete = r.has_log_complete && r.log_complete;
            /* a server without the header: ask the deployment itself */
            check_status = !r.has_log_complete && r.len == 0;
        } else if (ok && r.status == 429) {
            httpc_resp_free(&r);
            sleep_ms(1000L * (r.retry_after > 0 ? (r.retry_after < 60 ? r.retry_after : 60) : 1));
            continue;
        } else if (ok && r.status < 500) {
            int rc = api_error("following the log", &r);
            httpc_resp_free(&r);
            return rc;
        } else {
            if (ok)
                snprintf(err, sizeof err, "HTTP %ld", r.status);
            httpc_resp_free(&r);
            if (++fails > WAIT_RETRIES)
                {
            cli_fail("following the log: %s", err);
            return EXIT_API;
        }
            sleep_ms(250L << (fails < 6 ? fails : 6));
            continue;
        }
        size_t got = r.sunk;
        httpc_resp_free(&r);
        if (complete || check_status) {
            json_t *dep = NULL;
            int rc = get_deployment(c, id, &dep, err, sizeof err);
            if (rc == -1) {
                if (++fails > WAIT_RETRIES)
                    {
            cli_fail("reading the deployment: %s", err);
            return EXIT_API;
        }
                sleep_ms(250L << (fails < 6 ? fails : 6));
                continue;
            }
            if (rc != EXIT_OK)
                return rc;
            const char *status = json_string_value(json_object_get(dep, "status"));
            if (final_status(status)) {
                rc = report(id, dep);
                json_decref(dep);
                return rc;
            }
            json_decref(dep);
        }
        if (got == 0)
            sleep_ms(POLL_IDLE_MS);
    }
}

int cmd_deploy(int argc, char **argv)
{
    enum { F_REF, F_WAIT, F_DATABASE, NF };
    flag_def defs[NF] = {
        [F_REF] = {.name = "ref", .kind = FLAG_VALUE},
        [F_WAIT] = {.name = "wait", .kind = FLAG_BOOL},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *pos[1];
    size_t npos = 0;
    int rc;
    const char *path = "piora deploy";
    if (!cli_flags(path, usage, defs, NF, argc, argv, pos, 1, &npos, &rc))
        return rc;
    if (npos != 1)
        return cli_usage_error(path, "expected one APP_ID");
    int64_t app_id;
    if (!flags_int(pos[0], 1, INT64_MAX, &app_id))
        return cli_usage_error(path, "APP_ID must be a positive integer");
    const char *ref = defs[F_REF].value;
    if (ref) {
        size_t l = strlen(ref);
        bool clean = l >= 1 && l <= REF_MAX;
        for (size_t i = 0; clean && i < l; i++)
            clean = (unsigned char)ref[i] > 0x20 && ref[i] != 0x7f;
        if (!clean)
            return cli_usage_error(path, "--ref must be 1-%d characters without spaces or "
                                         "control characters", REF_MAX);
    }
    const char *url = getenv("PIORA_URL");
    const char *token = getenv("PIORA_API_TOKEN");
    if (!url || !*url)
        return cli_usage_error(path, "PIORA_URL is not set (the server's address, e.g. "
                                     "https://piora.example.com)");
    if (!token || !*token)
        return cli_usage_error(path, "PIORA_API_TOKEN is not set (a token with scope "
                                     "applications:deploy)");
    char err[HTTPC_ERR_MAX];
    httpc *c = httpc_new(url, token, err, sizeof err);
    if (!c)
        return cli_usage_error(path, "%s", err);

    char *body = NULL;
    if (ref) {
        json_t *b = json_pack("{s:s}", "ref", ref);
        body = b ? json_dumps(b, JSON_COMPACT) : NULL;
        json_decref(b);
        if (!body) {
            httpc_free(c);
            return cli_fail("out of memory");
        }
    }
    char rpath[64];
    snprintf(rpath, sizeof rpath, "/applications/%lld/deploy", (long long)app_id);
    httpc_resp r;
    bool ok = httpc_request(c, "POST", rpath, body ? body : "{}", JSON_MAX, NULL, NULL, &r, err,
                            sizeof err);
    free(body);
    if (!ok) {
        httpc_free(c);
        {
            cli_fail("cannot reach PIORA_URL: %s", err);
            return EXIT_API;
        }
    }
    if (r.status != 202) {
        rc = api_error("starting the deployment", &r);
        httpc_resp_free(&r);
        httpc_free(c);
        return rc;
    }
    json_t *dep = json_loadb(r.body, r.len, 0, NULL);
    httpc_resp_free(&r);
    json_t *jid = json_object_get(dep, "id");
    if (!json_is_integer(jid) || json_integer_value(jid) < 1) {
        json_decref(dep);
        httpc_free(c);
        {
            cli_fail("starting the deployment: the answer holds no deployment id");
            return EXIT_API;
        }
    }
    int64_t id = json_integer_value(jid);
    json_decref(dep);
    if (!defs[F_WAIT].given) {
        printf("%lld\n", (long long)id);
        httpc_free(c);
        return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
    }
    fprintf(stderr, "deployment %lld queued\n", (long long)id);
    rc = follow(c, id);
    httpc_free(c);
    return rc;
}
