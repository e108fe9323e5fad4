/* `piora serve`: every setting of core/config.h as a flag and a PIORA_*
 * environment variable (the flag wins), checked against its range before
 * the server starts, so a typo fails at once with a one-line reason. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* app/ is the composition root and cli/ may not include it: this include
 * stands until `piora serve` moves into app/serve.c. */
#include "app/runtime.h"
#include "cli/cli.h"
#include "core/config.h"
#include "monitor/metrics.h"
#include "monitor/proxies.h"

static const char usage[] =
    "Usage: piora serve [flags]\n"
    "\n"
    "Runs the HTTP API. Every flag also reads its PIORA_* environment variable;\n"
    "the flag wins. Flags take '--name value' or '--name=value'.\n"
    "\n"
    "  --listen HOST:PORT          address to listen on; [v6]:port for IPv6\n"
    "                              (PIORA_LISTEN, default 127.0.0.1:8080)\n"
    "  --database PATH_OR_URL      SQLite file, created on first start\n"
    "                              (PIORA_DATABASE, default ./piora.db)\n"
    "  --rate-limit N              requests per minute per token, 0 = off\n"
    "                              (PIORA_RATE_LIMIT, default 1000)\n"
    "  --auth-fail-limit N         failed authentications per minute per client\n"
    "                              address, 0 = off (PIORA_AUTH_FAIL_LIMIT, default 30)\n"
    "  --revoke-limit N            POST /credentials/revoke calls per minute per\n"
    "                              address, 0 = off (PIORA_REVOKE_LIMIT, default 10)\n"
    "  --threads N                 worker threads, 0 = one per core\n"
    "                              (PIORA_THREADS, default 0)\n"
    "  --max-connections N         open connections at most\n"
    "                              (PIORA_MAX_CONNECTIONS, default 1024)\n"
    "  --idle-timeout SECONDS      close a connection idle this long\n"
    "                              (PIORA_IDLE_TIMEOUT, default 30)\n"
    "  --max-header-bytes N        memory per connection for the request line and\n"
    "                              headers (PIORA_MAX_HEADER_BYTES, default 16384)\n"
    "  --last-used-interval SECONDS  how often last-used times are written, 1-60\n"
    "                              (PIORA_LAST_USED_INTERVAL, default 15)\n"
    "  --session-idle-timeout SECONDS  dashboard sessions end after this long\n"
    "                              without a request (PIORA_SESSION_IDLE_TIMEOUT,\n"
    "                              default 1800)\n"
    "  --session-lifetime SECONDS  dashboard sessions end this long after sign-in\n"
    "                              (PIORA_SESSION_LIFETIME, default 43200)\n"
    "  --secure-cookies 0|1        mark the session cookie Secure (serve behind\n"
    "                              HTTPS) (PIORA_SECURE_COOKIES, default 0)\n"
    "  --signin-limit N            failed dashboard sign-ins per minute per address\n"
    "                              and per account, 0 = off (PIORA_SIGNIN_LIMIT, default 10)\n"
    "  --usage-log on|off          record every request of a known token in the\n"
    "                              usage log (PIORA_USAGE_LOG, default on)\n"
    "  --usage-retention-days N    delete usage rows older than N days, 0 = keep\n"
    "                              (PIORA_USAGE_RETENTION_DAYS, default 90)\n"
    "  --usage-max-rows N          usage rows kept per token, 0 = no cap\n"
    "                              (PIORA_USAGE_MAX_ROWS, default 10000)\n"
    "  --usage-flush-interval SECONDS  how often queued usage rows are written,\n"
    "                              1-60 (PIORA_USAGE_FLUSH_INTERVAL, default 1)\n"
    "  --last-used on|off          track last_used_at (off only to measure its cost)\n"
    "                              (PIORA_LAST_USED, default on)\n"
    "  --access-log on|off         one JSON line per request on standard output\n"
    "                              (PIORA_ACCESS_LOG, default on)\n"
    "  --trusted-proxies LIST      comma-separated IPs or CIDR blocks whose\n"
    "                              X-Forwarded-For is believed\n"
    "                              (PIORA_TRUSTED_PROXIES, default none)\n"
    "  -h, --help                  this help\n"
    "\n"
    "SIGTERM or SIGINT stops the server gracefully.\n";

enum {
    F_LISTEN,
    F_DATABASE,
    F_RATE_LIMIT,
    F_AUTH_FAIL_LIMIT,
    F_REVOKE_LIMIT,
    F_THREADS,
    F_MAX_CONNECTIONS,
    F_IDLE_TIMEOUT,
    F_MAX_HEADER_BYTES,
    F_LAST_USED_INTERVAL,
    F_SESSION_IDLE,
    F_SESSION_LIFETIME,
    F_SECURE_COOKIES,
    F_SIGNIN_LIMIT,
    F_USAGE_LOG,
    F_USAGE_RETENTION,
    F_USAGE_MAX_ROWS,
    F_USAGE_FLUSH,
    F_LAST_USED,
    F_ACCESS_LOG,
    F_TRUSTED_PROXIES,
    F_COUNT
};

/* The accepted range of each numeric setting. */
typedef struct num_setting {
    int flag;
    int64_t min, max;
} num_setting;

static const num_setting ranges[] = {
    {F_RATE_LIMIT, 0, 1000000000},
    {F_AUTH_FAIL_LIMIT, 0, 1000000000},
    {F_REVOKE_LIMIT, 0, 1000000000},
    {F_THREADS, 0, 1024},
    {F_MAX_CONNECTIONS, 1, 1000000},
    {F_IDLE_TIMEOUT, 1, 86400},
    {F_MAX_HEADER_BYTES, 4096, 1048576},
    {F_LAST_USED_INTERVAL, 1, 60},
    {F_SESSION_IDLE, 1, 2592000},
    {F_SESSION_LIFETIME, 1, 2592000},
    {F_SECURE_COOKIES, 0, 1},
    {F_SIGNIN_LIMIT, 0, 1000000},
    {F_USAGE_RETENTION, 0, 36500},
    {F_USAGE_MAX_ROWS, 0, 1000000000},
    {F_USAGE_FLUSH, 1, 60},
};

/* on|off switches; 1|0 and true|false too, as scripts write them. */
static bool parse_switch(const char *v, int *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "true")) {
        *out = 1;
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "false")) {
        *out = 0;
        return true;
    }
    return false;
}

/* Names the source of a bad value the way the operator wrote it. */
static int bad_value(const flag_def *f, const char *why)
{
    char q[64];
    flags_quote(f->value, q, sizeof q);
    char where[96];
    if (f->from_env)
        snprintf(where, sizeof where, "%s", f->env);
    else
        snprintf(where, sizeof where, "--%s", f->name);
    return cli_usage_error("piora serve", "invalid %s '%s': %s", where, q, why);
}

/* Fills cfg from the flags; returns EXIT_OK or the exit status of the
 * one-line error already printed. */
static int serve_config(flag_def *defs, piora_config *cfg)
{
    config_defaults(cfg);
    if (defs[F_LISTEN].value &&
        !flags_listen(defs[F_LISTEN].value, cfg->listen_host, sizeof cfg->listen_host,
                      &cfg->listen_port))
        return bad_value(&defs[F_LISTEN], "expected HOST:PORT or [IPv6]:PORT, port 1-65535");
    if (defs[F_DATABASE].value) {
        const char *db = defs[F_DATABASE].value;
        if (strlen(db) >= sizeof cfg->database)
            return bad_value(&defs[F_DATABASE], "too long");
        strcpy(cfg->database, db);
    }
    int64_t v[F_COUNT] = {0};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        const num_setting *r = &ranges[i];
        const flag_def *f = &defs[r->flag];
        if (!f->value)
            continue;
        if (!flags_int(f->value, r->min, r->max, &v[r->flag])) {
            char why[80];
            snprintf(why, sizeof why, "expected an integer from %lld to %lld",
                     (long long)r->min, (long long)r->max);
            return bad_value(f, why);
        }
    }
    if (defs[F_RATE_LIMIT].value)
        cfg->rate_limit = v[F_RATE_LIMIT];
    if (defs[F_AUTH_FAIL_LIMIT].value)
        cfg->auth_fail_limit = v[F_AUTH_FAIL_LIMIT];
    if (defs[F_REVOKE_LIMIT].value)
        cfg->revoke_limit = v[F_REVOKE_LIMIT];
    if (defs[F_THREADS].value)
        cfg->threads = (unsigned)v[F_THREADS];
    if (defs[F_MAX_CONNECTIONS].value)
        cfg->max_connections = (unsigned)v[F_MAX_CONNECTIONS];
    if (defs[F_IDLE_TIMEOUT].value)
        cfg->idle_timeout_s = (unsigned)v[F_IDLE_TIMEOUT];
    if (defs[F_MAX_HEADER_BYTES].value)
        cfg->max_header_bytes = (size_t)v[F_MAX_HEADER_BYTES];
    if (defs[F_LAST_USED_INTERVAL].value)
        cfg->touch_interval_s = (unsigned)v[F_LAST_USED_INTERVAL];
    if (defs[F_SESSION_IDLE].value)
        cfg->session_idle_s = v[F_SESSION_IDLE];
    if (defs[F_SESSION_LIFETIME].value)
        cfg->session_lifetime_s = v[F_SESSION_LIFETIME];
    if (defs[F_SECURE_COOKIES].value)
        cfg->secure_cookies = (int)v[F_SECURE_COOKIES];
    if (defs[F_SIGNIN_LIMIT].value)
        cfg->signin_limit = v[F_SIGNIN_LIMIT];
    if (defs[F_USAGE_RETENTION].value)
        cfg->usage_retention_days = v[F_USAGE_RETENTION];
    if (defs[F_USAGE_MAX_ROWS].value)
        cfg->usage_max_rows = v[F_USAGE_MAX_ROWS];
    if (defs[F_USAGE_FLUSH].value)
        cfg->usage_flush_s = (unsigned)v[F_USAGE_FLUSH];
    const struct {
        int flag;
        int *dst;
    } switches[] = {{F_USAGE_LOG, &cfg->usage_log},
                    {F_LAST_USED, &cfg->last_used},
                    {F_ACCESS_LOG, &cfg->access_log}};
    for (size_t i = 0; i < sizeof switches / sizeof switches[0]; i++) {
        const flag_def *f = &defs[switches[i].flag];
        if (f->value && !parse_switch(f->value, switches[i].dst))
            return bad_value(f, "expected on or off");
    }
    if (defs[F_TRUSTED_PROXIES].value) {
        const char *tp = defs[F_TRUSTED_PROXIES].value;
        char why[160];
        if (strlen(tp) >= sizeof cfg->trusted_proxies)
            return bad_value(&defs[F_TRUSTED_PROXIES], "too long");
        if (!proxies_parse(tp, why, sizeof why))
            return bad_value(&defs[F_TRUSTED_PROXIES], why);
        strcpy(cfg->trusted_proxies, tp);
    }
    return EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
    flag_def defs[F_COUNT] = {
        [F_LISTEN] = {.name = "listen", .env = "PIORA_LISTEN"},
        [F_DATABASE] = CLI_FLAG_DATABASE,
        [F_RATE_LIMIT] = {.name = "rate-limit", .env = "PIORA_RATE_LIMIT"},
        [F_AUTH_FAIL_LIMIT] = {.name = "auth-fail-limit", .env = "PIORA_AUTH_FAIL_LIMIT"},
        [F_REVOKE_LIMIT] = {.name = "revoke-limit", .env = "PIORA_REVOKE_LIMIT"},
        [F_THREADS] = {.name = "threads", .env = "PIORA_THREADS"},
        [F_MAX_CONNECTIONS] = {.name = "max-connections", .env = "PIORA_MAX_CONNECTIONS"},
        [F_IDLE_TIMEOUT] = {.name = "idle-timeout", .env = "PIORA_IDLE_TIMEOUT"},
        [F_MAX_HEADER_BYTES] = {.name = "max-header-bytes", .env = "PIORA_MAX_HEADER_BYTES"},
        [F_LAST_USED_INTERVAL] = {.name = "last-used-interval",
                                  .env = "PIORA_LAST_USED_INTERVAL"},
        [F_SESSION_IDLE] = {.name = "session-idle-timeout", .env = "PIORA_SESSION_IDLE_TIMEOUT"},
        [F_SESSION_LIFETIME] = {.name = "session-lifetime", .env = "PIORA_SESSION_LIFETIME"},
        [F_SECURE_COOKIES] = {.name = "secure-cookies", .env = "PIORA_SECURE_COOKIES"},
        [F_SIGNIN_LIMIT] = {.name = "signin-limit", .env = "PIORA_SIGNIN_LIMIT"},
        [F_USAGE_LOG] = {.name = "usage-log", .env = "PIORA_USAGE_LOG"},
        [F_USAGE_RETENTION] = {.name = "usage-retention-days",
                               .env = "PIORA_USAGE_RETENTION_DAYS"},
        [F_USAGE_MAX_ROWS] = {.name = "usage-max-rows", .env = "PIORA_USAGE_MAX_ROWS"},
        [F_USAGE_FLUSH] = {.name = "usage-flush-interval", .env = "PIORA_USAGE_FLUSH_INTERVAL"},
        [F_LAST_USED] = {.name = "last-used", .env = "PIORA_LAST_USED"},
        [F_ACCESS_LOG] = {.name = "access-log", .env = "PIORA_ACCESS_LOG"},
        [F_TRUSTED_PROXIES] = {.name = "trusted-proxies", .env = "PIORA_TRUSTED_PROXIES"},
    };
    int rc;
    if (!cli_flags("piora serve", usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    piora_config cfg;
    rc = serve_config(defs, &cfg);
    if (rc != EXIT_OK)
        return rc;
    metrics_set_build(cli_version);
    return app_run(&cfg);
}
