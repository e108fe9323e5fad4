/* The one source of time. Tests move it with clock_set_offset() instead of
 * sleeping; every expiry, rate-limit and last-used decision reads it here. */
#ifndef PIORA_UTIL_CLOCK_H
#define PIORA_UTIL_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RFC3339_LEN 21 /* "2026-11-28T07:09:40Z" + NUL */

int64_t clock_now(void);      /* epoch seconds (wall clock + offset) */
int64_t clock_now_ms(void);   /* epoch milliseconds */
int64_t clock_mono_ns(void);  /* monotonic, for durations and limiters */
void clock_set_offset(int64_t seconds); /* tests only */

/* Formats epoch seconds as RFC 3339 UTC ("...Z"). */
void clock_fmt_rfc3339(int64_t t, char out[RFC3339_LEN]);
/* Parses "YYYY-MM-DD" (midnight UTC) or RFC 3339 with Z or an offset.
 * Returns false on anything else, including impossible dates. */
bool clock_parse_rfc3339(const char *s, int64_t *out);

#endif
