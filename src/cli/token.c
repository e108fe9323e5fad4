/* `piora token create|list|revoke`. The plain token is printed once, alone,
 * on standard output by create, and nowhere else; lists show the hint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/user.h"
#include "core/tokens.h"
#include "core/usage.h"
#include "util/clock.h"

static const char group_usage[] =
    "Usage: piora token <command> [flags]\n"
    "\n"
    "Commands:\n"
    "  create  --email E --name N --scopes a,b,... [--expires-in D]\n"
    "          [--resources KIND:ID,...] [--allowed-ips LIST] [--note TEXT]\n"
    "  list    [--email E] [--json] [--stale]\n"
    "  revoke  ID\n"
    "  usage   ID [--json] [--since T] [--status N] [--limit N]\n"
    "\n"
    "Every command takes --database PATH_OR_URL (env PIORA_DATABASE).\n";

static const char create_usage[] =
    "Usage: piora token create --email E --name N --scopes a,b,... [--expires-in D]\n"
    "                          [--resources KIND:ID,...] [--allowed-ips LIST]\n"
    "                          [--note TEXT] [--database PATH_OR_URL]\n"
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
    "  --expires-in D   a number with d, h, m or s (90d, 12h, 30s), never (any\n"
    "                   case), or a date YYYY-MM-DD: the token works to the end\n"
    "                   of that day, 23:59:59 UTC; not a past date. Default 90d,\n"
    "                   at most 10 years\n"
    "  --resources L    limit the token to these objects of the team and what\n"
    "                   hangs under them: servers:1,applications:4,databases:2\n"
    "                   (at most 64; default: every object of the team)\n"
    "  --allowed-ips L  comma-separated IPv4/IPv6 addresses or CIDR blocks the\n"
    "                   token may be used from (at most 32; 0.0.0.0/0,::/0 for\n"
    "                   every address; default: no address rule)\n"
    "  --note TEXT      what the token is for, at most 500 bytes on one line\n"
    "  --database P     SQLite file (PIORA_DATABASE, default ./piora.db)\n";

static const char list_usage[] =
    "Usage: piora token list [--email E] [--json] [--stale] [--database PATH_OR_URL]\n"
    "\n"
    "Lists tokens (all, or those of user E): id, name, scopes, created_at,\n"
    "last_used_at, expires_at, status (active, expired, revoked), hint and\n"
    "the client address of the last use (LAST ADDRESS; last_used_addr in JSON),\n"
    "and the limits: RESOURCES (all, or kind:id,...) and ALLOWED IPS (any, or\n"
    "the list); resources and allowed_ips (null when not limited) in JSON.\n"
    "NOTE shows the token's note and REGENERATED when its secret was last\n"
    "replaced (note and regenerated_at, null when none, in JSON). Tokens\n"
    "removed from the list in the dashboard are not listed.\n"
    "The token itself is never shown. --json prints a JSON array.\n"
    "\n"
    "--stale lists only active tokens that need a look, each with why:\n"
    "  old       created more than 90 days ago\n"
    "  unused    not used for 90 days (or never, and created over 90 days ago)\n"
    "  expiring  expires within 7 days\n"
    "(a STALE column; \"stale\": [...] in --json).\n";

static const char usage_usage[] =
    "Usage: piora token usage ID [--json] [--since T] [--status N] [--limit N]\n"
    "                        [--database PATH_OR_URL]\n"
    "\n"
    "Shows the token's usage log, newest first: time, method, path (without\n"
    "the query string), status, client address and user agent of every request\n"
    "made with it, including refused ones (401 revoked or expired, 403, 429).\n"
    "Servers write it within about a second (--usage-flush-interval).\n"
    "\n"
    "  --since T    only entries at or after T: RFC 3339 (2026-01-31T12:00:00Z,\n"
    "               2026-01-31) or a duration back from now (24h, 7d, 30m)\n"
    "  --status N   only entries with this HTTP status (100-599)\n"
    "  --limit N    at most N entries (1-100000, default 100)\n"
    "  --json       a JSON array of {time, method, path, status, addr, user_agent,\n"
    "               count}\n"
    "\n"
    "Identical requests within one second (same method, path, status, address\n"
    "and user agent) written in the same batch share one entry; COUNT says how\n"
    "many there were.\n";

static const char revoke_usage[] =
    "Usage: piora token revoke ID [--database PATH_OR_URL]\n"
    "\n"
    "Revokes the token with this id and says which it was, on one line of\n"
    "standard output: revoked token ID \"NAME\" of OWNER (or \"already revoked:\n"
    "token ...\"). Running servers refuse it (401) from the moment this command\n"
    "returns. Revoking a revoked token is not an error.\n";

/* Looks a user up by a --email value; prints the error itself. */
static int find_user(store_t *s, const char *path, const char *value, user_rec *u)
{
    char email[EMAIL_MAX + 1];
    int rc = cli_email_flag(path, value, email);
    if (rc != EXIT_OK)
        return rc;
    piora_err e = store_user_by_email(s, email, u);
    if (e == PIORA_ENOTFOUND)
        return cli_fail("no user with email %s", email);
    if (e != PIORA_OK)
        return cli_fail("cannot look up the user: %s", piora_strerror(e));
    return EXIT_OK;
}

/* Edit distance (insert, delete, substitute, each 1) between two short
 * names; names longer than the buffer count as far from everything. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXLEN || lb >= MAXLEN)
        return SIZE_MAX;
    size_t prev[MAXLEN + 1], cur[MAXLEN + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

/* Checks --scopes before anything is opened, so that an unknown name gets
 * the list of valid ones and, when one is close (a typo, not a different
 * word: at most 3 edits), the nearest. core/tokens.c still validates; this
 * only words the refusal for a person at a terminal. */
static int scopes_flag(const char *value)
{
    scope_set set = 0;
    char bad[64];
    if (scopes_parse(value, &set, bad, sizeof bad))
        return EXIT_OK;
    char all[SCOPES_STR_MAX];
    scopes_format(SCOPE_ALL, ", ", all, sizeof all);
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (int i = 0; i < SCOPE_COUNT; i++) {
        size_t d = edit_distance(bad, scope_name(i));
        if (d < best_d) {
            best_d = d;
            best = scope_name(i);
        }
    }
    char q[64];
    flags_quote(bad, q, sizeof q);
    if (best && best_d <= 3)
        return cli_fail("invalid token: unknown scope '%s' (did you mean %s?); valid scopes: %s",
                        q, best, all);
    return cli_fail("invalid token: unknown scope '%s'; valid scopes: %s", q, all);
}

/* --expires-in: a duration (90d, 12h, 30s), NEVER in any case, or a date
 * YYYY-MM-DD, meaning the end of that day in UTC (the token works through
 * 23:59:59Z). A past date is refused here; the 10-year limit is core's. */
static int expires_flag(const char *path, const char *value, int64_t *in, int64_t *at)
{
    char q[64];
    flags_quote(value, q, sizeof q);
    if (strcasecmp(value, "never") == 0) {
        *in = EXPIRES_NEVER;
        return EXIT_OK;
    }
    int64_t day = 0;
    if (strlen(value) == 10 && value[4] == '-' && value[7] == '-' &&
        clock_parse_rfc3339(value, &day)) {
        int64_t end = day + 86399;
        if (end <= clock_now())
            return cli_usage_error(path, "invalid --expires-in '%s': the date is in the past", q);
        *at = end;
        return EXIT_OK;
    }
    if (tokens_parse_duration(value, in))
        return EXIT_OK;
    return cli_usage_error(path,
                           "invalid --expires-in '%s': use a number with d, h, m or s "
                           "(up to 10 years), a date (2027-01-01), or never",
                           q);
}

static int token_create(int argc, char **argv)
{
    enum { F_EMAIL, F_NAME, F_SCOPES, F_EXPIRES, F_RESOURCES, F_IPS, F_NOTE, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_EMAIL] = {.name = "email"},
        [F_NAME] = {.name = "name"},
        [F_SCOPES] = {.name = "scopes"},
        [F_EXPIRES] = {.name = "expires-in"},
        [F_RESOURCES] = {.name = "resources"},
        [F_IPS] = {.name = "allowed-ips"},
        [F_NOTE] = {.name = "note"},
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
    int64_t expires_in = EXPIRES_DEFAULT_S, expires_at = 0;
    if (defs[F_EXPIRES].value &&
        (rc = expires_flag(path, defs[F_EXPIRES].value, &expires_in, &expires_at)) != EXIT_OK)
        return rc;
    if ((rc = scopes_flag(defs[F_SCOPES].value)) != EXIT_OK)
        return rc;

    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
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
                           .expires_in = expires_in,
                           .expires_at = expires_at,
                           .resources = defs[F_RESOURCES].value,
                           .allowed_ips = defs[F_IPS].value,
                           .note = defs[F_NOTE].value};
    char secret[TOKEN_LEN + 1];
    token_rec t;
    verrs errs;
    const actor *who = cli_actor();
    piora_err e = tokens_create(s, who, &rq, secret, &t, &errs);
    store_close(s);
    if (e == PIORA_EINVALID) {
        char msg[800] = "";
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
    char regenerated[RFC3339_LEN];
    char resources[GRANT_TEXT_MAX];
    char ips[ADDRS_TEXT_MAX];
    char scopes[SCOPES_STR_MAX];
    char created[RFC3339_LEN], used[RFC3339_LEN], expires[RFC3339_LEN];
} token_row;

static void print_table(const token_rec *v, size_t n, bool owner, int64_t now)
{
    enum { NC = 14 };
    static const char *const header[NC] = {
        "ID",     "NAME", "SCOPES",       "CREATED",   "LAST USED",   "EXPIRES", "STATUS",
        "HINT",   "LAST ADDRESS", "RESOURCES", "ALLOWED IPS", "NOTE",    "REGENERATED", "OWNER"};
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
        row[8] = t->last_used_addr[0] ? t->last_used_addr : "-";
        grant_format(&t->resources, r->resources, sizeof r->resources);
        row[9] = !t->resources.limited ? "all" : r->resources[0] ? r->resources : "none";
        addrs_format(&t->allowed_ips, r->ips, sizeof r->ips);
        row[10] = t->allowed_ips.limited ? r->ips : "any";
        row[11] = t->note[0] ? t->note : "-";
        fmt_time(t->regenerated_at, "never", r->regenerated);
        row[12] = r->regenerated;
        if (owner)
            row[13] = t->owner_email;
    }
    cli_table(header, nc, cells, n);
    free(rows);
    free(cells);
}

#define STALE_AGE_S (90 * 86400)
#define STALE_UNUSED_S (90 * 86400)
#define STALE_EXPIRING_S (7 * 86400)

/* Why an active token needs a look (SPEC: token hygiene for scripts), as
 * "old,unused,expiring"; "" when it does not. Revoked and expired tokens
 * no longer work, so they are never stale. */
static void stale_reasons(const token_rec *t, int64_t now, char *out, size_t len)
{
    out[0] = '\0';
    if (token_rec_status(t, now) != TOKEN_ACTIVE)
        return;
    size_t o = 0;
    if (now - t->created_at > STALE_AGE_S)
        o += (size_t)snprintf(out + o, len - o, "%sold", o ? "," : "");
    int64_t used = t->last_used_at ? t->last_used_at : t->created_at;
    if (o < len && now - used > STALE_UNUSED_S)
        o += (size_t)snprintf(out + o, len - o, "%sunused", o ? "," : "");
    if (o < len && t->expires_at && t->expires_at - now <= STALE_EXPIRING_S)
        snprintf(out + o, len - o, "%sexpiring", o ? "," : "");
}

static void print_stale_table(const token_rec *v, size_t n, int64_t now)
{
    enum { NC = 7 };
    static const char *const header[NC] = {"ID",      "NAME",  "OWNER", "CREATED",
                                           "LAST USED", "EXPIRES", "STALE"};
    typedef struct row {
        char id[24], created[RFC3339_LEN], used[RFC3339_LEN], expires[RFC3339_LEN], why[32];
    } row;
    row *rows = calloc(n ? n : 1, sizeof *rows);
    const char **cells = calloc(n ? n * NC : 1, sizeof *cells);
    if (!rows || !cells) {
        free(rows);
        free(cells);
        cli_fail("out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        row *r = &rows[i];
        snprintf(r->id, sizeof r->id, "%lld", (long long)v[i].id);
        fmt_time(v[i].created_at, "-", r->created);
        fmt_time(v[i].last_used_at, "never", r->used);
        fmt_time(v[i].expires_at, "never", r->expires);
        stale_reasons(&v[i], now, r->why, sizeof r->why);
        const char **c = cells + i * NC;
        c[0] = r->id;
        c[1] = v[i].name;
        c[2] = v[i].owner_email;
        c[3] = r->created;
        c[4] = r->used;
        c[5] = r->expires;
        c[6] = r->why;
    }
    cli_table(header, NC, cells, n);
    free(rows);
    free(cells);
}

static int token_list(int argc, char **argv)
{
    enum { F_EMAIL, F_JSON, F_STALE, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_EMAIL] = {.name = "email"},
        [F_JSON] = {.name = "json", .kind = FLAG_BOOL},
        [F_STALE] = {.name = "stale", .kind = FLAG_BOOL},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *path = "piora token list";
    int rc;
    if (!cli_flags(path, list_usage, defs, F_COUNT, argc, argv, NULL, 0, NULL, &rc))
        return rc;
    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
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
    bool stale = defs[F_STALE].given;
    if (stale) {
        size_t k = 0;
        char why[32];
        for (size_t i = 0; i < n; i++) {
            stale_reasons(&v[i], now, why, sizeof why);
            if (why[0])
                v[k++] = v[i];
        }
        n = k;
    }
    if (defs[F_JSON].given) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *o = tokens_to_json(&v[i], now);
            if (user_id == 0 && v[i].owner_email[0])
                json_object_set_new(o, "owner", json_string(v[i].owner_email));
            if (stale) {
                char why[32];
                stale_reasons(&v[i], now, why, sizeof why);
                json_t *reasons = json_array();
                for (char *tok = strtok(why, ","); tok; tok = strtok(NULL, ","))
                    json_array_append_new(reasons, json_string(tok));
                json_object_set_new(o, "stale", reasons);
            }
            json_array_append_new(arr, o);
        }
        if (!cli_print_json(arr)) {
            free(v);
            return cli_fail("out of memory");
        }
    } else if (stale) {
        print_stale_table(v, n, now);
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
    store_t *s = cli_open_store(defs[0].value, false);
    if (!s)
        return EXIT_FAIL;
    /* Read first, so that the answer says which token went (a mistyped id
     * revokes someone else's token: the name and owner show it). */
    token_rec t;
    piora_err e = store_token_by_id(s, id, &t);
    if (e == PIORA_OK)
        e = tokens_revoke(s, cli_actor(), id, 0); /* records only a real change */
    store_close(s);
    if (e == PIORA_ENOTFOUND)
        return cli_fail("no token with id %lld", (long long)id);
    if (e != PIORA_OK)
        return cli_fail("cannot revoke the token: %s", piora_strerror(e));
    printf("%s token %lld \"%s\" of %s\n", t.revoked_at ? "already revoked:" : "revoked",
           (long long)id, t.name, t.owner_email[0] ? t.owner_email : "(deleted user)");
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

static int token_usage(int argc, char **argv)
{
    enum { F_JSON, F_SINCE, F_STATUS, F_LIMIT, F_DATABASE, F_COUNT };
    flag_def defs[F_COUNT] = {
        [F_JSON] = {.name = "json", .kind = FLAG_BOOL},
        [F_SINCE] = {.name = "since"},
        [F_STATUS] = {.name = "status"},
        [F_LIMIT] = {.name = "limit"},
        [F_DATABASE] = CLI_FLAG_DATABASE,
    };
    const char *path = "piora token usage";
    const char *pos[1];
    size_t npos = 0;
    int rc;
    if (!cli_flags(path, usage_usage, defs, F_COUNT, argc, argv, pos, 1, &npos, &rc))
        return rc;
    char q[64];
    int64_t id;
    if (npos == 0)
        return cli_usage_error(path, "missing token id");
    if (!flags_int(pos[0], 1, INT64_MAX, &id)) {
        flags_quote(pos[0], q, sizeof q);
        return cli_usage_error(path, "invalid token id '%s' (a positive integer)", q);
    }
    usage_filter f = {0, 0};
    if (defs[F_SINCE].value && !usage_parse_since(defs[F_SINCE].value, clock_now(), &f.since)) {
        flags_quote(defs[F_SINCE].value, q, sizeof q);
        return cli_usage_error(path,
                               "invalid --since '%s': use RFC 3339 (2026-01-31T12:00:00Z) or a "
                               "duration such as 24h or 7d",
                               q);
    }
    int64_t v = 0, limit = 100;
    if (defs[F_STATUS].value) {
        if (!flags_int(defs[F_STATUS].value, 100, 599, &v)) {
            flags_quote(defs[F_STATUS].value, q, sizeof q);
            return cli_usage_error(path, "invalid --status '%s' (an HTTP status, 100-599)", q);
        }
        f.status = (int)v;
    }
    if (defs[F_LIMIT].value &&
        (rc = cli_limit_flag(path, defs[F_LIMIT].value, &limit)) != EXIT_OK)
        return rc;
    store_t *s = cli_open_store(defs[F_DATABASE].value, false);
    if (!s)
        return EXIT_FAIL;
    token_rec t;
    piora_err e = store_token_by_id(s, id, &t);
    json_t *items = NULL;
    int64_t total = 0;
    if (e == PIORA_OK)
        e = usage_list(s, id, &f, 0, limit, &items, &total);
    store_close(s);
    if (e == PIORA_ENOTFOUND)
        return cli_fail("no token with id %lld", (long long)id);
    if (e != PIORA_OK)
        return cli_fail("cannot read the usage log: %s", piora_strerror(e));
    if (defs[F_JSON].given) {
        if (!cli_print_json(items))
            return cli_fail("out of memory");
        return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
    }
    enum { NC = 7 };
    static const char *const header[NC] = {"TIME",    "METHOD", "PATH",      "STATUS",
                                           "ADDRESS", "COUNT",  "USER AGENT"};
    size_t n = json_array_size(items);
    const char **cells = calloc(n ? n * NC : 1, sizeof *cells);
    char(*status)[8] = calloc(n ? n : 1, sizeof *status);
    char(*count)[24] = calloc(n ? n : 1, sizeof *count);
    if (!cells || !status || !count) {
        free(cells);
        free(status);
        free(count);
        json_decref(items);
        return cli_fail("out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(items, i);
        snprintf(status[i], sizeof status[i], "%d",
                 (int)json_integer_value(json_object_get(o, "status")));
        const char **c = cells + i * NC;
        c[0] = json_string_value(json_object_get(o, "time"));
        c[1] = json_string_value(json_object_get(o, "method"));
        c[2] = json_string_value(json_object_get(o, "path"));
        c[3] = status[i];
        c[4] = json_string_value(json_object_get(o, "addr"));
        snprintf(count[i], sizeof count[i], "%lld",
                 (long long)json_integer_value(json_object_get(o, "count")));
        c[5] = count[i];
        const char *ua = json_string_value(json_object_get(o, "user_agent"));
        c[6] = ua && *ua ? ua : "-";
    }
    cli_table(header, NC, cells, n);
    if ((int64_t)n < total)
        printf("(%lld of %lld entries; use --limit or --since for others)\n", (long long)n,
               (long long)total);
    free(cells);
    free(status);
    free(count);
    json_decref(items);
    return cli_flush_stdout() ? EXIT_OK : EXIT_FAIL;
}

int cmd_token(int argc, char **argv)
{
    static const cli_cmd table[] = {
        {"create", token_create, "create a token"},
        {"list", token_list, "list tokens"},
        {"revoke", token_revoke, "revoke a token"},
        {"usage", token_usage, "show a token's usage log"},
        {NULL, NULL, NULL},
    };
    return cli_dispatch("piora token", table, group_usage, argc, argv);
}
