/* `piora serve` once its settings are read: every subsystem started in
 * order, the HTTP daemon last; a signal; everything stopped in the reverse
 * order so that what is buffered is written (SPEC 7). */
#ifndef PIORA_APP_RUNTIME_H
#define PIORA_APP_RUNTIME_H

#include "core/config.h"

/* Runs until SIGTERM or SIGINT. Returns the process exit status. */
int app_run(const piora_config *cfg);

#endif
