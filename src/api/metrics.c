/* GET /metrics: the Prometheus exposition. Gauges owned by other modules
 * (queues, in-flight requests) are read here, at scrape time, so the
 * request path never does more than an atomic add for them. */
#include "api/api.h"

#include "auth/password.h"
#include "authn/lastused.h"
#include "http/response.h"
#include "http/server.h"
#include "monitor/accesslog.h"
#include "monitor/metrics.h"
#include "monitor/usagelog.h"

void metrics_serve(req_t *r)
{
    metrics_gauges g = {
        .usage_queue_depth = usagelog_depth(),
        .usage_dropped = usagelog_dropped(),
        .usage_written = usagelog_written(),
        .lastused_dropped = lastused_dropped(),
        .access_log_dropped = accesslog_dropped(),
        .inflight = http_server_inflight(),
        .password_hashes = password_hash_count(),
        .hash_busy = http_server_slow_busy(),
        .hash_refused = http_server_slow_refused(),
    };
    buf_t b;
    buf_init(&b, 4u << 20);
    metrics_render(&b, &g);
    if (b.failed) {
        buf_free(&b);
        resp_problem(r, 500, "internal_error", "The metrics did not fit in memory.", NULL);
        return;
    }
    resp_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    resp_header(r, "Cache-Control", "no-store");
    buf_free(&b);
}
