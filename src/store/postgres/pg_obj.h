/* Shared by pg_obj.c and pg_limits.c (the objects and SPEC 11's granted
 * lists), as sqlite_internal.h's sq_obj_* part is on the SQLite side. */
#ifndef PIORA_STORE_PG_OBJ_H
#define PIORA_STORE_PG_OBJ_H

#include "store/postgres/pg_internal.h"

#define PG_RES_MAX 16    /* resource descriptors (piora_resources) */
#define PG_FILTERS_MAX 4 /* list filters per descriptor */

/* d's index in piora_resources, or -1 for a descriptor it does not list. */
int pg_res_index(const resource_desc *d);

/* Decodes every row of r (the builder's row shape) into a new array:
 * *rows (obj_rows_free()), *n. ENOMEM leaves *rows NULL and *n 0. */
piora_err pg_obj_rows_read(const PGresult *r, const resource_desc *d, obj_row **rows, size_t *n);

/* pg_limits.c: pg_obj_list() for a resource-limited token (SPEC 11);
 * filter is the column of f->field or NULL. */
piora_err pg_obj_list_granted(pg_store *s, const resource_desc *d, int64_t team_id,
                              const char *filter, const obj_filter *f, int64_t offset,
                              int64_t limit, obj_row **rows, size_t *n, int64_t *total);

#endif
