/* The start and stop order of every subsystem, in one place:
 *   store (boot check, per-thread connections) -> authn -> web -> response
 *   cache -> metrics -> trusted proxies -> last-used -> usage log -> access
 *   log -> route table -> HTTP daemon -> first-run link
 * then a signal, and the same in reverse: the daemon first (requests in
 * flight finish), then the writers (their buffers are written), then the
 * caches and limiters, then the store. */
#include "app/runtime.h"

#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "app/routes.h"
#include "app/scheduler.h"
#include "auth/password.h"
#include "authn/authn.h"
#include "authn/lastused.h"
#include "cluster/redis.h"
#include "core/oidc.h"
#include "core/backupstore.h"
#include "core/masterkey.h"
#include "core/paging.h"
#include "core/servercheck.h"
#include "core/tokens.h"
#include "http/respcache.h"
#include "http/server.h"
#include "jobs/probe.h"
#include "jobs/runner.h"
#include "core/deploys.h"
#include "monitor/accesslog.h"
#include "monitor/metrics.h"
#include "monitor/proxies.h"
#include "monitor/usagelog.h"
#include "store/store.h"
#include "util/log.h"
#include "web/web.h"

static const char *method_name(http_method m)
{
    switch (m) {
    case HTTP_GET: return "GET";
    case HTTP_POST: return "POST";
    case HTTP_PUT: return "PUT";
    case HTTP_PATCH: return "PATCH";
    case HTTP_DELETE: return "DELETE";
    case HTTP_HEAD: return "HEAD";
    case HTTP_OPTIONS: return "OPTIONS";
    default: return "OTHER";
    }
}

/* The gauges /metrics reads at scrape time, from the modules that own
 * them: registered with monitor/metrics so neither it nor api/ includes
 * http/, authn/ or the writers. */
static void gauges_read(metrics_gauges *g)
{
    g->usage_queue_depth = usagelog_depth();
    g->usage_dropped = usagelog_dropped();
    g->usage_written = usagelog_written();
    g->lastused_dropped = lastused_dropped();
    g->access_log_dropped = accesslog_dropped();
    g->inflight = http_server_inflight();
    g->password_hashes = password_hash_count();
    g->hash_busy = http_server_slow_busy();
    g->hash_refused = http_server_slow_refused();
    g->redis_configured = redis_limits_configured();
    g->redis_up = redis_limits_up();
    g->redis_fallbacks = redis_limits_fallbacks();
    g->store_busy = http_server_store_busy();
    g->store_refused = http_server_store_refused();
    g->store_handed = http_server_store_handed();
    g->store_late = http_server_store_late();
    store_feed_stats fs;
    store_feed_get_stats(&fs);
    g->feed_running = fs.running;
    g->feed_healthy = fs.healthy;
    g->feed_reconnects = fs.reconnects;
    g->feed_notifies = fs.notifies;
}

/* Metrics, the last-used and usage-log writers and the access log: started
 * before the first request, stopped after the last one so that everything
 * buffered is written (SPEC 7: a graceful stop loses nothing). On failure
 * what was started is stopped again. */
static bool monitoring_start(const piora_config *cfg)
{
    static const char *methods[256], *patterns[256];
    size_t n = api_routes_count < 256 ? api_routes_count : 256;
    for (size_t i = 0; i < n; i++) {
        methods[i] = method_name(api_routes[i].method);
        patterns[i] = api_routes[i].pattern;
    }
    metrics_init(methods, patterns, (int)n);
    metrics_set_gauges(gauges_read);
    char why[160];
    if (!proxies_parse(cfg->trusted_proxies, why, sizeof why)) {
        fprintf(stderr, "piora: invalid --trusted-proxies: %s\n", why);
        return false;
    }
    if (cfg->last_used &&
        lastused_start(cfg->database, cfg->touch_interval_s, 1u << 16) != PIORA_OK) {
        fprintf(stderr, "piora: cannot start the last-used writer\n");
        proxies_free();
        return false;
    }
    tokens_set_pending(cfg->last_used ? lastused_lookup : NULL);
    if (cfg->usage_log) {
        usagelog_opts uo = {
            .db_url = cfg->database,
            .flush_ms = cfg->usage_flush_s * 1000,
            .retention_s = cfg->usage_retention_days * 86400,
            .max_rows = cfg->usage_max_rows,
        };
        if (usagelog_start(&uo) != PIORA_OK) {
            fprintf(stderr, "piora: cannot start the usage-log writer\n");
            lastused_stop();
            proxies_free();
            return false;
        }
    }
    if (cfg->access_log && !accesslog_start(STDOUT_FILENO)) {
        fprintf(stderr, "piora: cannot start the access log\n");
        usagelog_stop();
        lastused_stop();
        proxies_free();
        return false;
    }
    return true;
}

static void monitoring_stop(void)
{
    lastused_stop();
    usagelog_stop();
    accesslog_stop();
    proxies_free();
}

/* The caches and limiters that live for the whole run. */
static void services_start(const piora_config *cfg)
{
    /* The URL was checked in app_run, so this cannot refuse it. */
    if (cfg->redis[0])
        redis_limits_start(cfg->redis, (int)cfg->redis_timeout_ms);
    else
        log_info("rate limits: this node limits on its own (no --redis; with several nodes "
                 "each allows the whole limit)");
    authn_init(cfg);
    web_init(cfg);
    paging_set_base(cfg->public_url);
    respcache_init(cfg->response_cache_bytes);
    oidc_init(cfg);
    servercheck_set_probe(jobs_server_probe);
}

static void services_stop(void)
{
    respcache_free();
    authn_shutdown();
    redis_limits_stop();
    web_shutdown();
    oidc_shutdown();
}

/* The base of printed links: --public-url when set, else the listen
 * address. A wildcard listen has no address to print, so the loopback one
 * is used and *wildcard says so (the caller tells the user). */
static void link_base(const piora_config *cfg, unsigned port, char *out, size_t len,
                      bool *wildcard)
{
    *wildcard = false;
    if (cfg->public_url[0]) {
        size_t n = strnlen(cfg->public_url, len - 1);
        while (n && cfg->public_url[n - 1] == '/')
            n--;
        memcpy(out, cfg->public_url, n);
        out[n] = '\0';
        return;
    }
    const char *h = cfg->listen_host;
    if (strcmp(h, "0.0.0.0") == 0 || h[0] == '\0') {
        h = "127.0.0.1";
        *wildcard = true;
    } else if (strcmp(h, "::") == 0) {
        h = "::1";
        *wildcard = true;
    }
    bool v6 = strchr(h, ':') != NULL;
    snprintf(out, len, "http://%s%s%s:%u", v6 ? "[" : "", h, v6 ? "]" : "", port);
}

/* --hash-threads 0: half the cores, at least one. Argon2id is all CPU, so a
 * pool as wide as the machine would take every core from the HTTP threads
 * during a sign-in flood (measured in docs/performance.md, Abuse). */
static unsigned hash_threads(const piora_config *cfg)
{
    if (cfg->hash_threads)
        return cfg->hash_threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 2 ? (unsigned)(n / 2) : 1;
}

/* --store-threads 0: four per core. The threads mostly wait on the
 * network, so more of them than cores keeps the database busy; each holds
 * a connection, so not many more. */
static unsigned store_threads(const piora_config *cfg)
{
    if (cfg->store_threads)
        return cfg->store_threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (unsigned)(4 * n) : 4;
}

/* The one-time setup link goes to standard error only: standard output
 * carries the JSON access log, which log shippers store, and the link holds
 * the setup secret. */
static void first_run_link(const piora_config *cfg, unsigned port)
{
    log_info("no users yet: create the first with `piora user add --email E --team T "
             "--admin --password-stdin`");
    char base[600], link[800];
    bool wildcard;
    link_base(cfg, port, base, sizeof base, &wildcard);
    store_t *ls = store_thread();
    if (ls && web_setup_link(ls, base, link, sizeof link)) {
        fprintf(stderr, "First run: open %s to create the first admin (the link works once).\n",
                link);
        if (wildcard)
            fprintf(stderr, "piora is listening on every address (%s): from another machine, "
                            "use this machine's address instead of %s, or set --public-url.\n",
                    cfg->listen_host, strcmp(cfg->listen_host, "::") == 0 ? "::1" : "127.0.0.1");
        fflush(stderr);
    }
}

/* The database as the start line shows it: a URL's password is never
 * logged (postgres://user:secret@host/db -> postgres://user:***@host/db). */
static void database_label(const char *url, char *out, size_t len)
{
    const char *scheme = strstr(url, "://");
    const char *auth = scheme ? scheme + 3 : NULL;
    const char *end = auth ? auth + strcspn(auth, "/?#") : NULL;
    const char *at = NULL;
    for (const char *p = auth; p && p < end; p++)
        if (*p == '@')
            at = p;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (!colon) {
        snprintf(out, len, "%s", url);
        return;
    }
    snprintf(out, len, "%.*s:***%s", (int)(colon - url), url, at);
}

static unsigned worker_threads(const piora_config *cfg)
{
    if (cfg->threads)
        return cfg->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* The master key sealing team SSH keys: made on first start (0600), then
 * required to be the same file. */
static bool master_key_start(const piora_config *cfg)
{
    char path[4096], why[512] = "";
    if (!masterkey_path(cfg->secret_key_file, cfg->database, path, sizeof path)) {
        fprintf(stderr, "piora: --secret-key-file is required with a database URL\n");
        return false;
    }
    uint8_t key[SSHKEY_MASTER_LEN];
    if (masterkey_load(path, true, key, why, sizeof why) != PIORA_OK) {
        fprintf(stderr, "piora: %s\n", why);
        return false;
    }
    masterkey_set(key);
    sodium_memzero(key, sizeof key);
    return true;
}

int app_run(const piora_config *cfg)
{
    /* Signals go to the main thread only, which waits for them below. Every
     * thread inherits the blocked mask, so it is set before the first one
     * starts: the change feed's listener, started before it once, could
     * take a SIGTERM and end the process at once (no drain, no goodbye). */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    char msg[512] = "";
    redis_url ru;
    if (cfg->redis[0] && !redis_url_parse(cfg->redis, &ru, msg, sizeof msg)) {
        fprintf(stderr, "piora: invalid --redis: %s\n", msg);
        return 1;
    }
    store_t *boot = store_open(cfg->database, msg, sizeof msg);
    if (!boot) {
        fprintf(stderr, "piora: cannot open database: %s\n", msg);
        return 1;
    }
    int64_t users = 0;
    store_user_count(boot, &users);
    store_close(boot);
    /* SPEC 10: in a cluster the backup store is a directory every node
     * shares. A database URL has no file to put it beside, and a default in
     * the working directory would scatter one cluster's dumps over its
     * machines, each node unable to serve the others' downloads. */
    if (!cfg->backup_dir[0] && strstr(cfg->database, "://")) {
        fprintf(stderr, "piora: --backup-dir is required with a database URL (a directory every "
                        "node shares)\n");
        return 1;
    }
    int stale = 0;
    if (backupstore_configure(cfg->database, cfg->backup_dir, &stale) != PIORA_OK) {
        fprintf(stderr, "piora: cannot use the backup directory %s\n",
                backupstore_dir()[0] ? backupstore_dir() : cfg->backup_dir);
        return 1;
    }
    if (stale)
        log_info("backup store %s: removed %d unfinished dump(s) left by an earlier run",
                 backupstore_dir(), stale);
    if (!master_key_start(cfg))
        return 1;
    store_thread_init(cfg->database);
    if (!store_feed_start(cfg->database, msg, sizeof msg)) {
        fprintf(stderr, "piora: %s\n", msg);
        return 1;
    }

    services_start(cfg);
    if (!monitoring_start(cfg)) {
        services_stop();
        store_feed_stop();
        store_thread_release();
        return 1;
    }
    if (scheduler_start(cfg) != PIORA_OK) {
        fprintf(stderr, "piora: cannot start the backup scheduler\n");
        monitoring_stop();
        services_stop();
        store_feed_stop();
        store_thread_release();
        return 1;
    }
    deploys_set_queue_limit(cfg->queue_per_server);
    const runner_conf rc = {.database = cfg->database, .workers = cfg->job_workers,
                            .per_server = cfg->jobs_per_server, .timeout_s = cfg->job_timeout_s,
                            .lease_s = cfg->job_lease_s};
    if (runner_start(&rc) != PIORA_OK) {
        fprintf(stderr, "piora: cannot start the job runner\n");
        scheduler_stop();
        monitoring_stop();
        services_stop();
        store_feed_stop();
        store_thread_release();
        return 1;
    }
    route_site site;
    memset(&site, 0, sizeof site);
    http_server *srv = NULL;
    unsigned threads = worker_threads(cfg);
    if (app_routes_build(&site)) {
        http_options o = {
            .listen_host = cfg->listen_host,
            .listen_port = cfg->listen_port,
            .threads = threads,
            .max_connections = cfg->max_connections,
            .max_per_address = cfg->max_per_address,
            .idle_timeout_s = cfg->idle_timeout_s,
            .header_timeout_s = cfg->header_timeout_s,
            .body_timeout_s = cfg->body_timeout_s,
            .max_header_bytes = cfg->max_header_bytes,
            .body_max = BODY_MAX_BYTES,
            .body_budget = cfg->body_memory,
            .secure_cookies = cfg->secure_cookies != 0,
            .slow_threads = hash_threads(cfg),
            .slow_max = cfg->hash_max,
            .thread_store = store_thread,
            .site = site,
            .store_remote = store_is_remote(cfg->database),
            .store_threads = store_threads(cfg),
            .store_max = cfg->store_max,
            .limits_remote = cfg->redis[0] != '\0',
        };
        srv = http_server_start(&o);
    } else {
        fprintf(stderr, "piora: out of memory\n");
    }
    if (!srv) {
        app_routes_free(&site);
        runner_stop();
        scheduler_stop();
        monitoring_stop();
        services_stop();
        store_feed_stop();
        store_thread_release();
        return 1;
    }
    bool v6 = http_server_ipv6(srv);
    char dblabel[4200];
    database_label(cfg->database, dblabel, sizeof dblabel);
    log_info("piora listening on http://%s%s%s:%u (%u threads, database %s)", v6 ? "[" : "",
             cfg->listen_host, v6 ? "]" : "", http_server_port(srv), threads, dblabel);
    if (users == 0)
        first_run_link(cfg, http_server_port(srv));

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("received %s: stopping (in-flight requests finish first)",
             sig == SIGTERM ? "SIGTERM" : "SIGINT");

    http_server_stop(srv);
    app_routes_free(&site);
    runner_stop();
    scheduler_stop();
    monitoring_stop();
    services_stop();
    store_feed_stop();
    store_thread_release();
    log_info("stopped");
    return 0;
}
