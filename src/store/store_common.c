/* The backend-independent half of store.h: choosing a backend by URL,
 * forwarding each call to it (see store_backend.h for why a table of
 * function pointers), the per-thread connections, the process-wide write
 * generation and the token status rules. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_backend.h"
#include "util/log.h"

/* ---- connections ------------------------------------------------------- */

static bool url_is_postgres(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

store_t *store_open(const char *url, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = '\0';
    if (!url || !*url) {
        if (msg && msglen)
            snprintf(msg, msglen, "no database given");
        return NULL;
    }
    if (url_is_postgres(url)) {
        if (msg && msglen)
            snprintf(msg, msglen, "PostgreSQL backend not built yet");
        return NULL;
    }
    return sqlite_store_open(url, msg, msglen);
}

void store_close(store_t *s)
{
    if (s)
        s->ops->close(s);
}

void store_copy(char *dst, size_t dstlen, const char *src)
{
    if (!dstlen)
        return;
    size_t n = src ? strlen(src) : 0;
    if (n >= dstlen)
        n = dstlen - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- one connection per thread ----------------------------------------- */

/* The URL is set once before worker threads start; each thread opens its
 * own connection on first use. A pthread key's destructor closes it when a
 * thread exits; the main thread's connection is closed by
 * store_thread_release() (at process exit the OS reclaims it, and every
 * commit is already durable in the WAL). */
static char *thread_url;
static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static _Thread_local store_t *thread_store;

static void thread_store_destroy(void *p)
{
    store_close(p);
}

static void thread_key_make(void)
{
    pthread_key_create(&thread_key, thread_store_destroy);
}

void store_thread_init(const char *url)
{
    pthread_once(&thread_key_once, thread_key_make);
    char *copy = url ? strdup(url) : NULL;
    free(thread_url);
    thread_url = copy;
}

store_t *store_thread(void)
{
    if (thread_store)
        return thread_store;
    if (!thread_url) {
        log_error("store: store_thread() before store_thread_init()");
        return NULL;
    }
    char msg[256];
    store_t *s = store_open(thread_url, msg, sizeof msg);
    if (!s) {
        log_error("store: cannot open the database: %s", msg);
        return NULL;
    }
    thread_store = s;
    pthread_setspecific(thread_key, s);
    return s;
}

void store_thread_release(void)
{
    if (!thread_store)
        return;
    pthread_once(&thread_key_once, thread_key_make);
    pthread_setspecific(thread_key, NULL);
    store_close(thread_store);
    thread_store = NULL;
}

/* ---- change detection --------------------------------------------------- */

static atomic_uint_fast64_t generation = 1;

void store_change_barrier(void)
{
    struct timespec now, step = {0, 200000};
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t until = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + STORE_POLL_NS * 3 / 2;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec >= until)
            return;
        nanosleep(&step, NULL);
    }
}

uint64_t store_generation(void)
{
    return atomic_load_explicit(&generation, memory_order_acquire);
}

void store_generation_bump(void)
{
    atomic_fetch_add_explicit(&generation, 1, memory_order_acq_rel);
}

piora_err store_changed(store_t *s, bool *changed) { return s->ops->changed(s, changed); }
piora_err store_ping(store_t *s) { return s->ops->ping(s); }
int store_schema_version(store_t *s) { return s->ops->schema_version(s); }

/* ---- users -------------------------------------------------------------- */

piora_err store_user_create(store_t *s, const char *email, const char *team_name, bool is_admin,
                            const char *password_hash, user_rec *out)
{
    return s->ops->user_create(s, email, team_name, is_admin, password_hash, out);
}

piora_err store_user_by_email(store_t *s, const char *email, user_rec *out)
{
    return s->ops->user_by_email(s, email, out);
}

piora_err store_user_by_id(store_t *s, int64_t id, user_rec *out)
{
    return s->ops->user_by_id(s, id, out);
}

piora_err store_user_password_hash(store_t *s, int64_t user_id, char *out, size_t outlen)
{
    return s->ops->user_password_hash(s, user_id, out, outlen);
}

piora_err store_user_set_password(store_t *s, int64_t user_id, const char *password_hash)
{
    return s->ops->user_set_password(s, user_id, password_hash);
}

piora_err store_user_list(store_t *s, user_rec **out, size_t *n)
{
    return s->ops->user_list(s, out, n);
}

piora_err store_user_count(store_t *s, int64_t *n) { return s->ops->user_count(s, n); }

/* ---- tokens ------------------------------------------------------------- */

token_status token_rec_status(const token_rec *t, int64_t now)
{
    if (t->revoked_at != 0)
        return TOKEN_REVOKED;
    if (t->expires_at != 0 && now >= t->expires_at)
        return TOKEN_EXPIRED;
    return TOKEN_ACTIVE;
}

const char *token_status_name(token_status st)
{
    switch (st) {
    case TOKEN_ACTIVE: return "active";
    case TOKEN_EXPIRED: return "expired";
    case TOKEN_REVOKED: return "revoked";
    }
    return "revoked";
}

piora_err store_token_insert(store_t *s, const token_new *t, token_rec *out)
{
    return s->ops->token_insert(s, t, out);
}

piora_err store_token_by_digest(store_t *s, const uint8_t digest[TOKEN_DIGEST_LEN],
                                token_rec *out)
{
    return s->ops->token_by_digest(s, digest, out);
}

piora_err store_token_by_id(store_t *s, int64_t id, token_rec *out)
{
    return s->ops->token_by_id(s, id, out);
}

piora_err store_token_list(store_t *s, int64_t user_id, token_rec **out, size_t *n)
{
    return s->ops->token_list(s, user_id, out, n);
}

piora_err store_token_revoke(store_t *s, int64_t id, int64_t now)
{
    return s->ops->token_revoke(s, id, now);
}

piora_err store_token_regenerate(store_t *s, int64_t id, const uint8_t digest[TOKEN_DIGEST_LEN],
                                 const char *hint, int64_t new_expires_at, int64_t now,
                                 token_rec *out)
{
    return s->ops->token_regenerate(s, id, digest, hint, new_expires_at, now, out);
}

piora_err store_token_touch(store_t *s, const token_touch *v, size_t n)
{
    if (n == 0)
        return PIORA_OK;
    return s->ops->token_touch(s, v, n);
}

/* ---- resources ---------------------------------------------------------- */

piora_err store_obj_list(store_t *s, const resource_desc *d, int64_t team_id,
                         const obj_filter *f, int64_t offset, int64_t limit, json_t **items,
                         int64_t *total)
{
    return s->ops->obj_list(s, d, team_id, f, offset, limit, items, total);
}

piora_err store_obj_get(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                        json_t **obj)
{
    return s->ops->obj_get(s, d, team_id, id, obj);
}

piora_err store_obj_create(store_t *s, const resource_desc *d, int64_t team_id,
                           const json_t *values, json_t **obj)
{
    return s->ops->obj_create(s, d, team_id, values, obj);
}

piora_err store_obj_update(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                           const json_t *values, json_t **obj)
{
    return s->ops->obj_update(s, d, team_id, id, values, obj);
}

piora_err store_obj_delete(store_t *s, const resource_desc *d, int64_t team_id, int64_t id)
{
    return s->ops->obj_delete(s, d, team_id, id);
}

/* ---- monitoring ---------------------------------------------------------- */

piora_err store_audit_insert(store_t *s, const audit_new *e)
{
    return s->ops->audit_insert(s, e);
}

piora_err store_audit_list(store_t *s, int64_t team_id, const char *email, int64_t offset,
                           int64_t limit, audit_row **rows, size_t *n, int64_t *total)
{
    return s->ops->audit_list(s, team_id, email, offset, limit, rows, n, total);
}

piora_err store_usage_insert(store_t *s, const usage_entry *v, size_t n)
{
    if (n == 0)
        return PIORA_OK;
    return s->ops->usage_insert(s, v, n);
}

piora_err store_usage_list(store_t *s, int64_t token_id, int64_t since, int status,
                           int64_t offset, int64_t limit, json_t **items, int64_t *total)
{
    return s->ops->usage_list(s, token_id, since, status, offset, limit, items, total);
}

piora_err store_usage_prune(store_t *s, int64_t before, int64_t max_rows,
                            const int64_t *token_ids, size_t n, int64_t *deleted)
{
    if (deleted)
        *deleted = 0;
    return s->ops->usage_prune(s, before, max_rows, token_ids, n, deleted);
}
