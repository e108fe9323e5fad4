/* Every `piora serve` setting is handled by kind, row by row, from
 * config_settings[]; adding a setting means adding its row there. */
#include "app/settings.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "monitor/proxies.h"

#define SETTINGS_MAX 64
#define HELP_COLUMN 30
#define HELP_WIDTH 79

static const char usage_head[] =
    "Usage: piora serve [flags]\n"
    "\n"
    "Runs the HTTP API. Every flag also reads its PIORA_* environment variable;\n"
    "the flag wins. Flags take '--name value' or '--name=value'.\n"
    "\n";
static const char usage_tail[] =
    "  -h, --help                  this help\n"
    "\n"
    "SIGTERM or SIGINT stops the server gracefully.\n";

/* Help text being laid out: the column reached, and whether nothing has
 * been written since the flag or the last line break. */
typedef struct help_line {
    int col;
    bool fresh;
} help_line;

/* Writes words to out, breaking before a word that would pass HELP_WIDTH
 * and indenting continuation lines to HELP_COLUMN. */
static void wrap_words(FILE *out, const char *text, help_line *l)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        if (!l->fresh && l->col + 1 + (int)n > HELP_WIDTH) {
            fprintf(out, "\n%*s", HELP_COLUMN, "");
            l->col = HELP_COLUMN;
        } else if (!l->fresh) {
            fputc(' ', out);
            l->col++;
        }
        fwrite(p, 1, n, out);
        l->col += (int)n;
        l->fresh = false;
        p += n;
    }
}

void settings_write_usage(FILE *out)
{
    fputs(usage_head, out);
    for (size_t i = 0; i < config_settings_count; i++) {
        const config_setting *s = &config_settings[i];
        int col = fprintf(out, "  --%s %s", s->flag, s->metavar);
        /* A flag too long for the column gets two spaces instead. */
        int pad = col > HELP_COLUMN - 2 ? 2 : HELP_COLUMN - col;
        fprintf(out, "%*s", pad, "");
        help_line l = {.col = col + pad, .fresh = true};
        char def[300], tail[400];
        config_default_text(s, def, sizeof def);
        snprintf(tail, sizeof tail, "(%s, default %s)", s->env, def);
        wrap_words(out, s->help, &l);
        /* "(PIORA_X, default Y)" reads as one piece: it moves to the next
         * line whole rather than split. */
        if (!l.fresh && l.col + 1 + (int)strlen(tail) > HELP_WIDTH) {
            fprintf(out, "\n%*s", HELP_COLUMN, "");
            l = (help_line){.col = HELP_COLUMN, .fresh = true};
        }
        wrap_words(out, tail, &l);
        fputc('\n', out);
    }
    fputs(usage_tail, out);
}

/* A table cell: '|' escaped so that it does not end the cell. */
static void md_cell(FILE *out, const char *text, bool code)
{
    fputs(code ? " `" : " ", out);
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            fputc('\\', out);
        fputc(*p, out);
    }
    fputs(code ? "` |" : " |", out);
}

void settings_write_markdown(FILE *out)
{
    fputs("| flag | environment | default | values | meaning |\n", out);
    fputs("|---|---|---|---|---|\n", out);
    for (size_t i = 0; i < config_settings_count; i++) {
        const config_setting *s = &config_settings[i];
        char flag[128], def[300], values[64] = "";
        snprintf(flag, sizeof flag, "--%s %s", s->flag, s->metavar);
        config_default_text(s, def, sizeof def);
        switch (s->kind) {
        case CONFIG_INT:
            snprintf(values, sizeof values, "%lld-%lld", (long long)s->min, (long long)s->max);
            break;
        case CONFIG_LISTEN:
            snprintf(values, sizeof values, "port %lld-%lld", (long long)s->min,
                     (long long)s->max);
            break;
        case CONFIG_SWITCH:
            snprintf(values, sizeof values, "on, off");
            break;
        case CONFIG_TEXT:
            snprintf(values, sizeof values, "text");
            break;
        case CONFIG_ADDR_LIST:
            snprintf(values, sizeof values, "IPs and CIDR blocks");
            break;
        case CONFIG_URL:
            snprintf(values, sizeof values, "http(s) URL");
            break;
        }
        fputc('|', out);
        md_cell(out, flag, true);
        md_cell(out, s->env, true);
        /* An empty default reads "none", as a word rather than a value. */
        md_cell(out, def, s->def_text == NULL || s->def_text[0] != '\0');
        md_cell(out, values, false);
        md_cell(out, s->doc, false);
        fputc('\n', out);
    }
}

/* on|off switches; 1|0 and true|false too, as scripts write them. */
static bool parse_switch(const char *v, int64_t *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "true")) {
        *out = 1;
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "false")) {
        *out = 0;
        return true;
    }
    return false;
}

/* Names the source of a bad value the way the operator wrote it. */
static int bad_value(const flag_def *f, const char *why)
{
    char q[64];
    flags_quote(f->value, q, sizeof q);
    char where[96];
    if (f->from_env)
        snprintf(where, sizeof where, "%s", f->env);
    else
        snprintf(where, sizeof where, "--%s", f->name);
    return cli_usage_error("piora serve", "invalid %s '%s': %s", where, q, why);
}

/* Copies a value into its char[] field; false when it does not fit. */
static bool set_text(piora_config *cfg, const config_setting *s, const char *v)
{
    size_t n = strlen(v);
    if (n >= s->size)
        return false;
    memcpy((char *)cfg + s->offset, v, n + 1);
    return true;
}

/* A base URL for printed links: http or https, a host, no whitespace, no
 * query or fragment (paths are appended to it). Empty means unset. */
static bool url_acceptable(const char *v)
{
    if (!*v)
        return true;
    const char *rest = NULL;
    if (strncmp(v, "http://", 7) == 0)
        rest = v + 7;
    else if (strncmp(v, "https://", 8) == 0)
        rest = v + 8;
    if (!rest || !*rest || *rest == '/')
        return false;
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#' || *p == 0x7f)
            return false;
    return true;
}

/* Checks one given value against its row and stores it; EXIT_OK or the
 * status of the one-line error printed. */
static int apply(piora_config *cfg, const config_setting *s, const flag_def *f)
{
    const char *v = f->value;
    int64_t n = 0;
    switch (s->kind) {
    case CONFIG_LISTEN: {
        uint16_t port = 0;
        if (!flags_listen(v, (char *)cfg + s->offset, s->size, &port))
            return bad_value(f, "expected HOST:PORT or [IPv6]:PORT, port 0-65535");
        memcpy((char *)cfg + s->port_offset, &port, sizeof port);
        return EXIT_OK;
    }
    case CONFIG_TEXT:
        return set_text(cfg, s, v) ? EXIT_OK : bad_value(f, "too long");
    case CONFIG_INT:
        if (!flags_int(v, s->min, s->max, &n)) {
            char why[80];
            snprintf(why, sizeof why, "expected an integer from %lld to %lld",
                     (long long)s->min, (long long)s->max);
            return bad_value(f, why);
        }
        config_set_int(cfg, s, n);
        return EXIT_OK;
    case CONFIG_SWITCH:
        if (!parse_switch(v, &n))
            return bad_value(f, "expected on or off");
        config_set_int(cfg, s, n);
        return EXIT_OK;
    case CONFIG_ADDR_LIST: {
        if (strlen(v) >= s->size)
            return bad_value(f, "too long");
        char why[160];
        if (!proxies_parse(v, why, sizeof why))
            return bad_value(f, why);
        set_text(cfg, s, v);
        return EXIT_OK;
    }
    case CONFIG_URL:
        if (!url_acceptable(v))
            return bad_value(f, "expected http://HOST[:PORT][/PATH] or https://...");
        return set_text(cfg, s, v) ? EXIT_OK : bad_value(f, "too long");
    }
    return EXIT_OK;
}

bool settings_parse(int argc, char **argv, piora_config *cfg, int *exit_code)
{
    flag_def defs[SETTINGS_MAX];
    size_t n = config_settings_count;
    if (n > SETTINGS_MAX) { /* a row added past the cap: fail, never ignore it */
        *exit_code = cli_fail("too many settings for the flag parser (%zu)", n);
        return false;
    }
    memset(defs, 0, sizeof defs);
    for (size_t i = 0; i < n; i++)
        defs[i] = (flag_def){.name = config_settings[i].flag,
                             .env = config_settings[i].env,
                             .kind = FLAG_VALUE};
    char *usage = NULL;
    size_t usage_len = 0;
    FILE *m = open_memstream(&usage, &usage_len);
    if (!m) {
        *exit_code = cli_fail("out of memory");
        return false;
    }
    settings_write_usage(m);
    if (fclose(m) != 0 || !usage) {
        free(usage);
        *exit_code = cli_fail("out of memory");
        return false;
    }
    bool go = cli_flags("piora serve", usage, defs, n, argc, argv, NULL, 0, NULL, exit_code);
    free(usage);
    if (!go)
        return false;
    config_defaults(cfg);
    for (size_t i = 0; i < n; i++) {
        if (!defs[i].value)
            continue;
        *exit_code = apply(cfg, &config_settings[i], &defs[i]);
        if (*exit_code != EXIT_OK)
            return false;
    }
    *exit_code = EXIT_OK;
    return true;
}
