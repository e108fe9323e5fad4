/* The client address behind trusted reverse proxies (--trusted-proxies):
 * X-Forwarded-For is believed only when the socket peer is a listed proxy,
 * and then only up to the first hop (from the right) that is not one, so a
 * client cannot choose its address by sending the header itself. */
#ifndef PIORA_MONITOR_PROXIES_H
#define PIORA_MONITOR_PROXIES_H

#include <stdbool.h>
#include <stddef.h>

/* spec: comma-separated IPv4/IPv6 addresses or CIDR blocks, or "" for none.
 * false (and a one-line reason in err) on any malformed item. */
bool proxies_parse(const char *spec, char *err, size_t errlen);
bool proxies_any(void); /* at least one proxy is configured */
bool proxies_trusted(const char *addr);

/* peer: the socket's address; xff: the X-Forwarded-For values joined with
 * ',' in header order (may be NULL). Writes the client address to out. */
void proxies_client_addr(const char *peer, const char *xff, char *out, size_t outlen);

void proxies_free(void);

#endif
