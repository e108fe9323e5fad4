#include "schema/row.h"

#include <stdlib.h>
#include <string.h>

void obj_value_clear(obj_value *v)
{
    if (v->kind == OV_TEXT)
        free(v->text);
    memset(v, 0, sizeof *v);
}

void obj_value_set_null(obj_value *v)
{
    obj_value_clear(v);
    v->kind = OV_NULL;
}

void obj_value_set_int(obj_value *v, int64_t i)
{
    obj_value_clear(v);
    v->kind = OV_INT;
    v->i = i;
}

bool obj_value_set_text(obj_value *v, const char *s, size_t n)
{
    obj_value_clear(v);
    char *t = malloc(n + 1);
    if (!t)
        return false;
    if (n)
        memcpy(t, s, n);
    t[n] = '\0';
    v->kind = OV_TEXT;
    v->text = t;
    v->len = n;
    return true;
}

void obj_values_clear(obj_values *vals)
{
    for (size_t i = 0; i < OBJ_FIELDS_MAX; i++)
        obj_value_clear(&vals->v[i]);
}

void obj_row_clear(obj_row *r)
{
    for (size_t i = 0; i < OBJ_FIELDS_MAX; i++)
        obj_value_clear(&r->v[i]);
    memset(r, 0, sizeof *r);
}

void obj_rows_free(obj_row *rows, size_t n)
{
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++)
        obj_row_clear(&rows[i]);
    free(rows);
}
