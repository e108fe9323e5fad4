/* ?page= and ?per_page= come straight from the query string, and the Link
 * header repeats them. paging_parse must accept exactly the positive
 * decimals in range (and keep offset from overflowing); paging_link must
 * always write first and last, and only page numbers in [1, last + 1]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/paging.h"

#define CHECK(c)                                                                 \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* Next NUL-separated field of the input, or NULL when there is none. */
static char *field(char **p, char *end)
{
    if (*p >= end)
        return NULL;
    char *f = *p;
    *p += strlen(f) + 1;
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9)
        return 0;
    /* 8 bytes of total (a COUNT: never negative), then page, per_page, path,
     * extra query separated by NUL; a missing field is NULL (absent). */
    uint64_t raw;
    memcpy(&raw, data, 8);
    int64_t total = (int64_t)(raw >> 1);
    if (data[8] & 1)
        total %= 100000; /* keep most totals in the range real lists have */
    data += 9, size -= 9;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *p = s, *end = s + size;
    const char *page = field(&p, end), *per_page = field(&p, end);
    const char *path = field(&p, end), *extra = field(&p, end);

    page_req req;
    verrs errs = {0};
    piora_err e = paging_parse(page, per_page, &req, &errs);
    if (e == PIORA_OK) {
        CHECK(errs.n == 0);
        CHECK(req.page >= 1 && req.per_page >= 1 && req.per_page <= PER_PAGE_MAX);
        CHECK(req.offset == (req.page - 1) * req.per_page && req.offset >= 0);
        if (page) /* digits only (a leading zero is harmless here) */
            CHECK(page[0] != '\0' && strspn(page, "0123456789") == strlen(page));
        if (!per_page)
            CHECK(req.per_page == PER_PAGE_DEFAULT);
    } else {
        CHECK(e == PIORA_EINVALID);
        CHECK(errs.n >= 1 && errs.n <= 2);
        CHECK(req.page == 1 && req.per_page == PER_PAGE_DEFAULT && req.offset == 0);
    }

    if (!path)
        path = "/api/v1/servers";
    /* a path or query holding "rel=" would confuse the checks below */
    int plain = !strstr(path, "rel=") && !(extra && strstr(extra, "rel="));
    buf_t out;
    buf_init(&out, 1 << 16);
    paging_link(&out, path, extra, &req, total);
    CHECK(out.data == NULL || strlen(out.data) == out.len);
    if (!out.failed && plain) {
        CHECK(strstr(out.data, "rel=\"first\"") && strstr(out.data, "rel=\"last\""));
        int64_t last = total > 0 ? (total - 1) / req.per_page + 1 : 1;
        CHECK(last >= 1);
        /* next only before the last page; prev only after the first */
        CHECK(!strstr(out.data, "rel=\"next\"") == !(req.page < last));
        CHECK(!strstr(out.data, "rel=\"prev\"") == !(req.page > 1));
    }
    buf_free(&out);

    json_t *meta = paging_meta(&req, total);
    CHECK(meta != NULL);
    CHECK(json_integer_value(json_object_get(meta, "page")) == req.page);
    json_decref(meta);
    free(s);
    return 0;
}
