/* Private to store/: how a backend plugs in behind store.h.
 *
 * Dispatch is a small table of function pointers rather than link-time
 * symbols, so that one binary can carry SQLite and (later) PostgreSQL and
 * pick by URL at store_open(): store_common.c owns the public functions and
 * forwards each to s->ops. The indirect call costs nothing next to a query.
 * A backend's connection struct starts with `struct store` (its ops). */
#ifndef PIORA_STORE_BACKEND_H
#define PIORA_STORE_BACKEND_H

#include "store/store.h"

struct store {
    const struct store_ops *ops;
};

typedef struct store_ops {
    void (*close)(store_t *s);
    piora_err (*changed)(store_t *s, bool *changed);
    piora_err (*ping)(store_t *s);
    int (*schema_version)(store_t *s);

    piora_err (*user_create)(store_t *s, const char *email, const char *team_name, bool is_admin,
                             const char *password_hash, user_rec *out);
    piora_err (*user_by_email)(store_t *s, const char *email, user_rec *out);
    piora_err (*user_by_id)(store_t *s, int64_t id, user_rec *out);
    piora_err (*user_password_hash)(store_t *s, int64_t user_id, char *out, size_t outlen);
    piora_err (*user_set_password)(store_t *s, int64_t user_id, const char *password_hash);
    piora_err (*user_list)(store_t *s, user_rec **out, size_t *n);
    piora_err (*user_count)(store_t *s, int64_t *n);

    piora_err (*token_insert)(store_t *s, const token_new *t, token_rec *out);
    piora_err (*token_by_digest)(store_t *s, const uint8_t digest[TOKEN_DIGEST_LEN],
                                 token_rec *out);
    piora_err (*token_by_id)(store_t *s, int64_t id, token_rec *out);
    piora_err (*token_list)(store_t *s, int64_t user_id, token_rec **out, size_t *n);
    piora_err (*token_revoke)(store_t *s, int64_t id, int64_t now);
    piora_err (*token_regenerate)(store_t *s, int64_t id, const uint8_t digest[TOKEN_DIGEST_LEN],
                                  const char *hint, int64_t new_expires_at, int64_t now,
                                  token_rec *out);
    piora_err (*token_touch)(store_t *s, const token_touch *v, size_t n);

    piora_err (*obj_list)(store_t *s, const resource_desc *d, int64_t team_id,
                          const obj_filter *f, int64_t offset, int64_t limit, json_t **items,
                          int64_t *total);
    piora_err (*obj_get)(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                         json_t **obj);
    piora_err (*obj_create)(store_t *s, const resource_desc *d, int64_t team_id,
                            const json_t *values, json_t **obj);
    piora_err (*obj_update)(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
                            const json_t *values, json_t **obj);
    piora_err (*obj_delete)(store_t *s, const resource_desc *d, int64_t team_id, int64_t id);

    piora_err (*audit_insert)(store_t *s, const audit_new *e);
    piora_err (*audit_list)(store_t *s, int64_t team_id, const char *email, int64_t offset,
                            int64_t limit, audit_row **rows, size_t *n, int64_t *total);
    piora_err (*usage_insert)(store_t *s, const usage_entry *v, size_t n);
    piora_err (*usage_list)(store_t *s, int64_t token_id, int64_t since, int status,
                            int64_t offset, int64_t limit, json_t **items, int64_t *total);
    piora_err (*usage_prune)(store_t *s, int64_t before, int64_t max_rows,
                             const int64_t *token_ids, size_t n, int64_t *deleted);
    piora_err (*session_insert)(store_t *s, const uint8_t *digest, int64_t user_id,
                                const char *csrf, int64_t now, int64_t expires_at,
                                const char *addr, session_rec *out);
    piora_err (*session_by_digest)(store_t *s, const uint8_t *digest, session_rec *out);
    piora_err (*session_touch)(store_t *s, int64_t id, int64_t now);
    piora_err (*session_delete)(store_t *s, int64_t id);
    piora_err (*session_delete_user)(store_t *s, int64_t user_id, int64_t keep_id);
    piora_err (*session_prune)(store_t *s, int64_t now, int64_t idle_before);
    piora_err (*setup_put)(store_t *s, const uint8_t *digest, int64_t now);
    piora_err (*setup_check)(store_t *s, const uint8_t *digest);
    piora_err (*setup_complete)(store_t *s, const uint8_t *digest, const char *email,
                                const char *team_name, const char *password_hash, int64_t now,
                                user_rec *out);
} store_ops;

/* The SQLite backend: path is a file name. */
store_t *sqlite_store_open(const char *path, char *msg, size_t msglen);

/* Tests only: the busy timeout of one connection (default 5000 ms). */
void sqlite_store_set_busy_timeout(store_t *s, int ms);

/* Shared helper: copies src into a fixed buffer, always terminated. */
void store_copy(char *dst, size_t dstlen, const char *src);

#endif
