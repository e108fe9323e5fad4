/* A list of field errors (field, message), what a 422 answer lists: core/
 * fills it while validating, http/response.h turns it into the answer. It
 * lives in util/ because both layers need it and neither may include the
 * other. */
#ifndef PIORA_UTIL_VERRS_H
#define PIORA_UTIL_VERRS_H

#include <stddef.h>

#define VERRS_MAX 16

typedef struct verr {
    char field[64];
    char message[160];
} verr;

typedef struct verrs {
    verr items[VERRS_MAX];
    size_t n; /* kept at most VERRS_MAX; further errors are dropped */
} verrs;

void verrs_add(verrs *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
