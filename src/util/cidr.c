/* CIDR parsing and matching over 16-byte addresses (cidr.h). */
#include "util/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const uint8_t V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_mapped(const uint8_t a[16]) { return memcmp(a, V4_MAPPED, 12) == 0; }

/* Four decimal parts 0-255 without leading zeros: inet_pton takes no
 * octal, but "010.1.1.1" reads as ten to a person and as eight to some
 * tools, so neither reading is accepted. */
static bool ipv4_strict(const char *s, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (i <= n) {
        size_t start = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (unsigned)(s[i] - '0');
            if (i - start >= 3 || v > 255)
                return false;
            i++;
        }
        size_t len = i - start;
        if (len == 0 || (len > 1 && s[start] == '0'))
            return false;
        parts++;
        if (i == n)
            break;
        if (s[i] != '.')
            return false;
        i++;
    }
    return parts == 4;
}

bool cidr_addr_parse(const char *s, size_t n, uint8_t out[16])
{
    char tmp[INET6_ADDRSTRLEN + 1];
    if (!s || n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (memchr(tmp, '\0', n))
        return false;
    if (!memchr(tmp, ':', n)) {
        if (!ipv4_strict(tmp, n) || inet_pton(AF_INET, tmp, out + 12) != 1)
            return false;
        memcpy(out, V4_MAPPED, 12);
        return true;
    }
    /* Only hex digits, ':' and '.': no zone ids, brackets or spaces. */
    for (size_t i = 0; i < n; i++) {
        char c = tmp[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == ':' || c == '.'))
            return false;
    }
    if (inet_pton(AF_INET6, tmp, out) != 1)
        return false;
    const char *last = strrchr(tmp, ':');
    if (strchr(last, '.') && !ipv4_strict(last + 1, strlen(last + 1)))
        return false;
    return true;
}

static bool host_bits_zero(const uint8_t a[16], unsigned bits)
{
    for (unsigned i = bits; i < 128; i++)
        if (a[i / 8] & (0x80u >> (i % 8)))
            return false;
    return true;
}

bool cidr_parse(const char *s, size_t n, cidr_t *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "must be an IPv4 or IPv6 address or CIDR block";
    if (!s || n == 0)
        return false;
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    uint8_t a[16];
    if (!cidr_addr_parse(s, alen, a))
        return false;
    bool v4 = !memchr(s, ':', alen);
    unsigned max = v4 ? 32 : 128, bits = max;
    if (slash) {
        const char *p = slash + 1;
        size_t plen = n - alen - 1;
        if (plen == 0 || plen > 3 || (plen > 1 && p[0] == '0')) {
            *why = "has a bad prefix length";
            return false;
        }
        bits = 0;
        for (size_t i = 0; i < plen; i++) {
            if (p[i] < '0' || p[i] > '9') {
                *why = "has a bad prefix length";
                return false;
            }
            bits = bits * 10 + (unsigned)(p[i] - '0');
        }
        if (bits > max) {
            *why = v4 ? "has a prefix length over 32" : "has a prefix length over 128";
            return false;
        }
    }
    /* An IPv6 spelling of a mapped IPv4 block is that IPv4 block. */
    unsigned full = v4 ? bits + 96 : bits;
    if (!host_bits_zero(a, full)) {
        *why = "has host bits set (write the network address, e.g. 203.0.113.0/24)";
        return false;
    }
    memcpy(out->addr, a, 16);
    out->bits = (uint8_t)full;
    return true;
}

bool cidr_contains(const cidr_t *c, const uint8_t a[16])
{
    unsigned whole = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a, whole) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (c->addr[whole] & mask) == (a[whole] & mask);
}

void cidr_format(const cidr_t *c, char out[CIDR_TEXT_MAX])
{
    char addr[INET6_ADDRSTRLEN];
    bool v4 = c->bits >= 96 && is_mapped(c->addr);
    unsigned bits = v4 ? c->bits - 96u : c->bits;
    if (!inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? c->addr + 12 : c->addr, addr, sizeof addr))
        addr[0] = '\0';
    if (bits == (v4 ? 32u : 128u))
        snprintf(out, CIDR_TEXT_MAX, "%s", addr);
    else
        snprintf(out, CIDR_TEXT_MAX, "%s/%u", addr, bits);
}
