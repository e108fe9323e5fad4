/* The cron parser and next-slot search (util/cron.h). Everything is bounded:
 * the text by CRON_MAX_LEN, numbers by their field's range, the search by
 * CRON_HORIZON_DAYS days, each day by at most 24 * 60 bit tests. */
#include "util/cron.h"

#include <stdio.h>
#include <string.h>

typedef struct field_range {
    const char *what;
    int lo, hi;
    const char *const *names; /* index 0 names value lo; NULL when none */
} field_range;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const field_range fields[5] = {
    {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},
    {"month", 1, 12, month_names},
    {"day of week", 0, 7, wday_names},
};

static void set_err(char *err, size_t errlen, const char *what, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "%s%s%s", what ? what : "", what ? ": " : "", why);
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* A number or (where the field has names) a three-letter name at *p. */
static bool read_value(const char **p, const char *end, const field_range *f, int *out)
{
    const char *s = *p;
    if (s < end && *s >= '0' && *s <= '9') {
        int v = 0;
        int digits = 0;
        while (s < end && *s >= '0' && *s <= '9') {
            if (++digits > 2)
                return false; /* no field goes past 59: refuse 007 and 1e9 alike */
            v = v * 10 + (*s - '0');
            s++;
        }
        if (v < f->lo || v > f->hi)
            return false;
        *out = v;
        *p = s;
        return true;
    }
    if (!f->names || end - s < 3)
        return false;
    for (int i = 0; f->names[i]; i++) {
        if (lower(s[0]) == f->names[i][0] && lower(s[1]) == f->names[i][1] &&
            lower(s[2]) == f->names[i][2]) {
            *out = f->lo + i;
            *p = s + 3;
            return true;
        }
    }
    return false;
}

static bool read_step(const char **p, const char *end, int *out)
{
    const char *s = *p;
    int v = 0;
    int digits = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        if (++digits > 2)
            return false;
        v = v * 10 + (*s - '0');
        s++;
    }
    if (digits == 0 || v == 0)
        return false;
    *out = v;
    *p = s;
    return true;
}

/* One comma-separated item: '*', v, a-b, each optionally /step. */
static bool parse_item(const char *s, const char *end, const field_range *f, uint64_t *bits,
                       bool *star)
{
    int a, b, step = 1;
    bool is_star = false;
    if (s < end && *s == '*') {
        a = f->lo;
        b = f->hi;
        s++;
        is_star = true;
    } else {
        if (!read_value(&s, end, f, &a))
            return false;
        b = a;
        if (s < end && *s == '-') {
            s++;
            if (!read_value(&s, end, f, &b) || b < a)
                return false;
        }
    }
    if (s < end && *s == '/') {
        s++;
        if (!read_step(&s, end, &step) || step > f->hi - f->lo + 1)
            return false;
        if (!is_star && b == a)
            b = f->hi; /* "5/15" is "5-59/15", as in Vixie cron */
    }
    if (s != end)
        return false;
    for (int v = a; v <= b; v += step)
        *bits |= UINT64_C(1) << v;
    if (is_star)
        *star = true;
    return true;
}

static bool parse_field(const char *s, const char *end, const field_range *f, uint64_t *bits,
                        bool *star, char *err, size_t errlen)
{
    *bits = 0;
    *star = false;
    bool only_star = true;
    int items = 0;
    while (s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *item_end = comma ? comma : end;
        bool item_star = false;
        if (item_end == s || !parse_item(s, item_end, f, bits, &item_star)) {
            set_err(err, errlen, f->what, "not a value, range or step in range");
            return false;
        }
        if (!item_star)
            only_star = false;
        items++;
        if (!comma)
            break;
        s = comma + 1;
    }
    *star = items == 1 && only_star;
    return true;
}

bool cron_parse(const char *s, cron_expr *out, char *err, size_t errlen)
{
    if (!s) {
        set_err(err, errlen, NULL, "missing");
        return false;
    }
    size_t n = strnlen(s, CRON_MAX_LEN + 1);
    if (n > CRON_MAX_LEN) {
        set_err(err, errlen, NULL, "longer than 255 bytes");
        return false;
    }
    const char *p = s, *end = s + n;
    const char *starts[5], *ends[5];
    int nf = 0;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            break;
        if (nf == 5) {
            set_err(err, errlen, NULL, "must have exactly 5 fields");
            return false;
        }
        starts[nf] = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        ends[nf++] = p;
    }
    if (nf != 5) {
        set_err(err, errlen, NULL, "must have exactly 5 fields");
        return false;
    }
    cron_expr c = {0};
    uint64_t bits[5];
    bool star[5];
    for (int i = 0; i < 5; i++)
        if (!parse_field(starts[i], ends[i], &fields[i], &bits[i], &star[i], err, errlen))
            return false;
    c.minutes = bits[0];
    c.hours = (uint32_t)bits[1];
    c.mdays = (uint32_t)bits[2];
    c.months = (uint16_t)bits[3];
    /* 7 is another name for Sunday */
    c.wdays = (uint8_t)((bits[4] & 0x7f) | ((bits[4] >> 7) & 1));
    c.mday_any = star[2];
    c.wday_any = star[4];
    *out = c;
    return true;
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

static bool day_matches(const cron_expr *c, int64_t day)
{
    int y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    if (!(c->months & (1u << m)))
        return false;
    unsigned wd = (unsigned)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    bool md = (c->mdays >> d) & 1u;
    bool w = (c->wdays >> wd) & 1u;
    if (c->mday_any || c->wday_any)
        return md && w;
    return md || w;
}

bool cron_matches(const cron_expr *c, int64_t t)
{
    int64_t day = floor_div(t, 86400);
    int64_t sec = t - day * 86400;
    int h = (int)(sec / 3600), mi = (int)(sec % 3600 / 60);
    return day_matches(c, day) && ((c->hours >> h) & 1u) && ((c->minutes >> mi) & 1u);
}

int64_t cron_next(const cron_expr *c, int64_t after)
{
    /* the next whole minute after `after` */
    int64_t start = floor_div(after, 60) * 60 + 60;
    int64_t day = floor_div(start, 86400);
    int first = (int)((start - day * 86400) / 60); /* minute of that day */
    for (int64_t i = 0; i <= CRON_HORIZON_DAYS; i++, day++, first = 0) {
        if (!day_matches(c, day))
            continue;
        for (int h = first / 60; h < 24; h++) {
            if (!((c->hours >> h) & 1u))
                continue;
            int m0 = (h == first / 60) ? first % 60 : 0;
            for (int m = m0; m < 60; m++)
                if ((c->minutes >> m) & 1u)
                    return day * 86400 + h * 3600 + m * 60;
        }
    }
    return -1;
}
