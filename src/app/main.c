/* argv -> `piora serve` here, or any other command through cli_main. */
#include "app/app.h"

#include <string.h>

#include <sodium.h>

#include "cli/cli.h"

int app_main(int argc, char **argv, const char *version)
{
    if (argc >= 2 && strcmp(argv[1], "serve") == 0) {
        cli_version = version;
        if (sodium_init() < 0)
            return cli_fail("cannot initialise libsodium");
        return app_serve(argc - 1, argv + 1, version);
    }
    return cli_main(argc, argv, version);
}
