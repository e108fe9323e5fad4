/* `piora audit`: the audit log of every team, newest first, for operators
 * on the machine (the dashboard shows each team its own). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/user.h"
#include "core/audit.h"

static const char audit_usage[] =
    "Usage: piora audit [--json] [--email E] [--limit N] [--database PATH_OR_URL]\n"
    "\n"
    "Shows the audit log, newest first: sign-ins (also failed, with the client\n"
    "address), sign-outs, tokens created, regenerated and revoked, users created\n"
    "and passwords changed, each with who did it and how (dashboard, cli, api\n"
    "for a token revoking itself, leak_report for POST /credentials/revoke,\n"
    "setup for the first-run page). TEAM is the team's name, ACTOR the email\n"
    "of the user who acted or, for a CLI action, the OS user who ran the\n"
    "command (\"alice (os user)\"; ADDRESS then says local). TOKEN is the\n"
    "token's id and, in parentheses, its name when the entry was written.\n"
    "\n"
    "  --email E    only entries about E: as the actor, the user concerned, or\n"
    "               the email tried at sign-in\n"
    "  --limit N    at most N entries (1-100000, default 100)\n"
    "  --json       a JSON array of {id, time, action, via, team_id, actor,\n"
    "               token_id, token_name, subject_user_id, email, addr}; addr\n"
    "               is \"local:<OS user>\" for a CLI action\n";

static const char *text_or(json_t *o, const char *key, const char *none)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v && *v ? v : none;
}

/* The team's name for the TEAM column, from the users read once (a team
 * exists because a user made it); the id alone for a team without users,
 * "-" for an entry of no team. */
static void team_cell(json_t *o, const user_rec *users, size_t nusers, char *out, size_t len)
{
    json_t *v = json_object_get(o, "team_id");
    if (!json_is_integer(v)) {
        snprintf(out, len, "-");
        return;
    }
    int64_t id = (int64_t)json_integer_value(v);
    for (size_t i = 0; i < nusers; i++)
        if (users[i].team_id == id) {
            snprintf(out, len, "%s", users[i].team_name);
            return;
        }
    snprintf(out, len, "%lld", (long long)id);
}

/* ACTOR and ADDRESS of an entry: the acting user's email and the client
 * address; a CLI action has neither, and shows the OS user that ran the
 * command (addr "local:<name>", see cli_actor) as "<name> (os user)". */
static void actor_cells(json_t *o, char *actor_out, size_t len, const char **addr_out)
{
    const char *email = text_or(json_object_get(o, "actor"), "email", NULL);
    const char *addr = text_or(o, "addr", "-");
    size_t pl = strlen(CLI_ADDR_PREFIX);
    *addr_out = addr;
    if (strncmp(addr, CLI_ADDR_PREFIX, pl) == 0) {
        *addr_out = "local";
        if (!email) {
            snprintf(actor_out, len, "%s (os user)", addr + pl);
            return;
        }
    }
    snprintf(actor_out, len, "%s", email ? email : "-");
}

/* "12 (deploy-bot)": the id and the name the token had at the time; an
 * entry whose token was gone before names were kept shows the id alone. */
static void token_cell(json_t *o, char *out, size_t len)
{
    const char *name = json_string_value(json_object_get(o, "token_name"));
    json_t *id = json_object_get(o, "token_id");
    if (!json_is_integer(id))
        snprintf(out, len, "-");
    else if (name && *name)
        snprintf(out, len, "%lld (%s)", (long long)json_integer_value(id), name);
    else
        snprintf(out, len, "%lld", (long long)json_integer_value(id));
}

int cmd_audit(int argc, char **argv)
{
    enum { F_JSON, F_EMAIL, F_LIMIT, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_JSON] = {.name = "json", .kind = FLAG_BOOL},
        [F_EMAIL] = {.name = "email"},
        [F_LIMIT] = {.name = "limit"},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *path = "piora audit";
    int rc;
    if (!cli_flags(path, audit_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    char email[EMAIL_MAX + 1] = "";
    if (defs[F_EMAIL].value &&
        (rc = cli_email_flag(path, defs[F_EMAIL].value, email)) != EXIT_OK)
        return rc;
    int64_t limit = 100;
    if (defs[F_LIMIT].value &&
        (rc = cli_limit_flag(path, defs[F_LIMIT].value, &limit)) != EXIT_OK)
        return rc;
    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
    if (!s)
        return EXIT_FAIL;
    json_t *items = NULL;
    int64_t total = 0;
    user_rec *users = NULL;
    size_t nusers = 0;
    piora_err e = audit_list_email(s, 0, email[0] ? email : NULL, 0, limit, &items, &total);
    if (e == PIORA_OK && !defs[F_JSON].given && (e = store_user_list(s, &users, &nusers)) != PIORA_OK)
        json_decref(items);
    store_close(s);
    if (e != PIORA_OK)
        return cli_fail("cannot read the audit log: %s", piora_strerror(e));

    if (defs[F_JSON].given) {
        if (!cli_print_json(items))
            return cli_fail("out of memory");
        return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
    }

    enum { NC = 8 };
    static const char *const header[NC] = {"TIME",  "ACTION", "VIA",   "TEAM",
                                           "ACTOR", "TOKEN",  "EMAIL", "ADDRESS"};
    typedef struct row {
        char team[TEAM_NAME_MAX + 24], token[24 + TOKEN_NAME_MAX + 4], actor[ADDR_MAX + 16];
    } row;
    size_t n = json_array_size(items);
    const char **cells = calloc(n ? n * NC : 1, sizeof *cells);
    row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!cells || !rows) {
        free(cells);
        free(rows);
        free(users);
        json_decref(items);
        return cli_fail("out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(items, i);
        team_cell(o, users, nusers, rows[i].team, sizeof rows[i].team);
        token_cell(o, rows[i].token, sizeof rows[i].token);
        const char **c = cells + i * NC;
        actor_cells(o, rows[i].actor, sizeof rows[i].actor, &c[7]);
        c[0] = text_or(o, "time", "-");
        c[1] = text_or(o, "action", "-");
        c[2] = text_or(o, "via", "-");
        c[3] = rows[i].team;
        c[4] = rows[i].actor;
        c[5] = rows[i].token;
        c[6] = text_or(o, "email", "-");
    }
    cli_table(header, NC, cells, n);
    if ((int64_t)n < total)
        printf("(%lld of %lld entries; use --limit for more)\n", (long long)n, (long long)total);
    free(cells);
    free(rows);
    free(users);
    json_decref(items);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}
