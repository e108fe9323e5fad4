/* Typed rows of the resource objects: what the store takes and returns in
 * place of JSON, so that every backend hands core/ the same shape and core/
 * renders it once (core/objects.c). A row holds one value per descriptor
 * field, at the field's index in the descriptor. */
#ifndef PIORA_SCHEMA_ROW_H
#define PIORA_SCHEMA_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/model.h"

/* More fields than any descriptor has (the largest has 7); a descriptor
 * with more fails schema_row_fits() and every store call on it. */
#define OBJ_FIELDS_MAX 16

typedef enum obj_vkind {
    OV_ABSENT = 0, /* not given (values of a PATCH); never in a stored row */
    OV_NULL,       /* SQL NULL / JSON null */
    OV_INT,        /* FK_INT, FK_REF, FK_TIME (epoch seconds) */
    OV_TEXT        /* FK_STRING, FK_ENUM */
} obj_vkind;

typedef struct obj_value {
    obj_vkind kind;
    int64_t i;
    char *text; /* OV_TEXT: malloc'd, NUL-terminated, owned by the value */
    size_t len; /* OV_TEXT: bytes, without the NUL */
} obj_value;

/* The columns to write on create or update: v[i] for field i of the
 * descriptor; OV_ABSENT ones are left alone (update) or get the
 * descriptor's default (create). Zero-initialised means "nothing given". */
typedef struct obj_values {
    obj_value v[OBJ_FIELDS_MAX];
} obj_values;

/* One stored object. */
typedef struct obj_row {
    int64_t id;
    int64_t team_id;
    int64_t created_at;
    int64_t updated_at;
    obj_value v[OBJ_FIELDS_MAX];
} obj_row;

/* True when the descriptor's fields fit a row. */
static inline bool schema_row_fits(const resource_desc *d) { return d->nfields <= OBJ_FIELDS_MAX; }

/* Setters: each frees what the value held first. obj_value_set_text copies
 * n bytes (false when out of memory; the value is then OV_ABSENT). */
void obj_value_set_null(obj_value *v);
void obj_value_set_int(obj_value *v, int64_t i);
bool obj_value_set_text(obj_value *v, const char *s, size_t n);

/* Frees the texts; the struct is left zeroed (all OV_ABSENT). */
void obj_value_clear(obj_value *v);
void obj_values_clear(obj_values *vals);
void obj_row_clear(obj_row *r);
/* Clears n rows and frees the array (NULL is fine). */
void obj_rows_free(obj_row *rows, size_t n);

#endif
