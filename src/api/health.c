/* Liveness and readiness, for load balancers and orchestrators. Neither
 * takes a token nor reveals anything beyond "up" or "not ready". */
#include "api/api.h"

#include "http/response.h"
#include "monitor/metrics.h"
#include "util/clock.h"

void health_live(req_t *r) { resp_json(r, 200, json_pack("{s:s}", "status", "ok")); }

/* A real query on this thread's connection, timed for /metrics: "ready"
 * means the database answers now, not that it did at start. */
void health_ready(req_t *r)
{
    int64_t t0 = clock_mono_ns();
    piora_err e = store_ping(r->store);
    metrics_db(MD_PING, clock_mono_ns() - t0);
    if (e != PIORA_OK) {
        resp_problem(r, 503, "unavailable", "The database does not answer.", NULL);
        return;
    }
    resp_json(r, 200, json_pack("{s:s}", "status", "ok"));
}
