/* The backup scheduler of `piora serve`: core/schedule.c's pass on a
 * background writer of its own (its own store connection), every
 * --schedule-interval seconds. */
#ifndef PIORA_APP_SCHEDULER_H
#define PIORA_APP_SCHEDULER_H

#include "core/config.h"
#include "util/err.h"

piora_err scheduler_start(const piora_config *cfg);
void scheduler_stop(void);

#endif
