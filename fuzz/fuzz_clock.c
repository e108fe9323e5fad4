/* clock_parse_rfc3339 reads client-given times (token expiry, FK_TIME
 * fields). Whatever it accepts must format as a 20-character RFC 3339 UTC
 * string, and an input already in that canonical form must come back
 * unchanged through format and parse (a leap second :60 may roll over to
 * the next minute, but to the same instant). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* 9999-12-31T23:59:59Z: the parser takes years 1970-9999 only, so every
 * instant it returns must lie between the two ends of that range. */
#define LAST_INSTANT INT64_C(253402300799)

/* "YYYY-MM-DDTHH:MM:SSZ" by shape (digits where digits go). */
static int canonical(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != sizeof shape - 1)
        return 0;
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    int64_t t = INT64_MIN;
    if (clock_parse_rfc3339(s, &t)) {
        CHECK(t >= 0 && t <= LAST_INSTANT);
        char out[RFC3339_LEN];
        memset(out, 'x', sizeof out);
        clock_fmt_rfc3339(t, out);
        CHECK(memchr(out, '\0', sizeof out) != NULL);
        if (canonical(s)) {
            CHECK(canonical(out));
            int64_t again = INT64_MIN;
            CHECK(clock_parse_rfc3339(out, &again));
            CHECK(again == t);
            if (memcmp(s + 17, "60", 2) != 0)
                CHECK(strcmp(out, s) == 0);
        }
    }
    free(s);
    return 0;
}
