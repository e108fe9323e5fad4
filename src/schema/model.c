#include "schema/model.h"

#include <string.h>

#include "schema/check.h"

/* reachable .. host_key_mismatch: what POST /servers/{id}/check found last (SPEC 10). */
const char *const SERVER_STATUSES[] = {"unknown", "active", "unreachable", "reachable", "auth_failed",
                                      "host_key_mismatch", NULL};
const char *const APP_STATUSES[] = {"created", "deploying", "running", "failed", NULL};
const char *const DATABASE_ENGINES[] = {"postgresql", "mysql", "mariadb", "redis", "mongodb", NULL};
const char *const DATABASE_STATUSES[] = {"pending", "running", "stopped", "failed", NULL};
const char *const DEPLOYMENT_STATUSES[] = {"queued", "running", "succeeded", "failed", "cancelled",
                                           NULL};
const char *const BACKUP_STATUSES[] = {"pending", "running", "completed", "failed", NULL};

#define W FF_WRITABLE
#define R FF_REQUIRED
#define N FF_NULLABLE
#define I FF_IMMUTABLE

static const field_desc server_fields[] = {
    {.name = "name", .kind = FK_STRING, .flags = R | W, .max_len = 64, .check = check_name},
    {.name = "ip_address", .kind = FK_STRING, .flags = R | W, .max_len = 45, .check = check_ip},
    {.name = "provider", .kind = FK_STRING, .flags = W | N, .max_len = 64, .check = check_label},
    {.name = "region", .kind = FK_STRING, .flags = W | N, .max_len = 64, .check = check_label},
    {.name = "ssh_port", .kind = FK_INT, .flags = W, .min = 1, .max = 65535, .def_int = 22,
     .has_def_int = true},
    {.name = "ssh_user", .kind = FK_STRING, .flags = W, .max_len = 32, .def_text = "root",
     .check = check_ssh_user},
    {.name = "status", .kind = FK_ENUM, .flags = 0, .def_text = "unknown",
     .enum_values = SERVER_STATUSES},
    /* pinned up front, or trusted on first use by a check or a job */
    {.name = "host_key_fingerprint", .kind = FK_STRING, .flags = W | N, .max_len = 50,
     .check = check_host_key_fingerprint},
    {.name = "checked_at", .kind = FK_TIME, .flags = N},
};

const resource_desc RES_SERVERS = {
    .name = "servers", .singular = "server", .fields = server_fields,
    .nfields = sizeof server_fields / sizeof server_fields[0]};

static const field_desc application_fields[] = {
    {.name = "name", .kind = FK_STRING, .flags = R | W, .max_len = 64, .check = check_name},
    {.name = "server_id", .kind = FK_REF, .flags = R | W, .ref = &RES_SERVERS},
    {.name = "repository", .kind = FK_STRING, .flags = R | W, .max_len = 512,
     .check = check_repository},
    {.name = "branch", .kind = FK_STRING, .flags = W, .max_len = 255, .def_text = "main",
     .check = check_branch},
    {.name = "domain", .kind = FK_STRING, .flags = W | N, .max_len = 253, .check = check_hostname},
    {.name = "deploy_script", .kind = FK_STRING, .flags = W | N, .max_len = 65536},
    {.name = "status", .kind = FK_ENUM, .flags = 0, .def_text = "created",
     .enum_values = APP_STATUSES},
};

const resource_desc RES_APPLICATIONS = {
    .name = "applications", .singular = "application", .fields = application_fields,
    .nfields = sizeof application_fields / sizeof application_fields[0]};

static const field_desc database_fields[] = {
    {.name = "name", .kind = FK_STRING, .flags = R | W, .max_len = 64, .check = check_name},
    {.name = "engine", .kind = FK_ENUM, .flags = R | W | I, .enum_values = DATABASE_ENGINES},
    {.name = "version", .kind = FK_STRING, .flags = W | N, .max_len = 32, .check = check_version},
    {.name = "server_id", .kind = FK_REF, .flags = R | W, .ref = &RES_SERVERS},
    {.name = "status", .kind = FK_ENUM, .flags = 0, .def_text = "pending",
     .enum_values = DATABASE_STATUSES},
    /* Where the dump tool connects (issue 11); null means the server's local
     * socket, the engine's port and the server's ssh_user. No password field:
     * the server's own configuration authenticates (docs/backups.md). */
    {.name = "host", .kind = FK_STRING, .flags = W | N, .max_len = 255, .check = check_db_host},
    {.name = "port", .kind = FK_INT, .flags = W | N, .min = 1, .max = 65535},
    {.name = "username", .kind = FK_STRING, .flags = W | N, .max_len = 63, .check = check_db_user},
    {.name = "backup_schedule", .kind = FK_STRING, .flags = W | N, .max_len = 255,
     .check = check_cron},
    {.name = "backup_keep", .kind = FK_INT, .flags = W, .min = 1, .max = 1000, .def_int = 7,
     .has_def_int = true},
};

const resource_desc RES_DATABASES = {
    .name = "databases", .singular = "database", .fields = database_fields,
    .nfields = sizeof database_fields / sizeof database_fields[0]};

static const field_desc deployment_fields[] = {
    {.name = "application_id", .kind = FK_REF, .flags = R | I, .ref = &RES_APPLICATIONS},
    {.name = "status", .kind = FK_ENUM, .flags = 0, .def_text = "queued",
     .enum_values = DEPLOYMENT_STATUSES},
    {.name = "started_at", .kind = FK_TIME, .flags = N},
    {.name = "finished_at", .kind = FK_TIME, .flags = N},
    {.name = "log", .kind = FK_STRING, .flags = 0, .max_len = 1 << 20, .def_text = ""},
    /* the runner's outcome (SPEC 10); the log itself is GET .../log */
    {.name = "error", .kind = FK_STRING, .flags = N, .max_len = 31},
    {.name = "ref", .kind = FK_STRING, .flags = N, .max_len = 255},
    {.name = "commit", .kind = FK_STRING, .flags = N, .max_len = 64},
    {.name = "exit_code", .kind = FK_INT, .flags = N, .min = 0, .max = 255},
    /* who queued it (SPEC 10): {"type": "token"|"user", "id", "name"} */
    {.name = "trigger_type", .kind = FK_STRING, .flags = N, .max_len = 16,
     .group = "triggered_by", .key = "type"},
    {.name = "trigger_id", .kind = FK_INT, .flags = N, .min = 0, .max = INT64_MAX,
     .group = "triggered_by", .key = "id"},
    {.name = "trigger_name", .kind = FK_STRING, .flags = N, .max_len = 255,
     .group = "triggered_by", .key = "name"},
};

static const char *const deployment_filters[] = {"application_id", NULL};

const resource_desc RES_DEPLOYMENTS = {
    .name = "deployments", .singular = "deployment", .fields = deployment_fields,
    .nfields = sizeof deployment_fields / sizeof deployment_fields[0],
    .filters = deployment_filters, .newest_first = true};

static const field_desc backup_fields[] = {
    {.name = "database_id", .kind = FK_REF, .flags = R | W | I, .ref = &RES_DATABASES},
    {.name = "status", .kind = FK_ENUM, .flags = 0, .def_text = "pending",
     .enum_values = BACKUP_STATUSES},
    {.name = "size_bytes", .kind = FK_INT, .flags = N, .min = 0, .max = INT64_MAX},
    {.name = "sha256", .kind = FK_STRING, .flags = N, .max_len = 64},
    {.name = "completed_at", .kind = FK_TIME, .flags = N},
    /* a job of the runner (SPEC 10, issue 11): its outcome and who queued it
     * ({"type": "token"|"user"|"schedule", ...}); the log is GET .../log */
    {.name = "started_at", .kind = FK_TIME, .flags = N},
    {.name = "finished_at", .kind = FK_TIME, .flags = N},
    {.name = "error", .kind = FK_STRING, .flags = N, .max_len = 31},
    {.name = "trigger_type", .kind = FK_STRING, .flags = N, .max_len = 16,
     .group = "triggered_by", .key = "type"},
    {.name = "trigger_id", .kind = FK_INT, .flags = N, .min = 0, .max = INT64_MAX,
     .group = "triggered_by", .key = "id"},
    {.name = "trigger_name", .kind = FK_STRING, .flags = N, .max_len = 255,
     .group = "triggered_by", .key = "name"},
};

static const char *const backup_filters[] = {"database_id", NULL};

const resource_desc RES_BACKUPS = {
    .name = "backups", .singular = "backup", .fields = backup_fields,
    .nfields = sizeof backup_fields / sizeof backup_fields[0], .filters = backup_filters,
    .newest_first = true};

static const field_desc restore_fields[] = {
    {.name = "backup_id", .kind = FK_REF, .flags = R | I, .ref = &RES_BACKUPS},
    {.name = "status", .kind = FK_ENUM, .flags = 0, .def_text = "pending",
     .enum_values = BACKUP_STATUSES},
    {.name = "started_at", .kind = FK_TIME, .flags = N},
    {.name = "finished_at", .kind = FK_TIME, .flags = N},
    {.name = "log", .kind = FK_STRING, .flags = 0, .max_len = 1 << 20, .def_text = ""},
    /* the database whose contents the restore replaces (issue 11) */
    {.name = "database_id", .kind = FK_REF, .flags = N, .ref = &RES_DATABASES},
    /* a job of the runner (SPEC 10, issue 11), as a backup's */
    {.name = "error", .kind = FK_STRING, .flags = N, .max_len = 31},
    {.name = "trigger_type", .kind = FK_STRING, .flags = N, .max_len = 16,
     .group = "triggered_by", .key = "type"},
    {.name = "trigger_id", .kind = FK_INT, .flags = N, .min = 0, .max = INT64_MAX,
     .group = "triggered_by", .key = "id"},
    {.name = "trigger_name", .kind = FK_STRING, .flags = N, .max_len = 255,
     .group = "triggered_by", .key = "name"},
};

static const char *const restore_filters[] = {"backup_id", NULL};

const resource_desc RES_RESTORES = {
    .name = "restores", .singular = "restore", .fields = restore_fields,
    .nfields = sizeof restore_fields / sizeof restore_fields[0], .filters = restore_filters,
    .newest_first = true};

const resource_desc *const piora_resources[] = {&RES_SERVERS,     &RES_APPLICATIONS, &RES_DATABASES,
                                                &RES_DEPLOYMENTS, &RES_BACKUPS,      &RES_RESTORES,
                                                NULL};

const field_desc *resource_field(const resource_desc *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (strcmp(r->fields[i].name, name) == 0)
            return &r->fields[i];
    return NULL;
}
