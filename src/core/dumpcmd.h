/* The command lines a backup or a restore runs on the database's server:
 * each engine's own dump and restore tools, connected as the database object
 * says (host, port, username; defaults: the local socket, the engine's port,
 * the server's ssh_user), never with a password (SPEC 10: the server's own
 * configuration authenticates). A dump writes to stdout, a restore reads
 * stdin; the runner streams both through the SSH channel. Every value is
 * shell-quoted and passed as --option=VALUE, so none can become another
 * option or command. */
#ifndef PIORA_CORE_DUMPCMD_H
#define PIORA_CORE_DUMPCMD_H

#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

typedef struct db_conn {
    const char *engine;   /* postgresql mysql mariadb redis mongodb */
    const char *name;     /* the database's name on its server */
    const char *host;     /* NULL: the local socket; '/'-path: a socket (dir) */
    int64_t port;         /* 0: the engine's default */
    const char *username; /* NULL: ssh_user */
    const char *ssh_user; /* the server's, the default username */
} db_conn;

/* Appends the dump command for c to out. PIORA_EINVALID for an unknown
 * engine, PIORA_ENOMEM when out is full. */
piora_err dumpcmd_backup(const db_conn *c, buf_t *out);

/* Appends the command that replaces target's contents with a dump taken of
 * source_name (same engine), read from stdin. PIORA_EINVALID also for Redis:
 * an RDB file is loaded only by the Redis server itself, from its data
 * directory at start (docs/backups.md says how to do it by hand). */
piora_err dumpcmd_restore(const db_conn *target, const char *source_name, buf_t *out);

/* The file name suffix of an engine's dumps (".pgdump", ".sql", ".rdb",
 * ".archive"), "" for an unknown engine. */
const char *dumpcmd_suffix(const char *engine);

#endif
