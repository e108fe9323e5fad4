/* The store conformance suite's fixture: each test gets a fresh backend
 * named by URL and the helpers the sections share. PIORA_TEST_STORE_URL
 * names the backend; unset (or "sqlite"), each test gets a new SQLite file
 * in its own /tmp directory, removed afterwards. Any other URL is opened
 * as given; a postgres:// or postgresql:// one is emptied before each test
 * (its public schema dropped and made again, fixture_pg_reset()), so each
 * test starts on a database never migrated, as with a new SQLite file. Objects go in and out as the
 * API's JSON through core/objects.c, a thin layer over the typed rows, so
 * that the assertions read as the objects the API shows; the typed rows
 * themselves are checked in test_store_objects.c. static inline, so each
 * test_store_*.c stays one self-contained executable. */
#ifndef PIORA_TEST_STORE_FIXTURE_H
#define PIORA_TEST_STORE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/objects.h"
#include "store/migrate.h"
#include "store/store.h"
#include "util/clock.h"
#include "../unit/fixture.h"

typedef struct fixture {
    char dir[FIXTURE_DIR_MAX];
    char path[FIXTURE_PATH_MAX]; /* the SQLite file; "" for another backend */
    store_t *s;
} fixture;

/* The backend URL under test, or NULL for a fresh SQLite file. */
static inline const char *fixture_store_url(void)
{
    const char *u = getenv("PIORA_TEST_STORE_URL");
    return u && *u && strcmp(u, "sqlite") != 0 ? u : NULL;
}

/* True when the test may look at the SQLite file behind the store. */
static inline bool fixture_is_sqlite(const fixture *fx) { return fx->path[0] != '\0'; }

static inline bool fixture_url_is_pg(const char *url)
{
    return url && (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0);
}

/* Drops everything the previous test made: the schema, with every table,
 * sequence and the migrations' record. Answers false (said on stderr) when
 * the server does not answer. */
static inline bool fixture_pg_reset(const char *url)
{
    PGconn *c = PQconnectdb(url);
    bool ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(c, "SET client_min_messages = warning;"
                                "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
    }
    if (!ok)
        fprintf(stderr, "cannot reset the PostgreSQL test database: %s", PQerrorMessage(c));
    PQfinish(c);
    return ok;
}

static inline int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    const char *url = fixture_store_url();
    if (url) {
        char msg[256] = "";
        if (fixture_url_is_pg(url) && !fixture_pg_reset(url)) {
            free(fx);
            return -1;
        }
        fx->s = store_open(url, msg, sizeof msg);
        if (!fx->s)
            fprintf(stderr, "store_open(PIORA_TEST_STORE_URL): %s\n", msg);
    } else {
        fx->s = fixture_db_open(fx->dir, fx->path, "store");
    }
    if (!fx->s) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static inline int teardown(void **state)
{
    fixture *fx = *state;
    store_close(fx->s);
    if (fixture_is_sqlite(fx))
        fixture_db_remove(fx->dir, fx->path);
    free(fx);
    clock_set_offset(0);
    return 0;
}

/* A raw connection, standing in for another process. */
static inline sqlite3 *raw_open(const fixture *fx)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static inline int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static inline bool table_has_column(sqlite3 *db, const char *table, const char *col)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s')", table);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    bool found = false;
    while (sqlite3_step(st) == SQLITE_ROW)
        if (strcmp((const char *)sqlite3_column_text(st, 0), col) == 0)
            found = true;
    sqlite3_finalize(st);
    return found;
}

static inline int latest_migration(void)
{
    int v = 0;
    for (int i = 0; i < piora_migrations_count; i++)
        if (piora_migrations[i].version > v)
            v = piora_migrations[i].version;
    return v;
}

static inline user_rec make_user(store_t *s, const char *email, const char *team)
{
    user_rec u;
    assert_int_equal(store_user_create(s, email, team, false, "$argon2id$hash", &u), PIORA_OK);
    return u;
}

static inline void digest_fill(uint8_t d[TOKEN_DIGEST_LEN], uint8_t seed)
{
    for (int i = 0; i < TOKEN_DIGEST_LEN; i++)
        d[i] = (uint8_t)(seed + i);
}

static inline token_rec make_token(store_t *s, int64_t user_id, uint8_t seed, int64_t expires_at)
{
    token_new tn = {.user_id = user_id, .name = "ci", .scopes = SCOPE_SERVERS_READ,
                    .expires_at = expires_at, .hint = "piora_token_abcd\xe2\x80\xa6wxyz"};
    digest_fill(tn.digest, seed);
    token_rec t;
    assert_int_equal(store_token_insert(s, &tn, &t), PIORA_OK);
    return t;
}

static inline json_t *create(store_t *s, const resource_desc *d, int64_t team, const char *json)
{
    json_error_t jerr;
    json_t *v = json_loads(json, 0, &jerr);
    assert_non_null(v);
    json_t *obj = NULL;
    piora_err e = objects_create(s, d, team, v, &obj);
    json_decref(v);
    assert_int_equal(e, PIORA_OK);
    assert_non_null(obj);
    return obj;
}

static inline piora_err try_create(store_t *s, const resource_desc *d, int64_t team, const char *json)
{
    json_t *v = json_loads(json, 0, NULL);
    assert_non_null(v);
    json_t *obj = NULL;
    piora_err e = objects_create(s, d, team, v, &obj);
    json_decref(v);
    json_decref(obj);
    return e;
}

static inline piora_err try_update(store_t *s, const resource_desc *d, int64_t team, int64_t id,
                            const char *json, json_t **out)
{
    json_t *v = json_loads(json, 0, NULL);
    assert_non_null(v);
    json_t *obj = NULL;
    piora_err e = objects_update(s, d, team, id, v, &obj);
    json_decref(v);
    if (out)
        *out = obj;
    else
        json_decref(obj);
    return e;
}

static inline int64_t id_of(const json_t *o)
{
    return json_integer_value(json_object_get(o, "id"));
}

static inline const char *str_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

#endif
