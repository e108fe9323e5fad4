/* req_defer (http/request.h): the handler's side of a suspended request.
 * http/server.c suspends the connection when the pipeline comes back
 * pending and submits pipeline_finish into the place reserved here. */
#include "http/request.h"

#include "http/response.h"
#include "util/workpool.h"

bool req_defer(req_t *r, req_deferred_fn fn, void *ctx)
{
    if (!r->pool) {
        fn(r, ctx);
        return true;
    }
    if (!workpool_reserve(r->pool)) {
        resp_header(r, "Retry-After", "1");
        resp_problem(r, 503, "busy",
                     "The server is busy checking other passwords; try again in a moment.", NULL);
        return false;
    }
    r->pending.fn = fn;
    r->pending.ctx = ctx;
    return true;
}
