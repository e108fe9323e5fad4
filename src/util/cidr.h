/* Address rules of SPEC 11: IPv4 and IPv6 addresses and CIDR blocks,
 * compared as 16-byte values. IPv4 lives in the IPv4-mapped range
 * (::ffff:a.b.c.d, prefix + 96), so 203.0.113.7 and ::ffff:203.0.113.7 are
 * one address to every rule, and 0.0.0.0/0 covers every IPv4 client while
 * only ::/0 covers everything. */
#ifndef PIORA_UTIL_CIDR_H
#define PIORA_UTIL_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" and a NUL. */
#define CIDR_TEXT_MAX 54

typedef struct cidr_t {
    uint8_t addr[16]; /* host bits are zero */
    uint8_t bits;     /* 0..128, over the 16-byte form */
} cidr_t;

/* Parses an address ("203.0.113.7", "2001:db8::1") or a block
 * ("203.0.113.0/24", "2001:db8::/48") of exactly n bytes. Strict: decimal
 * IPv4 with four parts, no zone ids, brackets, ports or spaces, no leading
 * zeros in a prefix length. A block with host bits set (203.0.113.7/24)
 * is refused: it usually means a typo, and silently widening a rule is
 * the wrong way to guess. On false, why (may be NULL) says what is wrong. */
bool cidr_parse(const char *s, size_t n, cidr_t *out, const char **why);

/* A bare address (a client's), mapped IPv4 normalized. */
bool cidr_addr_parse(const char *s, size_t n, uint8_t out[16]);

bool cidr_contains(const cidr_t *c, const uint8_t addr[16]);

/* The canonical text: IPv4 blocks as a.b.c.d/n, others as RFC 5952 text;
 * a single address (/32, /128) without its length. */
void cidr_format(const cidr_t *c, char out[CIDR_TEXT_MAX]);

#endif
