#include "http/peer.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "http/request.h"
#include "monitor/proxies.h"

static void client_addr(struct MHD_Connection *c, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outlen, "unknown");
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

/* The tail of every X-Forwarded-For value joined with ',' in header order.
 * Only the right end matters (proxies_client_addr reads hops from the right
 * and at most XFF_HOPS_MAX of them), so a longer list keeps its last bytes
 * and drops the rest: a client padding the header cannot push its own
 * address out of sight, and the work stays bounded by the buffer. */
typedef struct xff_acc {
    char buf[2048]; /* XFF_HOPS_MAX (32) IPv6 entries and their ", " fit */
    size_t len;
    bool seen; /* a value was appended: the next one needs a ',' */
    bool cut;  /* bytes were dropped from the front */
} xff_acc;

static void xff_append(xff_acc *a, const char *s, size_t n)
{
    const size_t cap = sizeof a->buf - 1;
    if (n >= cap) {
        memcpy(a->buf, s + (n - cap), cap);
        a->len = cap;
        a->cut = true;
        return;
    }
    if (a->len + n > cap) {
        size_t drop = a->len + n - cap;
        memmove(a->buf, a->buf + drop, a->len - drop);
        a->len -= drop;
        a->cut = true;
    }
    memcpy(a->buf + a->len, s, n);
    a->len += n;
}

static enum MHD_Result xff_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    (void)kind;
    xff_acc *a = cls;
    if (!key || strcasecmp(key, "X-Forwarded-For") != 0 || !value)
        return MHD_YES;
    if (a->seen)
        xff_append(a, ",", 1);
    xff_append(a, value, strlen(value));
    a->seen = true;
    return MHD_YES;
}

/* The socket's address, or the client behind a trusted proxy (every
 * X-Forwarded-For header, in order, read as one list, whatever its length).
 * Of a list longer than the buffer only whole entries at its right end are
 * read: the first, cut one is skipped so a fragment ("10.0.0.1" of
 * "110.0.0.1") is never taken for an address. */
static void request_addr(struct MHD_Connection *c, const char *peer, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", peer);
    if (!proxies_any() || !proxies_trusted(peer))
        return;
    xff_acc a;
    a.len = 0;
    a.seen = false;
    a.cut = false;
    MHD_get_connection_values(c, MHD_HEADER_KIND, xff_cb, &a);
    a.buf[a.len] = '\0';
    const char *list = a.buf;
    if (a.cut) {
        const char *comma = memchr(a.buf, ',', a.len);
        if (!comma)
            return; /* one entry longer than the buffer: not an address */
        list = comma + 1;
    }
    if (*list)
        proxies_client_addr(peer, list, out, outlen);
}

void peer_request_id(struct MHD_Connection *c, char out[REQID_MAX + 1])
{
    const char *v = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "X-Request-Id", 12, &v, &n) ==
            MHD_YES &&
        v && reqid_valid(v, n) && strlen(v) == n) {
        memcpy(out, v, n);
        out[n] = '\0';
        return;
    }
    reqid_new(out);
}

void peer_addresses(struct MHD_Connection *c, char *peer, size_t peerlen, char *client,
                    size_t clientlen)
{
    client_addr(c, peer, peerlen);
    request_addr(c, peer, client, clientlen);
}

/* piora serve itself speaks plain HTTP, so the answer comes from a reverse
 * proxy's X-Forwarded-Proto, believed only when the socket peer is one of
 * --trusted-proxies. */
bool req_https(req_t *r)
{
    const char *proto = req_header(r, "X-Forwarded-Proto");
    if (!proto || !proxies_any())
        return false;
    /* the first value is the one the client's own hop set */
    size_t n = strcspn(proto, ", ");
    if (n != 5 || strncasecmp(proto, "https", 5) != 0)
        return false;
    return r->peer_addr && proxies_trusted(r->peer_addr);
}
