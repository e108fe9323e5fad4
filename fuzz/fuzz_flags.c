/* Every CLI command parses its argv with flags_parse. On any split of the
 * input into words it must stay inside pos[], report an error as one
 * terminated line that never echoes a token, and on success have a value for
 * every given value flag. flags_int and flags_listen get the same words. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/flags.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

#define MAXWORDS 24

enum { F_NAME, F_SCOPES, F_JSON, F_LISTEN, F_COUNT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* byte 0: how many positionals are allowed (0..3); the rest: words
     * separated by NUL. */
    size_t maxpos = data[0] % 4;
    data++, size--;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *argv[MAXWORDS];
    int argc = 0;
    for (char *p = s; p < s + size && argc < MAXWORDS; p += strlen(p) + 1)
        argv[argc++] = p;

    /* environment fallbacks that are never set, so each run is the same */
    flag_def defs[F_COUNT] = {
        [F_NAME] = {.name = "name", .env = "PIORA_FUZZ_UNSET_NAME", .kind = FLAG_VALUE},
        [F_SCOPES] = {.name = "scopes", .kind = FLAG_VALUE},
        [F_JSON] = {.name = "json", .kind = FLAG_BOOL},
        [F_LISTEN] = {.name = "listen", .env = "PIORA_FUZZ_UNSET_LISTEN", .kind = FLAG_VALUE},
    };
    const char **pos = malloc(sizeof *pos * (maxpos ? maxpos : 1));
    char err[128];
    memset(err, 'x', sizeof err);
    size_t npos = 99;
    flags_result r = flags_parse(defs, F_COUNT, argc, argv, pos, maxpos, &npos, err, sizeof err);
    switch (r) {
    case FLAGS_OK:
        CHECK(npos <= maxpos);
        for (size_t i = 0; i < npos; i++)
            CHECK(pos[i] >= s && pos[i] < s + size + 1);
        for (int i = 0; i < F_COUNT; i++) {
            CHECK(!defs[i].from_env);
            if (defs[i].kind == FLAG_VALUE)
                CHECK(!defs[i].given == !defs[i].value);
            else
                CHECK(defs[i].value == NULL);
        }
        break;
    case FLAGS_HELP:
        break;
    case FLAGS_ERROR:
        CHECK(memchr(err, '\0', sizeof err) != NULL);
        CHECK(err[0] != '\0');
        /* stderr never carries a secret */
        CHECK(strstr(err, "piora_token_") == NULL);
        break;
    default:
        CHECK(!"unknown flags_parse result");
    }

    for (int i = 0; i < argc; i++) {
        int64_t v;
        if (flags_int(argv[i], -1000, 1000, &v))
            CHECK(v >= -1000 && v <= 1000);
        char host[64];
        uint16_t port = 0;
        if (flags_listen(argv[i], host, sizeof host, &port)) {
            /* port 0 is allowed: --listen HOST:0 takes a kernel-chosen port (issue 13) */
            CHECK(host[0] != '\0' && strlen(host) < sizeof host);
            CHECK(strchr(host, ' ') == NULL);
        }
        char q[20];
        flags_quote(argv[i], q, sizeof q);
        CHECK(strlen(q) < sizeof q && strstr(q, "piora_token_") == NULL);
    }
    free(pos);
    free(s);
    return 0;
}
