/* Private to store/: the backend's half of change.h. A backend keeps, with
 * its data, one counter per change kind that every write transaction moves
 * for the kinds it changed, in the same transaction, so that any process
 * can tell which kinds moved; these functions turn the counters it commits
 * or reads into this process's generations. */
#ifndef PIORA_STORE_CHANGE_BACKEND_H
#define PIORA_STORE_CHANGE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "store/change.h"

/* This process committed a change of kind k; the kind's counter is now
 * `counter`. Called after the commit, never before. */
void change_committed(change_kind k, int64_t counter);

/* A poll read `counter` for kind k. Moves the generation, and answers
 * true, when it differs from the last counter this process saw for k. */
bool change_observe(change_kind k, int64_t counter);

/* Moves the generations of `kinds` without a counter: for what a backend
 * cannot attribute (a migration, a poll that failed). */
void change_bump(unsigned kinds);

/* The kind stored under this name; false for a name this build does not
 * know (a kind added by a newer piora). */
bool change_kind_parse(const char *name, change_kind *k);

#endif
