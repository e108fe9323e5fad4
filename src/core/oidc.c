/* Discovery and JWKS over HTTPS (libcurl), cached per issuer. Only an
 * issuer some team registered is ever fetched (core/publishers.c asks the
 * store first), so a JWT cannot make Piora call an address it names. */
#include "core/oidc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

#define OIDC_URL_LEN 1024

typedef struct issuer_keys {
    char issuer[OIDC_URL_LEN];
    jwk_key keys[OIDC_KEYS_MAX];
    size_t n;
    int64_t tried_ms;   /* last fetch attempt (0: never) */
    bool fetching;      /* a thread is fetching: others wait for it (cache_cv) */
} issuer_keys;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cache_cv = PTHREAD_COND_INITIALIZER;
static issuer_keys cache[OIDC_ISSUERS_MAX];
static char ca_file[1024];
static int64_t refresh_ms = 60000;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_setup(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void oidc_init(const piora_config *cfg)
{
    pthread_once(&curl_once, curl_setup);
    pthread_mutex_lock(&cache_mu);
    size_t n = strnlen(cfg->oidc_ca_file, sizeof cfg->oidc_ca_file);
    if (n >= sizeof ca_file)
        n = sizeof ca_file - 1;
    memcpy(ca_file, cfg->oidc_ca_file, n);
    ca_file[n] = '\0';
    refresh_ms = (cfg->oidc_refresh_s > 0 ? cfg->oidc_refresh_s : 60) * 1000;
    pthread_mutex_unlock(&cache_mu);
    /* Said once at start: otherwise the operator learns of a wrong path
     * only from CI jobs' 401s. */
    if (ca_file[0]) {
        FILE *f = fopen(ca_file, "r");
        if (!f)
            log_error("oidc: --oidc-ca-file %s cannot be read; issuers behind it will fail",
                      ca_file);
        else
            fclose(f);
    }
}

static void entry_clear(issuer_keys *e)
{
    for (size_t i = 0; i < e->n; i++)
        jwk_clear(&e->keys[i]);
    memset(e, 0, sizeof *e);
}

void oidc_shutdown(void)
{
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < OIDC_ISSUERS_MAX; i++)
        entry_clear(&cache[i]);
    pthread_mutex_unlock(&cache_mu);
}

/* ---- fetching ------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    buf_t *b = ud;
    size_t len = size * n;
    return buf_append(b, p, len) ? len : 0; /* past the cap: curl aborts */
}

/* The added CAs join the system's in this handshake's store (CURLOPT_CAINFO
 * would replace them). */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *ud)
{
    (void)curl;
    const char *file = ud;
    X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)ssl_ctx);
    if (file && *file && X509_STORE_load_file(store, file) != 1) {
        log_error("oidc: cannot load CA certificates from --oidc-ca-file %s", file);
        return CURLE_SSL_CACERT_BADFILE;
    }
    return CURLE_OK;
}

/* GETs an https:// URL into a JSON object: 200 only, no redirects, at most
 * OIDC_DOC_MAX_BYTES, within OIDC_FETCH_TIMEOUT_MS. */
static json_t *fetch_json(const char *url, const char *cafile, const char **why)
{
    if (strncmp(url, "https://", 8) != 0) {
        *why = "issuer URL is not https";
        return NULL;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        *why = "issuer's keys are unavailable (out of memory)";
        return NULL;
    }
    buf_t b;
    buf_init(&b, OIDC_DOC_MAX_BYTES);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)OIDC_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)OIDC_FETCH_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)OIDC_DOC_MAX_BYTES);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "piora-oidc");
    if (cafile && *cafile) {
        curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, (void *)cafile);
    }
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    json_t *v = NULL;
    if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED) {
        *why = "issuer's document is too large";
    } else if (rc != CURLE_OK) {
        log_warn("oidc: fetching %s failed: %s", url, curl_easy_strerror(rc));
        *why = "issuer's keys are unavailable";
    } else if (status != 200) {
        log_warn("oidc: fetching %s answered %ld", url, status);
        *why = "issuer's keys are unavailable";
    } else {
        json_error_t jerr;
        v = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(v)) {
            json_decref(v);
            v = NULL;
            *why = "issuer's document is not a JSON object";
        }
    }
    buf_free(&b);
    return v;
}

/* Discovery, then the JWKS it names; the usable keys into keys[] (keys of
 * other types are skipped, not fatal: an issuer may publish several). */
static bool fetch_keys(const char *issuer, const char *cafile, jwk_key *keys, size_t *n,
                       const char **why)
{
    char url[OIDC_URL_LEN + 64];
    size_t il = strlen(issuer);
    if (il && issuer[il - 1] == '/') /* "https://gitlab.com/" and "https://gitlab.com" alike */
        il--;
    snprintf(url, sizeof url, "%.*s/.well-known/openid-configuration", (int)il, issuer);
    json_t *disc = fetch_json(url, cafile, why);
    if (!disc)
        return false;
    const char *iss = json_string_value(json_object_get(disc, "issuer"));
    const char *jwks = json_string_value(json_object_get(disc, "jwks_uri"));
    bool ok = false;
    if (!iss || strcmp(iss, issuer) != 0)
        *why = "issuer's discovery document names another issuer";
    else if (!jwks || strlen(jwks) >= OIDC_URL_LEN || strncmp(jwks, "https://", 8) != 0)
        *why = "issuer's discovery document has no https jwks_uri";
    else
        ok = true;
    json_t *set = NULL;
    if (ok) {
        snprintf(url, sizeof url, "%s", jwks);
        json_decref(disc);
        disc = NULL;
        set = fetch_json(url, cafile, why);
    }
    json_decref(disc);
    if (!set)
        return false;
    const json_t *arr = json_object_get(set, "keys");
    *n = 0;
    for (size_t i = 0; i < json_array_size(arr) && *n < OIDC_KEYS_MAX; i++) {
        const char *kwhy = NULL;
        if (jwk_from_json(json_array_get(arr, i), &keys[*n], &kwhy))
            (*n)++;
    }
    json_decref(set);
    if (*n == 0) {
        *why = "issuer's JWKS has no usable RS256 or ES256 key";
        return false;
    }
    return true;
}

/* ---- the cache ----------------------------------------------------------- */

/* With cache_mu held: the issuer's entry, made in the slot tried longest
 * ago when it has none. An entry being fetched is never given away; NULL
 * when every slot is. */
static issuer_keys *entry_for(const char *issuer)
{
    issuer_keys *victim = NULL;
    for (size_t i = 0; i < OIDC_ISSUERS_MAX; i++) {
        issuer_keys *c = &cache[i];
        if (c->issuer[0] && strcmp(c->issuer, issuer) == 0)
            return c;
        if (c->fetching)
            continue;
        if (!victim || (victim->issuer[0] && (!c->issuer[0] || c->tried_ms < victim->tried_ms)))
            victim = c;
    }
    if (!victim)
        return NULL;
    entry_clear(victim);
    snprintf(victim->issuer, sizeof victim->issuer, "%s", issuer);
    return victim;
}

/* With cache_mu held: a new reference to the matching key into *out. */
static bool entry_find(const issuer_keys *e, const char *kid, jwt_alg alg, jwk_key *out)
{
    const jwk_key *hit = NULL;
    size_t same_alg = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (kid[0]) {
            if (strcmp(e->keys[i].kid, kid) == 0) {
                hit = &e->keys[i];
                break;
            }
        } else if (e->keys[i].alg == alg) {
            hit = &e->keys[i];
            same_alg++;
        }
    }
    if (!hit || (!kid[0] && same_alg != 1))
        return false;
    *out = *hit;
    EVP_PKEY_up_ref(hit->pkey);
    return true;
}

/* With cache_mu held: waits (bounded) while another thread fetches this
 * issuer's keys. true when it waited, so that the caller uses that fetch's
 * outcome instead of starting one more. */
static bool wait_fetch(const char *issuer, issuer_keys **e)
{
    bool waited = false;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ms = 2 * OIDC_FETCH_TIMEOUT_MS + 1000; /* discovery, then JWKS */
    until.tv_sec += ms / 1000;
    while (*e && (*e)->fetching) {
        waited = true;
        if (pthread_cond_timedwait(&cache_cv, &cache_mu, &until) != 0)
            break;
        *e = entry_for(issuer);
    }
    return waited;
}

bool oidc_key(const char *issuer, const char *kid, jwt_alg alg, jwk_key *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (!issuer || strlen(issuer) >= OIDC_URL_LEN) {
        *why = "issuer URL is too long";
        return false;
    }
    if (!kid)
        kid = "";
    pthread_once(&curl_once, curl_setup);
    pthread_mutex_lock(&cache_mu);
    issuer_keys *e = entry_for(issuer);
    if (e && entry_find(e, kid, alg, out)) {
        pthread_mutex_unlock(&cache_mu);
        return true;
    }
    /* A CI matrix starting at once meets an empty cache together: one
     * fetches, the others wait for its keys rather than failing. */
    bool waited = wait_fetch(issuer, &e);
    if (!e || (e->fetching)) {
        pthread_mutex_unlock(&cache_mu);
        *why = "issuer's keys are unavailable";
        return false;
    }
    if (entry_find(e, kid, alg, out)) {
        pthread_mutex_unlock(&cache_mu);
        return true;
    }
    int64_t now = clock_mono_ns() / 1000000;
    if (waited || (e->tried_ms && now - e->tried_ms < refresh_ms)) {
        *why = e->n > 0 ? "token's key id is not in the issuer's JWKS"
                        : "issuer's keys are unavailable";
        pthread_mutex_unlock(&cache_mu);
        return false;
    }
    /* Claimed before letting go of the lock: concurrent requests with
     * unknown kids make one fetch, not one each. */
    e->tried_ms = now;
    e->fetching = true;
    char cafile[sizeof ca_file];
    memcpy(cafile, ca_file, sizeof cafile);
    pthread_mutex_unlock(&cache_mu);

    jwk_key fresh[OIDC_KEYS_MAX];
    size_t n = 0;
    const char *fwhy = NULL;
    bool fetched = fetch_keys(issuer, cafile, fresh, &n, &fwhy);

    pthread_mutex_lock(&cache_mu);
    /* e is still this issuer's: an entry being fetched is never given away */
    if (fetched) {
        for (size_t i = 0; i < e->n; i++)
            jwk_clear(&e->keys[i]);
        memcpy(e->keys, fresh, n * sizeof fresh[0]);
        e->n = n;
    }
    e->fetching = false;
    pthread_cond_broadcast(&cache_cv);
    bool ok = entry_find(e, kid, alg, out);
    bool had_keys = e->n > 0;
    pthread_mutex_unlock(&cache_mu);
    if (!ok)
        *why = !fetched && !had_keys ? fwhy : "token's key id is not in the issuer's JWKS";
    return ok;
}
