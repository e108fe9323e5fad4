/* Was this request made over HTTPS? piora serve itself speaks plain HTTP,
 * so the answer comes from a reverse proxy's X-Forwarded-Proto, believed
 * only when the socket peer is one of --trusted-proxies (monitor/proxies.h),
 * or from --secure-cookies 1. The session cookie is marked Secure then. */
#include <string.h>
#include <strings.h>

#include "monitor/proxies.h"
#include "web/internal.h"

bool web_request_secure(req_t *r)
{
    if (web_cfg.secure_cookies)
        return true;
    const char *proto = req_header(r, "X-Forwarded-Proto");
    if (!proto || !proxies_any())
        return false;
    /* the first value is the one the client's own hop set */
    size_t n = strcspn(proto, ", ");
    if (n != 5 || strncasecmp(proto, "https", 5) != 0)
        return false;
    return r->peer_addr && proxies_trusted(r->peer_addr);
}
