#include "cli/flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/num.h"

#define QUOTE_MAX 48

void flags_quote(const char *arg, char *out, size_t outlen)
{
    if (!outlen)
        return;
    if (strstr(arg, "piora_token_")) {
        snprintf(out, outlen, "<redacted>");
        return;
    }
    size_t n = 0, limit = outlen - 1 < QUOTE_MAX ? outlen - 1 : QUOTE_MAX;
    for (const unsigned char *p = (const unsigned char *)arg; *p && n < limit; p++)
        out[n++] = (*p < 0x20 || *p >= 0x7f) ? '?' : (char)*p;
    out[n] = '\0';
    if (arg[n] && n == limit && n >= 3)
        memcpy(out + n - 3, "...", 3);
}

static flag_def *find_flag(flag_def *defs, size_t ndefs, const char *name, size_t len)
{
    for (size_t i = 0; i < ndefs; i++)
        if (strlen(defs[i].name) == len && memcmp(defs[i].name, name, len) == 0)
            return &defs[i];
    return NULL;
}

/* Help wins over every other problem on the line, so that `--help` always
 * answers, whatever else was typed before it. */
static bool wants_help(int argc, char *const *argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

flags_result flags_parse(flag_def *defs, size_t ndefs, int argc, char *const *argv,
                         const char **pos, size_t maxpos, size_t *npos, char *err,
                         size_t errlen)
{
    char q[QUOTE_MAX + 1];
    size_t np = 0;
    for (size_t i = 0; i < ndefs; i++) {
        defs[i].value = NULL;
        defs[i].given = false;
        defs[i].from_env = false;
    }
    if (npos)
        *npos = 0;
    if (wants_help(argc, argv))
        return FLAGS_HELP;

    bool flags_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!flags_done && strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (flags_done || a[0] != '-' || a[1] == '\0') {
            if (np >= maxpos) {
                /* The word itself is not echoed: it may be a password typed
                 * in the wrong place. */
                snprintf(err, errlen, "unexpected argument #%zu", np + 1);
                return FLAGS_ERROR;
            }
            pos[np++] = a;
            continue;
        }
        if (a[1] != '-') {
            flags_quote(a, q, sizeof q);
            snprintf(err, errlen, "unknown flag %s", q);
            return FLAGS_ERROR;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        flag_def *f = find_flag(defs, ndefs, name, nlen);
        if (!f) {
            char nm[QUOTE_MAX + 1];
            snprintf(nm, sizeof nm, "%.*s", (int)(nlen < QUOTE_MAX ? nlen : QUOTE_MAX), name);
            flags_quote(nm, q, sizeof q);
            snprintf(err, errlen, "unknown flag --%s", q);
            return FLAGS_ERROR;
        }
        if (f->kind == FLAG_BOOL) {
            if (eq) {
                snprintf(err, errlen, "flag --%s takes no value", f->name);
                return FLAGS_ERROR;
            }
            f->given = true;
            continue;
        }
        const char *v;
        if (eq) {
            v = eq + 1;
        } else {
            if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
                snprintf(err, errlen, "flag --%s needs a value", f->name);
                return FLAGS_ERROR;
            }
            v = argv[++i];
        }
        f->value = v;
        f->given = true;
        f->from_env = false;
    }

    for (size_t i = 0; i < ndefs; i++) {
        flag_def *f = &defs[i];
        if (f->kind != FLAG_VALUE || f->given || !f->env)
            continue;
        const char *v = getenv(f->env);
        if (v && *v) {
            f->value = v;
            f->given = true;
            f->from_env = true;
        }
    }
    if (npos)
        *npos = np;
    return FLAGS_OK;
}

bool flags_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    return num_parse_i64(s, min, max, out);
}

bool flags_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    if (!s)
        return false;
    const char *h, *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return false;
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
        if (memchr(h, ':', hl) == NULL) /* brackets are for IPv6 literals */
            return false;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        h = s;
        hl = (size_t)(colon - s);
        if (memchr(h, ':', hl)) /* a bare IPv6 literal needs brackets */
            return false;
    }
    if (hl == 0 || hl >= hostlen)
        return false;
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '/')
            return false;
    }
    /* Port 0 lets the kernel choose; serve prints the port it got. */
    int64_t p;
    if (!flags_int(colon + 1, 0, 65535, &p))
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return true;
}
