/* The numbered migrations, embedded at build time from store/migrations/
 * (see cmake/embed_migrations.cmake). Each runs once, in order, inside a
 * transaction, and records its number in schema_migrations. */
#ifndef PIORA_STORE_MIGRATE_H
#define PIORA_STORE_MIGRATE_H

typedef struct migration {
    int version;      /* NNNN of NNNN_name.sql */
    const char *name; /* the file name */
    const char *sql;
} migration_t;

extern const migration_t piora_migrations[];
extern const int piora_migrations_count;
/* The PostgreSQL backend's own, from store/migrations/postgres/: one per
 * SQLite migration, with the same number, translated. */
extern const migration_t piora_pg_migrations[];
extern const int piora_pg_migrations_count;

#endif
