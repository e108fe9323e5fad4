/* Placeholders so the binary links while the PostgreSQL object, limit,
 * monitor, publisher and backup functions are written (pgobj deletes this
 * file as it lands them): each fails with PIORA_EINTERNAL and says so once. */
#include <stdatomic.h>

#include "store/postgres/pg_internal.h"
#include "util/log.h"

#define PG_TODO(name)                                                        \
    do {                                                                     \
        static atomic_flag logged = ATOMIC_FLAG_INIT;                        \
        if (!atomic_flag_test_and_set(&logged))                              \
            log_error("store: PostgreSQL %s not built yet", name);          \
    } while (0)

piora_err pg_obj_list(store_t *s, const resource_desc *d, int64_t team_id, const obj_filter *f,
          int64_t offset, int64_t limit, obj_row **rows, size_t *n, int64_t *total)
{
    (void)s; (void)d; (void)team_id; (void)f; (void)offset; (void)limit; (void)rows; (void)n; (void)total;
    PG_TODO("obj_list");
    return PIORA_EINTERNAL;
}

piora_err pg_obj_get(store_t *s, const resource_desc *d, int64_t team_id, int64_t id, obj_row *out)
{
    (void)s; (void)d; (void)team_id; (void)id; (void)out;
    PG_TODO("obj_get");
    return PIORA_EINTERNAL;
}

piora_err pg_obj_create(store_t *s, const resource_desc *d, int64_t team_id, const obj_values *values,
          obj_row *out)
{
    (void)s; (void)d; (void)team_id; (void)values; (void)out;
    PG_TODO("obj_create");
    return PIORA_EINTERNAL;
}

piora_err pg_obj_update(store_t *s, const resource_desc *d, int64_t team_id, int64_t id,
          const obj_values *values, obj_row *out)
{
    (void)s; (void)d; (void)team_id; (void)id; (void)values; (void)out;
    PG_TODO("obj_update");
    return PIORA_EINTERNAL;
}

piora_err pg_obj_delete(store_t *s, const resource_desc *d, int64_t team_id, int64_t id)
{
    (void)s; (void)d; (void)team_id; (void)id;
    PG_TODO("obj_delete");
    return PIORA_EINTERNAL;
}

piora_err pg_obj_parent(store_t *s, const resource_desc *d, int64_t team_id, int64_t id, int64_t *parent_id)
{
    (void)s; (void)d; (void)team_id; (void)id; (void)parent_id;
    PG_TODO("obj_parent");
    return PIORA_EINTERNAL;
}

piora_err pg_audit_insert(store_t *s, const audit_new *e)
{
    (void)s; (void)e;
    PG_TODO("audit_insert");
    return PIORA_EINTERNAL;
}

piora_err pg_audit_list(store_t *s, int64_t team_id, const char *email, int64_t offset, int64_t limit,
          audit_row **rows, size_t *n, int64_t *total)
{
    (void)s; (void)team_id; (void)email; (void)offset; (void)limit; (void)rows; (void)n; (void)total;
    PG_TODO("audit_list");
    return PIORA_EINTERNAL;
}

piora_err pg_usage_insert(store_t *s, const usage_entry *v, size_t n)
{
    (void)s; (void)v; (void)n;
    PG_TODO("usage_insert");
    return PIORA_EINTERNAL;
}

piora_err pg_usage_list(store_t *s, int64_t token_id, int64_t since, int status, int64_t offset, int64_t limit,
          usage_entry **rows, size_t *n, int64_t *total)
{
    (void)s; (void)token_id; (void)since; (void)status; (void)offset; (void)limit; (void)rows; (void)n; (void)total;
    PG_TODO("usage_list");
    return PIORA_EINTERNAL;
}

piora_err pg_usage_prune(store_t *s, int64_t before, int64_t max_rows, const int64_t *token_ids, size_t n,
          int64_t *deleted)
{
    (void)s; (void)before; (void)max_rows; (void)token_ids; (void)n; (void)deleted;
    PG_TODO("usage_prune");
    return PIORA_EINTERNAL;
}

piora_err pg_publisher_insert(store_t *s, const publisher_new *p, publisher_rec *out)
{
    (void)s; (void)p; (void)out;
    PG_TODO("publisher_insert");
    return PIORA_EINTERNAL;
}

piora_err pg_publisher_get(store_t *s, int64_t team_id, int64_t id, publisher_rec *out)
{
    (void)s; (void)team_id; (void)id; (void)out;
    PG_TODO("publisher_get");
    return PIORA_EINTERNAL;
}

piora_err pg_publisher_list(store_t *s, int64_t team_id, publisher_rec **out, size_t *n)
{
    (void)s; (void)team_id; (void)out; (void)n;
    PG_TODO("publisher_list");
    return PIORA_EINTERNAL;
}

piora_err pg_publisher_list_issuer(store_t *s, const char *issuer, publisher_rec **out, size_t *n)
{
    (void)s; (void)issuer; (void)out; (void)n;
    PG_TODO("publisher_list_issuer");
    return PIORA_EINTERNAL;
}

piora_err pg_publisher_delete(store_t *s, int64_t team_id, int64_t id)
{
    (void)s; (void)team_id; (void)id;
    PG_TODO("publisher_delete");
    return PIORA_EINTERNAL;
}

piora_err pg_oidc_jti_use(store_t *s, const char *issuer, const char *jti, int64_t expires_at, int64_t now)
{
    (void)s; (void)issuer; (void)jti; (void)expires_at; (void)now;
    PG_TODO("oidc_jti_use");
    return PIORA_EINTERNAL;
}

piora_err pg_backup_schedules(store_t *s, int64_t after_id, size_t max, backup_sched_row **rows, size_t *n)
{
    (void)s; (void)after_id; (void)max; (void)rows; (void)n;
    PG_TODO("backup_schedules");
    return PIORA_EINTERNAL;
}

piora_err pg_backup_slot_claim(store_t *s, int64_t database_id, int64_t slot_at, int64_t now, int64_t *backup_id)
{
    (void)s; (void)database_id; (void)slot_at; (void)now; (void)backup_id;
    PG_TODO("backup_slot_claim");
    return PIORA_EINTERNAL;
}

piora_err pg_backup_prune_scheduled(store_t *s, int64_t database_id, int64_t keep, int64_t *ids, size_t max, size_t *n)
{
    (void)s; (void)database_id; (void)keep; (void)ids; (void)max; (void)n;
    PG_TODO("backup_prune_scheduled");
    return PIORA_EINTERNAL;
}
