/* Every setting of `piora serve`, with its default. Each is a flag and a
 * PIORA_* environment variable (the flag wins). The settings table below is
 * the one place a setting is named: its defaults (config_defaults), the
 * parsing and range checks of app/settings.c, `piora serve --help` and the
 * table of docs/configuration.md all come from it. */
#ifndef PIORA_CORE_CONFIG_H
#define PIORA_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct piora_config {
    char listen_host[256];     /* --listen host part */
    uint16_t listen_port;      /* --listen port */
    char database[4096];       /* --database */
    int64_t rate_limit;        /* --rate-limit: requests/minute/token */
    int64_t auth_fail_limit;   /* --auth-fail-limit: failed auths/minute/address */
    int64_t revoke_limit;      /* --revoke-limit: /credentials/revoke calls/minute/address */
    unsigned threads;          /* --threads: polling threads; 0 = number of cores */
    unsigned max_connections;  /* --max-connections */
    unsigned idle_timeout_s;   /* --idle-timeout */
    unsigned max_per_address;  /* --max-connections-per-address, 0 = no cap */
    unsigned header_timeout_s; /* --header-timeout: the whole request head */
    unsigned body_timeout_s;   /* --body-timeout: the whole body, after its head */
    size_t body_memory;        /* --body-memory: bodies buffered across connections */
    size_t max_header_bytes;   /* --max-header-bytes: per-connection header memory */
    size_t response_cache_bytes; /* --response-cache-bytes: http/respcache.h budget */
    unsigned touch_interval_s; /* --last-used-interval: last-used flush period */
    /* the dashboard (web/, docs/dashboard.md) */
    int64_t session_idle_s;     /* --session-idle-timeout: idle sign-out */
    int64_t session_lifetime_s; /* --session-lifetime: absolute sign-out */
    int secure_cookies;         /* --secure-cookies: 1 = always mark Secure */
    unsigned hash_threads;      /* --hash-threads: the password-hashing pool */
    unsigned hash_max;          /* --hash-max: its hashes running or waiting */
    int64_t signin_limit;       /* --signin-limit: failed sign-ins/minute per address and
                                   per account */
    /* monitoring (monitor/, docs/configuration.md) */
    int usage_log;                /* --usage-log on|off: the per-token usage log */
    int64_t usage_retention_days; /* --usage-retention-days: 0 = keep */
    int64_t usage_max_rows;       /* --usage-max-rows: rows kept per token, 0 = no cap */
    unsigned usage_flush_s;       /* --usage-flush-interval: queue write period */
    int last_used;                /* --last-used on|off: last_used_at tracking */
    int access_log;               /* --access-log on|off: JSON lines on stdout */
    char trusted_proxies[1024];   /* --trusted-proxies: IPs/CIDRs whose X-Forwarded-For
                                     is believed; empty = none */
    char public_url[512];         /* --public-url: the base of every link Piora prints;
                                     empty = from --listen */
    int64_t sudo_window_s;        /* --sudo-window: how long a sign-in lets a session make
                                     or regenerate tokens without re-authenticating */
    /* trusted publishing (core/oidc.c, docs/trusted-publishing.md) */
    char oidc_ca_file[1024];      /* --oidc-ca-file: CAs added for issuers; empty = none */
    int64_t oidc_refresh_s;       /* --oidc-refresh-interval: at most one JWKS fetch per
                                     issuer per this many seconds */
    /* backups (issue 11, docs/backups.md) */
    char backup_dir[4096];        /* --backup-dir: the backup store; empty = backups/
                                     beside the SQLite file */
    unsigned schedule_interval_s; /* --schedule-interval: how often schedules are checked */
    char secret_key_file[4096];   /* --secret-key-file: the master key sealing team SSH
                                     keys; empty = piora.key beside the SQLite file */
    /* the job runner (issue 9, docs/jobs.md) */
    unsigned jobs_per_server;     /* --jobs-per-server: running jobs per server */
    unsigned queue_per_server;    /* --queue-per-server: waiting jobs per server */
    unsigned job_timeout_s;       /* --job-timeout: a job's time limit */
    unsigned job_lease_s;         /* --job-lease: how long a lease outlives its heartbeat */
    unsigned job_workers;         /* --job-workers: runner threads of this node */
    /* cluster (issue 10, SPEC 1) */
    char redis[1024];             /* --redis: redis://HOST[:PORT][/N] shared limits; empty =
                                     each node limits alone */
    unsigned redis_timeout_ms;    /* --redis-timeout: to connect and per call */
} piora_config;

#define BODY_MAX_BYTES (1u << 20) /* SPEC 4: over 1 MiB is a 413 */

/* What a setting's value is, which decides how it is parsed, checked and
 * shown. */
typedef enum config_kind {
    CONFIG_INT,      /* decimal integer in [min, max] into an integer field */
    CONFIG_SWITCH,   /* on|off (also 1|0, true|false) into an int field */
    CONFIG_TEXT,     /* a string that fits its char[] field */
    CONFIG_LISTEN,   /* HOST:PORT or [v6]:PORT into a char[] field and port_offset */
    CONFIG_ADDR_LIST, /* comma-separated IPs and CIDR blocks into a char[] field */
    CONFIG_URL        /* empty, or an http:// or https:// URL with a host, into a char[] */
} config_kind;

/* One row per setting (Redis's config table is the model). The field is
 * named by offset and size, so one loop fills any integer width. */
typedef struct config_setting {
    const char *flag;    /* without "--" */
    const char *env;     /* PIORA_* */
    config_kind kind;
    const char *metavar; /* what the value looks like in help: "N", "SECONDS" */
    int64_t min, max;    /* CONFIG_INT only */
    int64_t def_num;     /* CONFIG_INT, CONFIG_SWITCH; CONFIG_LISTEN: the port */
    const char *def_text; /* CONFIG_TEXT, CONFIG_LISTEN (host), CONFIG_ADDR_LIST */
    size_t offset, size; /* the piora_config field */
    size_t port_offset;  /* CONFIG_LISTEN: the uint16_t port field */
    const char *help;    /* one or two lines for `piora serve --help` */
    const char *doc;     /* the meaning column of docs/configuration.md */
} config_setting;

extern const config_setting config_settings[];
extern const size_t config_settings_count;

/* Every field set to its table default (and the rest zero). */
void config_defaults(piora_config *c);

/* Stores v into the integer field of s in c, whatever its width. */
void config_set_int(piora_config *c, const config_setting *s, int64_t v);

/* The default as an operator would write it: "1000", "on", "none",
 * "127.0.0.1:8080". */
void config_default_text(const config_setting *s, char *out, size_t outlen);

#endif
