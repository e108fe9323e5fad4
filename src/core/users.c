/* The shape of the names people give accounts, one rule for the CLI and the
 * dashboard (a user made by one must be able to sign in through the other). */
#include "core/users.h"

#include <ctype.h>
#include <string.h>

#include "util/json.h"

bool users_email_normalize(const char *in, char out[EMAIL_MAX + 1])
{
    if (!in)
        return false;
    size_t n = strlen(in);
    if (n < 3 || n > EMAIL_MAX)
        return false;
    const char *at = strchr(in, '@');
    if (!at || at == in || strchr(at + 1, '@') || at - in > 64)
        return false;
    for (const char *p = in; p < at; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>[\\]", c))
            return false;
    }
    if (in[0] == '.' || at[-1] == '.' || strstr(in, ".."))
        return false;
    /* The domain: dot-separated labels of letters, digits and hyphens. */
    const char *d = at + 1;
    size_t label = 0;
    if (!*d)
        return false;
    for (const char *p = d; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            if (label == 0 || p[-1] == '-')
                return false;
            label = 0;
        } else if (isalnum(c) || c == '-') {
            if (label == 0 && c == '-')
                return false;
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    if (label == 0 || d[strlen(d) - 1] == '-')
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    return true;
}

bool users_team_valid(const char *t)
{
    if (!t)
        return false;
    size_t n = strlen(t);
    if (n == 0 || n > TEAM_NAME_MAX || !utf8_valid(t, n))
        return false;
    const unsigned char *p = (const unsigned char *)t;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            return false;
        if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            return false;
    }
    return true;
}
