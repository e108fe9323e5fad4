/* `piora publisher add|list|remove` (SPEC 7, 12): trusted publishers, whose
 * CI jobs exchange their OIDC token for a 15-minute token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/user.h"
#include "core/publishers.h"
#include "util/clock.h"

static const char group_usage[] =
    "Usage: piora publisher <command> [flags]\n"
    "\n"
    "Commands:\n"
    "  add     --email E --name N --issuer URL [--audience A] [--claim KEY=VALUE]...\n"
    "          [--ref-glob G] --scopes LIST [--resources LIST]\n"
    "  list    [--json]\n"
    "  remove  ID\n"
    "\n"
    "Every command takes --database PATH_OR_URL (env PIORA_DATABASE).\n"
    "See docs/trusted-publishing.md.\n";

static const char add_usage[] =
    "Usage: piora publisher add --email E --name N --issuer URL [--audience A]\n"
    "                           [--claim KEY=VALUE]... [--ref-glob G] --scopes LIST\n"
    "                           [--resources LIST] [--database PATH_OR_URL]\n"
    "\n"
    "Registers a trusted publisher for the team of E (a team admin) and prints\n"
    "its id. A CI job whose OIDC token comes from URL, is for audience A and\n"
    "has every claim given then gets a 15-minute token (POST /api/v1/oidc/token)\n"
    "acting as E, with these scopes and resources.\n"
    "\n"
    "  --email E          a team admin\n"
    "  --name N           1-64 of letters, digits, spaces and . _ -\n"
    "  --issuer URL       https://token.actions.githubusercontent.com (GitHub\n"
    "                     Actions), https://gitlab.com (GitLab CI), or your own\n"
    "  --audience A       the audience the job requests (default piora)\n"
    "  --claim KEY=VALUE  an exact claim, repeatable: repository,\n"
    "                     repository_owner_id, job_workflow_ref, environment\n"
    "                     (GitHub); project_path, namespace_id (GitLab); ...\n"
    "  --ref-glob G       the ref claim must match this glob (refs/heads/main,\n"
    "                     refs/tags/v*); default any\n"
    "  --scopes LIST      the minted tokens' scopes, as for `piora token create`\n"
    "  --resources LIST   servers:1,applications:4,... (default all)\n";

static const char list_usage[] =
    "Usage: piora publisher list [--json] [--database PATH_OR_URL]\n"
    "\n"
    "Lists every team's trusted publishers: id, team owner, name, issuer,\n"
    "audience, claims, ref glob, scopes, resources. --json prints a JSON array.\n";

static const char remove_usage[] =
    "Usage: piora publisher remove ID [--database PATH_OR_URL]\n"
    "\n"
    "Removes the trusted publisher; its jobs can no longer get tokens. Tokens it\n"
    "minted expire within 15 minutes (revoke them with `piora token revoke`).\n";

static int fail_invalid(const verrs *errs)
{
    char msg[600] = "";
    size_t off = 0;
    for (size_t i = 0; i < errs->n && off < sizeof msg; i++)
        off += (size_t)snprintf(msg + off, sizeof msg - off, "%s%s: %s", i ? "; " : "",
                                errs->items[i].field, errs->items[i].message);
    return cli_fail("invalid publisher: %s", msg);
}

static int publisher_add(int argc, char **argv)
{
    enum { F_EMAIL, F_NAME, F_ISSUER, F_AUDIENCE, F_CLAIM, F_REF_GLOB, F_SCOPES, F_RESOURCES,
           F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_EMAIL] = {.name = "email"},         [F_NAME] = {.name = "name"},
        [F_ISSUER] = {.name = "issuer"},       [F_AUDIENCE] = {.name = "audience"},
        [F_CLAIM] = {.name = "claim"},         [F_REF_GLOB] = {.name = "ref-glob"},
        [F_SCOPES] = {.name = "scopes"},       [F_RESOURCES] = {.name = "resources"},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *path = "piora publisher add";
    int rc;
    if (!cli_flags(path, add_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    static const char *const required[] = {"email", "name", "issuer"};
    for (int i = 0; i < 3; i++)
        if (!defs[i].value)
            return cli_usage_error(path, "--%s is required", required[i]);
    if (!defs[F_SCOPES].value)
        return cli_usage_error(path, "--scopes is required");
    /* --claim repeats; the flag parser keeps the last, so collect them all
     * here (the parser has already checked the line's shape). */
    const char *claims[PUBLISHER_CLAIMS_MAX + 1];
    size_t nclaims = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--claim") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], "--claim=", 8) == 0)
            v = argv[i] + 8;
        if (v) {
            if (nclaims == PUBLISHER_CLAIMS_MAX + 1)
                return cli_usage_error(path, "at most %d --claim flags",
                                       PUBLISHER_CLAIMS_MAX);
            claims[nclaims++] = v;
        }
    }

    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
    if (!s)
        return EXIT_FAIL;
    char email[EMAIL_MAX + 1];
    user_rec u;
    if ((rc = cli_email_flag(path, defs[F_EMAIL].value, email)) != EXIT_OK) {
        store_close(s);
        return rc;
    }
    piora_err e = store_user_by_email(s, email, &u);
    if (e != PIORA_OK) {
        store_close(s);
        return e == PIORA_ENOTFOUND ? cli_fail("no user with email %s", email)
                                    : cli_fail("cannot look up the user: %s", piora_strerror(e));
    }
    publisher_req rq = {.user_id = u.id,
                        .name = defs[F_NAME].value,
                        .issuer = defs[F_ISSUER].value,
                        .audience = defs[F_AUDIENCE].value,
                        .claims = claims,
                        .nclaims = nclaims,
                        .ref_glob = defs[F_REF_GLOB].value,
                        .scopes = defs[F_SCOPES].value,
                        .resources = defs[F_RESOURCES].value};
    verrs errs;
    publisher_rec p;
    e = publishers_add(s, cli_actor(), &rq, &p, &errs);
    store_close(s);
    if (e == PIORA_EINVALID)
        return fail_invalid(&errs);
    if (e == PIORA_ECONFLICT)
        return cli_fail("the team already has a trusted publisher named \"%s\"", rq.name);
    if (e != PIORA_OK)
        return cli_fail("cannot add the publisher: %s", piora_strerror(e));
    printf("%lld\n", (long long)p.id);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

static int publisher_list(int argc, char **argv)
{
    enum { F_JSON, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_JSON] = {.name = "json", .kind = FLAG_BOOL},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *path = "piora publisher list";
    int rc;
    if (!cli_flags(path, list_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
    if (!s)
        return EXIT_FAIL;
    publisher_rec *v = NULL;
    size_t n = 0;
    piora_err e = publishers_list(s, 0, &v, &n);
    store_close(s);
    if (e != PIORA_OK)
        return cli_fail("cannot list publishers: %s", piora_strerror(e));
    if (defs[F_JSON].given) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, publishers_to_json(&v[i]));
        free(v);
        return cli_print_json(arr) && cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
    }
    enum { NC = 9 };
    static const char *const header[NC] = {"ID",    "NAME",     "ISSUER", "AUDIENCE", "CLAIMS",
                                           "REF",   "SCOPES",   "RESOURCES", "OWNER"};
    typedef struct row {
        char id[24], claims[OIDC_CLAIMS_MAX + 1], scopes[SCOPES_STR_MAX];
    } row;
    row *rows = calloc(n ? n : 1, sizeof *rows);
    const char **cells = calloc(n ? n * NC : 1, sizeof *cells);
    if (!rows || !cells) {
        free(rows);
        free(cells);
        free(v);
        return cli_fail("out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(rows[i].id, sizeof rows[i].id, "%lld", (long long)v[i].id);
        snprintf(rows[i].claims, sizeof rows[i].claims, "%s", v[i].claims);
        size_t cl = strlen(rows[i].claims);
        if (cl && rows[i].claims[cl - 1] == '\n')
            rows[i].claims[--cl] = '\0';
        for (char *c = rows[i].claims; *c; c++)
            if (*c == '\n')
                *c = ',';
        scopes_format(v[i].scopes, ",", rows[i].scopes, sizeof rows[i].scopes);
        const char **r = cells + i * NC;
        r[0] = rows[i].id;
        r[1] = v[i].name;
        r[2] = v[i].issuer;
        r[3] = v[i].audience;
        r[4] = rows[i].claims[0] ? rows[i].claims : "-";
        r[5] = v[i].ref_glob[0] ? v[i].ref_glob : "*";
        r[6] = rows[i].scopes;
        r[7] = v[i].resources[0] ? v[i].resources : "all";
        r[8] = v[i].owner_email;
    }
    cli_table(header, NC, cells, n);
    free(rows);
    free(cells);
    free(v);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

static int publisher_remove(int argc, char **argv)
{
    enum { F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {[F_DATABASE] = CLI_FLAG_DATABASE};
    const char *path = "piora publisher remove";
    const char *pos[1];
    size_t npos = 0;
    int rc;
    if (!cli_flags(path, remove_usage, defs, F_COUNT, argc, argv, pos, 1, &npos, &rc))
        return rc;
    int64_t id;
    if (npos != 1 || !flags_int(pos[0], 1, INT64_MAX, &id))
        return cli_usage_error(path, "give the publisher's id (a positive integer)");
    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
    if (!s)
        return EXIT_FAIL;
    piora_err e = publishers_remove(s, cli_actor(), 0, id);
    store_close(s);
    if (e == PIORA_ENOTFOUND)
        return cli_fail("no trusted publisher with id %lld", (long long)id);
    if (e != PIORA_OK)
        return cli_fail("cannot remove the publisher: %s", piora_strerror(e));
    printf("removed trusted publisher %lld\n", (long long)id);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

int cmd_publisher(int argc, char **argv)
{
    static const cli_cmd table[] = {
        {"add", publisher_add, "register a trusted publisher"},
        {"list", publisher_list, "list trusted publishers"},
        {"remove", publisher_remove, "remove a trusted publisher"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("piora publisher", table, group_usage, argc, argv);
}
