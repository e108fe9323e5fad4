#include "core/paging.h"

#include <string.h>

#include "util/num.h"

/* The largest page number accepted: beyond it (page-1)*per_page could
 * overflow int64. Any page past the end simply answers an empty list. */
#define PAGE_MAX (INT64_MAX / PER_PAGE_MAX)

piora_err paging_parse(const char *page, const char *per_page, page_req *out, verrs *errs)
{
    bool bad = false;
    out->page = 1;
    out->per_page = PER_PAGE_DEFAULT;
    if (page && !num_parse_i64(page, 1, PAGE_MAX, &out->page)) {
        verrs_add(errs, "page", "must be a positive integer");
        bad = true;
    }
    if (per_page && !num_parse_i64(per_page, 1, PER_PAGE_MAX, &out->per_page)) {
        verrs_add(errs, "per_page", "must be an integer between 1 and %d", PER_PAGE_MAX);
        bad = true;
    }
    if (bad) {
        out->page = 1;
        out->per_page = PER_PAGE_DEFAULT;
    }
    out->offset = (out->page - 1) * out->per_page;
    return bad ? PIORA_EINVALID : PIORA_OK;
}

json_t *paging_meta(const page_req *p, int64_t total)
{
    return json_pack("{s:I,s:I,s:I}", "page", (json_int_t)p->page, "per_page",
                     (json_int_t)p->per_page, "total", (json_int_t)total);
}

/* Set once before serving, read by every list request. */
static char link_base[512];

void paging_set_base(const char *base)
{
    size_t n = base ? strnlen(base, sizeof link_base - 1) : 0;
    while (n && base[n - 1] == '/')
        n--;
    memcpy(link_base, base ? base : "", n);
    link_base[n] = '\0';
}

static void link_one(buf_t *out, size_t start, const char *path, const char *extra,
                     int64_t page, int64_t per_page, const char *rel)
{
    if (out->len > start)
        buf_puts(out, ", ");
    buf_printf(out, "<%s%s?%s%spage=%lld&per_page=%lld>; rel=\"%s\"", link_base, path, extra,
               *extra ? "&" : "", (long long)page, (long long)per_page, rel);
}

/* first and last always; prev when there is a page before this one (past
 * the end, prev points at the last real page); next when this page is
 * before the last. */
void paging_link(buf_t *out, const char *path, const char *extra_query, const page_req *p,
                 int64_t total)
{
    const char *extra = extra_query ? extra_query : "";
    size_t start = out->len;
    int64_t last = total > 0 ? (total - 1) / p->per_page + 1 : 1;
    link_one(out, start, path, extra, 1, p->per_page, "first");
    if (p->page > 1)
        link_one(out, start, path, extra, p->page - 1 < last ? p->page - 1 : last, p->per_page, "prev");
    if (p->page < last)
        link_one(out, start, path, extra, p->page + 1, p->per_page, "next");
    link_one(out, start, path, extra, last, p->per_page, "last");
}
