#include "util/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int64_t offset_s;

void clock_set_offset(int64_t seconds) { atomic_store(&offset_s, seconds); }

int64_t clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec + atomic_load_explicit(&offset_s, memory_order_relaxed);
}

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec + atomic_load_explicit(&offset_s, memory_order_relaxed)) * 1000 +
           ts.tv_nsec / 1000000;
}

int64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
           atomic_load_explicit(&offset_s, memory_order_relaxed) * 1000000000;
}

/* 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the instants that have a
 * 20-character form. Past the end strftime needs a fifth year digit, fails
 * on the 21-byte buffer and leaves it unterminated. */
#define CLOCK_FIRST INT64_C(0)
#define CLOCK_LAST INT64_C(253402300799)

/* Clamps into [CLOCK_FIRST, CLOCK_LAST], so the output is always a complete,
 * terminated RFC 3339 string whatever t a caller computed (an expiry of
 * now + a huge duration, say). */
void clock_fmt_rfc3339(int64_t t, char out[RFC3339_LEN])
{
    if (t < CLOCK_FIRST)
        t = CLOCK_FIRST;
    if (t > CLOCK_LAST)
        t = CLOCK_LAST;
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01 for a proleptic
     * Gregorian date, without timegm()'s dependence on the TZ machinery. */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool clock_parse_rfc3339(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    size_t n = strlen(s);
    if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    int64_t off = 0;
    const char *p = s + 10;
    if (*p) {
        if ((*p != 'T' && *p != 't' && *p != ' ') || !digits(p + 1, 2, &h) || p[3] != ':' ||
            !digits(p + 4, 2, &mi) || p[6] != ':' || !digits(p + 7, 2, &se))
            return false;
        if (h > 23 || mi > 59 || se > 60)
            return false;
        p += 9;
        if (*p == '.') { /* fractional seconds are accepted and dropped */
            p++;
            if (*p < '0' || *p > '9')
                return false;
            while (*p >= '0' && *p <= '9')
                p++;
        }
        if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
            off = 0;
        } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
            int oh, om;
            if (!digits(p + 1, 2, &oh) || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
                return false;
            off = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        } else {
            return false;
        }
    }
    /* An offset or a leap second can carry a date at either end of the
     * year range out of it (1970-01-01T00:00:00+01:00 is in 1969); refuse
     * what clock_fmt_rfc3339 could not write back. */
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
    if (t < CLOCK_FIRST || t > CLOCK_LAST)
        return false;
    *out = t;
    return true;
}
