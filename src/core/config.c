#include "core/config.h"

#include <string.h>

void config_defaults(piora_config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    strcpy(c->database, "./piora.db");
    c->rate_limit = 1000;
    c->auth_fail_limit = 30;
    c->revoke_limit = 10;
    c->threads = 0;
    c->max_connections = 1024;
    c->idle_timeout_s = 30;
    c->max_header_bytes = 16384;
    c->touch_interval_s = 15;
    c->session_idle_s = 1800;
    c->session_lifetime_s = 43200;
    c->secure_cookies = 0;
    c->signin_limit = 10;
    c->usage_log = 1;
    c->usage_retention_days = 90;
    c->usage_max_rows = 10000;
    c->usage_flush_s = 1;
    c->last_used = 1;
    c->access_log = 1;
}
