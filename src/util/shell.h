/* POSIX shell quoting for a command line another machine's shell parses
 * (the SSH exec request of a dump or restore, whose stdin carries data and
 * so cannot carry the script). */
#ifndef PIORA_UTIL_SHELL_H
#define PIORA_UTIL_SHELL_H

#include <stdbool.h>

#include "util/buf.h"

/* Appends s as one single-quoted word: 'it'\''s' for it's. Every byte but
 * the quote stands for itself inside single quotes, so no value can end the
 * word, expand or start another command. */
bool buf_put_shquoted(buf_t *b, const char *s);

#endif
