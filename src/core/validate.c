#include "core/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/json.h"

/* ---- objects ----------------------------------------------------------- */

static const char *kind_word(field_kind k)
{
    switch (k) {
    case FK_STRING: return "a string";
    case FK_INT: return "an integer";
    case FK_ENUM: return "a string";
    case FK_REF: return "a positive integer id";
    case FK_TIME: return "an RFC 3339 time";
    }
    return "a value";
}

/* Validates one value for field f and, if good, stores the column value in
 * out. Adds one field error and returns false otherwise. */
static bool validate_value(const field_desc *f, json_t *val, json_t *out, verrs *errs)
{
    if (json_is_null(val)) {
        if (!(f->flags & FF_NULLABLE)) {
            verrs_add(errs, f->name, "must not be null");
            return false;
        }
        json_object_set_new(out, f->name, json_null());
        return true;
    }
    switch (f->kind) {
    case FK_STRING: {
        if (!json_is_string(val))
            break;
        const char *s = json_string_value(val);
        size_t n = json_string_length(val);
        if (!utf8_valid(s, n)) {
            verrs_add(errs, f->name, "must be valid UTF-8 without NUL characters");
            return false;
        }
        if (f->max_len && n > f->max_len) {
            verrs_add(errs, f->name, "must be at most %zu bytes", f->max_len);
            return false;
        }
        if (f->check) {
            const char *m = f->check(s);
            if (m) {
                verrs_add(errs, f->name, "%s", m);
                return false;
            }
        }
        json_object_set(out, f->name, val);
        return true;
    }
    case FK_INT:
        if (!json_is_integer(val))
            break;
        if (json_integer_value(val) < f->min || json_integer_value(val) > f->max) {
            verrs_add(errs, f->name, "must be between %lld and %lld", (long long)f->min,
                      (long long)f->max);
            return false;
        }
        json_object_set(out, f->name, val);
        return true;
    case FK_ENUM: {
        if (!json_is_string(val))
            break;
        const char *s = json_string_value(val);
        size_t n = json_string_length(val);
        for (const char *const *e = f->enum_values; e && *e; e++)
            if (strlen(*e) == n && memcmp(*e, s, n) == 0) {
                json_object_set(out, f->name, val);
                return true;
            }
        char list[200] = "";
        size_t used = 0;
        for (const char *const *e = f->enum_values; e && *e; e++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *e);
            if (w < 0 || (size_t)w >= sizeof list - used)
                break;
            used += (size_t)w;
        }
        verrs_add(errs, f->name, "must be one of: %s", list);
        return false;
    }
    case FK_REF:
        if (!json_is_integer(val))
            break;
        if (json_integer_value(val) < 1) {
            verrs_add(errs, f->name, "must be a positive integer id");
            return false;
        }
        json_object_set(out, f->name, val);
        return true;
    case FK_TIME: {
        int64_t t;
        if (!json_is_string(val))
            break;
        if (!utf8_valid(json_string_value(val), json_string_length(val)) ||
            !clock_parse_rfc3339(json_string_value(val), &t)) {
            verrs_add(errs, f->name, "must be an RFC 3339 time");
            return false;
        }
        char buf[RFC3339_LEN];
        clock_fmt_rfc3339(t, buf);
        json_object_set_new(out, f->name, json_string(buf));
        return true;
    }
    }
    verrs_add(errs, f->name, "must be %s%s", kind_word(f->kind),
              (f->flags & FF_NULLABLE) ? " or null" : "");
    return false;
}

/* The create-time value of a field the client left out. */
static void fill_default(const field_desc *f, json_t *out)
{
    if (f->has_def_int)
        json_object_set_new(out, f->name, json_integer(f->def_int));
    else if (f->def_text)
        json_object_set_new(out, f->name, json_string(f->def_text));
    else if (f->flags & FF_NULLABLE)
        json_object_set_new(out, f->name, json_null());
}

piora_err validate_object(const resource_desc *desc, const json_t *body, bool create,
                          json_t **values, verrs *errs)
{
    *values = NULL;
    if (!json_is_object(body)) {
        verrs_add(errs, "", "the body must be a JSON object");
        return PIORA_EBADREQ;
    }
    json_t *out = json_object();
    if (!out)
        return PIORA_ENOMEM;
    size_t before = errs->n;
    bool bad = false;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)body, key, val) {
        const field_desc *f = resource_field(desc, key);
        if (!f && (strcmp(key, "id") == 0 || strcmp(key, "created_at") == 0 ||
                   strcmp(key, "updated_at") == 0)) {
            verrs_add(errs, key, "is read-only");
            bad = true;
            continue;
        }
        if (!f) {
            verrs_add(errs, key, "unknown field");
            bad = true;
            continue;
        }
        if (!(f->flags & FF_WRITABLE)) {
            verrs_add(errs, key, "is read-only");
            bad = true;
            continue;
        }
        if (!create && (f->flags & FF_IMMUTABLE)) {
            verrs_add(errs, key, "cannot be changed after creation");
            bad = true;
            continue;
        }
        if (!validate_value(f, val, out, errs))
            bad = true;
    }
    if (!bad && json_object_size(body) == 0 && !create) {
        verrs_add(errs, "", "at least one field is required");
        bad = true;
    }
    if (create) {
        for (size_t i = 0; i < desc->nfields; i++) {
            const field_desc *f = &desc->fields[i];
            if (json_object_get(body, f->name))
                continue;
            if (f->flags & FF_REQUIRED) {
                if (f->flags & FF_WRITABLE) {
                    verrs_add(errs, f->name, "is required");
                    bad = true;
                }
                continue;
            }
            fill_default(f, out);
        }
    }
    if (bad || errs->n > before) {
        json_decref(out);
        return PIORA_EINVALID;
    }
    *values = out;
    return PIORA_OK;
}

/* Field i of desc for key, or -1. */
static int field_index(const resource_desc *desc, const char *key)
{
    for (size_t i = 0; i < desc->nfields && i < OBJ_FIELDS_MAX; i++)
        if (strcmp(desc->fields[i].name, key) == 0)
            return (int)i;
    return -1;
}

/* One JSON value into its typed slot; false when the JSON type is wrong for
 * the field (or out of memory: *oom set). */
static bool value_from_json(const field_desc *f, const json_t *v, obj_value *out, bool *oom)
{
    if (json_is_null(v)) {
        obj_value_set_null(out);
        return true;
    }
    switch (f->kind) {
    case FK_STRING:
    case FK_ENUM:
        if (!json_is_string(v))
            return false;
        if (!obj_value_set_text(out, json_string_value(v), json_string_length(v))) {
            *oom = true;
            return false;
        }
        return true;
    case FK_INT:
    case FK_REF:
        if (!json_is_integer(v))
            return false;
        obj_value_set_int(out, json_integer_value(v));
        return true;
    case FK_TIME: {
        int64_t t;
        if (json_is_integer(v))
            t = json_integer_value(v);
        else if (!json_is_string(v) || !clock_parse_rfc3339(json_string_value(v), &t))
            return false;
        obj_value_set_int(out, t);
        return true;
    }
    }
    return false;
}

piora_err validate_to_values(const resource_desc *desc, const json_t *values, obj_values *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(values) || !schema_row_fits(desc))
        return PIORA_EINVALID;
    const char *key;
    json_t *v;
    bool oom = false;
    json_object_foreach((json_t *)values, key, v) {
        int i = field_index(desc, key);
        if (i < 0 || !value_from_json(&desc->fields[i], v, &out->v[i], &oom)) {
            obj_values_clear(out);
            return oom ? PIORA_ENOMEM : PIORA_EINVALID;
        }
    }
    return PIORA_OK;
}
