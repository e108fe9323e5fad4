/* Every setting of `piora serve`, with its default. Each is a flag and a
 * PIORA_* environment variable (the flag wins); cli/serve.c fills it. */
#ifndef PIORA_CORE_CONFIG_H
#define PIORA_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct piora_config {
    char listen_host[256];     /* --listen host part; default 127.0.0.1 */
    uint16_t listen_port;      /* --listen port; default 8080 */
    char database[4096];       /* --database; default ./piora.db */
    int64_t rate_limit;        /* --rate-limit: requests/minute/token; default 1000 */
    int64_t auth_fail_limit;   /* --auth-fail-limit: failed auths/minute/address; default 30 */
    int64_t revoke_limit;      /* --revoke-limit: /credentials/revoke calls/minute/address; 10 */
    unsigned threads;          /* --threads: polling threads; 0 = number of cores */
    unsigned max_connections;  /* --max-connections; default 1024 */
    unsigned idle_timeout_s;   /* --idle-timeout; default 30 */
    size_t max_header_bytes;   /* --max-header-bytes: per-connection header memory; 16384 */
    unsigned touch_interval_s; /* --last-used-interval: last-used flush period; 15 (<= 60) */
    /* the dashboard (web/, docs/dashboard.md) */
    int64_t session_idle_s;     /* --session-idle-timeout: idle sign-out; default 1800 */
    int64_t session_lifetime_s; /* --session-lifetime: absolute sign-out; default 43200 */
    int secure_cookies;         /* --secure-cookies: 1 = always mark Secure; default 0 */
    int64_t signin_limit;       /* --signin-limit: failed sign-ins/minute per address and
                                   per account; default 10 */
    /* monitoring (monitor/, docs/configuration.md) */
    int usage_log;                /* --usage-log on|off: the per-token usage log; on */
    int64_t usage_retention_days; /* --usage-retention-days: 0 = keep; default 90 */
    int64_t usage_max_rows;       /* --usage-max-rows: rows kept per token, 0 = no cap; 10000 */
    unsigned usage_flush_s;       /* --usage-flush-interval: queue write period; 1 (<= 60) */
    int last_used;                /* --last-used on|off: last_used_at tracking; on */
    int access_log;               /* --access-log on|off: JSON lines on stdout; on */
    char trusted_proxies[1024];   /* --trusted-proxies: IPs/CIDRs whose X-Forwarded-For
                                     is believed; default none */
} piora_config;

#define BODY_MAX_BYTES (1u << 20) /* SPEC 4: over 1 MiB is a 413 */

void config_defaults(piora_config *c);

#endif
