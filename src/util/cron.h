/* Five-field cron expressions (minute hour day-of-month month day-of-week),
 * always in UTC: a database's backup_schedule. The syntax is the common
 * Vixie subset: '*', numbers, ranges a-b, steps (star)/n and a-b/n, lists, and
 * three-letter month and day names. When both day fields are restricted, a
 * day matches either (as every cron does); otherwise both must match.
 * No '@' macros, no 'L', 'W', '#' or '?': a schedule means one thing here
 * and in any crontab. */
#ifndef PIORA_UTIL_CRON_H
#define PIORA_UTIL_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRON_MAX_LEN 255 /* bytes of an expression, before parsing */

typedef struct cron_expr {
    uint64_t minutes; /* bit m for minute 0..59 */
    uint32_t hours;   /* bit h for 0..23 */
    uint32_t mdays;   /* bit d for 1..31 */
    uint16_t months;  /* bit m for 1..12 */
    uint8_t wdays;    /* bit w for 0..6, Sunday 0 (7 is read as 0) */
    bool mday_any;    /* the field was '*' (or '*' with a step) */
    bool wday_any;
} cron_expr;

/* Parses s (at most CRON_MAX_LEN bytes). On failure returns false and, when
 * err is given, writes a short reason that never quotes the input. */
bool cron_parse(const char *s, cron_expr *out, char *err, size_t errlen);

/* The first slot (epoch seconds, a whole minute) strictly after `after`,
 * or -1 when none comes within CRON_HORIZON_DAYS (a date that never exists,
 * such as 30 February, has no slot). */
#define CRON_HORIZON_DAYS (366 * 9) /* 29 February can be 8 years apart */
int64_t cron_next(const cron_expr *c, int64_t after);

/* True when the minute holding t is a slot. */
bool cron_matches(const cron_expr *c, int64_t t);

#endif
