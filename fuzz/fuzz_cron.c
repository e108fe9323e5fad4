/* cron_parse reads a client-given backup_schedule. Whatever it accepts has
 * bits only inside each field's range and at least one per field; its next
 * slot (from an instant the input also picks) is a whole minute strictly
 * later that cron_matches agrees with, and no minute between the two
 * matches; the error message is a terminated string that never quotes the
 * input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cron.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the first 4 bytes pick the instant to search from (up to 2106) */
    uint32_t after = 0;
    if (size >= 4) {
        memcpy(&after, data, 4);
        data += 4;
        size -= 4;
    }
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    cron_expr c;
    char err[64];
    memset(err, 'x', sizeof err);
    if (cron_parse(s, &c, err, sizeof err)) {
        CHECK(c.minutes && !(c.minutes >> 60));
        CHECK(c.hours && !(c.hours >> 24));
        CHECK(c.mdays && !(c.mdays & 1u));
        CHECK(c.months && !(c.months & 1u) && !(c.months >> 13));
        CHECK(c.wdays && !(c.wdays >> 7));
        int64_t n = cron_next(&c, after);
        if (n >= 0) {
            CHECK(n > (int64_t)after && n % 60 == 0);
            CHECK(cron_matches(&c, n));
            /* nothing in between, checked over at most a day of minutes */
            int64_t from = (int64_t)after / 60 * 60 + 60;
            for (int64_t t = from; t < n && t < from + 86400; t += 60)
                CHECK(!cron_matches(&c, t));
        }
    } else {
        CHECK(memchr(err, '\0', sizeof err) != NULL);
        if (strlen(s) >= 8)
            CHECK(strstr(err, s) == NULL);
    }
    free(s);
    return 0;
}
