/* `piora serve`'s command line and environment, read through the settings
 * table of core/config.h: parsing (flag wins over PIORA_*, '--name value'
 * and '--name=value'), range checks with one-line errors, the --help text
 * and the settings table of docs/configuration.md. */
#ifndef PIORA_APP_SETTINGS_H
#define PIORA_APP_SETTINGS_H

#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"

/* Fills cfg from the defaults, the environment and argv (argv[0] is
 * "serve"). True when the server should start; otherwise *exit_code is 0
 * after --help, or the status of the one-line error already printed. */
bool settings_parse(int argc, char **argv, piora_config *cfg, int *exit_code);

/* The text of `piora serve --help`. */
void settings_write_usage(FILE *out);

/* The Markdown table of docs/configuration.md (between its
 * "settings:begin" and "settings:end" markers), one row per setting. */
void settings_write_markdown(FILE *out);

#endif
