/* The resource objects as the API shows them: list / get / create / update
 * / delete over the store's typed rows, each row rendered to JSON here,
 * once for every backend. Objects are {"id", <the descriptor's fields in
 * order>, "created_at", "updated_at"}: FK_TIME fields and the two stamps
 * as RFC 3339 strings, SQL NULL as null. Outcomes are the store's
 * (ENOTFOUND for another team's objects, EINVALID for a reference to one,
 * ECONFLICT for a server still in use). */
#ifndef PIORA_CORE_OBJECTS_H
#define PIORA_CORE_OBJECTS_H

#include <jansson.h>
#include <stdint.h>

#include "schema/model.h"
#include "schema/row.h"
#include "store/store.h"

/* A new JSON object for the row; NULL when out of memory or when a text
 * value is not valid UTF-8. */
json_t *objects_render(const resource_desc *d, const obj_row *row);

/* One page ordered by id: *items a new JSON array, *total the objects
 * matching the filter. */
piora_err objects_list(store_t *s, const resource_desc *d, int64_t team_id, const obj_filter *f,
                       int64_t offset, int64_t limit, json_t **items, int64_t *total);
piora_err objects_get(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                      json_t **obj);
/* values: a JSON object of columns to write, as validate_object() makes
 * them (see validate_to_values for what is accepted). *obj: the stored
 * object, a new reference. */
piora_err objects_create(store_t *s, const resource_desc *d, int64_t team_id,
                         const json_t *values, json_t **obj);
piora_err objects_update(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                         const json_t *values, json_t **obj);
piora_err objects_delete(store_t *s, const resource_desc *d, int64_t team_id, int64_t id);

#endif
