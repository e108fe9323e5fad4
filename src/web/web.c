#include "web/web.h"

#include <string.h>

#include "http/response.h"

bool web_owns(const char *path)
{
    return strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0 &&
           strcmp(path, "/healthz") != 0 && strcmp(path, "/readyz") != 0 &&
           strcmp(path, "/metrics") != 0;
}

void web_dispatch(req_t *r)
{
    resp_problem(r, 404, "not_found", "The dashboard is not built yet.", NULL);
}
