/* scopes_parse reads the scope list of `piora token create --scopes` and of
 * the dashboard's token form. Whatever it accepts must be a subset of the
 * nine scopes that survives scopes_format -> scopes_parse unchanged; what it
 * refuses must name an unknown item, and neither may write past the buffers
 * it was given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scopes.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

static int is_sep(char c) { return c == ',' || c == ' ' || (c >= '\t' && c <= '\r'); }

static void round_trip(scope_set set, const char *sep)
{
    char text[SCOPES_STR_MAX], bad[64];
    scope_set again = 0xFFFF;
    scopes_format(set, sep, text, sizeof text);
    CHECK(strlen(text) < sizeof text);
    CHECK(scopes_parse(text, &again, bad, sizeof bad));
    CHECK(again == set);
    CHECK(bad[0] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* First byte: the size of the buffer for the unknown name (0..63),
     * allocated exactly so an overflow is an ASan report. */
    size_t badlen = data[0] % 64;
    data++, size--;
    char *s = malloc(size + 1);
    char *bad = malloc(badlen ? badlen : 1);
    if (!s || !bad) {
        free(s);
        free(bad);
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';

    scope_set set = 0xFFFF;
    if (scopes_parse(s, &set, badlen ? bad : NULL, badlen)) {
        CHECK((set & ~SCOPE_ALL) == 0);
        if (badlen)
            CHECK(bad[0] == '\0');
        round_trip(set, ",");
        round_trip(set, ", ");
        round_trip(set, " ");
        /* Every bit of the set came from a name in s. */
        for (int i = 0; i < SCOPE_COUNT; i++)
            if (set & (1u << i))
                CHECK(strstr(s, scope_name(i)) != NULL);
        /* scopes_effective only adds reads, never leaves SCOPE_ALL. */
        scope_set e = scopes_effective(set);
        CHECK((e & set) == set && (e & ~SCOPE_ALL) == 0);
    } else {
        CHECK(set == 0);
        if (badlen > 1) {
            /* The first unknown item, possibly cut to badlen - 1 bytes. */
            size_t n = strlen(bad);
            CHECK(n > 0 && n < badlen);
            CHECK(strstr(s, bad) != NULL);
            for (size_t i = 0; i < n; i++)
                CHECK(!is_sep(bad[i]));
            if (n < badlen - 1)
                CHECK(scope_from_name(bad, n) == 0);
        } else if (badlen == 1) {
            CHECK(bad[0] == '\0');
        }
    }

    /* The formatter with a short output buffer truncates, never overflows. */
    size_t outlen = size ? data[0] % 48 : 0;
    char *out = malloc(outlen ? outlen : 1);
    if (out) {
        scopes_format((scope_set)(size > 1 ? data[1] | data[0] << 8 : 0), ", ", outlen ? out : NULL,
                      outlen);
        if (outlen)
            CHECK(strlen(out) < outlen);
        free(out);
    }
    free(bad);
    free(s);
    return 0;
}
