/* `piora version`: "piora <version>" on one line. */
#include <stdio.h>

#include "cli/cli.h"

static const char usage[] =
    "Usage: piora version [--database PATH_OR_URL]\n"
    "\n"
    "Prints \"piora <version>\". --database is accepted (as on every command)\n"
    "and ignored.\n";

int cmd_version(int argc, char **argv)
{
    flag_def defs[] = {CLI_FLAG_DATABASE};
    int rc;
    if (!cli_flags("piora version", usage, defs, 1, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    printf("piora %s\n", cli_version);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}
