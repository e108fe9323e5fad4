/* Trusted proxies as a short list of CIDR blocks, parsed once at start and
 * read without locks afterwards. The blocks and addresses are util/cidr.h's
 * (16-byte values, IPv4 as ::ffff:a.b.c.d), the same strict parser the
 * tokens' address rules use, so one matcher serves both families. */
#include "monitor/proxies.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/cidr.h"

#define PROXIES_MAX 64
#define XFF_HOPS_MAX 32

static cidr_t list[PROXIES_MAX];
static int nlist;

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

bool proxies_parse(const char *spec, char *err, size_t errlen)
{
    nlist = 0;
    if (!spec)
        return true;
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        trim(&item, &n);
        p += (comma ? (size_t)(comma - p) + 1 : strlen(p));
        if (n == 0)
            continue;
        if (nlist == PROXIES_MAX) {
            snprintf(err, errlen, "more than %d entries", PROXIES_MAX);
            nlist = 0;
            return false;
        }
        const char *why = NULL;
        if (!cidr_parse(item, n, &list[nlist], &why)) {
            snprintf(err, errlen, "'%.*s': %s", (int)(n > 60 ? 60 : n), item,
                     why ? why : "not an IP address or CIDR block");
            nlist = 0;
            return false;
        }
        nlist++;
    }
    return true;
}

static bool trusted(const uint8_t a[16])
{
    for (int i = 0; i < nlist; i++)
        if (cidr_contains(&list[i], a))
            return true;
    return false;
}

bool proxies_any(void) { return nlist > 0; }

bool proxies_trusted(const char *addr)
{
    uint8_t a[16];
    return nlist && addr && cidr_addr_parse(addr, strlen(addr), a) && trusted(a);
}

/* Walks X-Forwarded-For from the right: each hop was appended by the proxy
 * to its right, so hops are believed while the one that reported them is
 * trusted. A malformed hop stops the walk at the last address we believe. */
void proxies_client_addr(const char *peer, const char *xff, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", peer);
    if (!xff || !*xff || !proxies_trusted(peer))
        return;
    const char *end = xff + strlen(xff);
    for (int hop = 0; hop < XFF_HOPS_MAX && end > xff; hop++) {
        const char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        const char *item = start;
        size_t n = (size_t)(end - start);
        trim(&item, &n);
        end = start > xff ? start - 1 : xff;
        if (n == 0)
            continue;
        cidr_t hop_addr = {.bits = 128};
        if (!cidr_addr_parse(item, n, hop_addr.addr))
            return;
        char norm[CIDR_TEXT_MAX];
        cidr_format(&hop_addr, norm); /* canonical: a.b.c.d, or RFC 5952 */
        snprintf(out, outlen, "%s", norm);
        if (!trusted(hop_addr.addr))
            return; /* the right-most untrusted hop: the client */
    }
}

void proxies_free(void) { nlist = 0; }
