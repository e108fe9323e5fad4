/* Liveness and readiness, for load balancers and orchestrators. Neither
 * takes a token nor reveals anything beyond "up" or "not ready". */
#include "api/api.h"

#include "http/response.h"

void health_live(req_t *r) { resp_json(r, 200, json_pack("{s:s}", "status", "ok")); }

void health_ready(req_t *r)
{
    if (store_ping(r->store) != PIORA_OK) {
        resp_problem(r, 503, "unavailable", "The database does not answer.", NULL);
        return;
    }
    resp_json(r, 200, json_pack("{s:s}", "status", "ok"));
}
