/* Validation of everything a client sends for an object: names, addresses,
 * enums, ids, lengths, UTF-8. No HTTP here: the API layer turns a failed
 * validation into a 422 with these field errors. */
#ifndef PIORA_CORE_VALIDATE_H
#define PIORA_CORE_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/model.h"
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

/* Field checks used by the descriptors; each returns NULL or a message. */
const char *check_name(const char *v);       /* 1-64 of A-Za-z0-9._- */
const char *check_ip(const char *v);         /* IPv4 or IPv6 literal */
const char *check_hostname(const char *v);   /* RFC 1123 host name */
const char *check_ssh_user(const char *v);   /* POSIX portable user name */
const char *check_branch(const char *v);     /* git check-ref-format rules */
const char *check_repository(const char *v); /* https URL, ssh URL, git@host:path, owner/repo */
const char *check_version(const char *v);    /* 1-32 of A-Za-z0-9._- */
const char *check_label(const char *v);      /* free text: no control chars */

#endif
