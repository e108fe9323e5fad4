/* The one flag parser every command uses. A command declares its flags in
 * an array (indexed by its own enum) and gets back each flag's value, taken
 * from the command line or, when absent there, from its PIORA_* environment
 * variable: the flag wins. Both `--name value` and `--name=value` work. */
#ifndef PIORA_CLI_FLAGS_H
#define PIORA_CLI_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum flag_kind {
    FLAG_VALUE, /* --name value, --name=value */
    FLAG_BOOL   /* --name (no value) */
} flag_kind;

typedef struct flag_def {
    const char *name; /* without the leading "--" */
    const char *env;  /* environment fallback, or NULL */
    flag_kind kind;
    /* out */
    const char *value; /* FLAG_VALUE: from argv or env; NULL when neither */
    bool given;        /* set on the command line (or env for FLAG_VALUE) */
    bool from_env;     /* the value came from the environment */
} flag_def;

typedef enum flags_result {
    FLAGS_OK,
    FLAGS_HELP, /* --help or -h was given: print usage, exit 0 */
    FLAGS_ERROR /* err holds a one-line reason */
} flags_result;

/* Parses argv[0..argc) (the arguments after the command words). Positional
 * arguments go to pos (at most maxpos of them; more is an error); "--" ends
 * the flags. A value given as a separate word may not start with "--"
 * (`--name --json` is a missing value, not a name); use --name=--x for that.
 * An empty environment variable counts as unset. */
flags_result flags_parse(flag_def *defs, size_t ndefs, int argc, char *const *argv,
                         const char **pos, size_t maxpos, size_t *npos, char *err,
                         size_t errlen);

/* Strict decimal integer in [min, max]: digits only (a leading '-' only when
 * min < 0), no spaces, no overflow. */
bool flags_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* "host:port" or "[v6]:port", port 0..65535 (0: the kernel picks). host is written without the
 * brackets; it must be non-empty and free of spaces and control characters. */
bool flags_listen(const char *s, char *host, size_t hostlen, uint16_t *port);

/* Copies an argument for an error message: truncated, control characters
 * replaced, and anything that could be a token redacted, so that stderr
 * never carries a secret. */
void flags_quote(const char *arg, char *out, size_t outlen);

#endif
