/* The API's rows of the route table (SPEC 4): method, pattern, how the
 * caller authenticates, which limiter applies, the scopes of which any one
 * suffices, flags, handler, and the OpenAPI metadata. The OpenAPI document
 * (api/openapi.c) is built from these rows, and test_routes checks the two
 * agree. app/ puts them first in the one table, with the dashboard's. */
#include "api/api.h"

#define S_SR SCOPE_SERVERS_READ
#define S_SW SCOPE_SERVERS_WRITE
#define S_AR SCOPE_APPLICATIONS_READ
#define S_AW SCOPE_APPLICATIONS_WRITE
#define S_AD SCOPE_APPLICATIONS_DEPLOY
#define S_DR SCOPE_DATABASES_READ
#define S_DW SCOPE_DATABASES_WRITE
#define S_BR SCOPE_BACKUPS_READ
#define S_BW SCOPE_BACKUPS_WRITE
#define C ROUTE_CACHEABLE
#define V API_PREFIX
#define TOKEN ROUTE_AUTH_TOKEN, ROUTE_LIMIT_TOKEN
#define OPEN ROUTE_AUTH_NONE, ROUTE_LIMIT_NONE

const route_t api_routes[] = {
    {HTTP_GET, "/healthz", OPEN, 0, ROUTE_NO_STORE, health_live, 200, "Liveness: the server accepts requests"},
    {HTTP_GET, "/readyz", OPEN, 0, 0, health_ready, 200, "Readiness: the database answers"},
    {HTTP_GET, V "/openapi.json", OPEN, 0, ROUTE_NO_STORE, openapi_serve, 200, "This OpenAPI 3.1 document"},
    {HTTP_GET, "/metrics", OPEN, 0, ROUTE_NO_STORE, metrics_serve, 200, "Prometheus metrics (text format 0.0.4)"},

    {HTTP_GET, V "/servers", TOKEN, S_SR, C, servers_list, 200, "List servers"},
    {HTTP_POST, V "/servers", TOKEN, S_SW, 0, servers_create, 201, "Create a server"},
    {HTTP_GET, V "/servers/{id}", TOKEN, S_SR, C, servers_get, 200, "Get a server"},
    {HTTP_PATCH, V "/servers/{id}", TOKEN, S_SW, 0, servers_update, 200, "Update a server"},
    {HTTP_DELETE, V "/servers/{id}", TOKEN, S_SW, 0, servers_delete, 204,
     "Delete a server (409 while applications or databases use it)"},

    {HTTP_POST, V "/servers/{id}/check", TOKEN, S_SW, 0, servers_check, 200,
     "Connect, check the host key, authenticate, run nothing"},
    {HTTP_GET, V "/applications", TOKEN, S_AR, C, applications_list, 200, "List applications"},
    {HTTP_POST, V "/applications", TOKEN, S_AW, 0, applications_create, 201, "Create an application"},
    {HTTP_GET, V "/applications/{id}", TOKEN, S_AR, C, applications_get, 200, "Get an application"},
    {HTTP_PATCH, V "/applications/{id}", TOKEN, S_AW, 0, applications_update, 200, "Update an application"},
    {HTTP_DELETE, V "/applications/{id}", TOKEN, S_AW, 0, applications_delete, 204,
     "Delete an application and its deployments"},
    {HTTP_POST, V "/applications/{id}/deploy", TOKEN, S_AD, 0, applications_deploy, 202,
     "Queue a deployment of the application"},
    {HTTP_GET, V "/applications/{id}/deployments", TOKEN, S_AR | S_AD, C, applications_deployments, 200,
     "List the application's deployments"},
    {HTTP_GET, V "/deployments/{id}", TOKEN, S_AR | S_AD, C, deployments_get, 200, "Get a deployment"},
    {HTTP_POST, V "/deployments/{id}/cancel", TOKEN, S_AD, 0, deployments_cancel, 200,
     "Cancel a deployment"},
    {HTTP_GET, V "/deployments/{id}/log", TOKEN, S_AR | S_AD, 0, deployments_log, 200,
     "A deployment's log from a byte offset"},

    {HTTP_GET, V "/databases", TOKEN, S_DR, C, databases_list, 200, "List databases"},
    {HTTP_POST, V "/databases", TOKEN, S_DW, 0, databases_create, 201, "Create a database"},
    {HTTP_GET, V "/databases/{id}", TOKEN, S_DR, C, databases_get, 200, "Get a database"},
    {HTTP_PATCH, V "/databases/{id}", TOKEN, S_DW, 0, databases_update, 200, "Update a database"},
    {HTTP_DELETE, V "/databases/{id}", TOKEN, S_DW, 0, databases_delete, 204,
     "Delete a database and its backups"},

    {HTTP_GET, V "/backups", TOKEN, S_BR, C, backups_list, 200, "List backups (filter: database_id)"},
    {HTTP_POST, V "/backups", TOKEN, S_BW, 0, backups_create, 202, "Queue a backup of a database"},
    {HTTP_GET, V "/backups/{id}", TOKEN, S_BR, C, backups_get, 200, "Get a backup"},
    {HTTP_DELETE, V "/backups/{id}", TOKEN, S_BW, 0, backups_delete, 204, "Delete a backup"},
    {HTTP_GET, V "/backups/{id}/download", TOKEN, S_BR, 0, backups_download, 200,
     "Download the backup's dump"},
    {HTTP_POST, V "/backups/{id}/restore", TOKEN, S_BW, 0, backups_restore, 202,
     "Queue a restore of the backup into its database or another of the same engine"},
    {HTTP_GET, V "/restores", TOKEN, S_BR, C, restores_list, 200, "List restores (filter: backup_id)"},
    {HTTP_GET, V "/restores/{id}", TOKEN, S_BR, C, restores_get, 200, "Get a restore"},
    {HTTP_GET, V "/backups/{id}/log", TOKEN, S_BR, 0, backups_log, 200,
     "A backup's log (the dump tool's stderr) from a byte offset"},
    {HTTP_POST, V "/backups/{id}/cancel", TOKEN, S_BW, 0, backups_cancel, 200,
     "Cancel a pending or running backup"},
    {HTTP_GET, V "/restores/{id}/log", TOKEN, S_BR, 0, restores_log, 200,
     "A restore's log from a byte offset"},
    {HTTP_POST, V "/restores/{id}/cancel", TOKEN, S_BW, 0, restores_cancel, 200,
     "Cancel a pending or running restore"},

    {HTTP_GET, V "/ssh-key", TOKEN, S_SR, 0, ssh_key_get, 200,
     "The team's SSH public key (made on first use) and the previous one, if kept"},
    {HTTP_POST, V "/ssh-key/rotate", TOKEN, S_SW, 0, ssh_key_rotate, 200,
     "Make a new current SSH key pair; the current one becomes the previous"},
    {HTTP_DELETE, V "/ssh-key/previous", TOKEN, S_SW, 0, ssh_key_previous_delete, 204,
     "Stop offering the previous SSH key"},

    {HTTP_GET, V "/token", TOKEN, 0, 0, token_self_get, 200, "The calling token: name, scopes, expiry, owner"},
    {HTTP_DELETE, V "/token", TOKEN, 0, 0, token_self_delete, 204, "Revoke the calling token"},

    {HTTP_POST, V "/credentials/revoke", ROUTE_AUTH_NONE, ROUTE_LIMIT_ADDR, 0, 0, credentials_revoke,
     202, "Revoke leaked tokens (no token needed; rate limited per address)"},
    {HTTP_POST, V "/oidc/token", ROUTE_AUTH_NONE, ROUTE_LIMIT_ADDR, 0, 0, oidc_token_exchange, 201,
     "Exchange a CI job's OIDC token for a 15-minute token (trusted publishing; no token "
     "needed; rate limited per address)"},
};

const size_t api_routes_count = sizeof api_routes / sizeof api_routes[0];
