/* Every POST and PATCH body goes through json_loadb (with the flags of
 * http/request.c) and then validate_object. For each resource, create and
 * patch: a success holds only descriptor fields the client may write (and on
 * create every required one); a failure has at least one field error, each
 * of them valid UTF-8 so the 422 answer is valid JSON. The field checks are
 * also run on the raw text, since they are reachable one by one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "schema/model.h"
#include "core/validate.h"
#include "util/json.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    json_object_seed(1); /* jansson's hash seed is random otherwise */
    return 0;
}

static void check_errs(const verrs *errs)
{
    CHECK(errs->n <= VERRS_MAX);
    for (size_t i = 0; i < errs->n; i++) {
        const verr *v = &errs->items[i];
        size_t fl = strnlen(v->field, sizeof v->field), ml = strnlen(v->message, sizeof v->message);
        CHECK(fl < sizeof v->field && ml < sizeof v->message);
        CHECK(utf8_valid(v->field, fl));
        CHECK(ml > 0 && utf8_valid(v->message, ml));
    }
}

static void check_one(const resource_desc *desc, const json_t *body, bool create)
{
    verrs errs = {0};
    json_t *values = (json_t *)0x1;
    piora_err e = validate_object(desc, body, create, &values, &errs);
    check_errs(&errs);
    if (e != PIORA_OK) {
        CHECK(values == NULL);
        CHECK(errs.n > 0);
        CHECK(e == PIORA_EINVALID || (e == PIORA_EBADREQ && !json_is_object(body)));
        return;
    }
    CHECK(json_is_object(body) && json_is_object(values));
    CHECK(errs.n == 0);
    const char *key;
    json_t *val;
    json_object_foreach(values, key, val) {
        const field_desc *f = resource_field(desc, key);
        CHECK(f != NULL);
        if (json_object_get(body, key)) {
            /* a value the client gave: writable, and on PATCH mutable */
            CHECK(f->flags & FF_WRITABLE);
            CHECK(create || !(f->flags & FF_IMMUTABLE));
        } else {
            CHECK(create); /* defaults are filled on create only */
        }
        if (json_is_null(val)) {
            CHECK(f->flags & FF_NULLABLE);
        } else if (f->kind == FK_STRING || f->kind == FK_ENUM || f->kind == FK_TIME) {
            CHECK(json_is_string(val));
            CHECK(utf8_valid(json_string_value(val), json_string_length(val)));
            CHECK(strlen(json_string_value(val)) == json_string_length(val));
            if (f->kind == FK_STRING && f->max_len)
                CHECK(json_string_length(val) <= f->max_len);
        } else {
            CHECK(json_is_integer(val));
            if (f->kind == FK_INT)
                CHECK(json_integer_value(val) >= f->min && json_integer_value(val) <= f->max);
            if (f->kind == FK_REF)
                CHECK(json_integer_value(val) >= 1);
        }
    }
    if (create) {
        for (size_t i = 0; i < desc->nfields; i++) {
            const field_desc *f = &desc->fields[i];
            if ((f->flags & FF_REQUIRED) && (f->flags & FF_WRITABLE))
                CHECK(json_object_get(values, f->name) != NULL);
        }
    } else {
        CHECK(json_object_size(values) > 0);
    }
    json_decref(values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (body) {
        for (const resource_desc *const *d = piora_resources; *d; d++) {
            check_one(*d, body, true);
            check_one(*d, body, false);
        }
        json_decref(body);
    }

    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    const char *(*const checks[])(const char *) = {check_name,   check_ip,         check_hostname,
                                                   check_ssh_user, check_branch,   check_repository,
                                                   check_version,  check_label};
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        const char *m = checks[i](s);
        CHECK(m == NULL || *m != '\0');
    }
    free(s);
    return 0;
}
