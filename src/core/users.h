/* Account input rules shared by the CLI and the dashboard. */
#ifndef PIORA_CORE_USERS_H
#define PIORA_CORE_USERS_H

#include <stdbool.h>

#include "store/store.h"

/* A sane email (local@domain, <= 254 bytes, local part <= 64, a domain of
 * letters, digits and hyphens in dot-separated labels; "root@localhost" is
 * fine: the address is never mailed), lower-cased into out. */
bool users_email_normalize(const char *in, char out[EMAIL_MAX + 1]);
/* A team name: 1-64 bytes of UTF-8 without control characters (C0, DEL, C1). */
bool users_team_valid(const char *t);

#endif
