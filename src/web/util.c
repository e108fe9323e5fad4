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
