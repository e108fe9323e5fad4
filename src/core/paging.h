/* Pagination of lists: ?page=N&per_page=M (default 20, max 100), the meta
 * object and the RFC 8288 Link header (first, prev, next, last). */
#ifndef PIORA_CORE_PAGING_H
#define PIORA_CORE_PAGING_H

#include <jansson.h>
#include <stdint.h>

#include "core/validate.h"
#include "util/buf.h"

#define PER_PAGE_DEFAULT 20
#define PER_PAGE_MAX 100

typedef struct page_req {
    int64_t page;     /* >= 1 */
    int64_t per_page; /* 1..PER_PAGE_MAX */
    int64_t offset;   /* (page-1)*per_page */
} page_req;

/* Parses the two parameters (either may be NULL: default). A value that is
 * not a positive decimal, or per_page over the max, is a field error and
 * PIORA_EINVALID. */
piora_err paging_parse(const char *page, const char *per_page, page_req *out, verrs *errs);

/* {"page","per_page","total"} */
json_t *paging_meta(const page_req *p, int64_t total);

/* The Link header value on path, relative, or absolute on the base set by
 * paging_set_base; extra_query ("" or "database_id=3") is kept in each
 * link. Empty when total is 0 and page 1 (then only first and last are
 * written). */
/* The base (--public-url, no trailing slash) Link URLs start with, as
 * GitHub's absolute links; "" or NULL: relative. Set before serving. */
void paging_set_base(const char *base);
void paging_link(buf_t *out, const char *path, const char *extra_query, const page_req *p,
                 int64_t total);

#endif
