/* GET /metrics: the Prometheus exposition. Gauges owned by other modules
 * (queues, in-flight requests) are read at scrape time through the reader
 * app/ registered (metrics_set_gauges), so the request path never does more
 * than an atomic add for them and this handler knows none of those modules. */
#include "api/api.h"

#include "http/response.h"
#include "monitor/metrics.h"

void metrics_serve(req_t *r)
{
    buf_t b;
    buf_init(&b, 4u << 20);
    metrics_scrape(&b);
    if (b.failed) {
        buf_free(&b);
        resp_problem(r, 500, "internal_error", "The metrics did not fit in memory.", NULL);
        return;
    }
    resp_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    resp_header(r, "Cache-Control", "no-store");
    buf_free(&b);
}
