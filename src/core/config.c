/* The settings table: the one list of `piora serve` settings. */
#include "core/config.h"

#include <stdio.h>
#include <string.h>

#define FIELD(f) offsetof(piora_config, f), sizeof(((piora_config *)0)->f)
#define INT(fl, env, mv, lo, hi, def, f, help, doc)                                             \
    {fl, env, CONFIG_INT, mv, lo, hi, def, NULL, FIELD(f), 0, help, doc}
#define SWITCH(fl, env, def, f, help, doc)                                                      \
    {fl, env, CONFIG_SWITCH, "on|off", 0, 1, def, NULL, FIELD(f), 0, help, doc}

const config_setting config_settings[] = {
    {"listen", "PIORA_LISTEN", CONFIG_LISTEN, "HOST:PORT", 0, 65535, 8080, "127.0.0.1",
     FIELD(listen_host), offsetof(piora_config, listen_port),
     "address to listen on; [v6]:port for IPv6",
     "Address and port to listen on. IPv6 literals in brackets: `[::1]:8080`, `[::]:8080`. "
     "`HOST` may be a name (resolved at start). Port `0` takes a free port from the kernel; the "
     "start line on standard error says which: `piora listening on http://HOST:PORT (...)`."},
    {"database", "PIORA_DATABASE", CONFIG_TEXT, "PATH_OR_URL", 0, 0, 0, "./piora.db",
     FIELD(database), 0, "SQLite file (created on first start) or postgres:// URL",
     "The SQLite database file, created (with its schema) on first start, or a `postgres://` / "
     "`postgresql://` URL (any libpq URI; the database must exist, its schema is made on first "
     "start); migrations run forward automatically."},
    INT("rate-limit", "PIORA_RATE_LIMIT", "N", 0, 1000000000, 1000, rate_limit,
        "requests per minute per token, 0 = off",
        "Requests per minute per token, with a burst of the whole minute's quota (GCRA). `0` "
        "turns the limit off. Over it: 429 with `Retry-After`. 1000/min is meant to be "
        "generous for CI."),
    INT("auth-fail-limit", "PIORA_AUTH_FAIL_LIMIT", "N", 0, 1000000000, 30, auth_fail_limit,
        "failed authentications per minute per client address, 0 = off",
        "Failed authentications per minute per client address before that address's "
        "failures get 429 (a valid token from the address is still accepted). `0` turns it "
        "off."),
    INT("revoke-limit", "PIORA_REVOKE_LIMIT", "N", 0, 1000000000, 10, revoke_limit,
        "POST /credentials/revoke calls per minute per address, 0 = off",
        "Calls per minute per client address to `POST /api/v1/credentials/revoke` (which "
        "needs no token). `0` turns it off."),
    INT("threads", "PIORA_THREADS", "N", 0, 1024, 0, threads, "worker threads, 0 = one per core",
        "HTTP worker threads; `0` means one per CPU core."),
    INT("max-connections", "PIORA_MAX_CONNECTIONS", "N", 1, 1000000, 1024, max_connections,
        "open connections at most",
        "Open connections at most; further ones are refused until some close."),
    INT("idle-timeout", "PIORA_IDLE_TIMEOUT", "SECONDS", 1, 86400, 30, idle_timeout_s,
        "close a connection idle this long",
        "A connection idle this long (including a client that stalls mid-request) is closed."),
    INT("max-connections-per-address", "PIORA_MAX_CONNECTIONS_PER_ADDRESS", "N", 0, 1000000,
        64, max_per_address, "open connections per client address at most, 0 = no cap",
        "Open connections per client (socket) address at most; further ones from that address "
        "are refused until some close, so one machine cannot hold every connection. `0` "
        "turns the cap off (behind a reverse proxy every client shares its address)."),
    INT("header-timeout", "PIORA_HEADER_TIMEOUT", "SECONDS", 1, 3600, 10, header_timeout_s,
        "close a connection whose request head is not in within this",
        "A request's line and headers must arrive whole within this long of the connection "
        "opening (or, kept alive, of the previous answer), however steadily they trickle in; "
        "otherwise the connection is closed."),
    INT("body-timeout", "PIORA_BODY_TIMEOUT", "SECONDS", 1, 86400, 60, body_timeout_s,
        "close a connection whose body is not in within this of its head",
        "A request body must arrive whole within this long of its headers (60 s is 1 MiB at "
        "about 17 KiB/s); otherwise the connection is closed."),
    INT("body-memory", "PIORA_BODY_MEMORY", "BYTES", 1048576, 68719476736, 33554432,
        body_memory, "request bodies buffered at once across connections",
        "Bytes of request bodies buffered at once across all connections; a body that would "
        "pass it is answered 503 with `Retry-After`. A token route's body is read only after "
        "its token authenticated."),
    INT("max-header-bytes", "PIORA_MAX_HEADER_BYTES", "N", 4096, 1048576, 16384,
        max_header_bytes, "bytes of a request's line and headers at most",
        "Bytes of a request's line and headers (with their line ends) at most; a larger head "
        "is refused with 431 and the connection closed."),
    INT("response-cache-bytes", "PIORA_RESPONSE_CACHE_BYTES", "N", 0, 4294967296, 33554432,
        response_cache_bytes, "memory for replayed GET answers, 0 = off",
        "Memory for cached answers of list and read GETs (keys, bodies and headers), 32 MiB "
        "by default. Past it the least recently used answers are evicted, so no mix of query "
        "strings grows the cache. An answer is replayed only until the next write of any "
        "object; `piora_response_cache_*` in `/metrics` shows its size, hits and evictions. "
        "`0` turns it off."),
    INT("last-used-interval", "PIORA_LAST_USED_INTERVAL", "SECONDS", 1, 60, 15,
        touch_interval_s, "how often last-used times are written, 1-60",
        "How often buffered last-used times are written to the database, so `last_used_at` "
        "is never more than 60 s behind. Everything buffered is also written on a graceful "
        "stop."),
    INT("session-idle-timeout", "PIORA_SESSION_IDLE_TIMEOUT", "SECONDS", 1, 2592000, 1800,
        session_idle_s, "dashboard sessions end after this long without a request",
        "A dashboard session ends after this long without a request (docs/dashboard.md)."),
    INT("session-lifetime", "PIORA_SESSION_LIFETIME", "SECONDS", 1, 2592000, 43200,
        session_lifetime_s, "dashboard sessions end this long after sign-in",
        "A dashboard session ends this long after its sign-in, however busy."),
    INT("secure-cookies", "PIORA_SECURE_COOKIES", "0|1", 0, 1, 0, secure_cookies,
        "mark the session cookie Secure (serve behind HTTPS)",
        "`1` always marks the session cookie `Secure` (serve behind HTTPS). With `0` it is "
        "marked when a trusted proxy sends `X-Forwarded-Proto: https`."),
    INT("sudo-window", "PIORA_SUDO_WINDOW", "SECONDS", 1, 86400, 600, sudo_window_s,
        "tokens are made on the dashboard only this long after a password",
        "Creating or regenerating a token on the dashboard needs a sign-in or a "
        "re-authentication (password, and the second factor when enabled) within this long; "
        "otherwise the dashboard asks for the password first, as GitHub's sudo mode "
        "(docs/dashboard.md)."),
    INT("hash-threads", "PIORA_HASH_THREADS", "N", 0, 64, 0, hash_threads,
        "threads that hash passwords (off the HTTP threads), 0 = half the cores",
        "Threads that run Argon2id for sign-in, setup, password changes and new members, so "
        "the HTTP threads never wait on it (each hash takes 19 MiB while it runs). `0` means "
        "half the CPU cores, at least one, so a sign-in flood leaves the API cores to serve."),
    INT("hash-max", "PIORA_HASH_MAX", "N", 1, 10000, 32, hash_max,
        "password hashes running or waiting at most; past it 503",
        "Password hashes running or waiting at most; a sign-in, setup, password change or "
        "new member past it is answered 503 with `Retry-After: 1`."),
    INT("store-threads", "PIORA_STORE_THREADS", "N", 0, 256, 0, store_threads,
        "threads that wait on a remote database or Redis, 0 = 4 per core",
        "With a remote database (`postgres://`), every step of a request that needs it runs "
        "on these threads, so the HTTP threads never wait on a round trip; each holds its own "
        "database connection. With `--redis`, so does every rate-limit decision Redis makes "
        "(and the rest of that request), also with a SQLite file. `0` means four per CPU "
        "core. A SQLite file without `--redis` needs none."),
    INT("store-max", "PIORA_STORE_MAX", "N", 1, 100000, 256, store_max,
        "requests waiting on a remote database or Redis at most; past it 503",
        "Requests on the `--store-threads` threads, running or waiting, at most; one more is "
        "answered 503 `unavailable` with `Retry-After: 1` (counted in `/metrics` as "
        "`piora_store_pool_refused_total`)."),
    INT("signin-limit", "PIORA_SIGNIN_LIMIT", "N", 0, 1000000, 10, signin_limit,
        "failed dashboard sign-ins per minute per address and per account, 0 = off",
        "Failed dashboard sign-ins (and wrong current passwords of a password change) per "
        "minute per client address (per /64 for IPv6) and per account before further tries "
        "get 429; also first-run setup attempts per minute per address. `0` turns it off."),
    SWITCH("usage-log", "PIORA_USAGE_LOG", 1, usage_log,
           "record every request of a known token in the usage log",
           "The per-token usage log: every request of a known token (also 401 revoked or "
           "expired, 403, 429) with time, method, path without the query string, status, "
           "client address and user agent (first 256 bytes). Written in batches by a "
           "background thread; a full queue drops entries and counts them "
           "(`piora_usage_log_dropped_total`) rather than slow a request."),
    INT("usage-retention-days", "PIORA_USAGE_RETENTION_DAYS", "N", 0, 36500, 90,
        usage_retention_days, "delete usage rows older than N days, 0 = keep",
        "Usage rows older than this are deleted (checked at start and every minute). `0` "
        "keeps them."),
    INT("usage-max-rows", "PIORA_USAGE_MAX_ROWS", "N", 0, 1000000000, 10000, usage_max_rows,
        "usage rows kept per token, 0 = no cap",
        "Usage rows kept per token (the newest), counted twice apart: up to N rows of denied "
        "requests (401 of a revoked or expired token, 403, 429) and up to N of the others, so "
        "a token cannot flush the traces of its own misuse by making many requests; `0` means "
        "no cap. Identical requests of one second written in the same batch share a row with "
        "a count, so a polling script costs about one row per second."),
    INT("usage-flush-interval", "PIORA_USAGE_FLUSH_INTERVAL", "SECONDS", 1, 60, 1,
        usage_flush_s, "how often queued usage rows are written, 1-60",
        "How often queued usage rows are written (sooner when the queue is half full)."),
    SWITCH("last-used", "PIORA_LAST_USED", 1, last_used,
           "track last_used_at (off only to measure its cost)",
           "Tracking of `last_used_at` and the last client address. Only for measuring its "
           "cost (`bench/monitoring.sh`); leave it on."),
    SWITCH("access-log", "PIORA_ACCESS_LOG", 1, access_log,
           "one JSON line per request on standard output",
           "One JSON line per request on standard output (see below)."),
    {"public-url", "PIORA_PUBLIC_URL", CONFIG_URL, "URL", 0, 0, 0, "", FIELD(public_url), 0,
     "the URL users reach Piora at, for the links it prints",
     "The URL users reach Piora at (`https://piora.example.com`, with a path prefix if a "
     "proxy adds one), the base of every link Piora prints: the first-run setup link and "
     "the API's `Link` headers, which become absolute from it. Unset, the setup link uses "
     "`--listen` (and says so when that is a wildcard address) and `Link` headers stay "
     "relative."},
    {"secret-key-file", "PIORA_SECRET_KEY_FILE", CONFIG_TEXT, "PATH", 0, 0, 0, "",
     FIELD(secret_key_file), 0, "master key file sealing the teams' SSH keys",
     "The master key file (32 random bytes) that seals the teams' SSH private keys and the "
     "users' TOTP keys in the database. Unset: `piora.key` beside the SQLite file, made with "
     "mode 0600 on first start. A file others may read is refused. Keep it with (but not in) "
     "the backups of the database: without it the stored keys cannot be opened: every team "
     "needs a new SSH key, and users with two-factor sign-in can sign in only with their "
     "recovery codes."},
    {"trusted-proxies", "PIORA_TRUSTED_PROXIES", CONFIG_ADDR_LIST, "LIST", 0, 0, 0, "",
     FIELD(trusted_proxies), 0,
     "comma-separated IPs or CIDR blocks whose X-Forwarded-For is believed",
     "Comma-separated IP addresses or CIDR blocks (`127.0.0.1,10.0.0.0/8,fd00::/8`) of "
     "reverse proxies. Only when the connection comes from one of them is `X-Forwarded-For` "
     "believed, and then the client is its right-most address that is not a listed proxy, "
     "whatever the header's length (it is read from the right; of a list longer than 2 KiB "
     "only the whole entries at its end are read). The client address is what rate limits, the usage log, the audit log and the access "
     "log see. Each entry is read as strictly as a token's address rules: a block with host "
     "bits set (`10.0.0.1/8`) refuses the start instead of being widened."},
    {"oidc-ca-file", "PIORA_OIDC_CA_FILE", CONFIG_TEXT, "PATH", 0, 0, 0, "", FIELD(oidc_ca_file),
     0, "PEM file of CA certificates added for OIDC issuers (trusted publishing)",
     "A PEM file of CA certificates trusted for OIDC issuers' discovery and JWKS, in addition "
     "to the system's (an issuer behind a private CA; the tests' own issuer). Empty: the "
     "system's only."},
    INT("oidc-refresh-interval", "PIORA_OIDC_REFRESH_INTERVAL", "SECONDS", 1, 3600, 60,
        oidc_refresh_s, "at most one JWKS refresh per issuer per this many seconds",
        "An OIDC token signed with a key id the cached JWKS lacks makes Piora fetch the "
        "issuer's keys again, at most once per this many seconds per issuer (a flood of "
        "made-up key ids costs the issuer one request a minute)."),
    {"backup-dir", "PIORA_BACKUP_DIR", CONFIG_TEXT, "PATH", 0, 0, 0, "", FIELD(backup_dir), 0,
     "the backup store; empty = backups/ beside the SQLite file (required with a URL)",
     "The backup store: the directory dumps are written to (made with mode 0700 if missing). "
     "A dump is written under a `.partial-` name while its SHA-256 is computed, synced, and "
     "renamed into place only when complete; a start removes `.partial-` files left by a "
     "crash. Empty: `backups/` beside the SQLite file. With a database URL it is required "
     "(`piora serve` refuses to start without it): a directory every node of the cluster "
     "shares."},
    INT("schedule-interval", "PIORA_SCHEDULE_INTERVAL", "SECONDS", 1, 60, 20, schedule_interval_s,
        "how often backup schedules are checked",
        "How often the backup scheduler looks for due slots and prunes old scheduled backups. A "
        "slot found up to 300 s late still runs (once: a unique key per database and slot), so "
        "any value up to 60 keeps schedules on time."),
    INT("jobs-per-server", "PIORA_JOBS_PER_SERVER", "N", 1, 64, 2, jobs_per_server,
        "running jobs per server at once",
        "At most this many jobs (deployments) run on one server at once; later ones wait in "
        "order. One application never runs two deployments at once whatever this is."),
    INT("queue-per-server", "PIORA_QUEUE_PER_SERVER", "N", 1, 10000, 25, queue_per_server,
        "waiting jobs per server; past it 429 queue_full",
        "At most this many jobs wait for one server; one more is refused with 429 "
        "`queue_full` and nothing is queued."),
    INT("job-timeout", "PIORA_JOB_TIMEOUT", "SECONDS", 1, 604800, 3600, job_timeout_s,
        "a job's time limit; past it the job fails with timeout",
        "A job's time limit from the start of its remote command. Past it the remote process "
        "group is killed (TERM, then KILL after 10 s) and the job ends `failed` with "
        "`timeout`."),
    INT("job-lease", "PIORA_JOB_LEASE", "SECONDS", 2, 60, 30, job_lease_s,
        "how long a running job's lease outlives its last heartbeat",
        "A running job holds a lease in the database that its node renews every third of this. "
        "When a node dies, its jobs end `failed` with `lost` once the lease is past (checked "
        "every second by every node): within this plus a few seconds, so the default keeps SPEC "
        "10's bound of 90 s. Tests use a few seconds."),
    INT("job-workers", "PIORA_JOB_WORKERS", "N", 1, 64, 8, job_workers,
        "runner threads of this node",
        "How many jobs this node runs at once across all servers (each on its own thread, never "
        "on an HTTP thread)."),
    {"redis", "PIORA_REDIS", CONFIG_TEXT, "URL", 0, 0, 0, "", FIELD(redis), 0,
     "redis://HOST[:PORT][/N]: rate limits shared by every node",
     "`redis://HOST[:PORT][/N]` (port 6379 and database 0 by default; IPv6 in brackets). The "
     "per-token limit (`--rate-limit`) and the per-address ones (`--auth-fail-limit`, "
     "`--revoke-limit`) are then shared by every node using this Redis: 10/min is 10/min for "
     "the cluster. Unset: each node limits on its own, and says so at start. If Redis stops "
     "answering (within `--redis-timeout`), nodes limit on their own, count it in "
     "`piora_ratelimit_redis_fallbacks_total`, log it once, try again every second and share "
     "again when it is back. Redis 7 (any version with `EVALSHA` and script `TIME`)."},
    INT("redis-timeout", "PIORA_REDIS_TIMEOUT", "MILLISECONDS", 10, 5000, 100, redis_timeout_ms,
        "how long a shared rate limit waits for Redis",
        "How long connecting to Redis, and each rate-limit call, may take before the request "
        "is limited by the node alone and Redis counts as down (retried every second). The call "
        "runs on the HTTP thread, so this is what a stalled Redis can add to a request; a "
        "stopped Redis refuses at once."),
};

const size_t config_settings_count = sizeof config_settings / sizeof config_settings[0];

void config_set_int(piora_config *c, const config_setting *s, int64_t v)
{
    char *p = (char *)c + s->offset;
    /* Ranges stay far below every field's limit, so narrowing keeps v. */
    switch (s->size) {
    case sizeof(int8_t): {
        int8_t x = (int8_t)v;
        memcpy(p, &x, sizeof x);
        break;
    }
    case sizeof(int16_t): {
        int16_t x = (int16_t)v;
        memcpy(p, &x, sizeof x);
        break;
    }
    case sizeof(int32_t): {
        int32_t x = (int32_t)v;
        memcpy(p, &x, sizeof x);
        break;
    }
    default:
        memcpy(p, &v, sizeof v);
        break;
    }
}

/* Copies text into a char[] field of the given size; the table's defaults
 * always fit. */
static void set_text(piora_config *c, size_t offset, size_t size, const char *text)
{
    size_t n = strlen(text);
    if (n >= size)
        n = size - 1;
    memcpy((char *)c + offset, text, n);
    ((char *)c)[offset + n] = '\0';
}

void config_defaults(piora_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < config_settings_count; i++) {
        const config_setting *s = &config_settings[i];
        switch (s->kind) {
        case CONFIG_INT:
        case CONFIG_SWITCH:
            config_set_int(c, s, s->def_num);
            break;
        case CONFIG_LISTEN: {
            uint16_t port = (uint16_t)s->def_num;
            memcpy((char *)c + s->port_offset, &port, sizeof port);
            set_text(c, s->offset, s->size, s->def_text);
            break;
        }
        case CONFIG_TEXT:
        case CONFIG_ADDR_LIST:
        case CONFIG_URL:
            set_text(c, s->offset, s->size, s->def_text);
            break;
        }
    }
}

void config_default_text(const config_setting *s, char *out, size_t outlen)
{
    switch (s->kind) {
    case CONFIG_INT:
        snprintf(out, outlen, "%lld", (long long)s->def_num);
        break;
    case CONFIG_SWITCH:
        snprintf(out, outlen, "%s", s->def_num ? "on" : "off");
        break;
    case CONFIG_LISTEN:
        if (strchr(s->def_text, ':'))
            snprintf(out, outlen, "[%s]:%lld", s->def_text, (long long)s->def_num);
        else
            snprintf(out, outlen, "%s:%lld", s->def_text, (long long)s->def_num);
        break;
    case CONFIG_TEXT:
    case CONFIG_ADDR_LIST:
    case CONFIG_URL:
        snprintf(out, outlen, "%s", s->def_text[0] ? s->def_text : "none");
        break;
    }
}
