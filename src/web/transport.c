/* Was this request made over HTTPS? piora serve itself speaks plain HTTP,
 * so the answer comes from a reverse proxy's X-Forwarded-Proto, believed
 * only when the socket peer is one of --trusted-proxies (monitor/proxies.h),
 * or from --secure-cookies 1. The session cookie is marked Secure then. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "monitor/proxies.h"
#include "web/internal.h"

/* The socket peer (not the client address behind proxies). */
static void peer_addr(req_t *r, char *out, size_t outlen)
{
    snprintf(out, outlen, "unknown");
    if (!r->conn)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)outlen);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
    }
}

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
    char peer[64];
    peer_addr(r, peer, sizeof peer);
    return proxies_trusted(peer);
}
