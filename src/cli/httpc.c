/* The CLI's HTTP client (cli/httpc.h) on libcurl. One easy handle per
 * client, so a --wait loop reuses its connection between polls. */
#include "cli/httpc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sodium.h>

#include "util/num.h"

#define CONNECT_TIMEOUT_S 10L
#define TOTAL_TIMEOUT_S 60L
/* A server that sends under 1 byte/s for 30 s has gone silent. */
#define STALL_BYTES 1L
#define STALL_SECONDS 30L
#define URL_MAX 2048
#define PATH_MAX_LEN 512

struct httpc {
    CURL *curl;
    struct curl_slist *headers;      /* Authorization, Accept */
    struct curl_slist *json_headers; /* the same + Content-Type */
    char base[URL_MAX];
};

typedef struct xfer {
    CURL *curl;
    bool sink_checked;
    httpc_resp *resp;
    size_t max;
    bool too_large;
    bool sink_failed;
    httpc_sink_fn sink;
    void *sink_ctx;
    size_t cap;
} xfer;

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static struct curl_slist *auth_headers(const char *token, bool json)
{
    char auth[600];
    int n = snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    if (n < 0 || (size_t)n >= sizeof auth) {
        sodium_memzero(auth, sizeof auth);
        return NULL;
    }
    struct curl_slist *h = curl_slist_append(NULL, auth);
    sodium_memzero(auth, sizeof auth);
    if (!h)
        return NULL;
    const char *more[] = {"Accept: application/json, text/plain",
                          json ? "Content-Type: application/json" : NULL,
                          /* 100-continue would add a round trip to each POST */
                          "Expect:"};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        if (!more[i])
            continue;
        struct curl_slist *t = curl_slist_append(h, more[i]);
        if (!t) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = t;
    }
    return h;
}

httpc *httpc_new(const char *base, const char *token, char *err, size_t errlen)
{
    size_t bl = strlen(base);
    if (!(strncasecmp(base, "http://", 7) == 0 || strncasecmp(base, "https://", 8) == 0)) {
        set_err(err, errlen, "PIORA_URL must start with http:// or https://");
        return NULL;
    }
    if (bl >= URL_MAX - PATH_MAX_LEN - 16) {
        set_err(err, errlen, "PIORA_URL is too long");
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)base; *p; p++)
        if (*p <= 0x20 || *p == 0x7f) {
            set_err(err, errlen, "PIORA_URL holds a space or control character");
            return NULL;
        }
    size_t tl = strlen(token);
    if (tl == 0 || tl > 512) {
        set_err(err, errlen, "PIORA_API_TOKEN is empty or too long");
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)token; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f) {
            set_err(err, errlen, "PIORA_API_TOKEN holds a space or control character");
            return NULL;
        }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        set_err(err, errlen, "cannot start libcurl");
        return NULL;
    }
    httpc *c = calloc(1, sizeof *c);
    if (!c) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    /* "https://h/", "https://h/api/v1" and "https://h/api/v1/" all mean
     * the same server. */
    memcpy(c->base, base, bl + 1);
    while (bl && c->base[bl - 1] == '/')
        c->base[--bl] = 0;
    if (bl >= 7 && strcmp(c->base + bl - 7, "/api/v1") == 0)
        c->base[bl -= 7] = 0;
    c->curl = curl_easy_init();
    c->headers = auth_headers(token, false);
    c->json_headers = auth_headers(token, true);
    if (!c->curl || !c->headers || !c->json_headers) {
        set_err(err, errlen, "cannot start libcurl");
        httpc_free(c);
        return NULL;
    }
    return c;
}

void httpc_free(httpc *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    curl_slist_free_all(c->json_headers);
    free(c);
}

void httpc_resp_free(httpc_resp *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    httpc_resp *r = x->resp;
    if (n > x->max - r->len) {
        x->too_large = true;
        return 0; /* aborts the transfer */
    }
    if (x->sink && !x->sink_checked) {
        /* Only a success's body is the caller's stream (a log); an error's
         * (a problem document) is kept for the caller to read. */
        long status = 0;
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299)
            x->sink = NULL;
        x->sink_checked = true;
    }
    if (x->sink) {
        if (!x->sink(x->sink_ctx, data, n)) {
            x->sink_failed = true;
            return 0;
        }
        r->len += n;
        r->sunk += n;
        return n;
    }
    if (r->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b)
            return 0;
        r->body = b;
        x->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = 0;
    return n;
}

/* Header lines arrive one at a time, with their CRLF. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    char line[128];
    if (n >= sizeof line)
        return n; /* none of the headers read here is that long */
    memcpy(line, data, n);
    line[n] = 0;
    while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = 0;
    if (strncasecmp(line, "HTTP/", 5) == 0) {
        /* a new answer (after a 100 Continue): forget the last one's */
        x->resp->has_log_complete = x->resp->log_complete = false;
        x->resp->retry_after = -1;
    } else if (strncasecmp(line, "X-Log-Complete:", 15) == 0) {
        const char *v = line + 15;
        while (*v == ' ')
            v++;
        x->resp->has_log_complete = true;
        x->resp->log_complete = strcasecmp(v, "true") == 0;
    } else if (strncasecmp(line, "Retry-After:", 12) == 0) {
        const char *v = line + 12;
        while (*v == ' ')
            v++;
        int64_t secs;
        if (num_parse_i64(v, 0, 3600, &secs))
            x->resp->retry_after = (long)secs;
    }
    return size * nmemb;
}

bool httpc_request(httpc *c, const char *method, const char *path, const char *json_body,
                   size_t max_body, httpc_sink_fn sink_fn, void *sink_ctx, httpc_resp *out,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->retry_after = -1;
    char url[URL_MAX];
    if (strlen(path) > PATH_MAX_LEN ||
        snprintf(url, sizeof url, "%s/api/v1%s", c->base, path) >= (int)sizeof url) {
        set_err(err, errlen, "request path too long");
        return false;
    }
    CURL *h = c->curl;
    xfer x = {.curl = h, .resp = out, .max = max_body, .sink = sink_fn, .sink_ctx = sink_ctx};
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, STALL_BYTES);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "piora-cli");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    /* The answer's size is capped by on_body; the headers' by libcurl. */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, json_body ? c->json_headers : c->headers);
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body ? json_body : "");
    }
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL); /* cerr goes out of scope */
    if (rc != CURLE_OK) {
        free(out->body);
        out->body = NULL;
        if (x.too_large || rc == CURLE_FILESIZE_EXCEEDED)
            set_err(err, errlen, "the server's answer is too large");
        else if (x.sink_failed)
            set_err(err, errlen, "cannot write to standard output");
        else
            /* curl's messages name the host and the cause, never a header */
            set_err(err, errlen, cerr[0] ? cerr : curl_easy_strerror(rc));
        return false;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    if (!x.sink && !out->body) {
        out->body = calloc(1, 1);
        if (!out->body) {
            set_err(err, errlen, "out of memory");
            return false;
        }
    }
    return true;
}
