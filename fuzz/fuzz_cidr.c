/* cidr_parse and addrs_parse read the allowed_ips of `piora token create
 * --allowed-ips`, of the dashboard's token form and of the stored column.
 * Whatever they accept must format to a text that parses back to the same
 * block; a block never has host bits set; the address of an accepted block
 * is inside it; nothing writes past the buffers it was given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"
#include "auth/grant.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes, no NUL after them: an overread is an ASan report. */
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);

    cidr_t c;
    const char *why = NULL;
    if (cidr_parse(s, size, &c, &why)) {
        CHECK(c.bits <= 128);
        for (unsigned i = c.bits; i < 128; i++)
            CHECK((c.addr[i / 8] & (0x80u >> (i % 8))) == 0);
        CHECK(cidr_contains(&c, c.addr));
        char t[CIDR_TEXT_MAX];
        cidr_format(&c, t);
        CHECK(strlen(t) < sizeof t);
        cidr_t again;
        CHECK(cidr_parse(t, strlen(t), &again, NULL));
        CHECK(again.bits == c.bits && memcmp(again.addr, c.addr, 16) == 0);
    } else {
        CHECK(why != NULL);
    }

    /* The list parser over the same bytes as a C string. */
    char *z = malloc(size + 1);
    if (z) {
        memcpy(z, data, size);
        z[size] = '\0';
        token_addrs a;
        char err[128];
        if (addrs_parse(z, &a, err, sizeof err)) {
            CHECK(a.limited && a.n >= 1 && a.n <= ADDRS_MAX);
            char out[ADDRS_TEXT_MAX];
            addrs_format(&a, out, sizeof out);
            token_addrs b;
            CHECK(addrs_parse(out, &b, err, sizeof err));
            CHECK(b.n == a.n);
            for (size_t i = 0; i < a.n; i++)
                CHECK(cidr_contains(&b.nets[i], a.nets[i].addr));
        } else {
            CHECK(strlen(err) < sizeof err);
        }
        free(z);
    }
    free(s);
    return 0;
}
