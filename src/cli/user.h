/* Input checks shared by the user and token commands. */
#ifndef PIORA_CLI_USER_H
#define PIORA_CLI_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "store/store.h"

/* Checks an --email value into out (normalized); EXIT_OK, or the usage
 * error's status after printing "invalid --email". */
int cli_email_flag(const char *path, const char *value, char out[EMAIL_MAX + 1]);
/* Reads one line (the trailing \n or \r\n dropped) into out; EXIT_OK, or
 * EXIT_FAIL after a message (empty, too long, NUL byte). */
int cli_read_password(FILE *in, char *out, size_t outlen, size_t *len);

#endif
