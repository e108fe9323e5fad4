/* `piora token create|list|revoke`. The plain token is printed once, alone,
 * on standard output by create, and nowhere else; lists show the hint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "authn/authn.h"
#include "cli/cli.h"
#include "cli/user.h"
#include "core/tokens.h"
#include "util/clock.h"

static const char group_usage[] =
    "Usage: piora token <command> [flags]\n"
    "\n"
    "Commands:\n"
    "  create  --email E --name N --scopes a,b,... [--expires-in D]\n"
    "  list    [--email E] [--json]\n"
    "  revoke  ID\n"
    "\n"
    "Every command takes --database PATH_OR_URL (env PIORA_DATABASE).\n";

static const char create_usage[] =
    "Usage: piora token create --email E --name N --scopes a,b,... [--expires-in D]\n"
    "                          [--database PATH_OR_URL]\n"
    "\n"
    "Creates an API token for the user E and prints it, alone, on one line of\n"
    "standard output. It is shown only this once; only its digest is stored.\n"
    "\n"
    "  --email E        the owner (the token acts as this user, in their team)\n"
    "  --name N         a label, 1-100 bytes, no control characters\n"
    "  --scopes LIST    comma-separated, at least one of: servers:read\n"
    "                   servers:write applications:read applications:write\n"
    "                   applications:deploy databases:read databases:write\n"
    "                   backups:read backups:write\n"
    "  --expires-in D   a number with d, h, m or s (90d, 12h, 30s), or never;\n"
    "                   default 90d, at most 10 years\n"
    "  --database P     SQLite file (PIORA_DATABASE, default ./piora.db)\n";

static const char list_usage[] =
    "Usage: piora token list [--email E] [--json] [--database PATH_OR_URL]\n"
    "\n"
    "Lists tokens (all, or those of user E): id, name, scopes, created_at,\n"
    "last_used_at, expires_at, status (active, expired, revoked) and hint.\n"
    "The token itself is never shown. --json prints a JSON array.\n";

static const char revoke_usage[] =
    "Usage: piora token revoke ID [--database PATH_OR_URL]\n"
    "\n"
    "Revokes the token with this id. Running servers refuse it (401) from the\n"
    "moment this command returns. Revoking a revoked token is not an error.\n";

/* Looks a user up by a --email value; prints the error itself. */
static int find_user(store_t *s, const char *path, const char *value, user_rec *u)
{
    char email[EMAIL_MAX + 1];
    if (!cli_email_normalize(value, email)) {
        char q[64];
        flags_quote(value, q, sizeof q);
        return cli_usage_error(path, "invalid --email '%s'", q);
    }
    piora_err e = store_user_by_email(s, email, u);
    if (e == PIORA_ENOTFOUND)
        return cli_fail("no user with email %s", email);
    if (e != PIORA_OK)
        return cli_fail("cannot look up the user: %s", piora_strerror(e));
    return EXIT_OK;
}

static int token_create(int argc, char **argv)
{
    enum { F_EMAIL, F_NAME, F_SCOPES, F_EXPIRES, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_EMAIL] = {.name = "email"},
        [F_NAME] = {.name = "name"},
        [F_SCOPES] = {.name = "scopes"},
        [F_EXPIRES] = {.name = "expires-in"},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *path = "piora token create";
    int rc;
    if (!cli_flags(path, create_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    static const char *const required[] = {"email", "name", "scopes"};
    for (int i = 0; i < 3; i++)
        if (!defs[i].value)
            return cli_usage_error(path, "--%s is required", required[i]);
    int64_t expires_in = EXPIRES_DEFAULT_S;
    if (defs[F_EXPIRES].value && !tokens_parse_duration(defs[F_EXPIRES].value, &expires_in)) {
        char q[64];
        flags_quote(defs[F_EXPIRES].value, q, sizeof q);
        return cli_usage_error(path,
                               "invalid --expires-in '%s': use a number with d, h, m or s "
                               "(up to 10 years), or never",
                               q);
    }

    store_t *s = cli_open_store(defs[F_DATABASE].value);
    if (!s)
        return EXIT_FAIL;
    user_rec u;
    if ((rc = find_user(s, path, defs[F_EMAIL].value, &u)) != EXIT_OK) {
        store_close(s);
        return rc;
    }
    token_create_req rq = {.user_id = u.id,
                           .name = defs[F_NAME].value,
                           .scopes = defs[F_SCOPES].value,
                           .expires_in = expires_in};
    char secret[TOKEN_LEN + 1];
    token_rec t;
    verrs errs;
    piora_err e = tokens_create(s, &rq, secret, &t, &errs);
    store_close(s);
    if (e == PIORA_EINVALID) {
        char msg[400] = "";
        size_t off = 0;
        for (size_t i = 0; i < errs.n && off < sizeof msg; i++)
            off += (size_t)snprintf(msg + off, sizeof msg - off, "%s%s: %s", i ? "; " : "",
                                    errs.items[i].field, errs.items[i].message);
        return cli_fail("invalid token: %s", msg);
    }
    if (e != PIORA_OK)
        return cli_fail("cannot create the token: %s", piora_strerror(e));
    printf("%s\n", secret);
    sodium_memzero(secret, sizeof secret);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

static void fmt_time(int64_t t, const char *none, char out[RFC3339_LEN])
{
    if (t)
        clock_fmt_rfc3339(t, out);
    else
        snprintf(out, RFC3339_LEN, "%s", none);
}

/* One table row's text; the cells point into it. */
typedef struct token_row {
    char id[24];
    char scopes[SCOPES_STR_MAX];
    char created[RFC3339_LEN], used[RFC3339_LEN], expires[RFC3339_LEN];
} token_row;

static void print_table(const token_rec *v, size_t n, bool owner, int64_t now)
{
    enum { NC = 9 };
    static const char *const header[NC] = {"ID",      "NAME",   "SCOPES", "CREATED", "LAST USED",
                                           "EXPIRES", "STATUS", "HINT",   "OWNER"};
    size_t nc = owner ? NC : NC - 1;
    token_row *rows = calloc(n ? n : 1, sizeof *rows);
    const char **cells = calloc(n ? n * NC : 1, sizeof *cells);
    if (!rows || !cells) {
        free(rows);
        free(cells);
        cli_fail("out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        token_row *r = &rows[i];
        const token_rec *t = &v[i];
        snprintf(r->id, sizeof r->id, "%lld", (long long)t->id);
        scopes_format(t->scopes, ",", r->scopes, sizeof r->scopes);
        fmt_time(t->created_at, "-", r->created);
        fmt_time(t->last_used_at, "never", r->used);
        fmt_time(t->expires_at, "never", r->expires);
        const char **row = cells + i * nc;
        row[0] = r->id;
        row[1] = t->name;
        row[2] = r->scopes;
        row[3] = r->created;
        row[4] = r->used;
        row[5] = r->expires;
        row[6] = token_status_name(token_rec_status(t, now));
        row[7] = t->hint;
        if (owner)
            row[8] = t->owner_email;
    }
    cli_table(header, nc, cells, n);
    free(rows);
    free(cells);
}

static int token_list(int argc, char **argv)
{
    enum { F_EMAIL, F_JSON, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_EMAIL] = {.name = "email"},
        [F_JSON] = {.name = "json", .kind = FLAG_BOOL},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *path = "piora token list";
    int rc;
    if (!cli_flags(path, list_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    store_t *s = cli_open_store(defs[F_DATABASE].value);
    if (!s)
        return EXIT_FAIL;
    int64_t user_id = 0;
    if (defs[F_EMAIL].value) {
        user_rec u;
        if ((rc = find_user(s, path, defs[F_EMAIL].value, &u)) != EXIT_OK) {
            store_close(s);
            return rc;
        }
        user_id = u.id;
    }
    token_rec *v = NULL;
    size_t n = 0;
    piora_err e = store_token_list(s, user_id, &v, &n);
    store_close(s);
    if (e != PIORA_OK)
        return cli_fail("cannot list tokens: %s", piora_strerror(e));

    int64_t now = clock_now();
    if (defs[F_JSON].given) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *o = tokens_to_json(&v[i], now);
            if (user_id == 0 && v[i].owner_email[0])
                json_object_set_new(o, "owner", json_string(v[i].owner_email));
            json_array_append_new(arr, o);
        }
        char *out = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(arr);
        if (!out) {
            free(v);
            return cli_fail("out of memory");
        }
        puts(out);
        free(out);
    } else {
        print_table(v, n, user_id == 0, now);
    }
    free(v);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

static int token_revoke(int argc, char **argv)
{
    flag_def defs[] = {CLI_FLAG_DATABASE};
    const char *path = "piora token revoke";
    const char *pos[1];
    size_t npos = 0;
    int rc;
    if (!cli_flags(path, revoke_usage, defs, 1, argc, argv, pos, 1, &npos, &rc))
        return rc;
    int64_t id;
    if (npos == 0)
        return cli_usage_error(path, "missing token id");
    if (!flags_int(pos[0], 1, INT64_MAX, &id)) {
        char q[64];
        flags_quote(pos[0], q, sizeof q);
        return cli_usage_error(path, "invalid token id '%s' (a positive integer)", q);
    }
    store_t *s = cli_open_store(defs[0].value);
    if (!s)
        return EXIT_FAIL;
    piora_err e = tokens_revoke(s, id, 0);
    store_close(s);
    /* Servers running on this database must see the revocation before we
     * say it is done (SPEC 2: immediate, even while servers run). */
    if (e == PIORA_OK)
        authn_barrier();
    if (e == PIORA_ENOTFOUND)
        return cli_fail("no token with id %lld", (long long)id);
    if (e != PIORA_OK)
        return cli_fail("cannot revoke the token: %s", piora_strerror(e));
    return EXIT_OK;
}

int cmd_token(int argc, char **argv)
{
    static const cli_cmd table[] = {
        {"create", token_create, "create a token"},
        {"list", token_list, "list tokens"},
        {"revoke", token_revoke, "revoke a token"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("piora token", table, group_usage, argc, argv);
}
