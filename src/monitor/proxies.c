/* Trusted proxies as a short list of CIDR blocks, parsed once at start and
 * read without locks afterwards. Addresses compare as 16-byte IPv6 values
 * (IPv4 as ::ffff:a.b.c.d), so one matcher serves both families. */
#include "monitor/proxies.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROXIES_MAX 64
#define XFF_HOPS_MAX 32

typedef struct cidr {
    uint8_t addr[16];
    int bits; /* prefix length over the 128-bit form */
} cidr;

static cidr list[PROXIES_MAX];
static int nlist;

/* Parses a bare address; false for anything else (ports, brackets, zones). */
static bool addr_parse(const char *s, size_t n, uint8_t out[16], bool *v4)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, tmp, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *v4 = true;
        return true;
    }
    struct in6_addr a6;
    if (inet_pton(AF_INET6, tmp, &a6) == 1) {
        memcpy(out, &a6, 16);
        *v4 = false;
        return true;
    }
    return false;
}

static bool cidr_match(const cidr *c, const uint8_t a[16])
{
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a, (size_t)full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (a[full] & mask);
}

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
            return false;
        }
        const char *slash = memchr(item, '/', n);
        size_t alen = slash ? (size_t)(slash - item) : n;
        cidr c;
        bool v4 = false;
        if (!addr_parse(item, alen, c.addr, &v4)) {
            snprintf(err, errlen, "'%.*s' is not an IP address or CIDR block",
                     (int)(n > 60 ? 60 : n), item);
            return false;
        }
        int max = v4 ? 32 : 128, bits = max;
        if (slash) {
            const char *b = slash + 1;
            size_t blen = n - alen - 1;
            bits = 0;
            if (blen == 0 || blen > 3) {
                bits = -1;
            } else {
                for (size_t i = 0; i < blen; i++) {
                    if (b[i] < '0' || b[i] > '9') {
                        bits = -1;
                        break;
                    }
                    bits = bits * 10 + (b[i] - '0');
                }
            }
            if (bits < 0 || bits > max) {
                snprintf(err, errlen, "'%.*s' has an invalid prefix length",
                         (int)(n > 60 ? 60 : n), item);
                return false;
            }
        }
        c.bits = v4 ? bits + 96 : bits;
        list[nlist++] = c;
    }
    return true;
}

bool proxies_any(void) { return nlist > 0; }

bool proxies_trusted(const char *addr)
{
    uint8_t a[16];
    bool v4;
    if (!nlist || !addr || !addr_parse(addr, strlen(addr), a, &v4))
        return false;
    for (int i = 0; i < nlist; i++)
        if (cidr_match(&list[i], a))
            return true;
    return false;
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
        uint8_t a[16];
        bool v4;
        if (!addr_parse(item, n, a, &v4))
            return;
        char norm[INET6_ADDRSTRLEN];
        if (v4)
            inet_ntop(AF_INET, a + 12, norm, sizeof norm);
        else
            inet_ntop(AF_INET6, a, norm, sizeof norm);
        snprintf(out, outlen, "%s", norm);
        if (!proxies_trusted(norm))
            return; /* the right-most untrusted hop: the client */
    }
}

void proxies_free(void) { nlist = 0; }
