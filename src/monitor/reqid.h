/* X-Request-Id: a client's id is echoed when it is 1-128 characters of
 * [A-Za-z0-9._-] (safe in a header, a log line and a URL); any other value
 * is replaced by a new random one, as is a missing one. */
#ifndef PIORA_MONITOR_REQID_H
#define PIORA_MONITOR_REQID_H

#include <stdbool.h>
#include <stddef.h>

#define REQID_MAX 128
#define REQID_NEW_LEN 16 /* hex characters of a generated id */

bool reqid_valid(const char *s, size_t n);
/* 16 lower-case hex characters, unique per request (a CSPRNG-seeded
 * generator per thread; ids are not secrets), NUL-terminated. */
void reqid_new(char out[REQID_NEW_LEN + 1]);

#endif
