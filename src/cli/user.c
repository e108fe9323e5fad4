/* `piora user add|list|password|disable|enable|remove`. Passwords come only from standard input
 * (never argv, which other users of the machine can read in /proc) and are
 * wiped from memory once hashed. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "auth/password.h"
#include "auth/session.h"
#include "cli/cli.h"
#include "cli/user.h"
#include "core/team.h"
#include "core/users.h"
#include "util/clock.h"
#include "util/json.h"

static const char group_usage[] =
    "Usage: piora user <command> [flags]\n"
    "\n"
    "Commands:\n"
    "  add       --email E --team T [--admin] --password-stdin\n"
    "  list      [--json]\n"
    "  password  --email E --password-stdin\n"
    "  disable   --email E   end their sessions, revoke their tokens, no sign-in\n"
    "  enable    --email E   let a disabled user sign in again\n"
    "  remove    --email E   disable, and take them off the team's lists\n"
    "  invite    --email E [--admin] [--team T]   print a one-time sign-up link\n"
    "\n"
    "Every command takes --database PATH_OR_URL (env PIORA_DATABASE).\n";

static const char add_usage[] =
    "Usage: piora user add --email E --team T [--admin] --password-stdin\n"
    "                      [--database PATH_OR_URL]\n"
    "\n"
    "Creates a user, and the team T if it does not exist yet (else the user\n"
    "joins it). The password is read from standard input: one line, at least\n"
    "8 characters. Prints the new user's id and email.\n"
    "\n"
    "  --email E          sign-in email (stored lower-cased)\n"
    "  --team T           team name, 1-64 characters\n"
    "  --admin            make the user an administrator\n"
    "  --password-stdin   read the password from standard input (required)\n"
    "  --database P       SQLite file (PIORA_DATABASE, default ./piora.db);\n"
    "                     created when missing, as by 'piora serve' (no\n"
    "                     other command makes one)\n";

static const char list_usage[] =
    "Usage: piora user list [--json] [--database PATH_OR_URL]\n"
    "\n"
    "Lists users: id, email, team, admin, created_at. --json prints a JSON array.\n";

static const char password_usage[] =
    "Usage: piora user password --email E --password-stdin [--database PATH_OR_URL]\n"
    "\n"
    "Sets the user's password to the line read from standard input.\n";

static const char disable_usage[] =
    "Usage: piora user disable --email E [--database PATH_OR_URL]\n"
    "\n"
    "Offboards a user at once: ends their dashboard sessions, revokes every\n"
    "token of theirs (a running server refuses them on the next request) and\n"
    "refuses their sign-in. Objects they made stay with the team; the audit\n"
    "log keeps their email. The team's last admin cannot be disabled.\n"
    "'piora user enable' undoes the sign-in refusal, not the revocations.\n";

static const char invite_usage[] =
    "Usage: piora user invite --email E [--admin] [--team T] [--public-url URL]\n"
    "                         [--database PATH_OR_URL]\n"
    "\n"
    "Invites E into the team and prints a one-time link on standard output.\n"
    "Whoever opens it within 7 days chooses a password and is signed in. Only\n"
    "a digest of the link's secret is stored; a newer invitation of the same\n"
    "email replaces the older one. Revoke one on the dashboard's Members page.\n"
    "\n"
    "  --email E          the invitee's sign-in email\n"
    "  --admin            invite as an administrator (default: member)\n"
    "  --team T           the team; needed only when the database has several\n"
    "  --public-url URL   the base of the link (PIORA_PUBLIC_URL, as 'serve'\n"
    "                     takes it; default http://127.0.0.1:8080)\n";

static const char enable_usage[] =
    "Usage: piora user enable --email E [--database PATH_OR_URL]\n"
    "\n"
    "Lets a disabled user sign in again. Their revoked tokens stay revoked.\n";

static const char remove_usage[] =
    "Usage: piora user remove --email E [--database PATH_OR_URL]\n"
    "\n"
    "Removes a user from their team: as 'disable', and they no longer appear\n"
    "in 'piora user list' or the Team page. Their objects stay with the team,\n"
    "their revoked tokens stay listed as revoked, and audit entries keep\n"
    "their email. The email cannot be used for a new user. The team's last\n"
    "admin cannot be removed.\n";

int cli_read_password(FILE *in, char *out, size_t outlen, size_t *len)
{
    size_t n = 0;
    int c;
    bool nul = false;
    while ((c = getc(in)) != EOF && c != '\n') {
        if (c == '\0')
            nul = true;
        if (n + 1 >= outlen) {
            sodium_memzero(out, outlen);
            return cli_fail("password too long (at most %d bytes)", PASSWORD_MAX_LEN);
        }
        out[n++] = (char)c;
    }
    if (n > 0 && out[n - 1] == '\r')
        n--;
    out[n] = '\0';
    if (nul) {
        sodium_memzero(out, outlen);
        return cli_fail("password must not contain NUL bytes");
    }
    if (n == 0)
        return cli_fail("no password on standard input");
    *len = n;
    return EXIT_OK;
}

/* The CLI's words for what core/users.c refused. */
static int password_refused(unsigned bad)
{
    if (bad & USERS_BAD_PASSWORD)
        return cli_fail("password must be %d to %d bytes", PASSWORD_MIN_LEN, PASSWORD_MAX_LEN);
    return cli_fail("invalid input");
}

int cli_email_flag(const char *path, const char *value, char out[EMAIL_MAX + 1])
{
    if (!users_email_normalize(value, out)) {
        char q[64];
        flags_quote(value, q, sizeof q);
        return cli_usage_error(path, "invalid --email '%s'", q);
    }
    return EXIT_OK;
}

/* A required --email; prints the usage error itself. */
static int email_flag(const char *path, const flag_def *f, char email[EMAIL_MAX + 1])
{
    if (!f->value)
        return cli_usage_error(path, "--email is required");
    return cli_email_flag(path, f->value, email);
}

static int user_add(int argc, char **argv)
{
    enum { F_EMAIL, F_TEAM, F_ADMIN, F_STDIN, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_EMAIL] = {.name = "email"},
        [F_TEAM] = {.name = "team"},
        [F_ADMIN] = {.name = "admin", .kind = FLAG_BOOL},
        [F_STDIN] = {.name = "password-stdin", .kind = FLAG_BOOL},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *path = "piora user add";
    int rc;
    if (!cli_flags(path, add_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    char email[EMAIL_MAX + 1];
    if ((rc = email_flag(path, &defs[F_EMAIL], email)) != EXIT_OK)
        return rc;
    if (!defs[F_TEAM].value)
        return cli_usage_error(path, "--team is required");
    if (!users_team_valid(defs[F_TEAM].value))
        return cli_usage_error(path, "invalid --team: 1-64 characters, no control characters");
    if (!defs[F_STDIN].given)
        return cli_usage_error(path, "--password-stdin is required");

    char pw[PASSWORD_MAX_LEN + 3];
    size_t len = 0;
    if ((rc = cli_read_password(stdin, pw, sizeof pw, &len)) != EXIT_OK)
        return rc;
    store_t *s = cli_open_store(defs[F_DATABASE].value, true);
    if (!s) {
        sodium_memzero(pw, sizeof pw);
        return EXIT_FAIL;
    }
    user_create_req rq = {.email = email, .team = defs[F_TEAM].value,
                          .is_admin = defs[F_ADMIN].given, .password = pw, .password_len = len};
    user_rec u;
    unsigned bad = 0;
    piora_err e = users_create(s, cli_actor(), &rq, &u, &bad);
    store_close(s);
    sodium_memzero(pw, sizeof pw);
    if (e == PIORA_EINVALID)
        return password_refused(bad);
    if (e == PIORA_ECONFLICT)
        return cli_fail("a user with email %s already exists", email);
    if (e != PIORA_OK)
        return cli_fail("cannot create the user: %s", piora_strerror(e));
    printf("%lld ", (long long)u.id);
    cli_put(stdout, u.email);
    putchar('\n');
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

static void fmt_time(int64_t t, char out[RFC3339_LEN])
{
    if (t)
        clock_fmt_rfc3339(t, out);
    else
        snprintf(out, RFC3339_LEN, "-");
}

static int user_list(int argc, char **argv)
{
    enum { F_JSON, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_JSON] = {.name = "json", .kind = FLAG_BOOL},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    int rc;
    if (!cli_flags("piora user list", list_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL,
                   &rc))
        return rc;
    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
    if (!s)
        return EXIT_FAIL;
    user_rec *users = NULL;
    size_t n = 0;
    piora_err e = store_user_list(s, &users, &n);
    store_close(s);
    if (e != PIORA_OK)
        return cli_fail("cannot list users: %s", piora_strerror(e));
    size_t kept = 0; /* removed users are off the list; the audit log still names them */
    for (size_t i = 0; i < n; i++)
        if (!users[i].removed_at)
            users[kept++] = users[i];
    n = kept;

    if (defs[F_JSON].given) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            char ts[RFC3339_LEN];
            clock_fmt_rfc3339(users[i].created_at, ts);
            json_array_append_new(arr, json_pack(
                                         "{s:I, s:s, s:s, s:b, s:s, s:b}", "id",
                                         (json_int_t)users[i].id, "email", users[i].email, "team",
                                         users[i].team_name, "admin", users[i].is_admin,
                                         "created_at", ts, "disabled", users[i].disabled_at != 0));
        }
        cli_print_json(arr); /* out of memory: nothing printed, as before */
    } else {
        enum { NC = 6 };
        static const char *const header[NC] = {"ID",    "EMAIL",   "TEAM",
                                               "ADMIN", "CREATED", "STATUS"};
        char (*ids)[24] = calloc(n ? n : 1, sizeof *ids);
        char (*times)[RFC3339_LEN] = calloc(n ? n : 1, sizeof *times);
        const char **cells = calloc(n ? n * NC : 1, sizeof *cells);
        if (!ids || !times || !cells) {
            free(ids), free(times), free(cells), free(users);
            return cli_fail("out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            snprintf(ids[i], sizeof ids[i], "%lld", (long long)users[i].id);
            fmt_time(users[i].created_at, times[i]);
            const char **row = cells + i * NC;
            row[0] = ids[i];
            row[1] = users[i].email;
            row[2] = users[i].team_name;
            row[3] = users[i].is_admin ? "yes" : "no";
            row[4] = times[i];
            row[5] = users[i].disabled_at ? "disabled" : "active";
        }
        cli_table(header, NC, cells, n);
        free(ids), free(times), free(cells);
    }
    free(users);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

static int user_password(int argc, char **argv)
{
    enum { F_EMAIL, F_STDIN, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_EMAIL] = {.name = "email"},
        [F_STDIN] = {.name = "password-stdin", .kind = FLAG_BOOL},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *path = "piora user password";
    int rc;
    if (!cli_flags(path, password_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    char email[EMAIL_MAX + 1];
    if ((rc = email_flag(path, &defs[F_EMAIL], email)) != EXIT_OK)
        return rc;
    if (!defs[F_STDIN].given)
        return cli_usage_error(path, "--password-stdin is required");
    char pw[PASSWORD_MAX_LEN + 3];
    size_t len = 0;
    if ((rc = cli_read_password(stdin, pw, sizeof pw, &len)) != EXIT_OK)
        return rc;
    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
    if (!s) {
        sodium_memzero(pw, sizeof pw);
        return EXIT_FAIL;
    }
    user_rec u;
    unsigned bad = 0;
    piora_err e = store_user_by_email(s, email, &u);
    if (e == PIORA_OK) {
        password_set_req rq = {.user_id = u.id, .password = pw, .password_len = len};
        e = users_set_password(s, cli_actor(), &rq, &bad);
    }
    store_close(s);
    sodium_memzero(pw, sizeof pw);
    if (e == PIORA_EINVALID)
        return password_refused(bad);
    if (e == PIORA_ENOTFOUND)
        return cli_fail("no user with email %s", email);
    if (e != PIORA_OK)
        return cli_fail("cannot set the password: %s", piora_strerror(e));
    return EXIT_OK;
}

/* disable, enable, remove: one user named by --email, one team service call. */
static int user_offboarding(int argc, char **argv, const char *path, const char *usage,
                            const char *verb)
{
    enum { F_EMAIL, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_EMAIL] = {.name = "email"},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    int rc;
    if (!cli_flags(path, usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    char email[EMAIL_MAX + 1];
    if ((rc = email_flag(path, &defs[F_EMAIL], email)) != EXIT_OK)
        return rc;
    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
    if (!s)
        return EXIT_FAIL;
    user_rec u;
    int64_t revoked = 0;
    piora_err e = store_user_by_email(s, email, &u);
    if (e == PIORA_OK && u.removed_at)
        e = PIORA_ENOTFOUND;
    if (e == PIORA_OK && strcmp(verb, "enable") == 0)
        e = team_enable_user(s, cli_actor(), 0, u.id);
    else if (e == PIORA_OK)
        e = team_offboard_user(s, cli_actor(), 0, u.id,
                               strcmp(verb, "remove") == 0 ? TEAM_REMOVE : TEAM_DISABLE, &revoked);
    store_close(s);
    if (e == PIORA_ENOTFOUND)
        return cli_fail("no user with email %s", email);
    if (e == PIORA_ECONFLICT)
        return cli_fail("%s is the last admin of team %s who can sign in: make another member "
                        "an admin first",
                        email, u.team_name);
    if (e != PIORA_OK)
        return cli_fail("cannot %s the user: %s", verb, piora_strerror(e));
    if (strcmp(verb, "enable") == 0)
        printf("enabled %s (revoked tokens stay revoked)\n", email);
    else
        printf("%s %s: sessions ended, %lld token%s revoked\n",
               strcmp(verb, "remove") == 0 ? "removed" : "disabled", email, (long long)revoked,
               revoked == 1 ? "" : "s");
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

/* The link's base as `serve --public-url` would print it: no trailing slash. */
static bool public_base(const char *v, char out[512])
{
    if (!v || !*v)
        v = "http://127.0.0.1:8080";
    size_t n = strlen(v);
    if (n >= 512 || (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f || v[i] == '#')
            return false;
    while (n && v[n - 1] == '/')
        n--;
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

/* The team to invite into: --team, else the database's only team. */
static int invite_team(store_t *s, const char *path, const char *name, int64_t *team_id)
{
    user_rec *v = NULL;
    size_t n = 0;
    piora_err e = store_user_list(s, &v, &n);
    if (e != PIORA_OK)
        return cli_fail("cannot list teams: %s", piora_strerror(e));
    *team_id = 0;
    int64_t only = 0;
    bool several = false;
    for (size_t i = 0; i < n; i++) {
        if (name && strcmp(v[i].team_name, name) == 0)
            *team_id = v[i].team_id;
        if (only && v[i].team_id != only)
            several = true;
        only = v[i].team_id;
    }
    free(v);
    if (name && !*team_id) {
        char q[80];
        flags_quote(name, q, sizeof q);
        return cli_fail("no team named '%s'", q);
    }
    if (!name && several)
        return cli_usage_error(path, "the database has several teams: name one with --team");
    if (!name && !only)
        return cli_fail("no team yet: create the first admin with 'piora user add' or the "
                        "setup link");
    if (!name)
        *team_id = only;
    return EXIT_OK;
}

static int user_invite(int argc, char **argv)
{
    enum { F_EMAIL, F_ADMIN, F_TEAM, F_URL, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_EMAIL] = {.name = "email"},
        [F_ADMIN] = {.name = "admin", .kind = FLAG_BOOL},
        [F_TEAM] = {.name = "team"},
        [F_URL] = {.name = "public-url", .env = "PIORA_PUBLIC_URL"},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *path = "piora user invite";
    int rc;
    if (!cli_flags(path, invite_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    char email[EMAIL_MAX + 1];
    if ((rc = email_flag(path, &defs[F_EMAIL], email)) != EXIT_OK)
        return rc;
    char base[512];
    if (!public_base(defs[F_URL].value, base))
        return cli_usage_error(path, "invalid --public-url: expected http://HOST[:PORT][/PATH] "
                                     "or https://...");
    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
    if (!s)
        return EXIT_FAIL;
    int64_t team_id = 0;
    if ((rc = invite_team(s, path, defs[F_TEAM].value, &team_id)) != EXIT_OK) {
        store_close(s);
        return rc;
    }
    char secret[SESSION_SECRET_LEN + 1];
    invite_rec inv;
    piora_err e = team_invite(s, cli_actor(), team_id, email, defs[F_ADMIN].given, secret, &inv);
    store_close(s);
    if (e == PIORA_ECONFLICT)
        return cli_fail("a user with email %s exists already", email);
    if (e != PIORA_OK)
        return cli_fail("cannot invite: %s", piora_strerror(e));
    printf("%s/invite#%s\n", base, secret);
    sodium_memzero(secret, sizeof secret);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

static int user_disable(int argc, char **argv)
{
    return user_offboarding(argc, argv, "piora user disable", disable_usage, "disable");
}

static int user_enable(int argc, char **argv)
{
    return user_offboarding(argc, argv, "piora user enable", enable_usage, "enable");
}

static int user_remove(int argc, char **argv)
{
    return user_offboarding(argc, argv, "piora user remove", remove_usage, "remove");
}

int cmd_user(int argc, char **argv)
{
    static const cli_cmd table[] = {
        {"add", user_add, "create a user"},
        {"list", user_list, "list users"},
        {"password", user_password, "set a user's password"},
        {"disable", user_disable, "end a user's sessions and tokens; no sign-in"},
        {"enable", user_enable, "let a disabled user sign in again"},
        {"remove", user_remove, "disable a user and take them off the team"},
        {"invite", user_invite, "print a one-time sign-up link for an email"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("piora user", table, group_usage, argc, argv);
}
