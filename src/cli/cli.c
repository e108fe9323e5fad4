/* argv -> one command (app/ runs `piora serve` before this is reached:
 * cli/ may not see the layers the server is made of). Top-level dispatch and the helpers that give every
 * command the same exit statuses and the same one-line error shape. */
#include "cli/cli.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util/log.h"

const char *cli_version = "unknown";

static const cli_cmd commands[] = {
    {"user", cmd_user, "add, list users; set a user's password"},
    {"token", cmd_token, "create, list and revoke API tokens"},
    {"audit", cmd_audit, "show the audit log"},
    {"publisher", cmd_publisher, "add, list and remove trusted publishers (CI OIDC)"},
    {"deploy", cmd_deploy, "start a deployment through the API (for CI)"},
    {"ssh-key", cmd_sshkey, "show the team's SSH public key"},
    {"version", cmd_version, "print the version"},
    {NULL, NULL, NULL},
};

static const char top_usage[] =
    "Usage: piora <command> [flags]\n"
    "\n"
    "Commands:\n"
    "  serve     run the HTTP API server\n"
    "  user      add and list users, set a user's password\n"
    "  token     create, list and revoke API tokens; usage logs\n"
    "  audit     show the audit log (sign-ins, tokens, users)\n"
    "  publisher add, list and remove trusted publishers (CI jobs' OIDC tokens)\n"
    "  deploy    start a deployment through a server's API and follow it (CI)\n"
    "  ssh-key   show the team's SSH public key (for authorized_keys)\n"
    "  version   print the version (also: piora -V, piora --version)\n"
    "\n"
    "Every command takes --database PATH_OR_URL (env PIORA_DATABASE, default\n"
    "./piora.db) and --help. Only 'serve' and 'user add' create a missing\n"
    "database file; the others fail, naming the path. Run 'piora <command>\n"
    "--help' for its flags.\n"
    "Exit status: 0 success, 1 the operation failed, 2 bad command line.\n";

/* The length of the character at p (n bytes left, n > 0), and in *safe
 * whether a terminal shows it as text: not a C0 or C1 control, not DEL,
 * not a bidirectional override or isolate (which reorder what the rest of
 * the line appears to say), and valid UTF-8. An unsafe stretch is one byte
 * at a time for invalid UTF-8, so it resynchronises on the next byte. */
static size_t char_at(const unsigned char *p, size_t n, bool *safe)
{
    unsigned char c = p[0];
    size_t l = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
             : (c & 0xf8) == 0xf0 ? 4 : 0;
    *safe = false;
    if (l == 0 || l > n)
        return 1;
    for (size_t i = 1; i < l; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 1;
    uint32_t cp = l == 1 ? c : l == 2 ? c & 0x1fu : l == 3 ? c & 0x0fu : c & 0x07u;
    for (size_t i = 1; i < l; i++)
        cp = (cp << 6) | (p[i] & 0x3fu);
    static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[l] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 1; /* overlong, out of range or a surrogate: invalid */
    *safe = !(cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
              (cp >= 0x2066 && cp <= 0x2069));
    return l;
}

void cli_put(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        bool safe;
        size_t l = char_at(p, n, &safe);
        if (safe) {
            fwrite(p, 1, l, f);
        } else {
            for (size_t i = 0; i < l; i++)
                fprintf(f, "\\x%02x", p[i]);
        }
        p += l;
        n -= l;
    }
}

int cli_usage_error(const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("piora: ", stderr);
    cli_put(stderr, msg);
    fputs(" (see '", stderr);
    cli_put(stderr, path);
    fputs(" --help')\n", stderr);
    return EXIT_USAGE;
}

int cli_fail(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One line, whatever the message holds, and never a token: anything
     * after a token prefix is blanked, should a caller ever pass one. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    for (char *t = strstr(msg, "piora_token_"); t; t = strstr(t + 1, "piora_token_"))
        for (char *p = t + 12; *p && *p != ' ' && *p != '"' && *p != '\''; p++)
            *p = '*';
    fputs("piora: ", stderr);
    cli_put(stderr, msg);
    fputc('\n', stderr);
    return EXIT_FAIL;
}

int cli_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    int w = 0;
    while (n) {
        bool safe;
        size_t l = char_at(p, n, &safe);
        w += safe ? 1 : 4 * (int)l; /* "\xHH" per byte, as cli_put writes it */
        p += l;
        n -= l;
    }
    return w;
}

static void table_row(const char *const *row, const int *w, size_t ncols)
{
    for (size_t c = 0; c < ncols; c++) {
        cli_put(stdout, row[c]);
        if (c + 1 < ncols)
            printf("%*s", w[c] - cli_width(row[c]) + 2, "");
    }
    putchar('\n');
}

void cli_table(const char *const *header, size_t ncols, const char *const *cells, size_t nrows)
{
    int w[16] = {0};
    if (ncols > 16)
        ncols = 16;
    for (size_t c = 0; c < ncols; c++)
        w[c] = cli_width(header[c]);
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++) {
            int l = cli_width(cells[r * ncols + c]);
            w[c] = l > w[c] ? l : w[c];
        }
    table_row(header, w, ncols);
    for (size_t r = 0; r < nrows; r++)
        table_row(cells + r * ncols, w, ncols);
}

bool cli_flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_fail("cannot write to standard output");
        return false;
    }
    return true;
}

bool cli_flags(const char *path, const char *usage, flag_def *defs, size_t ndefs, int argc,
               char **argv, const char **pos, size_t maxpos, size_t *npos, int *exit_code)
{
    char err[256];
    switch (flags_parse(defs, ndefs, argc - 1, argv + 1, pos, maxpos, npos, err, sizeof err)) {
    case FLAGS_OK:
        return true;
    case FLAGS_HELP:
        fputs(usage, stdout);
        *exit_code = cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
        return false;
    case FLAGS_ERROR:
        break;
    }
    *exit_code = cli_usage_error(path, "%s", err);
    return false;
}

bool cli_print_json(json_t *v)
{
    char *out = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (!out)
        return false;
    /* jansson escapes C0 controls but writes DEL, C1 controls and bidi
     * overrides as they are; they can only sit inside strings (the rest is
     * ASCII), where \u escapes mean the same JSON. */
    const unsigned char *p = (const unsigned char *)out;
    size_t n = strlen(out);
    while (n) {
        bool safe;
        size_t l = char_at(p, n, &safe);
        if (safe || *p == '\n') {
            fwrite(p, 1, l, stdout);
        } else {
            uint32_t cp = l == 1 ? p[0] : l == 2 ? ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu)
                        : ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
            printf("\\u%04x", (unsigned)cp);
        }
        p += l;
        n -= l;
    }
    putchar('\n');
    free(out);
    return true;
}

int cli_limit_flag(const char *path, const char *value, int64_t *limit)
{
    if (!flags_int(value, 1, 100000, limit)) {
        char q[64];
        flags_quote(value, q, sizeof q);
        return cli_usage_error(path, "invalid --limit '%s' (1-100000)", q);
    }
    return EXIT_OK;
}

/* A SQLite path, as opposed to a server URL or an in-memory or URI name,
 * names a file that either exists or would be created. */
static bool database_is_file(const char *url)
{
    return strstr(url, "://") == NULL && strncmp(url, "file:", 5) != 0 &&
           strcmp(url, ":memory:") != 0;
}

/* Why a missing database is refused: a mistyped --database or the wrong
 * working directory used to make an empty database silently, and the
 * tokens made there then got a bare 401 from the real server. The message
 * names the absolute path, so the wrong directory shows. */
static bool database_missing(const char *url)
{
    struct stat st;
    if (!database_is_file(url) || stat(url, &st) == 0 || errno != ENOENT)
        return false;
    char cwd[1024];
    if (url[0] != '/' && getcwd(cwd, sizeof cwd))
        cli_fail("no database at %s/%s (nothing was created: check --database or "
                 "PIORA_DATABASE; 'piora user add' or 'piora serve' makes a new one)",
                 cwd, strncmp(url, "./", 2) == 0 ? url + 2 : url);
    else
        cli_fail("no database at %s (nothing was created: check --database or "
                 "PIORA_DATABASE; 'piora user add' or 'piora serve' makes a new one)",
                 url);
    return true;
}

store_t *cli_open_store(const char *database, bool may_create)
{
    char msg[256] = "";
    const char *url = database && *database ? database : "./piora.db";
    if (!may_create && database_missing(url))
        return NULL;
    /* A server database cannot be missing the way a file can: one whose
     * schema was never migrated is the equivalent, refused by the backend. */
    store_t *s = may_create ? store_open(url, msg, sizeof msg)
                            : store_open_existing(url, msg, sizeof msg);
    if (!s)
        cli_fail("cannot open database: %s", msg[0] ? msg : "unknown error");
    return s;
}

const actor *cli_actor(void)
{
    static char addr[ADDR_MAX];
    static actor who = {.channel = CHANNEL_CLI};
    if (!who.addr) {
        const struct passwd *pw = getpwuid(geteuid());
        if (pw && pw->pw_name && pw->pw_name[0])
            snprintf(addr, sizeof addr, "%s%s", CLI_ADDR_PREFIX, pw->pw_name);
        else
            snprintf(addr, sizeof addr, "%suid %lld", CLI_ADDR_PREFIX, (long long)geteuid());
        who.addr = addr;
    }
    return &who;
}

int cli_dispatch(const char *path, const cli_cmd *table, const char *usage, int argc,
                 char **argv)
{
    if (argc < 2)
        return cli_usage_error(path, "missing command");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        fputs(usage, stdout);
        return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
    }
    for (const cli_cmd *c = table; c->name; c++)
        if (strcmp(c->name, sub) == 0)
            return c->run(argc - 1, argv + 1);
    char q[64];
    flags_quote(sub, q, sizeof q);
    if (sub[0] == '-')
        return cli_usage_error(path, "unknown flag %s", q);
    return cli_usage_error(path, "unknown command '%s'", q);
}

int cli_main(int argc, char **argv, const char *version)
{
    cli_version = version;
    if (sodium_init() < 0)
        return cli_fail("cannot initialise libsodium");
    if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0))
        return cmd_version(argc - 1, argv + 1);
    /* Operational log lines are for the server (app/serve.c). These
     * commands answer with their own single line, which a log line must
     * not multiply. */
    log_set_level((log_level)(LOG_ERROR + 1));
    return cli_dispatch("piora", commands, top_usage, argc, argv);
}
