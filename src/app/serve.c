/* `piora serve`: every setting of the table in core/config.h as a flag and
 * a PIORA_* environment variable (the flag wins), checked against its range
 * before the server starts, so a typo fails at once with a one-line reason. */
#include "app/app.h"
#include "app/settings.h"
#include "app/runtime.h"
#include "monitor/metrics.h"

int app_serve(int argc, char **argv, const char *version)
{
    piora_config cfg;
    int rc;
    if (!settings_parse(argc, argv, &cfg, &rc))
        return rc;
    metrics_set_build(version);
    return app_run(&cfg);
}
