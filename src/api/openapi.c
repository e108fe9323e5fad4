/* The OpenAPI 3.1 document of the API, generated from the two sources of
 * truth: the route table (paths, methods, scopes, flags) and the resource
 * descriptors (schemas). It is built once, on first use, and served as a
 * cached string; test_routes checks it against api_routes both ways. */
#include "api/api.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"
#include "core/validate.h"
#include "http/response.h"

/* What a handler reads and answers, beyond what the route table says. */
typedef enum body_kind { B_NONE, B_CREATE, B_UPDATE, B_CUSTOM } body_kind;

typedef struct op_doc {
    route_handler fn;
    const resource_desc *res; /* the object answered (or listed); NULL: resp_ref */
    body_kind body;
    const char *body_ref;     /* B_CUSTOM: component schema of the body */
    const char *resp_ref;     /* component schema of a non-resource answer */
    bool list;                /* a paginated list of res */
    bool location;            /* answers a Location header */
    const char *filter;       /* a query filter (an FK_REF field of res) */
    bool conflict;            /* may answer 409 */
    const char *notes;        /* extra prose for the description */
} op_doc;

static const op_doc op_docs[] = {
    {health_live, NULL, B_NONE, NULL, "Health", false, false, NULL, false, NULL},
    {health_ready, NULL, B_NONE, NULL, "Health", false, false, NULL, false,
     "Answers 503 when the database does not answer."},
    {openapi_serve, NULL, B_NONE, NULL, "OpenAPIDocument", false, false, NULL, false, NULL},
    {metrics_serve, NULL, B_NONE, NULL, NULL, false, false, NULL, false,
     "Answers `text/plain; version=0.0.4` for Prometheus: requests by route and status, "
     "authentication failures by reason, rate-limited requests, latency histograms, "
     "usage-log queue depth and drops. No label carries request data."},

    {servers_list, &RES_SERVERS, B_NONE, NULL, NULL, true, false, NULL, false, NULL},
    {servers_create, &RES_SERVERS, B_CREATE, NULL, NULL, false, true, NULL, true, NULL},
    {servers_get, &RES_SERVERS, B_NONE, NULL, NULL, false, false, NULL, false, NULL},
    {servers_update, &RES_SERVERS, B_UPDATE, NULL, NULL, false, false, NULL, true, NULL},
    {servers_delete, &RES_SERVERS, B_NONE, NULL, NULL, false, false, NULL, true,
     "Answers 409 while applications or databases still use the server."},

    {servers_check, NULL, B_NONE, NULL, "ServerCheck", false, false, NULL, false,
     "Connects as the server's `ssh_user` with the team's key (current, then previous), "
     "checks the host key against `host_key_fingerprint` (trusted on first use when null, "
     "audited as `server.host_key_trusted`) and runs nothing. Always 200 with what it found; "
     "the server's `status` and `checked_at` follow it."},

    {applications_list, &RES_APPLICATIONS, B_NONE, NULL, NULL, true, false, NULL, false, NULL},
    {applications_create, &RES_APPLICATIONS, B_CREATE, NULL, NULL, false, true, NULL, true,
     "`server_id` must be a server of the caller's team (else 422 on that field)."},
    {applications_get, &RES_APPLICATIONS, B_NONE, NULL, NULL, false, false, NULL, false, NULL},
    {applications_update, &RES_APPLICATIONS, B_UPDATE, NULL, NULL, false, false, NULL, true,
     "`server_id` must be a server of the caller's team (else 422 on that field)."},
    {applications_delete, &RES_APPLICATIONS, B_NONE, NULL, NULL, false, false, NULL, false,
     "It deletes the application's deployments too, so a token needs `applications:deploy` as "
     "well (403 insufficient_scope otherwise)."},
    {applications_deploy, &RES_DEPLOYMENTS, B_CUSTOM, "DeployRequest", NULL, false, true, NULL,
     false,
     "Creates a deployment with status `queued` at `ref` (the optional body `{\"ref\"}`: a "
     "branch, tag or commit; default the application's `branch`); poll it at the Location "
     "given. The job runner checks the repository out on the application's server and runs "
     "`deploy_script` (docs/jobs.md). 429 `queue_full` when `--queue-per-server` deployments "
     "already wait for that server. Audited (`deployment.queued`)."},
    {deployments_cancel, &RES_DEPLOYMENTS, B_NONE, NULL, NULL, false, false, NULL, false,
     "A queued deployment ends `cancelled` at once; a running one within 15 s, its remote "
     "process group killed (the answer shows it still `running` until then). A finished one "
     "is answered unchanged. Audited (`deployment.cancelled`)."},
    {deployments_log, NULL, B_NONE, NULL, NULL, false, false, NULL, false,
     "Answers `text/plain` from byte `offset` (query, default 0) of the log: the remote "
     "command's stdout and stderr in order, capped at 16 MiB with a marker line. "
     "`X-Log-Complete: true` once the deployment has ended and nothing lies past the answer: "
     "a client follows a running one by asking again from offset + the bytes it got."},
    {applications_deployments, &RES_DEPLOYMENTS, B_NONE, NULL, NULL, true, false, NULL, false,
     NULL},
    {deployments_get, &RES_DEPLOYMENTS, B_NONE, NULL, NULL, false, false, NULL, false, NULL},

    {databases_list, &RES_DATABASES, B_NONE, NULL, NULL, true, false, NULL, false, NULL},
    {databases_create, &RES_DATABASES, B_CREATE, NULL, NULL, false, true, NULL, true,
     "`server_id` must be a server of the caller's team (else 422 on that field)."},
    {databases_get, &RES_DATABASES, B_NONE, NULL, NULL, false, false, NULL, false, NULL},
    {databases_update, &RES_DATABASES, B_UPDATE, NULL, NULL, false, false, NULL, true,
     "`engine` cannot be changed after creation."},
    {databases_delete, &RES_DATABASES, B_NONE, NULL, NULL, false, false, NULL, false,
     "It deletes the database's backups and restores too, so a token needs `backups:write` as "
     "well (403 insufficient_scope otherwise)."},

    {backups_list, &RES_BACKUPS, B_NONE, NULL, NULL, true, false, "database_id", false,
     "A `database_id` of another team's database gives an empty list."},
    {backups_create, &RES_BACKUPS, B_CREATE, NULL, NULL, false, true, NULL, false,
     "Creates a backup job with status `pending`; the job runner dumps the database on its "
     "server over SSH into the backup store and the backup becomes `completed` with "
     "`size_bytes` and `sha256`, or `failed` with `error` (docs/backups.md). `database_id` "
     "must be a database of the caller's team (else 422 on that field). 429 `queue_full` "
     "when `--queue-per-server` jobs already wait for that server. Audited "
     "(`backup.queued`, then `backup.completed` or `backup.failed`)."},
    {backups_cancel, &RES_BACKUPS, B_NONE, NULL, NULL, false, false, NULL, false,
     "A pending backup ends `failed` with `cancelled` at once; a running one within seconds, "
     "its dump tool killed and no file kept. A finished one is answered unchanged. Audited "
     "(`backup.cancelled`)."},
    {backups_log, NULL, B_NONE, NULL, NULL, false, false, NULL, false,
     "Answers `text/plain` from byte `offset` (query, default 0) of the log: the dump tool's "
     "stderr and Piora's notes (the dump itself goes to the store), capped at 16 MiB. "
     "`X-Log-Complete: true` once the backup has ended and nothing lies past the answer."},
    {backups_get, &RES_BACKUPS, B_NONE, NULL, NULL, false, false, NULL, false, NULL},
    {backups_delete, &RES_BACKUPS, B_NONE, NULL, NULL, false, false, NULL, false, NULL},
    {backups_download, NULL, B_NONE, NULL, NULL, false, false, NULL, true,
     "Streams the stored dump as `application/octet-stream` with `Content-Length`, the "
     "SHA-256 recorded when it was written in `Digest` (`sha-256=` base64) and `ETag` (hex, "
     "quoted), and `Content-Disposition` naming it `backup-<id>` with the engine's suffix. "
     "409 `backup_not_completed` unless the backup is `completed`; 410 `backup_file_missing` "
     "when its file is gone from the backup store. Audited (`backup.downloaded`)."},
    {backups_restore, &RES_RESTORES, B_CUSTOM, "RestoreRequest", NULL, false, true, NULL, true,
     "Creates a restore job with status `pending` and answers it with its Location. The "
     "optional body `{\"database_id\": N}` names the database whose contents it replaces: "
     "another database of the caller's team with the backup's engine (else 422 on that field); "
     "by default the backup's own. 409 `backup_not_completed` unless the backup is "
     "`completed`; 409 `restore_unsupported` for Redis (an RDB file is loaded only by the "
     "server from its data directory: see docs/backups.md). Audited (`restore.queued`)."},
    {restores_list, &RES_RESTORES, B_NONE, NULL, NULL, true, false, "backup_id", false, NULL},
    {restores_get, &RES_RESTORES, B_NONE, NULL, NULL, false, false, NULL, false, NULL},
    {restores_cancel, &RES_RESTORES, B_NONE, NULL, NULL, false, false, NULL, false,
     "A pending restore ends `failed` with `cancelled` at once; a running one within seconds, "
     "its restore tool killed (PostgreSQL restores are one transaction: nothing changes). "
     "Audited (`restore.cancelled`)."},
    {restores_log, NULL, B_NONE, NULL, NULL, false, false, NULL, false,
     "Answers `text/plain` from byte `offset` (query, default 0) of the log: the restore "
     "tool's output and Piora's notes, capped at 16 MiB. `X-Log-Complete: true` once the "
     "restore has ended and nothing lies past the answer."},

    {ssh_key_get, NULL, B_NONE, NULL, "SshKey", false, false, NULL, false,
     "The first call makes the team's Ed25519 pair (audited as `ssh_key.created`). Put "
     "`public_key` in `~/.ssh/authorized_keys` of each server's `ssh_user`. The private key "
     "is never answered."},
    {ssh_key_rotate, NULL, B_NONE, NULL, "SshKey", false, false, NULL, false,
     "The previous pair is still offered when a server refuses the current one, until "
     "`DELETE /ssh-key/previous`. Audited as `ssh_key.rotated`."},
    {ssh_key_previous_delete, NULL, B_NONE, NULL, NULL, false, false, NULL, false,
     "Answers 404 when there is no previous key. Audited as `ssh_key.previous_deleted`."},

    {token_self_get, NULL, B_NONE, NULL, "TokenSelf", false, false, NULL, false, NULL},
    {token_self_delete, NULL, B_NONE, NULL, NULL, false, false, NULL, false,
     "Once this has answered, every request with this token gets 401."},

    {credentials_revoke, NULL, B_CUSTOM, "CredentialsRevoke", "Message", false, false, NULL, false,
     "Revokes every valid token in the list. The answer is the same whatever was found."},

    {oidc_token_exchange, NULL, B_CUSTOM, "OidcTokenRequest", "OidcTokenGrant", false, false,
     NULL, false,
     "Trusted publishing (SPEC 12, docs/trusted-publishing.md): a CI job's OIDC JWT (RS256 or "
     "ES256, verified against its issuer's JWKS) that matches a team's trusted publisher "
     "becomes a token of the publisher's scopes and resources, valid 15 minutes. A JWT is "
     "accepted once (`jti`). Anything else answers 401 `invalid_token` with a detail naming "
     "the failed check; every attempt is audited. 503 `busy` when the slow-work pool is full."},
};

static const op_doc *doc_for(route_handler fn)
{
    for (size_t i = 0; i < sizeof op_docs / sizeof op_docs[0]; i++)
        if (op_docs[i].fn == fn)
            return &op_docs[i];
    return NULL;
}

bool openapi_route_documented(const route_t *rt) { return doc_for(rt->fn) != NULL; }

static const char *method_key(http_method m)
{
    switch (m) {
    case HTTP_GET: return "get";
    case HTTP_POST: return "post";
    case HTTP_PUT: return "put";
    case HTTP_PATCH: return "patch";
    case HTTP_DELETE: return "delete";
    case HTTP_HEAD: return "head";
    case HTTP_OPTIONS: return "options";
    default: return NULL;
    }
}

/* "Server" from "server": component schema names. */
static void schema_name(const resource_desc *d, const char *suffix, char *out, size_t len)
{
    snprintf(out, len, "%s%s", d->singular, suffix);
    out[0] = (char)toupper((unsigned char)out[0]);
}

static json_t *ref(const char *section, const char *name)
{
    char buf[128];
    snprintf(buf, sizeof buf, "#/components/%s/%s", section, name);
    return json_pack("{s:s}", "$ref", buf);
}

static json_t *type_of(const char *t, bool nullable)
{
    return nullable ? json_pack("[s,s]", t, "null") : json_string(t);
}

/* The syntax a check function enforces, as schema keywords. */
static void describe_check(field_check_fn fn, json_t *s)
{
    if (fn == check_name)
        json_object_set_new(s, "pattern", json_string("^[A-Za-z0-9._-]{1,64}$"));
    else if (fn == check_version)
        json_object_set_new(s, "pattern", json_string("^[A-Za-z0-9._-]{1,32}$"));
    else if (fn == check_ssh_user)
        json_object_set_new(s, "pattern", json_string("^[a-z_][a-z0-9_-]{0,31}$"));
    else if (fn == check_ip)
        json_object_set_new(s, "description",
                            json_string("An IPv4 (no leading zeros) or IPv6 address, no zone id."));
    else if (fn == check_hostname)
        json_object_set_new(s, "format", json_string("hostname"));
    else if (fn == check_branch)
        json_object_set_new(s, "description",
                            json_string("A branch name valid for git check-ref-format."));
    else if (fn == check_repository)
        json_object_set_new(s, "description",
                            json_string("https://host/path, ssh://[user@]host[:port]/path, "
                                        "user@host:path, an absolute path on the server, or owner/repo (GitHub); no whitespace."));
    else if (fn == check_db_host)
        json_object_set_new(s, "description",
                            json_string("A host name, an IP address, or an absolute Unix socket "
                                        "path (no '..'); null: the server's local socket."));
    else if (fn == check_db_user)
        json_object_set_new(s, "pattern", json_string("^[A-Za-z0-9._][A-Za-z0-9._-]{0,62}$"));
    else if (fn == check_cron)
        json_object_set_new(s, "description",
                            json_string("A 5-field cron expression in UTC: minute hour "
                                        "day-of-month month day-of-week; numbers, jan-dec, "
                                        "sun-sat, '*', ranges a-b, steps /n, lists."));
    else if (fn == check_host_key_fingerprint)
        json_object_set_new(s, "pattern", json_string("^SHA256:[A-Za-z0-9+/]{43}$"));
    else if (fn == check_label)
        json_object_set_new(s, "description",
                            json_string("1-64 bytes of UTF-8 text without control characters."));
    if (fn)
        json_object_set_new(s, "minLength", json_integer(1));
}

/* kind says which schema the field is in. Request bodies carry no
 * `default`: generated clients read it as "always present" (openapi-typescript
 * made `ssh_port` required in an update and `ssh_user` in a create), so a
 * create body says its defaults in the description and a PATCH body, which
 * leaves an absent field as it is, has none. */
typedef enum schema_kind { SK_RESPONSE, SK_CREATE, SK_UPDATE } schema_kind;

static void describe_default(json_t *s, const char *def)
{
    const char *d = json_string_value(json_object_get(s, "description"));
    char text[512];
    snprintf(text, sizeof text, "%s%sDefault when left out: %s.", d ? d : "", d ? " " : "", def);
    json_object_set_new(s, "description", json_string(text));
}

static json_t *field_schema(const field_desc *f, schema_kind kind)
{
    bool response = kind == SK_RESPONSE, with_default = kind == SK_RESPONSE;
    bool described_default = kind == SK_CREATE;
    bool nullable = (f->flags & FF_NULLABLE) != 0;
    json_t *s = json_object();
    switch (f->kind) {
    case FK_STRING:
        json_object_set_new(s, "type", type_of("string", nullable));
        if (f->max_len)
            json_object_set_new(s, "maxLength", json_integer((json_int_t)f->max_len));
        describe_check(f->check, s);
        if (f->def_text && with_default)
            json_object_set_new(s, "default", json_string(f->def_text));
        else if (f->def_text && described_default)
            describe_default(s, *f->def_text ? f->def_text : "an empty string");
        break;
    case FK_INT:
        json_object_set_new(s, "type", type_of("integer", nullable));
        json_object_set_new(s, "minimum", json_integer(f->min));
        json_object_set_new(s, "maximum", json_integer(f->max));
        if (f->has_def_int && with_default) {
            json_object_set_new(s, "default", json_integer(f->def_int));
        } else if (f->has_def_int && described_default) {
            char n[32];
            snprintf(n, sizeof n, "%lld", (long long)f->def_int);
            describe_default(s, n);
        }
        break;
    case FK_ENUM: {
        json_object_set_new(s, "type", type_of("string", nullable));
        json_t *e = json_array();
        for (const char *const *v = f->enum_values; v && *v; v++)
            json_array_append_new(e, json_string(*v));
        if (nullable)
            json_array_append_new(e, json_null());
        json_object_set_new(s, "enum", e);
        if (f->def_text && with_default)
            json_object_set_new(s, "default", json_string(f->def_text));
        else if (f->def_text && described_default)
            describe_default(s, f->def_text);
        break;
    }
    case FK_REF: {
        json_object_set_new(s, "type", type_of("integer", nullable));
        json_object_set_new(s, "minimum", json_integer(1));
        char d[128];
        snprintf(d, sizeof d, "The id of a %s of the same team.", f->ref->singular);
        json_object_set_new(s, "description", json_string(d));
        break;
    }
    case FK_TIME:
        json_object_set_new(s, "type", type_of("string", nullable));
        json_object_set_new(s, "format", json_string("date-time"));
        break;
    }
    if (response && !(f->flags & FF_WRITABLE))
        json_object_set_new(s, "readOnly", json_true());
    if (!response && (f->flags & FF_IMMUTABLE))
        json_object_set_new(s, "description",
                            json_string("Set on creation only; a PATCH may not change it."));
    return s;
}

static json_t *read_only(json_t *s)
{
    json_object_set_new(s, "readOnly", json_true());
    return s;
}

/* The object as answered, the create and update bodies, and the list
 * envelope of one resource. */
static void add_resource_schemas(json_t *schemas, const resource_desc *d)
{
    char name[64];
    json_t *props = json_object(), *req = json_array();
    json_object_set_new(props, "id", read_only(json_pack("{s:s,s:i}", "type", "integer",
                                                         "minimum", 1)));
    json_object_set_new(props, "created_at", read_only(json_pack("{s:s,s:s}", "type", "string",
                                                                 "format", "date-time")));
    json_object_set_new(props, "updated_at", read_only(json_pack("{s:s,s:s}", "type", "string",
                                                                 "format", "date-time")));
    json_array_append_new(req, json_string("id"));
    json_array_append_new(req, json_string("created_at"));
    json_array_append_new(req, json_string("updated_at"));
    json_t *cprops = json_object(), *creq = json_array(), *uprops = json_object();
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        if (f->group) {
            json_t *g = json_object_get(props, f->group);
            if (!g) {
                g = json_pack("{s:[s,s],s:{},s:b}", "type", "object", "null", "properties",
                              "readOnly", 1);
                json_object_set_new(props, f->group, g);
                json_array_append_new(req, json_string(f->group));
            }
            json_object_set_new(json_object_get(g, "properties"), f->key,
                                field_schema(f, SK_RESPONSE));
            continue;
        }
        json_object_set_new(props, f->name, field_schema(f, SK_RESPONSE));
        json_array_append_new(req, json_string(f->name));
        if (!(f->flags & FF_WRITABLE))
            continue;
        json_object_set_new(cprops, f->name, field_schema(f, SK_CREATE));
        if (f->flags & FF_REQUIRED)
            json_array_append_new(creq, json_string(f->name));
        if (!(f->flags & FF_IMMUTABLE))
            json_object_set_new(uprops, f->name, field_schema(f, SK_UPDATE));
    }
    schema_name(d, "", name, sizeof name);
    json_object_set_new(schemas, name,
                        json_pack("{s:s,s:o,s:o}", "type", "object", "properties", props,
                                  "required", req));

    if (json_object_size(cprops)) {
        schema_name(d, "Create", name, sizeof name);
        json_object_set_new(schemas, name,
                            json_pack("{s:s,s:o,s:o,s:b}", "type", "object", "properties",
                                      cprops, "required", creq, "additionalProperties", 0));
    } else {
        json_decref(cprops);
        json_decref(creq);
    }
    if (json_object_size(uprops)) {
        schema_name(d, "Update", name, sizeof name);
        json_object_set_new(schemas, name,
                            json_pack("{s:s,s:o,s:i,s:b}", "type", "object", "properties",
                                      uprops, "minProperties", 1, "additionalProperties", 0));
    } else {
        json_decref(uprops);
    }

    char item[64];
    schema_name(d, "", item, sizeof item);
    schema_name(d, "List", name, sizeof name);
    json_object_set_new(
        schemas, name,
        json_pack("{s:s,s:{s:{s:s,s:o},s:o},s:[s,s]}", "type", "object", "properties", "data",
                  "type", "array", "items", ref("schemas", item), "meta",
                  ref("schemas", "PageMeta"), "required", "data", "meta"));
}

static json_t *scope_enum(void)
{
    json_t *e = json_array();
    for (int i = 0; i < SCOPE_COUNT; i++)
        json_array_append_new(e, json_string(scope_name(i)));
    return e;
}

static json_t *scope_array(void)
{
    return json_pack("{s:s,s:{s:s,s:o}}", "type", "array", "items", "type", "string", "enum",
                     scope_enum());
}

static json_t *nullable_time(void)
{
    return json_pack("{s:[s,s],s:s}", "type", "string", "null", "format", "date-time");
}

static void add_fixed_schemas(json_t *schemas)
{
    json_object_set_new(
        schemas, "Problem",
        json_pack("{s:s,s:s,s:{s:{s:s,s:s},s:{s:s},s:{s:s},s:{s:s},s:{s:s},s:o,s:o,s:{s:s,s:{s:s,"
                  "s:{s:{s:s},s:{s:s}},s:[s,s]}}},s:[s,s,s,s]}",
                  "type", "object", "description",
                  "An RFC 9457 problem document (application/problem+json).", "properties",
                  "type", "type", "string", "format", "uri", "title", "type", "string", "status",
                  "type", "integer", "detail", "type", "string", "code", "type", "string",
                  "required_scopes", scope_array(), "granted_scopes", scope_array(), "errors",
                  "type", "array", "items", "type", "object", "properties", "field", "type",
                  "string", "message", "type", "string", "required", "field", "message",
                  "required", "type", "title", "status", "code"));
    json_object_set_new(
        schemas, "PageMeta",
        json_pack("{s:s,s:{s:{s:s,s:i},s:{s:s,s:i,s:i},s:{s:s,s:i}},s:[s,s,s]}", "type",
                  "object", "properties", "page", "type", "integer", "minimum", 1, "per_page",
                  "type", "integer", "minimum", 1, "maximum", PER_PAGE_MAX, "total", "type",
                  "integer", "minimum", 0, "required", "page", "per_page", "total"));
    json_object_set_new(schemas, "Health",
                        json_pack("{s:s,s:{s:{s:s}},s:[s]}", "type", "object", "properties",
                                  "status", "type", "string", "required", "status"));
    json_object_set_new(schemas, "Message",
                        json_pack("{s:s,s:{s:{s:s}},s:[s]}", "type", "object", "properties",
                                  "message", "type", "string", "required", "message"));
    /* The top level of an OpenAPI 3.1 document, enough for a client to read
     * its version and title typed. */
    json_object_set_new(
        schemas, "OpenAPIDocument",
        json_pack("{s:s,s:s,s:[s,s,s],s:{s:{s:s},s:{s:s,s:[s,s],s:{s:{s:s},s:{s:s}}},"
                  "s:{s:s}}}",
                  "type", "object", "description", "This document.", "required", "openapi",
                  "info", "paths", "properties", "openapi", "type", "string", "info", "type",
                  "object", "required", "title", "version", "properties", "title", "type",
                  "string", "version", "type", "string", "paths", "type", "object"));
    json_object_set_new(
        schemas, "CredentialsRevoke",
        json_pack("{s:s,s:{s:{s:s,s:i,s:i,s:{s:s,s:i}}},s:[s],s:b}", "type", "object",
                  "properties", "credentials", "type", "array", "minItems", 1, "maxItems",
                  CREDENTIALS_MAX, "items", "type", "string", "maxLength", CREDENTIAL_MAX_BYTES,
                  "required", "credentials", "additionalProperties", 0));
    json_object_set_new(
        schemas, "OidcTokenRequest",
        json_pack("{s:s,s:{s:{s:s,s:i,s:s}},s:[s],s:b}", "type", "object", "properties",
                  "token", "type", "string", "maxLength", JWT_MAX_BYTES, "description",
                  "The CI job's OIDC ID token (a compact JWS)", "required", "token",
                  "additionalProperties", 0));
    json_t *res_ids = json_pack("{s:s,s:{s:s,s:s}}", "type", "array", "items", "type",
                                "integer", "format", "int64");
    json_object_set_new(
        schemas, "OidcTokenGrant",
        json_pack("{s:s,s:{s:{s:s,s:s},s:{s:s,s:s},s:o,s:{s:[s,s],s:s,s:{s:O,s:O,s:o}}},"
                  "s:[s,s,s,s]}",
                  "type", "object", "properties", "token", "type", "string", "pattern",
                  "^piora_token_[0-9A-Za-z]{36}$", "expires_at", "type", "string", "format",
                  "date-time", "scopes", scope_array(), "resources", "type", "object", "null",
                  "description", "SPEC 11: the objects the token is limited to; null: all",
                  "properties", "servers", res_ids, "applications", res_ids, "databases",
                  res_ids, "required", "token", "expires_at", "scopes", "resources"));
    json_object_set_new(
        schemas, "DeployRequest",
        json_pack("{s:s,s:{s:{s:s,s:i,s:i,s:s}},s:b}", "type", "object", "properties", "ref",
                  "type", "string", "minLength", 1, "maxLength", 255, "description",
                  "A branch, tag or commit; default: the application's branch.",
                  "additionalProperties", 0));
    json_object_set_new(
        schemas, "RestoreRequest",
        json_pack("{s:s,s:{s:{s:s,s:s,s:i,s:s}},s:b}", "type", "object", "properties",
                  "database_id", "type", "integer", "format", "int64", "minimum", 1,
                  "description",
                  "The database to restore into (same engine and team); default: the "
                  "backup's own.",
                  "additionalProperties", 0));
    json_t *owner = json_pack(
        "{s:s,s:{s:{s:s},s:{s:s},s:{s:s,s:{s:{s:s},s:{s:s}},s:[s,s]}},s:[s,s,s]}", "type",
        "object", "properties", "id", "type", "integer", "email", "type", "string", "team",
        "type", "object", "properties", "id", "type", "integer", "name", "type", "string",
        "required", "id", "name", "required", "id", "email", "team");
    json_t *props = json_object();
    json_object_set_new(props, "id", json_pack("{s:s}", "type", "integer"));
    json_object_set_new(props, "name", json_pack("{s:s}", "type", "string"));
    json_object_set_new(props, "scopes", scope_array());
    json_object_set_new(props, "hint",
                        json_pack("{s:s,s:s}", "type", "string", "description",
                                  "piora_token_ + first 4 + … + last 4 characters"));
    json_object_set_new(props, "created_at", nullable_time());
    json_object_set_new(props, "last_used_at", nullable_time());
    json_object_set_new(props, "expires_at", nullable_time());
    json_object_set_new(props, "status", json_pack("{s:s,s:[s,s,s]}", "type", "string", "enum",
                                                   "active", "expired", "revoked"));
    json_object_set_new(props, "last_used_addr", json_pack("{s:s}", "type", "string"));
    json_object_set_new(props, "owner", owner);
    json_object_set_new(props, "note",
                        json_pack("{s:[s,s],s:i,s:s}", "type", "string", "null", "maxLength",
                                  TOKEN_NOTE_MAX, "description",
                                  "the owner's note about the token (issue 13); null: none"));
    json_object_set_new(props, "regenerated_at", nullable_time());
    json_t *ids = json_pack("{s:s,s:{s:s,s:i}}", "type", "array", "items", "type", "integer",
                            "minimum", 1);
    json_object_set_new(
        props, "resources",
        json_pack("{s:[s,s],s:s,s:{s:o,s:o,s:o},s:b}", "type", "object", "null", "description",
                  "SPEC 11: the objects the token is limited to, with what hangs under them; "
                  "null: every object of the team",
                  "properties", "servers", json_deep_copy(ids), "applications",
                  json_deep_copy(ids), "databases", ids, "additionalProperties", 0));
    json_object_set_new(
        props, "allowed_ips",
        json_pack("{s:[s,s],s:s,s:i,s:{s:s}}", "type", "array", "null", "description",
                  "SPEC 11: the addresses and CIDR blocks the token may be used from; null: no "
                  "address rule",
                  "maxItems", ADDRS_MAX, "items", "type", "string"));
    json_t *key = json_pack("{s:s,s:{s:{s:s,s:s},s:{s:s,s:s},s:{s:s,s:s}},s:[s,s,s]}", "type",
                            "object", "properties", "public_key", "type", "string", "description",
                            "an authorized_keys line: ssh-ed25519 AAAA... piora-<team>",
                            "fingerprint", "type", "string", "description", "SHA256:...",
                            "created_at", "type", "string", "format", "date-time", "required",
                            "public_key", "fingerprint", "created_at");
    json_t *sshkey = json_deep_copy(key);
    json_t *prev = json_deep_copy(key);
    json_object_set_new(prev, "type", json_pack("[s,s]", "object", "null"));
    json_object_set_new(json_object_get(sshkey, "properties"), "previous", prev);
    json_array_append_new(json_object_get(sshkey, "required"), json_string("previous"));
    json_decref(key);
    json_object_set_new(schemas, "SshKey", sshkey);
    json_object_set_new(
        schemas, "ServerCheck",
        json_pack("{s:s,s:{s:{s:s,s:[s,s,s,s]},s:{s:[s,s],s:s},s:{s:s}},s:[s,s,s]}", "type",
                  "object", "properties", "status", "type", "string", "enum", "reachable",
                  "unreachable", "auth_failed", "host_key_mismatch", "host_key_fingerprint", "type",
                  "string", "null", "description", "the key the server presented (SHA256:...)",
                  "detail", "type", "string", "required", "status", "host_key_fingerprint",
                  "detail"));
    json_object_set_new(schemas, "TokenSelf",
                        json_pack("{s:s,s:o,s:[s,s,s,s,s,s,s,s,s]}", "type", "object",
                                  "properties", props, "required", "id", "name", "scopes",
                                  "hint", "created_at", "last_used_at", "expires_at", "status",
                                  "owner"));
}

static json_t *problem_response(const char *desc, json_t *headers)
{
    json_t *r = json_pack("{s:s,s:{s:{s:o}}}", "description", desc, "content",
                          "application/problem+json", "schema", ref("schemas", "Problem"));
    if (headers)
        json_object_set_new(r, "headers", headers);
    return r;
}

static json_t *header_doc(const char *desc, const char *type)
{
    return json_pack("{s:s,s:{s:s}}", "description", desc, "schema", "type", type);
}

static const char *const RATE_HEADERS[] = {"X-RateLimit-Limit", "X-RateLimit-Remaining",
                                           "X-RateLimit-Used", "X-RateLimit-Reset", NULL};

static json_t *rate_headers(void)
{
    json_t *h = json_object();
    for (const char *const *n = RATE_HEADERS; *n; n++)
        json_object_set_new(h, *n, ref("headers", *n));
    return h;
}

static void add_components(json_t *comp)
{
    json_t *headers = json_object();
    json_object_set_new(headers, "X-OAuth-Scopes",
                        header_doc("The scopes the token was granted, comma separated.",
                                   "string"));
    json_object_set_new(headers, "X-Accepted-OAuth-Scopes",
                        header_doc("The scopes this endpoint accepts (any one suffices).",
                                   "string"));
    json_object_set_new(headers, "X-RateLimit-Limit",
                        header_doc("Requests allowed per minute for this token.", "integer"));
    json_object_set_new(headers, "X-RateLimit-Remaining",
                        header_doc("Requests left in the current window.", "integer"));
    json_object_set_new(headers, "X-RateLimit-Used",
                        header_doc("Requests used in the current window.", "integer"));
    json_object_set_new(headers, "X-RateLimit-Reset",
                        header_doc("When the window resets, in epoch seconds.", "integer"));
    json_object_set_new(headers, "Location",
                        header_doc("The URL of the object created.", "string"));
    json_object_set_new(headers, "Link",
                        header_doc("RFC 8288 links: first, prev, next, last (relative URLs, or "
                                   "absolute on --public-url when the server has one).",
                                   "string"));
    json_object_set_new(headers, "WWW-Authenticate",
                        header_doc("Bearer realm=\"piora\", with error and error_description "
                                   "(or scope for 403).",
                                   "string"));
    json_object_set_new(headers, "Retry-After", header_doc("Seconds to wait.", "integer"));
    json_object_set_new(headers, "Allow", header_doc("The methods the path takes.", "string"));
    json_object_set_new(headers, "Digest",
                        header_doc("The dump's SHA-256 as recorded when it was written: "
                                   "sha-256=<base64> (RFC 3230).",
                                   "string"));
    json_object_set_new(headers, "ETag",
                        header_doc("The dump's SHA-256 in hex, quoted.", "string"));
    json_object_set_new(headers, "Content-Length", header_doc("The dump's size in bytes.", "integer"));
    json_object_set_new(comp, "headers", headers);

    json_t *resp = json_object();
    json_object_set_new(resp, "BadRequest",
                        problem_response("Invalid JSON or UTF-8, a body that is not an object, "
                                         "or a token passed in the URL (invalid_request).",
                                         NULL));
    json_object_set_new(
        resp, "Unauthorized",
        problem_response("No token (missing_token), or an invalid, expired or revoked token "
                         "(invalid_token, token_expired, token_revoked).",
                         json_pack("{s:o}", "WWW-Authenticate",
                                   ref("headers", "WWW-Authenticate"))));
    json_object_set_new(resp, "Forbidden",
                        problem_response("The token lacks the scope (insufficient_scope); the "
                                         "body carries required_scopes and granted_scopes. "
                                         "Or the token is used from an address outside its "
                                         "allowed_ips (ip_not_allowed, checked before the "
                                         "scope), or it is limited to chosen resources and "
                                         "the request would create a server or change what "
                                         "the whole team shares (resource_restricted).",
                                         json_pack("{s:o}", "WWW-Authenticate",
                                                   ref("headers", "WWW-Authenticate"))));
    json_object_set_new(resp, "NotFound",
                        problem_response("No such object, another team's, or one outside a "
                                         "resource-limited token's grant, also as the parent "
                                         "a body names (not_found).",
                                         NULL));
    json_object_set_new(resp, "MethodNotAllowed",
                        problem_response("The path does not take this method.",
                                         json_pack("{s:o}", "Allow", ref("headers", "Allow"))));
    json_object_set_new(resp, "Conflict",
                        problem_response("The object is still in use, or a unique value is taken "
                                         "(conflict).",
                                         NULL));
    json_object_set_new(resp, "BackupNotCompleted",
                        problem_response("The backup is not completed (backup_not_completed).",
                                         NULL));
    json_object_set_new(resp, "BackupFileMissing",
                        problem_response("The completed backup's file is gone from the backup "
                                         "store (backup_file_missing).",
                                         NULL));
    json_object_set_new(resp, "PayloadTooLarge",
                        problem_response("The body is over 1 MiB (payload_too_large).", NULL));
    json_object_set_new(resp, "ValidationFailed",
                        problem_response("A field, or a query parameter, is invalid "
                                         "(validation_failed); errors lists each as "
                                         "{field, message}.",
                                         NULL));
    json_object_set_new(resp, "ClientError",
                        problem_response("Any other client error, as a problem document with "
                                         "its code.",
                                         NULL));
    json_t *rh = rate_headers();
    json_object_set_new(rh, "Retry-After", ref("headers", "Retry-After"));
    json_object_set_new(resp, "TooManyRequests",
                        problem_response("Rate limit exceeded (rate_limited).", rh));
    json_object_set_new(resp, "Unavailable",
                        problem_response("The database does not answer (unavailable).", NULL));
    json_object_set_new(comp, "responses", resp);

    json_t *params = json_object();
    json_object_set_new(params, "Id",
                        json_pack("{s:s,s:s,s:b,s:s,s:{s:s,s:s,s:i}}", "name", "id", "in", "path",
                                  "required", 1, "description", "The object's id.", "schema",
                                  "type", "integer", "format", "int64", "minimum", 1));
    json_object_set_new(params, "Page",
                        json_pack("{s:s,s:s,s:b,s:{s:s,s:i,s:i}}", "name", "page", "in", "query",
                                  "required", 0, "schema", "type", "integer", "minimum", 1,
                                  "default", 1));
    json_object_set_new(params, "PerPage",
                        json_pack("{s:s,s:s,s:b,s:{s:s,s:i,s:i,s:i}}", "name", "per_page", "in",
                                  "query", "required", 0, "schema", "type", "integer", "minimum",
                                  1, "maximum", PER_PAGE_MAX, "default", PER_PAGE_DEFAULT));
    json_object_set_new(comp, "parameters", params);

    json_object_set_new(comp, "securitySchemes",
                        json_pack("{s:{s:s,s:s,s:s,s:s}}", "bearer", "type", "http", "scheme",
                                  "bearer", "bearerFormat", "piora_token_[0-9A-Za-z]{36}",
                                  "description",
                                  "A Piora API token in the Authorization header: "
                                  "`Authorization: Bearer piora_token_...`. Never in the URL."));

    json_t *schemas = json_object();
    for (const resource_desc *const *d = piora_resources; *d; d++)
        add_resource_schemas(schemas, *d);
    add_fixed_schemas(schemas);
    json_object_set_new(comp, "schemas", schemas);
}

static json_t *scope_names(scope_set s)
{
    json_t *a = json_array();
    for (int i = 0; i < SCOPE_COUNT; i++)
        if (s & (1u << i))
            json_array_append_new(a, json_string(scope_name(i)));
    return a;
}

/* "get_servers_id_deploy" style ids: unique because method+pattern is. */
static void operation_id(const route_t *rt, char *out, size_t len)
{
    const char *p = rt->pattern;
    if (strncmp(p, API_PREFIX "/", strlen(API_PREFIX) + 1) == 0)
        p += strlen(API_PREFIX);
    char tail[256];
    size_t o = 0;
    for (; *p && o + 1 < sizeof tail; p++) {
        if (*p == '{' || *p == '}')
            continue;
        tail[o++] = (*p == '/' || *p == '.' || *p == '-') ? '_' : *p;
    }
    tail[o] = '\0';
    snprintf(out, len, "%s%s", method_key(rt->method), tail);
}

static void scope_prose(const route_t *rt, char *out, size_t len)
{
    if (rt->auth == ROUTE_AUTH_NONE) {
        snprintf(out, len, "No token needed.");
        return;
    }
    if (!rt->scopes) {
        snprintf(out, len, "Any valid token (no scope needed).");
        return;
    }
    size_t o = (size_t)snprintf(out, len, "Required scope%s: ",
                                (rt->scopes & (rt->scopes - 1)) ? " (any one of)" : "");
    bool first = true;
    for (int i = 0; i < SCOPE_COUNT && o < len; i++) {
        if (!(rt->scopes & (1u << i)))
            continue;
        o += (size_t)snprintf(out + o, len - o, "%s`%s`", first ? "" : ", ", scope_name(i));
        first = false;
    }
    if (o < len)
        snprintf(out + o, len - o, ".");
}

static json_t *json_content(json_t *schema)
{
    return json_pack("{s:{s:o}}", "application/json", "schema", schema);
}

static json_t *build_operation(const route_t *rt)
{
    const op_doc *doc = doc_for(rt->fn);
    bool token = rt->auth == ROUTE_AUTH_TOKEN;
    bool has_id = strstr(rt->pattern, "{id}") != NULL;
    json_t *op = json_object();
    char buf[1024];

    operation_id(rt, buf, sizeof buf);
    json_object_set_new(op, "operationId", json_string(buf));
    json_object_set_new(op, "summary", json_string(rt->summary ? rt->summary : ""));
    char scopes[256];
    scope_prose(rt, scopes, sizeof scopes);
    /* The order of a list is part of its contract: jobs newest first. */
    const char *order = "";
    if (doc && doc->list && doc->res)
        order = doc->res->newest_first ? " Newest first (by id, descending)." : " Ordered by id.";
    snprintf(buf, sizeof buf, "%s%s%s%s", scopes, order, doc && doc->notes ? " " : "",
             doc && doc->notes ? doc->notes : "");
    json_object_set_new(op, "description", json_string(buf));
    json_object_set_new(op, "x-required-scopes", scope_names(rt->scopes));
    if (token)
        json_object_set_new(op, "security",
                            json_pack("[{s:o}]", "bearer", scope_names(rt->scopes)));
    else
        json_object_set_new(op, "security", json_array());
    const char *seg = rt->pattern + (strncmp(rt->pattern, API_PREFIX, strlen(API_PREFIX)) == 0
                                         ? strlen(API_PREFIX)
                                         : 0);
    char tag[64];
    size_t tl = 0;
    for (seg++; *seg && *seg != '/' && tl + 1 < sizeof tag; seg++)
        tag[tl++] = *seg;
    tag[tl] = '\0';
    json_object_set_new(op, "tags", json_pack("[s]", tag));

    json_t *params = json_array();
    if (has_id)
        json_array_append_new(params, ref("parameters", "Id"));
    if (doc && doc->list) {
        json_array_append_new(params, ref("parameters", "Page"));
        json_array_append_new(params, ref("parameters", "PerPage"));
    }
    if (doc && doc->filter) {
        snprintf(buf, sizeof buf, "Only the objects whose %s is this id.", doc->filter);
        json_array_append_new(params, json_pack("{s:s,s:s,s:b,s:s,s:{s:s,s:s,s:i}}", "name",
                                                doc->filter, "in", "query", "required", 0,
                                                "description", buf, "schema", "type", "integer",
                                                "format", "int64", "minimum", 1));
    }
    bool joblog = rt->fn == deployments_log || rt->fn == backups_log || rt->fn == restores_log;
    if (joblog)
        json_array_append_new(
            params, json_pack("{s:s,s:s,s:b,s:s,s:{s:s,s:s,s:i}}", "name", "offset", "in",
                              "query", "required", 0, "description",
                              "The byte of the log to answer from (default 0).", "schema",
                              "type", "integer", "format", "int64", "minimum", 0));
    if (json_array_size(params))
        json_object_set_new(op, "parameters", params);
    else
        json_decref(params);

    char name[64] = "";
    if (doc && (doc->body == B_CREATE || doc->body == B_UPDATE) && doc->res)
        schema_name(doc->res, doc->body == B_CREATE ? "Create" : "Update", name, sizeof name);
    else if (doc && doc->body == B_CUSTOM)
        snprintf(name, sizeof name, "%s", doc->body_ref);
    if (name[0])
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b,s:o}", "required", rt->fn != backups_restore, "content",
                                      json_content(ref("schemas", name))));

    /* the success answer */
    json_t *ok = json_object();
    const char *st = http_status_title(rt->success_status);
    json_object_set_new(ok, "description", json_string(st ? st : "Success"));
    name[0] = '\0';
    if (doc && doc->res)
        schema_name(doc->res, doc->list ? "List" : "", name, sizeof name);
    else if (doc && doc->resp_ref)
        snprintf(name, sizeof name, "%s", doc->resp_ref);
    if (name[0] && rt->success_status != 204)
        json_object_set_new(ok, "content", json_content(ref("schemas", name)));
    bool download = rt->fn == backups_download;
    if (download)
        json_object_set_new(ok, "content",
                            json_pack("{s:{s:{s:s,s:s}}}", "application/octet-stream", "schema",
                                      "type", "string", "contentEncoding", "binary"));
    if (joblog)
        json_object_set_new(ok, "content",
                            json_pack("{s:{s:{s:s}}}", "text/plain", "schema", "type", "string"));
    json_t *hdrs = token ? rate_headers() : json_object();
    if (token) {
        json_object_set_new(hdrs, "X-OAuth-Scopes", ref("headers", "X-OAuth-Scopes"));
        json_object_set_new(hdrs, "X-Accepted-OAuth-Scopes",
                            ref("headers", "X-Accepted-OAuth-Scopes"));
    }
    if (doc && doc->location)
        json_object_set_new(hdrs, "Location", ref("headers", "Location"));
    if (doc && doc->list)
        json_object_set_new(hdrs, "Link", ref("headers", "Link"));
    if (download) {
        json_object_set_new(hdrs, "Content-Length", ref("headers", "Content-Length"));
        json_object_set_new(hdrs, "Digest", ref("headers", "Digest"));
        json_object_set_new(hdrs, "ETag", ref("headers", "ETag"));
    }
    if (joblog)
        json_object_set_new(hdrs, "X-Log-Complete",
                            json_pack("{s:s,s:{s:s,s:[s,s]}}", "description",
                                      "true once the job has ended and nothing lies past this "
                                      "answer",
                                      "schema", "type", "string", "enum", "true", "false"));
    if (json_object_size(hdrs))
        json_object_set_new(ok, "headers", hdrs);
    else
        json_decref(hdrs);

    json_t *resps = json_object();
    snprintf(buf, sizeof buf, "%d", rt->success_status);
    json_object_set_new(resps, buf, ok);
    bool body = doc && doc->body != B_NONE;
    if (token || body)
        json_object_set_new(resps, "400", ref("responses", "BadRequest"));
    if (token || rt->fn == oidc_token_exchange)
        json_object_set_new(resps, "401", ref("responses", "Unauthorized"));
    if (token) /* insufficient_scope, and SPEC 11's ip_not_allowed on every token route */
        json_object_set_new(resps, "403", ref("responses", "Forbidden"));
    /* A body may name a parent outside a limited token's grant (SPEC 11). */
    if (has_id || (token && body))
        json_object_set_new(resps, "404", ref("responses", "NotFound"));
    if (download) {
        json_object_set_new(resps, "409", ref("responses", "BackupNotCompleted"));
        json_object_set_new(resps, "410", ref("responses", "BackupFileMissing"));
    } else if (doc && doc->conflict) {
        json_object_set_new(resps, "409", ref("responses", "Conflict"));
    }
    /* No 415: the body is read as JSON whatever Content-Type says. */
    if (body)
        json_object_set_new(resps, "413", ref("responses", "PayloadTooLarge"));
    if (body || (doc && doc->list))
        json_object_set_new(resps, "422", ref("responses", "ValidationFailed"));
    if (token || rt->limit == ROUTE_LIMIT_ADDR)
        json_object_set_new(resps, "429", ref("responses", "TooManyRequests"));
    if (rt->fn == health_ready || rt->fn == oidc_token_exchange)
        json_object_set_new(resps, "503", ref("responses", "Unavailable"));
    /* Every operation can meet a client error the table above does not name
     * (a token in the URL, a rate limit on the address): clients get its shape. */
    json_object_set_new(resps, "4XX", ref("responses", "ClientError"));
    json_object_set_new(op, "responses", resps);
    return op;
}

/* Adds every "$ref" under v to want (an object used as a set). */
static void collect_refs(json_t *v, json_t *want)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            if (strcmp(k, "$ref") == 0 && json_is_string(x))
                json_object_set_new(want, json_string_value(x), json_true());
            else
                collect_refs(x, want);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
            collect_refs(x, want);
    }
}

/* Drops the components nothing reaches from the paths (directly or through
 * other components), so the document declares only what it uses: a list
 * schema of a resource that is never listed, a response no route answers.
 * The security schemes are named by security, not $ref, and stay. */
static void prune_components(json_t *doc)
{
    json_t *comp = json_object_get(doc, "components");
    json_t *want = json_object();
    collect_refs(json_object_get(doc, "paths"), want);
    /* Follow refs inside reached components until nothing new is reached. */
    for (size_t before = 0; before != json_object_size(want);) {
        before = json_object_size(want);
        const char *k;
        json_t *x;
        json_t *snapshot = json_deep_copy(want);
        json_object_foreach(snapshot, k, x) {
            char sec[64], name[128];
            if (sscanf(k, "#/components/%63[^/]/%127s", sec, name) == 2)
                collect_refs(json_object_get(json_object_get(comp, sec), name), want);
        }
        json_decref(snapshot);
    }
    const char *sec;
    json_t *items;
    json_object_foreach(comp, sec, items) {
        if (strcmp(sec, "securitySchemes") == 0)
            continue;
        const char *name;
        json_t *x, *tmp;
        json_object_foreach_safe(items, tmp, name, x) {
            char key[256];
            snprintf(key, sizeof key, "#/components/%s/%s", sec, name);
            if (!json_object_get(want, key))
                json_object_del(items, name);
        }
    }
    json_decref(want);
}

static json_t *openapi_build(void)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "openapi", json_string("3.1.0"));
    json_object_set_new(
        doc, "info",
        json_pack("{s:s,s:s,s:s}", "title", "Piora API", "version", "1",
                  "description",
                  "The REST API v1 of Piora. Every request outside /healthz, /readyz, this "
                  "document and /api/v1/credentials/revoke carries `Authorization: Bearer "
                  "<token>`; each operation names the scopes it accepts (x-required-scopes, any "
                  "one suffices; X:write includes X:read). Errors are RFC 9457 problem documents "
                  "with a machine-readable `code`. An unknown path answers 404, a method the path "
                  "does not take 405 with Allow, a body over 1 MiB 413. Objects of another team "
                  "answer 404 exactly like missing ones."));
    /* Piora carries no public license; linters (Redocly's info-license-strict)
     * want an SPDX identifier, and SPDX's form for a license outside its
     * list is LicenseRef-<name> (docs/api.md). */
    json_object_set_new(json_object_get(doc, "info"), "license",
                        json_pack("{s:s,s:s}", "name", "Proprietary", "identifier",
                                  "LicenseRef-Piora-Proprietary"));
    /* Paths carry their /api/v1 prefix: the server is the origin that
     * served this document. */
    json_object_set_new(doc, "servers",
                        json_pack("[{s:s,s:s}]", "url", "/", "description",
                                  "The Piora instance that serves this document."));
    json_t *paths = json_object();
    for (size_t i = 0; i < api_routes_count; i++) {
        const route_t *rt = &api_routes[i];
        const char *m = method_key(rt->method);
        if (!m)
            continue;
        json_t *item = json_object_get(paths, rt->pattern);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, rt->pattern, item);
        }
        json_object_set_new(item, m, build_operation(rt));
    }
    json_object_set_new(doc, "paths", paths);
    json_t *comp = json_object();
    add_components(comp);
    json_object_set_new(doc, "components", comp);
    json_object_set_new(doc, "security", json_pack("[{s:[]}]", "bearer"));
    prune_components(doc);
    return doc;
}

static pthread_once_t doc_once = PTHREAD_ONCE_INIT;
static char *doc_text;
static size_t doc_len;

static void doc_init(void)
{
    json_t *doc = openapi_build();
    if (!doc)
        return;
    doc_text = json_dumps(doc, JSON_INDENT(1));
    json_decref(doc);
    if (doc_text)
        doc_len = strlen(doc_text);
}

const char *openapi_document(size_t *len)
{
    pthread_once(&doc_once, doc_init);
    if (len)
        *len = doc_len;
    return doc_text;
}

void openapi_serve(req_t *r)
{
    size_t len;
    const char *doc = openapi_document(&len);
    if (!doc) {
        resp_error(r, PIORA_EINTERNAL, "The API document could not be built.");
        return;
    }
    resp_raw(r, 200, "application/json", doc, len);
}
