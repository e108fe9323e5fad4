/* The SQLite store as its callers see it: schema and migrations, users,
 * tokens, every resource kind, team isolation, foreign
 * keys, bound parameters and busy handling. Each test works on a fresh
 * database file in its own /tmp directory, removed afterwards. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/migrate.h"
#include "store/store.h"
#include "store/store_backend.h"
#include "util/clock.h"
#include "fixture.h"

typedef fixture_db fixture;

static int setup(void **state)
{
    return fixture_db_setup(state, "store");
}

static int teardown(void **state)
{
    int rc = fixture_db_teardown(state);
    clock_set_offset(0);
    return rc;
}

/* A raw connection, standing in for another process. */
static sqlite3 *raw_open(const fixture *fx)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static bool table_has_column(sqlite3 *db, const char *table, const char *col)
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

static int latest_migration(void)
{
    int v = 0;
    for (int i = 0; i < piora_migrations_count; i++)
        if (piora_migrations[i].version > v)
            v = piora_migrations[i].version;
    return v;
}

static user_rec make_user(store_t *s, const char *email, const char *team)
{
    user_rec u;
    assert_int_equal(store_user_create(s, email, team, false, "$argon2id$hash", &u), PIORA_OK);
    return u;
}

static void digest_fill(uint8_t d[TOKEN_DIGEST_LEN], uint8_t seed)
{
    for (int i = 0; i < TOKEN_DIGEST_LEN; i++)
        d[i] = (uint8_t)(seed + i);
}

static token_rec make_token(store_t *s, int64_t user_id, uint8_t seed, int64_t expires_at)
{
    token_new tn = {.user_id = user_id, .name = "ci", .scopes = SCOPE_SERVERS_READ,
                    .expires_at = expires_at, .hint = "piora_token_abcd\xe2\x80\xa6wxyz"};
    digest_fill(tn.digest, seed);
    token_rec t;
    assert_int_equal(store_token_insert(s, &tn, &t), PIORA_OK);
    return t;
}

static json_t *create(store_t *s, const resource_desc *d, int64_t team, const char *json)
{
    json_error_t jerr;
    json_t *v = json_loads(json, 0, &jerr);
    assert_non_null(v);
    json_t *obj = NULL;
    piora_err e = store_obj_create(s, d, team, v, &obj);
    json_decref(v);
    assert_int_equal(e, PIORA_OK);
    assert_non_null(obj);
    return obj;
}

static piora_err try_create(store_t *s, const resource_desc *d, int64_t team, const char *json)
{
    json_t *v = json_loads(json, 0, NULL);
    assert_non_null(v);
    json_t *obj = NULL;
    piora_err e = store_obj_create(s, d, team, v, &obj);
    json_decref(v);
    json_decref(obj);
    return e;
}

static piora_err try_update(store_t *s, const resource_desc *d, int64_t team, int64_t id,
                            const char *json, json_t **out)
{
    json_t *v = json_loads(json, 0, NULL);
    assert_non_null(v);
    json_t *obj = NULL;
    piora_err e = store_obj_update(s, d, team, id, v, &obj);
    json_decref(v);
    if (out)
        *out = obj;
    else
        json_decref(obj);
    return e;
}

static int64_t id_of(const json_t *o)
{
    return json_integer_value(json_object_get(o, "id"));
}

static const char *str_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- schema and migrations ------------------------------------------------ */

static void test_migrations(void **state)
{
    fixture *fx = *state;
    assert_int_equal(store_schema_version(fx->s), latest_migration());
    assert_int_equal(store_ping(fx->s), PIORA_OK);

    sqlite3 *db = raw_open(fx);
    assert_true(table_has_column(db, "teams", "name"));
    assert_true(table_has_column(db, "users", "email"));
    assert_true(table_has_column(db, "users", "password_hash"));
    assert_true(table_has_column(db, "tokens", "digest"));
    assert_true(table_has_column(db, "tokens", "last_used_addr"));
    assert_true(table_has_column(db, "token_old_secrets", "revoked_at"));
    assert_false(table_has_column(db, "tokens", "token"));
    /* every descriptor column exists in its table */
    for (int r = 0; piora_resources[r]; r++) {
        const resource_desc *d = piora_resources[r];
        const char *fixed[] = {"id", "team_id", "created_at", "updated_at"};
        for (size_t i = 0; i < 4; i++)
            assert_true(table_has_column(db, d->name, fixed[i]));
        for (size_t i = 0; i < d->nfields; i++) {
            if (!table_has_column(db, d->name, d->fields[i].name))
                fail_msg("%s.%s missing", d->name, d->fields[i].name);
        }
    }
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_migrations"),
                     piora_migrations_count);

    /* reopening applies nothing again and keeps the data */
    make_user(fx->s, "a@example.com", "acme");
    store_close(fx->s);
    char msg[256];
    fx->s = store_open(fx->path, msg, sizeof msg);
    assert_non_null(fx->s);
    assert_int_equal(store_schema_version(fx->s), latest_migration());
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_migrations"),
                     piora_migrations_count);
    int64_t n = 0;
    assert_int_equal(store_user_count(fx->s, &n), PIORA_OK);
    assert_int_equal(n, 1);

    /* applying migrations to a new file is a write like any other */
    char second[160];
    snprintf(second, sizeof second, "%s/second.db", fx->dir);
    uint64_t g = change_generation(CHANGE_ALL);
    store_t *s3 = store_open(second, msg, sizeof msg);
    assert_non_null(s3);
    assert_true(change_generation(CHANGE_ALL) > g);
    g = change_generation(CHANGE_ALL);
    store_close(s3);
    s3 = store_open(second, msg, sizeof msg); /* nothing to apply: no bump */
    assert_non_null(s3);
    assert_int_equal(change_generation(CHANGE_ALL), g);
    store_close(s3);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[192];
        snprintf(p, sizeof p, "%s%s", second, sfx[i]);
        unlink(p);
    }

    /* a migration numbered below the newest applied one but missing (a
     * branch merged late) is applied on the next open */
    store_close(fx->s);
    fx->s = NULL;
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE sessions; DROP TABLE setup_secrets; "
                                  "DELETE FROM schema_migrations WHERE version = 3",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_false(table_has_column(db, "sessions", "user_id"));
    fx->s = store_open(fx->path, msg, sizeof msg);
    assert_non_null(fx->s);
    assert_true(table_has_column(db, "sessions", "user_id"));
    assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_migrations"),
                     piora_migrations_count);

    /* a database from a newer piora refuses to open */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO schema_migrations(version, name, applied_at) "
                                  "VALUES(9999, '9999_future.sql', 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    store_t *s2 = store_open(fx->path, msg, sizeof msg);
    assert_null(s2);
    assert_non_null(strstr(msg, "newer"));
    sqlite3_close(db);
}

static void test_journal_mode(void **state)
{
    fixture *fx = *state;
    sqlite3 *db = raw_open(fx);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_open_errors(void **state)
{
    (void)state;
    char msg[256];
    assert_null(store_open("postgres://u@localhost/piora", msg, sizeof msg));
    assert_string_equal(msg, "PostgreSQL backend not built yet");
    assert_null(store_open("/nonexistent-dir/x/piora.db", msg, sizeof msg));
    assert_true(msg[0] != '\0');

    /* a file that is not a database is refused, and left alone */
    char dir[64] = "/tmp/piora_test_store_XXXXXX", path[96];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/garbage.db", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    assert_null(store_open(path, msg, sizeof msg));
    assert_non_null(strstr(msg, "not a database"));
    unlink(path);
    rmdir(dir);
}

/* ---- users ------------------------------------------------------------------ */

static void test_users(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    user_rec b = make_user(fx->s, "bob@example.com", "acme");
    user_rec c = make_user(fx->s, "carol@example.com", "Acme"); /* exact name: another team */
    assert_true(a.id > 0 && b.id > a.id);
    assert_int_equal(a.team_id, b.team_id);
    assert_int_not_equal(a.team_id, c.team_id);
    assert_string_equal(a.team_name, "acme");
    assert_string_equal(a.email, "alice@example.com");
    assert_false(a.is_admin);

    user_rec u;
    assert_int_equal(store_user_create(fx->s, "ALICE@example.com", "ghost", true, "h", &u),
                     PIORA_ECONFLICT);
    sqlite3 *db = raw_open(fx);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM teams WHERE name = 'ghost'"), 0);
    sqlite3_close(db);

    assert_int_equal(store_user_by_email(fx->s, "Alice@Example.com", &u), PIORA_OK);
    assert_int_equal(u.id, a.id);
    assert_int_equal(store_user_by_email(fx->s, "nobody@example.com", &u), PIORA_ENOTFOUND);
    assert_int_equal(store_user_by_id(fx->s, b.id, &u), PIORA_OK);
    assert_string_equal(u.email, "bob@example.com");
    assert_int_equal(store_user_by_id(fx->s, 999, &u), PIORA_ENOTFOUND);

    char hash[256];
    assert_int_equal(store_user_password_hash(fx->s, a.id, hash, sizeof hash), PIORA_OK);
    assert_string_equal(hash, "$argon2id$hash");
    assert_int_equal(store_user_set_password(fx->s, a.id, "$argon2id$new"), PIORA_OK);
    assert_int_equal(store_user_password_hash(fx->s, a.id, hash, sizeof hash), PIORA_OK);
    assert_string_equal(hash, "$argon2id$new");
    assert_int_equal(store_user_set_password(fx->s, 999, "x"), PIORA_ENOTFOUND);

    user_rec *list = NULL;
    size_t n = 0;
    assert_int_equal(store_user_list(fx->s, &list, &n), PIORA_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[0].id, a.id);
    assert_int_equal(list[2].id, c.id);
    assert_string_equal(list[2].team_name, "Acme");
    free(list);
    int64_t cnt;
    assert_int_equal(store_user_count(fx->s, &cnt), PIORA_OK);
    assert_int_equal(cnt, 3);

    user_rec admin;
    assert_int_equal(store_user_create(fx->s, "root@example.com", "ops", true, "h", &admin),
                     PIORA_OK);
    assert_true(admin.is_admin);
}

/* ---- tokens ------------------------------------------------------------------ */

static void test_tokens(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    user_rec b = make_user(fx->s, "bob@example.com", "other");
    int64_t now = clock_now();
    token_rec t1 = make_token(fx->s, a.id, 1, now + 3600);
    token_rec t2 = make_token(fx->s, b.id, 2, 0);
    assert_int_equal(t1.team_id, a.team_id);
    assert_int_equal(t1.user_id, a.id);
    assert_string_equal(t1.owner_email, "alice@example.com");
    assert_string_equal(t1.name, "ci");
    assert_string_equal(t1.hint, "piora_token_abcd\xe2\x80\xa6wxyz");
    assert_int_equal(t1.scopes, SCOPE_SERVERS_READ);
    assert_int_equal(t1.expires_at, now + 3600);
    assert_int_equal(t1.last_used_at, 0);
    assert_int_equal(t1.revoked_at, 0);
    assert_int_equal(t2.expires_at, 0);
    assert_int_equal(token_rec_status(&t1, now), TOKEN_ACTIVE);
    assert_int_equal(token_rec_status(&t1, now + 3600), TOKEN_EXPIRED);
    assert_string_equal(token_status_name(TOKEN_EXPIRED), "expired");

    /* the same digest twice is a conflict; an unknown user is not found */
    token_new dup = {.user_id = a.id, .name = "dup", .scopes = 1, .hint = "h"};
    digest_fill(dup.digest, 1);
    token_rec t;
    assert_int_equal(store_token_insert(fx->s, &dup, &t), PIORA_ECONFLICT);
    dup.user_id = 999;
    digest_fill(dup.digest, 77);
    assert_int_equal(store_token_insert(fx->s, &dup, &t), PIORA_ENOTFOUND);

    uint8_t d[TOKEN_DIGEST_LEN];
    digest_fill(d, 1);
    assert_int_equal(store_token_by_digest(fx->s, d, &t), PIORA_OK);
    assert_int_equal(t.id, t1.id);
    assert_string_equal(t.owner_email, "alice@example.com");
    digest_fill(d, 99);
    assert_int_equal(store_token_by_digest(fx->s, d, &t), PIORA_ENOTFOUND);

    /* list: one user's or everyone's, by id */
    token_rec *list = NULL;
    size_t n = 0;
    assert_int_equal(store_token_list(fx->s, a.id, &list, &n), PIORA_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, t1.id);
    free(list);
    assert_int_equal(store_token_list(fx->s, 0, &list, &n), PIORA_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, t1.id);
    assert_int_equal(list[1].id, t2.id);
    assert_string_equal(list[1].owner_email, "bob@example.com");
    free(list);

    /* touch: forward only, in one batch */
    token_touch tv[3] = {{.token_id = t1.id, .used_at = now + 10, .addr = "10.0.0.1"},
                         {.token_id = t1.id, .used_at = now + 5, .addr = "10.0.0.2"},
                         {.token_id = t2.id, .used_at = now + 7, .addr = ""}};
    assert_int_equal(store_token_touch(fx->s, tv, 3), PIORA_OK);
    assert_int_equal(store_token_by_id(fx->s, t1.id, &t), PIORA_OK);
    assert_int_equal(t.last_used_at, now + 10);
    assert_string_equal(t.last_used_addr, "10.0.0.1");
    assert_int_equal(store_token_by_id(fx->s, t2.id, &t), PIORA_OK);
    assert_int_equal(t.last_used_at, now + 7);
    token_touch back = {.token_id = t1.id, .used_at = now + 1, .addr = "10.9.9.9"};
    assert_int_equal(store_token_touch(fx->s, &back, 1), PIORA_OK);
    assert_int_equal(store_token_by_id(fx->s, t1.id, &t), PIORA_OK);
    assert_int_equal(t.last_used_at, now + 10);
    assert_string_equal(t.last_used_addr, "10.0.0.1");

    /* regenerate: same id, new digest active, old digest answers revoked */
    uint8_t nd[TOKEN_DIGEST_LEN];
    digest_fill(nd, 50);
    assert_int_equal(store_token_regenerate(fx->s, t1.id, nd, "piora_token_new1\xe2\x80\xa6zzzz",
                                            now + 7200, now + 20, &t),
                     PIORA_OK);
    assert_int_equal(t.id, t1.id);
    assert_string_equal(t.name, "ci");
    assert_int_equal(t.scopes, SCOPE_SERVERS_READ);
    assert_int_equal(t.expires_at, now + 7200);
    assert_int_equal(t.revoked_at, 0);
    assert_string_equal(t.hint, "piora_token_new1\xe2\x80\xa6zzzz");
    assert_int_equal(store_token_by_digest(fx->s, nd, &t), PIORA_OK);
    assert_int_equal(token_rec_status(&t, now + 20), TOKEN_ACTIVE);
    digest_fill(d, 1);
    assert_int_equal(store_token_by_digest(fx->s, d, &t), PIORA_OK);
    assert_int_equal(t.id, t1.id);
    assert_int_equal(t.revoked_at, now + 20);
    assert_int_equal(token_rec_status(&t, now + 20), TOKEN_REVOKED);
    assert_int_equal(store_token_regenerate(fx->s, 999, d, "h", 0, now, &t), PIORA_ENOTFOUND);

    /* revoke: immediate, idempotent, then regenerate is refused */
    assert_int_equal(store_token_revoke(fx->s, t1.id, now + 30), PIORA_OK);
    assert_int_equal(store_token_by_digest(fx->s, nd, &t), PIORA_OK);
    assert_int_equal(t.revoked_at, now + 30);
    assert_int_equal(token_rec_status(&t, now + 30), TOKEN_REVOKED);
    assert_string_equal(token_status_name(token_rec_status(&t, now)), "revoked");
    assert_int_equal(store_token_revoke(fx->s, t1.id, now + 40), PIORA_OK);
    assert_int_equal(store_token_by_id(fx->s, t1.id, &t), PIORA_OK);
    assert_int_equal(t.revoked_at, now + 30);
    assert_int_equal(store_token_revoke(fx->s, 999, now), PIORA_ENOTFOUND);
    digest_fill(d, 60);
    assert_int_equal(store_token_regenerate(fx->s, t1.id, d, "h", 0, now, &t), PIORA_ECONFLICT);
    assert_int_equal(store_token_by_digest(fx->s, d, &t), PIORA_ENOTFOUND);

    /* no plain secret columns: only the 32-byte digests are stored */
    sqlite3 *db = raw_open(fx);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM tokens WHERE length(digest) <> 32"), 0);
    sqlite3_close(db);
}

/* ---- resources --------------------------------------------------------------- */

static void assert_key_order(const json_t *o, const resource_desc *d)
{
    void *it = json_object_iter((json_t *)o);
    assert_string_equal(json_object_iter_key(it), "id");
    for (size_t i = 0; i < d->nfields; i++) {
        it = json_object_iter_next((json_t *)o, it);
        assert_string_equal(json_object_iter_key(it), d->fields[i].name);
    }
    it = json_object_iter_next((json_t *)o, it);
    assert_string_equal(json_object_iter_key(it), "created_at");
    it = json_object_iter_next((json_t *)o, it);
    assert_string_equal(json_object_iter_key(it), "updated_at");
    assert_null(json_object_iter_next((json_t *)o, it));
}

static void test_servers_crud_and_paging(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    int64_t team = a.team_id;
    json_t *s1 = create(fx->s, &RES_SERVERS, team, "{\"name\":\"web-1\",\"ip_address\":\"10.0.0.1\"}");
    assert_key_order(s1, &RES_SERVERS);
    assert_true(json_is_integer(json_object_get(s1, "id")));
    assert_string_equal(str_of(s1, "name"), "web-1");
    assert_int_equal(json_integer_value(json_object_get(s1, "ssh_port")), 22);
    assert_string_equal(str_of(s1, "ssh_user"), "root");
    assert_string_equal(str_of(s1, "status"), "unknown");
    assert_true(json_is_null(json_object_get(s1, "provider")));
    char ts[RFC3339_LEN];
    clock_fmt_rfc3339(clock_now(), ts);
    assert_int_equal(strlen(str_of(s1, "created_at")), 20);
    assert_string_equal(str_of(s1, "created_at"), str_of(s1, "updated_at"));

    json_t *got = NULL;
    assert_int_equal(store_obj_get(fx->s, &RES_SERVERS, team, id_of(s1), &got), PIORA_OK);
    assert_true(json_equal(got, s1));
    json_decref(got);
    assert_int_equal(store_obj_get(fx->s, &RES_SERVERS, team, 9999, &got), PIORA_ENOTFOUND);
    assert_null(got);

    /* paging: 5 servers, ordered by id */
    for (int i = 2; i <= 5; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"name\":\"web-%d\",\"ip_address\":\"10.0.0.%d\"}", i, i);
        json_decref(create(fx->s, &RES_SERVERS, team, body));
    }
    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(store_obj_list(fx->s, &RES_SERVERS, team, NULL, 0, 2, &items, &total), PIORA_OK);
    assert_int_equal(total, 5);
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(str_of(json_array_get(items, 0), "name"), "web-1");
    assert_string_equal(str_of(json_array_get(items, 1), "name"), "web-2");
    json_decref(items);
    assert_int_equal(store_obj_list(fx->s, &RES_SERVERS, team, NULL, 4, 2, &items, &total), PIORA_OK);
    assert_int_equal(total, 5);
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(str_of(json_array_get(items, 0), "name"), "web-5");
    json_decref(items);
    assert_int_equal(store_obj_list(fx->s, &RES_SERVERS, team, NULL, 10, 2, &items, &total), PIORA_OK);
    assert_int_equal(total, 5);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
    assert_int_equal(store_obj_list(fx->s, &RES_SERVERS, team, NULL, -1, 2, &items, &total),
                     PIORA_EINVALID);
    /* servers accept no filter */
    obj_filter bad = {.field = "name", .value = 1};
    assert_int_equal(store_obj_list(fx->s, &RES_SERVERS, team, &bad, 0, 2, &items, &total),
                     PIORA_EINVALID);

    /* update: only the given fields, updated_at moves, created_at stays */
    clock_set_offset(3600);
    json_t *up = NULL;
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1),
                                "{\"name\":\"db-1\",\"provider\":\"hetzner\",\"ssh_port\":2222}", &up),
                     PIORA_OK);
    assert_string_equal(str_of(up, "name"), "db-1");
    assert_string_equal(str_of(up, "provider"), "hetzner");
    assert_int_equal(json_integer_value(json_object_get(up, "ssh_port")), 2222);
    assert_string_equal(str_of(up, "ip_address"), "10.0.0.1");
    assert_string_equal(str_of(up, "created_at"), str_of(s1, "created_at"));
    assert_string_not_equal(str_of(up, "updated_at"), str_of(s1, "updated_at"));
    json_decref(up);
    /* null clears a nullable field */
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"provider\":null}", &up),
                     PIORA_OK);
    assert_true(json_is_null(json_object_get(up, "provider")));
    json_decref(up);
    /* bad values and unknown columns */
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"ssh_port\":\"22\"}", NULL),
                     PIORA_EINVALID);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"ssh_port\":0}", NULL),
                     PIORA_EINVALID);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"team_id\":2}", NULL),
                     PIORA_EINVALID);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"name\":null}", NULL),
                     PIORA_EINVALID);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, id_of(s1), "{\"status\":\"bogus\"}", NULL),
                     PIORA_EINVALID);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, team, 9999, "{\"name\":\"x\"}", NULL),
                     PIORA_ENOTFOUND);
    assert_int_equal(try_create(fx->s, &RES_SERVERS, team, "{\"ip_address\":\"10.0.0.9\"}"),
                     PIORA_EINVALID);

    /* delete */
    assert_int_equal(store_obj_delete(fx->s, &RES_SERVERS, team, id_of(s1)), PIORA_OK);
    assert_int_equal(store_obj_get(fx->s, &RES_SERVERS, team, id_of(s1), &got), PIORA_ENOTFOUND);
    assert_int_equal(store_obj_delete(fx->s, &RES_SERVERS, team, id_of(s1)), PIORA_ENOTFOUND);
    assert_int_equal(store_obj_list(fx->s, &RES_SERVERS, team, NULL, 0, 100, &items, &total), PIORA_OK);
    assert_int_equal(total, 4);
    json_decref(items);
    json_decref(s1);
}

/* One of each kind, chained: server -> application -> deployment and
 * server -> database -> backup -> restore. */
static void test_all_kinds_and_cascades(void **state)
{
    fixture *fx = *state;
    int64_t team = make_user(fx->s, "alice@example.com", "acme").team_id;
    json_t *srv = create(fx->s, &RES_SERVERS, team, "{\"name\":\"web\",\"ip_address\":\"::1\"}");
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"shop\",\"server_id\":%lld,\"repository\":\"acme/shop\","
             "\"domain\":\"shop.example.com\"}",
             (long long)id_of(srv));
    json_t *app = create(fx->s, &RES_APPLICATIONS, team, body);
    assert_key_order(app, &RES_APPLICATIONS);
    assert_string_equal(str_of(app, "branch"), "main");
    assert_string_equal(str_of(app, "status"), "created");
    assert_true(json_is_null(json_object_get(app, "deploy_script")));
    assert_int_equal(json_integer_value(json_object_get(app, "server_id")), id_of(srv));

    snprintf(body, sizeof body, "{\"name\":\"main\",\"engine\":\"postgresql\",\"version\":\"16\","
             "\"server_id\":%lld}", (long long)id_of(srv));
    json_t *db = create(fx->s, &RES_DATABASES, team, body);
    assert_key_order(db, &RES_DATABASES);
    assert_string_equal(str_of(db, "status"), "pending");
    snprintf(body, sizeof body, "{\"name\":\"x\",\"engine\":\"oracle\",\"server_id\":%lld}",
             (long long)id_of(srv));
    assert_int_equal(try_create(fx->s, &RES_DATABASES, team, body), PIORA_EINVALID);

    json_t *deps[3];
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body, "{\"application_id\":%lld}", (long long)id_of(app));
        deps[i] = create(fx->s, &RES_DEPLOYMENTS, team, body);
    }
    assert_key_order(deps[0], &RES_DEPLOYMENTS);
    assert_string_equal(str_of(deps[0], "status"), "queued");
    assert_string_equal(str_of(deps[0], "log"), "");
    assert_true(json_is_null(json_object_get(deps[0], "started_at")));

    /* times: epoch or RFC 3339 in, RFC 3339 out, null clears */
    json_t *up = NULL;
    assert_int_equal(try_update(fx->s, &RES_DEPLOYMENTS, team, id_of(deps[0]),
                                "{\"status\":\"running\",\"started_at\":1700000000,"
                                "\"finished_at\":\"2024-01-02T03:04:05Z\"}", &up),
                     PIORA_OK);
    assert_string_equal(str_of(up, "started_at"), "2023-11-14T22:13:20Z");
    assert_string_equal(str_of(up, "finished_at"), "2024-01-02T03:04:05Z");
    assert_string_equal(str_of(up, "status"), "running");
    json_decref(up);
    assert_int_equal(try_update(fx->s, &RES_DEPLOYMENTS, team, id_of(deps[0]),
                                "{\"finished_at\":null}", &up), PIORA_OK);
    assert_true(json_is_null(json_object_get(up, "finished_at")));
    json_decref(up);
    assert_int_equal(try_update(fx->s, &RES_DEPLOYMENTS, team, id_of(deps[0]),
                                "{\"started_at\":\"yesterday\"}", NULL), PIORA_EINVALID);

    /* a second application's deployment, to see the filter work */
    snprintf(body, sizeof body, "{\"name\":\"blog\",\"server_id\":%lld,\"repository\":\"acme/blog\"}",
             (long long)id_of(srv));
    json_t *app2 = create(fx->s, &RES_APPLICATIONS, team, body);
    snprintf(body, sizeof body, "{\"application_id\":%lld}", (long long)id_of(app2));
    json_decref(create(fx->s, &RES_DEPLOYMENTS, team, body));
    obj_filter f = {.field = "application_id", .value = id_of(app)};
    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(store_obj_list(fx->s, &RES_DEPLOYMENTS, team, &f, 0, 2, &items, &total), PIORA_OK);
    assert_int_equal(total, 3);
    assert_int_equal(json_array_size(items), 2);
    assert_int_equal(id_of(json_array_get(items, 0)), id_of(deps[0]));
    json_decref(items);
    assert_int_equal(store_obj_list(fx->s, &RES_DEPLOYMENTS, team, NULL, 0, 20, &items, &total), PIORA_OK);
    assert_int_equal(total, 4);
    json_decref(items);
    obj_filter wrong = {.field = "status", .value = 1};
    assert_int_equal(store_obj_list(fx->s, &RES_DEPLOYMENTS, team, &wrong, 0, 2, &items, &total),
                     PIORA_EINVALID);

    snprintf(body, sizeof body, "{\"database_id\":%lld}", (long long)id_of(db));
    json_t *bk = create(fx->s, &RES_BACKUPS, team, body);
    assert_key_order(bk, &RES_BACKUPS);
    assert_int_equal(try_update(fx->s, &RES_BACKUPS, team, id_of(bk),
                                "{\"status\":\"completed\",\"size_bytes\":123456789012,"
                                "\"sha256\":\"ab\",\"completed_at\":1700000000}", &up),
                     PIORA_OK);
    assert_int_equal(json_integer_value(json_object_get(up, "size_bytes")), 123456789012LL);
    json_decref(up);
    f = (obj_filter){.field = "database_id", .value = id_of(db)};
    assert_int_equal(store_obj_list(fx->s, &RES_BACKUPS, team, &f, 0, 20, &items, &total), PIORA_OK);
    assert_int_equal(total, 1);
    json_decref(items);
    snprintf(body, sizeof body, "{\"backup_id\":%lld}", (long long)id_of(bk));
    json_t *rs = create(fx->s, &RES_RESTORES, team, body);
    assert_key_order(rs, &RES_RESTORES);
    f = (obj_filter){.field = "backup_id", .value = id_of(bk)};
    assert_int_equal(store_obj_list(fx->s, &RES_RESTORES, team, &f, 0, 20, &items, &total), PIORA_OK);
    assert_int_equal(total, 1);
    json_decref(items);

    /* a server still in use cannot go */
    assert_int_equal(store_obj_delete(fx->s, &RES_SERVERS, team, id_of(srv)), PIORA_ECONFLICT);
    json_t *got = NULL;
    assert_int_equal(store_obj_get(fx->s, &RES_SERVERS, team, id_of(srv), &got), PIORA_OK);
    json_decref(got);

    /* an application takes its deployments with it */
    assert_int_equal(store_obj_delete(fx->s, &RES_APPLICATIONS, team, id_of(app)), PIORA_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_obj_get(fx->s, &RES_DEPLOYMENTS, team, id_of(deps[i]), &got),
                         PIORA_ENOTFOUND);
        json_decref(deps[i]);
    }
    assert_int_equal(store_obj_delete(fx->s, &RES_APPLICATIONS, team, id_of(app2)), PIORA_OK);
    /* still the database on it */
    assert_int_equal(store_obj_delete(fx->s, &RES_SERVERS, team, id_of(srv)), PIORA_ECONFLICT);
    /* a database takes its backups and their restores */
    assert_int_equal(store_obj_delete(fx->s, &RES_DATABASES, team, id_of(db)), PIORA_OK);
    assert_int_equal(store_obj_get(fx->s, &RES_BACKUPS, team, id_of(bk), &got), PIORA_ENOTFOUND);
    assert_int_equal(store_obj_get(fx->s, &RES_RESTORES, team, id_of(rs), &got), PIORA_ENOTFOUND);
    assert_int_equal(store_obj_delete(fx->s, &RES_SERVERS, team, id_of(srv)), PIORA_OK);

    json_decref(srv);
    json_decref(app);
    json_decref(app2);
    json_decref(db);
    json_decref(bk);
    json_decref(rs);
}

static void test_team_isolation(void **state)
{
    fixture *fx = *state;
    int64_t t1 = make_user(fx->s, "alice@example.com", "acme").team_id;
    int64_t t2 = make_user(fx->s, "eve@example.com", "evil").team_id;
    json_t *srv = create(fx->s, &RES_SERVERS, t1, "{\"name\":\"web\",\"ip_address\":\"10.0.0.1\"}");
    json_t *esrv = create(fx->s, &RES_SERVERS, t2, "{\"name\":\"mine\",\"ip_address\":\"10.0.0.2\"}");
    int64_t id = id_of(srv);

    json_t *got = NULL;
    assert_int_equal(store_obj_get(fx->s, &RES_SERVERS, t2, id, &got), PIORA_ENOTFOUND);
    assert_int_equal(try_update(fx->s, &RES_SERVERS, t2, id, "{\"name\":\"owned\"}", NULL),
                     PIORA_ENOTFOUND);
    /* even with a bad reference in the body, the answer is "not found" */
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"x\",\"server_id\":%lld,\"repository\":\"a/b\"}",
             (long long)id);
    json_t *app = create(fx->s, &RES_APPLICATIONS, t1, body);
    snprintf(body, sizeof body, "{\"server_id\":%lld}", (long long)id_of(esrv));
    assert_int_equal(try_update(fx->s, &RES_APPLICATIONS, t2, id_of(app), body, NULL),
                     PIORA_ENOTFOUND);
    assert_int_equal(store_obj_delete(fx->s, &RES_SERVERS, t2, id), PIORA_ENOTFOUND);
    assert_int_equal(store_obj_get(fx->s, &RES_SERVERS, t1, id, &got), PIORA_OK);
    assert_string_equal(str_of(got, "name"), "web");
    json_decref(got);

    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(store_obj_list(fx->s, &RES_SERVERS, t2, NULL, 0, 100, &items, &total), PIORA_OK);
    assert_int_equal(total, 1);
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(id_of(json_array_get(items, 0)), id_of(esrv));
    json_decref(items);
    obj_filter f = {.field = "application_id", .value = id_of(app)};
    snprintf(body, sizeof body, "{\"application_id\":%lld}", (long long)id_of(app));
    json_decref(create(fx->s, &RES_DEPLOYMENTS, t1, body));
    assert_int_equal(store_obj_list(fx->s, &RES_DEPLOYMENTS, t2, &f, 0, 100, &items, &total), PIORA_OK);
    assert_int_equal(total, 0);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);

    /* references to another team's objects are invalid input */
    snprintf(body, sizeof body, "{\"name\":\"x\",\"server_id\":%lld,\"repository\":\"a/b\"}",
             (long long)id);
    assert_int_equal(try_create(fx->s, &RES_APPLICATIONS, t2, body), PIORA_EINVALID);
    assert_int_equal(try_create(fx->s, &RES_APPLICATIONS, t2,
                                "{\"name\":\"x\",\"server_id\":424242,\"repository\":\"a/b\"}"),
                     PIORA_EINVALID);
    snprintf(body, sizeof body, "{\"application_id\":%lld}", (long long)id_of(app));
    assert_int_equal(try_create(fx->s, &RES_DEPLOYMENTS, t2, body), PIORA_EINVALID);
    snprintf(body, sizeof body, "{\"server_id\":%lld}", (long long)id_of(esrv));
    assert_int_equal(try_update(fx->s, &RES_APPLICATIONS, t1, id_of(app), body, NULL),
                     PIORA_EINVALID);
    assert_int_equal(store_obj_get(fx->s, &RES_APPLICATIONS, t1, id_of(app), &got), PIORA_OK);
    assert_int_equal(json_integer_value(json_object_get(got, "server_id")), id);
    json_decref(got);

    json_decref(srv);
    json_decref(esrv);
    json_decref(app);
}

static void test_values_bound_verbatim(void **state)
{
    fixture *fx = *state;
    int64_t team = make_user(fx->s, "o'brien@example.com", "team \"quoted\"; --").team_id;
    user_rec u;
    assert_int_equal(store_user_by_email(fx->s, "o'brien@example.com", &u), PIORA_OK);
    assert_string_equal(u.team_name, "team \"quoted\"; --");

    const char *nasty = "x'); DROP TABLE servers; -- \"q\" \\ % _ ? ?1 :a @b $c";
    const char *utf8 = "Z\xc3\xbcrich \xe2\x98\x83 \xf0\x9f\x9a\x80 \xe6\x9d\xb1\xe4\xba\xac";
    json_t *v = json_object();
    json_object_set_new(v, "name", json_string("web"));
    json_object_set_new(v, "ip_address", json_string("10.0.0.1"));
    json_object_set_new(v, "provider", json_string(nasty));
    json_object_set_new(v, "region", json_string(utf8));
    json_t *obj = NULL;
    assert_int_equal(store_obj_create(fx->s, &RES_SERVERS, team, v, &obj), PIORA_OK);
    json_decref(v);
    json_t *got = NULL;
    assert_int_equal(store_obj_get(fx->s, &RES_SERVERS, team, id_of(obj), &got), PIORA_OK);
    assert_string_equal(str_of(got, "provider"), nasty);
    assert_string_equal(str_of(got, "region"), utf8);
    json_decref(got);
    json_decref(obj);

    sqlite3 *db = raw_open(fx);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM servers"), 1);
    sqlite3_close(db);
}

/* ---- busy handling ------------------------------------------------------------ */

typedef struct holder {
    const char *path;
    int hold_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool locked;
} holder;

/* Another process holding the write lock for a while, then committing. */
static void *hold_write_lock(void *arg)
{
    holder *h = arg;
    sqlite3 *db = NULL;
    sqlite3_open(h->path, &db);
    sqlite3_busy_timeout(db, 5000);
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO teams(name, created_at) "
                              "VALUES('holder', 0)", NULL, NULL, NULL);
    pthread_mutex_lock(&h->mu);
    h->locked = rc == SQLITE_OK;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    struct timespec ts = {.tv_sec = h->hold_ms / 1000, .tv_nsec = (h->hold_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return NULL;
}

static void start_holder(holder *h, pthread_t *th)
{
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    assert_int_equal(pthread_create(th, NULL, hold_write_lock, h), 0);
    pthread_mutex_lock(&h->mu);
    while (!h->locked)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void test_busy_waits_then_succeeds(void **state)
{
    fixture *fx = *state;
    holder h = {.path = fx->path, .hold_ms = 300};
    pthread_t th;
    start_holder(&h, &th);
    int64_t t0 = clock_mono_ns();
    user_rec u;
    assert_int_equal(store_user_create(fx->s, "alice@example.com", "acme", false, "h", &u),
                     PIORA_OK);
    int64_t waited_ms = (clock_mono_ns() - t0) / 1000000;
    assert_true(waited_ms >= 150); /* it really waited for the other writer */
    pthread_join(th, NULL);
    sqlite3 *db = raw_open(fx);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM teams WHERE name = 'holder'"), 1);
    sqlite3_close(db);
}

static void test_busy_times_out(void **state)
{
    fixture *fx = *state;
    user_rec a = make_user(fx->s, "alice@example.com", "acme");
    sqlite_store_set_busy_timeout(fx->s, 50);
    holder h = {.path = fx->path, .hold_ms = 600};
    pthread_t th;
    start_holder(&h, &th);
    json_t *obj = NULL;
    json_t *v = json_pack("{s:s, s:s}", "name", "web", "ip_address", "10.0.0.1");
    assert_int_equal(store_obj_create(fx->s, &RES_SERVERS, a.team_id, v, &obj), PIORA_EBUSY);
    assert_null(obj);
    /* reads still work while another process writes (WAL) */
    user_rec u;
    assert_int_equal(store_user_by_id(fx->s, a.id, &u), PIORA_OK);
    pthread_join(th, NULL);
    /* and the connection is usable afterwards */
    assert_int_equal(store_obj_create(fx->s, &RES_SERVERS, a.team_id, v, &obj), PIORA_OK);
    json_decref(obj);
    json_decref(v);
}

/* ---- per-thread connections ---------------------------------------------------- */

static void *thread_conn(void *arg)
{
    store_t **out = arg;
    store_t *s = store_thread();
    *out = s;
    user_rec u;
    piora_err e = s ? store_user_by_email(s, "alice@example.com", &u) : PIORA_EDB;
    return (void *)(intptr_t)e;
}

static void test_thread_connections(void **state)
{
    fixture *fx = *state;
    make_user(fx->s, "alice@example.com", "acme");
    store_thread_init(fx->path);
    store_t *mine = store_thread();
    assert_non_null(mine);
    assert_ptr_equal(store_thread(), mine);
    store_t *theirs = NULL;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, thread_conn, &theirs), 0);
    void *res = NULL;
    pthread_join(th, &res);
    assert_int_equal((intptr_t)res, PIORA_OK);
    assert_non_null(theirs);
    assert_ptr_not_equal(theirs, mine);
    store_thread_release();
    store_thread_init(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_mode, setup, teardown),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_servers_crud_and_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_kinds_and_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_team_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_bound_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_waits_then_succeeds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_connections, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
