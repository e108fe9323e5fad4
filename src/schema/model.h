/* The domain objects of SPEC 4, described as data. One descriptor per
 * resource drives validation (core/validate.c), storage (each backend builds
 * its statements from the column list; values are always bound) and JSON
 * output, so adding a field is a one-line change here plus a migration. */
#ifndef PIORA_SCHEMA_MODEL_H
#define PIORA_SCHEMA_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


typedef enum field_kind {
    FK_STRING, /* TEXT; validated by max_len and the optional check fn */
    FK_INT,    /* INTEGER in [min, max] */
    FK_ENUM,   /* TEXT, one of enum_values */
    FK_REF,    /* INTEGER id of an object of ref (same team) */
    FK_TIME    /* INTEGER epoch seconds; JSON: RFC 3339 string or null */
} field_kind;

enum {
    FF_REQUIRED = 1u << 0, /* must be given on create */
    FF_WRITABLE = 1u << 1, /* a client may set it (create and PATCH) */
    FF_NULLABLE = 1u << 2, /* may be null / absent in storage */
    FF_IMMUTABLE = 1u << 3 /* writable on create only, not by PATCH */
};

struct resource_desc;

/* Returns NULL when ok, else a message for the 422 field error. */
typedef const char *(*field_check_fn)(const char *value);

typedef struct field_desc {
    const char *name;  /* JSON name == column name (but see group) */
    field_kind kind;
    unsigned flags;
    size_t max_len;    /* FK_STRING: bytes, after UTF-8 validation */
    int64_t min, max;  /* FK_INT */
    const char *def_text;               /* default on create (FK_STRING/FK_ENUM) */
    int64_t def_int;                    /* default on create (FK_INT) */
    bool has_def_int;
    const char *const *enum_values;     /* FK_ENUM: NULL-terminated */
    const struct resource_desc *ref;    /* FK_REF */
    field_check_fn check;               /* extra syntax check (names, IPs) */
    /* Read-only fields shown as one JSON object: in the answer the field is
     * group.key (null when every member is null), its column stays name. */
    const char *group;
    const char *key;
} field_desc;

typedef struct resource_desc {
    const char *name;     /* "servers": URL segment and table name */
    const char *singular; /* "server" */
    const field_desc *fields;
    size_t nfields;
    /* Filters a list accepts as query parameters (FK_REF fields only),
     * e.g. backups?database_id=N. NULL-terminated; may be NULL. */
    const char *const *filters;
    /* Jobs (deployments, backups, restores) list newest first: the latest
     * run is what a user looks for, and page 1 must show it (issue 13). */
    bool newest_first;
} resource_desc;

extern const resource_desc RES_SERVERS;
extern const resource_desc RES_APPLICATIONS;
extern const resource_desc RES_DATABASES;
extern const resource_desc RES_DEPLOYMENTS;
extern const resource_desc RES_BACKUPS;
extern const resource_desc RES_RESTORES;

/* Every descriptor, NULL-terminated (used by migrations tests and OpenAPI). */
extern const resource_desc *const piora_resources[];

const field_desc *resource_field(const resource_desc *r, const char *name);

/* The state words of SPEC 4. */
extern const char *const SERVER_STATUSES[];     /* "unknown","active","unreachable","reachable",
                                                  "auth_failed","host_key_mismatch" */
extern const char *const APP_STATUSES[];        /* "created","deploying","running","failed" */
extern const char *const DATABASE_ENGINES[];    /* postgresql mysql mariadb redis mongodb */
extern const char *const DATABASE_STATUSES[];   /* "pending","running","stopped","failed" */
extern const char *const DEPLOYMENT_STATUSES[]; /* queued running succeeded failed cancelled */
extern const char *const BACKUP_STATUSES[];     /* pending running completed failed */

#endif
