/* Resource objects: the store's typed rows to and from the API's JSON. */
#include "core/objects.h"

#include <stdlib.h>

#include "core/validate.h"
#include "util/clock.h"

static json_t *time_json(int64_t t)
{
    char buf[RFC3339_LEN];
    clock_fmt_rfc3339(t, buf);
    return json_string(buf);
}

/* One field's value; SQL NULL (and a value the row lacks) is null. */
static json_t *value_json(const field_desc *f, const obj_value *v)
{
    switch (v->kind) {
    case OV_ABSENT:
    case OV_NULL: return json_null();
    case OV_INT: return f->kind == FK_TIME ? time_json(v->i) : json_integer(v->i);
    case OV_TEXT: return json_stringn(v->text, v->len);
    }
    return NULL;
}

/* A grouped field into its group's object: the group stays null until a
 * member is not. Takes v. */
static int group_put(json_t *o, const field_desc *f, json_t *v)
{
    json_t *g = json_object_get(o, f->group);
    if (json_is_null(v) && !json_is_object(g)) {
        json_decref(v);
        return g ? 0 : json_object_set_new(o, f->group, json_null());
    }
    if (!json_is_object(g)) {
        g = json_object();
        if (!g || json_object_set_new(o, f->group, g) != 0) {
            json_decref(v);
            return -1;
        }
    }
    return json_object_set_new(g, f->key, v);
}

json_t *objects_render(const resource_desc *d, const obj_row *row)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (json_object_set_new(o, "id", json_integer(row->id)) != 0)
        goto fail;
    for (size_t i = 0; i < d->nfields && i < OBJ_FIELDS_MAX; i++) {
        const field_desc *f = &d->fields[i];
        json_t *v = value_json(f, &row->v[i]);
        if (!v)
            goto fail;
        if (f->group) {
            if (group_put(o, f, v) != 0)
                goto fail;
            continue;
        }
        if (json_object_set_new(o, f->name, v) != 0)
            goto fail;
    }
    if (json_object_set_new(o, "created_at", time_json(row->created_at)) != 0 ||
        json_object_set_new(o, "updated_at", time_json(row->updated_at)) != 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* Renders *row into *obj and clears the row, whatever the outcome. */
static piora_err render_row(const resource_desc *d, obj_row *row, json_t **obj)
{
    *obj = objects_render(d, row);
    obj_row_clear(row);
    return *obj ? PIORA_OK : PIORA_ENOMEM;
}

piora_err objects_list(store_t *s, const resource_desc *d, int64_t team_id, const obj_filter *f,
                       int64_t offset, int64_t limit, json_t **items, int64_t *total)
{
    *items = NULL;
    obj_row *rows = NULL;
    size_t n = 0;
    piora_err e = store_obj_list(s, d, team_id, f, offset, limit, &rows, &n, total);
    if (e != PIORA_OK)
        return e;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = objects_render(d, &rows[i]);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    obj_rows_free(rows, n);
    if (!arr) {
        *total = 0;
        return PIORA_ENOMEM;
    }
    *items = arr;
    return PIORA_OK;
}

piora_err objects_get(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                      json_t **obj)
{
    *obj = NULL;
    obj_row row;
    piora_err e = store_obj_get(s, d, team_id, id, &row);
    return e == PIORA_OK ? render_row(d, &row, obj) : e;
}

piora_err objects_create(store_t *s, const resource_desc *d, int64_t team_id,
                         const json_t *values, json_t **obj)
{
    *obj = NULL;
    obj_values vals = {0};
    piora_err e = validate_to_values(d, values, &vals);
    obj_row row;
    if (e == PIORA_OK)
        e = store_obj_create(s, d, team_id, &vals, &row);
    obj_values_clear(&vals);
    return e == PIORA_OK ? render_row(d, &row, obj) : e;
}

piora_err objects_update(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                         const json_t *values, json_t **obj)
{
    *obj = NULL;
    obj_values vals = {0};
    piora_err e = validate_to_values(d, values, &vals);
    obj_row row;
    if (e == PIORA_OK)
        e = store_obj_update(s, d, team_id, id, &vals, &row);
    obj_values_clear(&vals);
    return e == PIORA_OK ? render_row(d, &row, obj) : e;
}

piora_err objects_delete(store_t *s, const resource_desc *d, int64_t team_id, int64_t id)
{
    return store_obj_delete(s, d, team_id, id);
}
