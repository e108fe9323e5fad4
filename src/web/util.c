/* Small input checks shared by the dashboard's endpoints. */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "auth/password.h"
#include "http/response.h"
#include "web/internal.h"

const char *web_json_str(const json_t *o, const char *key)
{
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* local@domain: a local part of printable ASCII without spaces, quotes or
 * angle brackets; a domain of letters, digits, hyphens and dots with at
 * least one dot. Enough to catch typos; the address is never mailed. */
bool web_email_normalize(const char *in, char out[EMAIL_MAX + 1])
{
    if (!in)
        return false;
    size_t n = strlen(in);
    if (n < 3 || n > EMAIL_MAX)
        return false;
    const char *at = strchr(in, '@');
    if (!at || at == in || strchr(at + 1, '@') || !at[1])
        return false;
    for (const char *p = in; p < at; p++)
        if (*p <= ' ' || *p >= 127 || strchr("\"<>(),;:\\[]", *p))
            return false;
    const char *d = at + 1;
    if (!strchr(d, '.') || d[0] == '.' || d[0] == '-' || d[strlen(d) - 1] == '.')
        return false;
    for (const char *p = d; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
            return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    return true;
}

bool web_team_valid(const char *t)
{
    if (!t)
        return false;
    size_t n = strlen(t);
    if (n < 1 || n > TEAM_NAME_MAX)
        return false;
    json_t *probe = json_string(t); /* NULL unless valid UTF-8 */
    if (!probe)
        return false;
    json_decref(probe);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
            return false;
    return true;
}

void web_field_error(req_t *r, const char *field, const char *message)
{
    verrs errs = {0};
    verrs_add(&errs, field, "%s", message);
    resp_validation(r, &errs);
}

void web_new_password_check(verrs *errs, const char *field, size_t len)
{
    if (len < PASSWORD_MIN_LEN || len > PASSWORD_MAX_LEN)
        verrs_add(errs, field, "Use at least %d characters.", PASSWORD_MIN_LEN);
}
