/* The SQL text of the object statements, built from a resource descriptor
 * (schema/model.c) for one SQL dialect, so that every SQL backend (SQLite
 * now, PostgreSQL later) runs the same statements with its own spelling.
 * Table and column names are the descriptor's compile-time constants, never
 * input, and are quoted; every value is a numbered placeholder, bound by the
 * backend.
 *
 * The object row shape, for every SELECT and for RETURNING:
 *   id, team_id, <the descriptor's fields in order>, created_at, updated_at
 * (SQL_COL_* below give the positions). */
#ifndef PIORA_STORE_SQL_BUILDER_H
#define PIORA_STORE_SQL_BUILDER_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/grant.h"
#include "schema/model.h"
#include "util/buf.h"

typedef enum sql_upsert_form {
    SQL_UPSERT_ON_CONFLICT,     /* ON CONFLICT(key) DO UPDATE SET c = excluded.c */
    SQL_UPSERT_ON_DUPLICATE_KEY /* ON DUPLICATE KEY UPDATE c = VALUES(c) */
} sql_upsert_form;

typedef struct sql_dialect {
    const char *name;
    char placeholder; /* '?': ?1 ?2 ... (SQLite); '$': $1 $2 ... (PostgreSQL) */
    bool returning;   /* INSERT and UPDATE end in RETURNING <the row shape> */
    char quote;       /* around identifiers: '"' (SQL standard), '`' (MySQL) */
    sql_upsert_form upsert;
    /* Non-NULL: INSERTs take the id from this table (tbl, last), kept by
     * triggers, so an id is never given twice. SQLite's INTEGER PRIMARY KEY
     * gives a new row the id of a deleted newest one, and a token limited
     * to "servers:7" would reach the next server made (migration 0016).
     * NULL: the database's own sequence, which never reuses (PostgreSQL). */
    const char *id_marks;
} sql_dialect;

extern const sql_dialect SQL_DIALECT_SQLITE;
extern const sql_dialect SQL_DIALECT_POSTGRES;

/* Appends text between two `quote` characters, each quote inside doubled,
 * as every SQL dialect reads it: '"' makes an identifier, '\'' a literal.
 * Only for names from our own schema: a value from outside is bound. */
void sql_put_quoted(buf_t *b, char quote, const char *text);

/* Positions in the object row shape. */
#define SQL_COL_ID 0
#define SQL_COL_TEAM 1
#define SQL_COL_FIELD(i) (2 + (int)(i))
#define SQL_COL_CREATED(d) (2 + (int)(d)->nfields)
#define SQL_COL_UPDATED(d) (3 + (int)(d)->nfields)

/* Each writes one statement into b (appending) and returns false when b
 * failed (too long). The placeholders each statement binds: */

/* SELECT <row> FROM t WHERE id = P1 AND team_id = P2 */
bool sql_obj_get(buf_t *b, const sql_dialect *dl, const resource_desc *d);
/* SELECT 1 FROM t WHERE id = P1 AND team_id = P2 */
bool sql_obj_exists(buf_t *b, const sql_dialect *dl, const resource_desc *d);
/* SELECT <row> FROM t WHERE team_id = P1 [AND <filter> = P4]
 * ORDER BY id LIMIT P2 OFFSET P3; filter: a column name or NULL. */
bool sql_obj_list(buf_t *b, const sql_dialect *dl, const resource_desc *d, const char *filter);
/* SELECT count(*) FROM t WHERE team_id = P1 [AND <filter> = P2] */
bool sql_obj_count(buf_t *b, const sql_dialect *dl, const resource_desc *d, const char *filter);
/* SPEC 11: the same list and count, keeping only what grant g reaches (an
 * object granted by id, or under a granted parent, through the chain of
 * sql_parent_field()). The grant's i-th id is bound at P(base + i), base
 * being the first placeholder after the statement's own: list 4 (5 with a
 * filter), count 2 (3 with a filter). */
bool sql_obj_list_granted(buf_t *b, const sql_dialect *dl, const resource_desc *d,
                          const char *filter, const token_grant *g);
bool sql_obj_count_granted(buf_t *b, const sql_dialect *dl, const resource_desc *d,
                           const char *filter, const token_grant *g);
/* SELECT <parent field> FROM t WHERE id = P1 AND team_id = P2; false for a
 * descriptor without a parent. */
bool sql_obj_parent(buf_t *b, const sql_dialect *dl, const resource_desc *d);
/* The field naming d's parent in SPEC 11's chain (its first FK_REF field),
 * or NULL for a root. */
const field_desc *sql_parent_field(const resource_desc *d);

/* INSERT INTO t(team_id, <fields>, created_at, updated_at)
 * VALUES(P1, P2 .. P(n+1), P(n+2), P(n+2)) [RETURNING <row>] */
bool sql_obj_insert(buf_t *b, const sql_dialect *dl, const resource_desc *d);
/* One statement serves every PATCH: field i is written only when its flag
 * P(2i+1) is true, with the value P(2i+2); then P(2n+1) updated_at,
 * P(2n+2) id, P(2n+3) team_id. [RETURNING <row>] */
bool sql_obj_update(buf_t *b, const sql_dialect *dl, const resource_desc *d);
/* DELETE FROM t WHERE id = P1 AND team_id = P2 */
bool sql_obj_delete(buf_t *b, const sql_dialect *dl, const resource_desc *d);

/* INSERT INTO table(cols) VALUES(P1 .. Pn) that, when a row with the same
 * first nkey columns exists, updates the other columns instead (nkey <
 * ncols, nkey >= 1). For tables keyed by more than an id. */
bool sql_upsert(buf_t *b, const sql_dialect *dl, const char *table, const char *const *cols,
                size_t ncols, size_t nkey);

#endif
