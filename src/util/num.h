/* Strict decimal integers from outside (query parameters, flags): digits
 * only, an optional '-' when negatives are allowed, no spaces, no '+', no
 * overflow. strtoll accepts all of those, so it is not used for input. */
#ifndef PIORA_UTIL_NUM_H
#define PIORA_UTIL_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* True and *out set when s is a decimal in [min, max]. */
bool num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* True and *out set when s is a decimal of digits only in [0, max] (a
 * Content-Length, a size): no sign, no spaces, no overflow. */
bool num_parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
