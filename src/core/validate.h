/* Validation of everything a client sends for an object: names, addresses,
 * enums, ids, lengths, UTF-8. No HTTP here: the API layer turns a failed
 * validation into a 422 with these field errors. */
#ifndef PIORA_CORE_VALIDATE_H
#define PIORA_CORE_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "schema/check.h"
#include "schema/model.h"
#include "schema/row.h"
#include "util/err.h"
#include "util/verrs.h"

/* Checks a decoded JSON request body against desc. create: every FF_REQUIRED
 * field must be present and defaults are filled in; !create (PATCH): only
 * FF_WRITABLE fields that are not FF_IMMUTABLE, at least one. Unknown and
 * read-only fields are errors. On success *values is a new object holding
 * exactly the columns to write (FK_REF values are ids still to be checked
 * against the team by the caller) and PIORA_OK is returned; otherwise
 * PIORA_EINVALID (or EBADREQ when body is not an object) with errs filled. */
piora_err validate_object(const resource_desc *desc, const json_t *body, bool create,
                          json_t **values, verrs *errs);

/* The typed values (schema/row.h) for a JSON object of columns, such as
 * validate_object's output: null -> OV_NULL, strings for FK_STRING and
 * FK_ENUM -> OV_TEXT, integers for FK_INT and FK_REF -> OV_INT, FK_TIME as
 * an integer or an RFC 3339 string -> OV_INT; fields not named stay
 * OV_ABSENT. EINVALID (out cleared) for a key that is not a field of desc
 * or a value of the wrong JSON type; ENOMEM. Ranges, lengths and enum words
 * are checked by validate_object and again by the store. */
piora_err validate_to_values(const resource_desc *desc, const json_t *values, obj_values *out);

#endif
