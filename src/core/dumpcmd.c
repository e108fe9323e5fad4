#include "core/dumpcmd.h"

#include <stdio.h>
#include <string.h>

#include "util/shell.h"

typedef enum { ENG_NONE, ENG_PG, ENG_MYSQL, ENG_MARIADB, ENG_REDIS, ENG_MONGO } engine_id;

static engine_id engine_of(const char *e)
{
    if (!e)
        return ENG_NONE;
    if (strcmp(e, "postgresql") == 0)
        return ENG_PG;
    if (strcmp(e, "mysql") == 0)
        return ENG_MYSQL;
    if (strcmp(e, "mariadb") == 0)
        return ENG_MARIADB;
    if (strcmp(e, "redis") == 0)
        return ENG_REDIS;
    if (strcmp(e, "mongodb") == 0)
        return ENG_MONGO;
    return ENG_NONE;
}

const char *dumpcmd_suffix(const char *engine)
{
    switch (engine_of(engine)) {
    case ENG_PG: return ".pgdump";
    case ENG_MYSQL:
    case ENG_MARIADB: return ".sql";
    case ENG_REDIS: return ".rdb";
    case ENG_MONGO: return ".archive";
    case ENG_NONE: break;
    }
    return "";
}

/* " --opt='value'" */
static void opt(buf_t *b, const char *name, const char *value)
{
    buf_printf(b, " %s=", name);
    buf_put_shquoted(b, value);
}

static void opt_int(buf_t *b, const char *name, int64_t v) { buf_printf(b, " %s=%lld", name, (long long)v); }

static const char *user_of(const db_conn *c) { return c->username ? c->username : c->ssh_user; }

static bool is_socket(const char *host) { return host && host[0] == '/'; }

/* PostgreSQL: a socket directory is given as --host too. --no-password makes
 * a missing ~/.pgpass entry fail at once instead of waiting for a prompt. */
static void pg_conn(const db_conn *c, buf_t *b)
{
    buf_puts(b, " --no-password");
    if (c->host)
        opt(b, "--host", c->host);
    if (c->port)
        opt_int(b, "--port", c->port);
    if (user_of(c))
        opt(b, "--username", user_of(c));
}

/* MySQL and MariaDB clients read ~/.my.cnf themselves. With no host they use
 * the local socket, where a port means nothing: a port alone means TCP to
 * this machine. */
static void my_conn(const db_conn *c, buf_t *b)
{
    if (is_socket(c->host))
        opt(b, "--socket", c->host);
    else if (c->host)
        opt(b, "--host", c->host);
    else if (c->port)
        buf_puts(b, " --protocol=TCP");
    if (c->port && !is_socket(c->host))
        opt_int(b, "--port", c->port);
    if (user_of(c))
        opt(b, "--user", user_of(c));
}

/* redis-cli has no password-less ACL login, so it connects as the default
 * user; a username on a Redis database is not used (docs/backups.md). */
static void redis_conn(const db_conn *c, buf_t *b)
{
    if (is_socket(c->host)) {
        buf_puts(b, " -s ");
        buf_put_shquoted(b, c->host);
        return;
    }
    if (c->host) {
        buf_puts(b, " -h ");
        buf_put_shquoted(b, c->host);
    }
    if (c->port)
        buf_printf(b, " -p %lld", (long long)c->port);
}

/* MongoDB tools prompt for a password when given a username, so one is sent
 * only when the database object names it; the local default is no auth or
 * the server's own tool configuration. */
static void mongo_conn(const db_conn *c, buf_t *b)
{
    if (c->host)
        opt(b, "--host", c->host);
    if (c->port)
        opt_int(b, "--port", c->port);
    if (c->username)
        opt(b, "--username", c->username);
}

piora_err dumpcmd_backup(const db_conn *c, buf_t *out)
{
    if (!c->name || !c->name[0])
        return PIORA_EINVALID;
    switch (engine_of(c->engine)) {
    case ENG_PG:
        buf_puts(out, "exec pg_dump --format=custom");
        pg_conn(c, out);
        opt(out, "--dbname", c->name);
        break;
    case ENG_MYSQL:
    case ENG_MARIADB:
        buf_puts(out, engine_of(c->engine) == ENG_MYSQL ? "exec mysqldump" : "exec mariadb-dump");
        /* a consistent snapshot without locking InnoDB tables; routines
         * and triggers belong to the database too */
        buf_puts(out, " --single-transaction --routines --triggers");
        my_conn(c, out);
        buf_puts(out, " -- ");
        buf_put_shquoted(out, c->name);
        break;
    case ENG_REDIS:
        buf_puts(out, "exec redis-cli");
        redis_conn(c, out);
        buf_puts(out, " --rdb -");
        break;
    case ENG_MONGO:
        buf_puts(out, "exec mongodump --archive");
        mongo_conn(c, out);
        opt(out, "--db", c->name);
        break;
    case ENG_NONE: return PIORA_EINVALID;
    }
    return out->failed ? PIORA_ENOMEM : PIORA_OK;
}

piora_err dumpcmd_restore(const db_conn *c, const char *source_name, buf_t *out)
{
    if (!c->name || !c->name[0] || !source_name || !source_name[0])
        return PIORA_EINVALID;
    switch (engine_of(c->engine)) {
    case ENG_PG:
        /* one transaction: a restore that fails halfway leaves the target
         * as it was, instead of dropped tables and half the rows */
        buf_puts(out, "exec pg_restore --clean --if-exists --no-owner --single-transaction");
        pg_conn(c, out);
        opt(out, "--dbname", c->name);
        break;
    case ENG_MYSQL:
    case ENG_MARIADB:
        /* the dump was taken without --databases: it names no database, so
         * it loads into whichever the client selects */
        buf_puts(out, engine_of(c->engine) == ENG_MYSQL ? "exec mysql" : "exec mariadb");
        buf_puts(out, " --batch");
        my_conn(c, out);
        buf_puts(out, " -- ");
        buf_put_shquoted(out, c->name);
        break;
    case ENG_MONGO: {
        /* names are at most 64 bytes (check_name): the patterns fit */
        char from[80], to[80];
        snprintf(from, sizeof from, "%.64s.*", source_name);
        snprintf(to, sizeof to, "%.64s.*", c->name);
        buf_puts(out, "exec mongorestore --archive --drop");
        mongo_conn(c, out);
        opt(out, "--nsInclude", from);
        opt(out, "--nsFrom", from);
        opt(out, "--nsTo", to);
        break;
    }
    case ENG_REDIS:
    case ENG_NONE: return PIORA_EINVALID;
    }
    return out->failed ? PIORA_ENOMEM : PIORA_OK;
}
