/* The SQLite backend beneath the interface: schema and migrations, WAL,
 * open errors, change detection against another connection, busy handling
 * and per-thread connections. These look at the file itself, so they always
 * run on a fresh SQLite file, whatever PIORA_TEST_STORE_URL says. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "store/store_backend.h"
#include "store_fixture.h"

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
    /* a postgres:// URL goes to the PostgreSQL backend: nothing listens on
     * port 1, and the message says what failed */
    assert_null(store_open("postgres://u@127.0.0.1:1/piora", msg, sizeof msg));
    assert_non_null(strstr(msg, "cannot connect to PostgreSQL"));
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
    assert_int_equal(objects_create(fx->s, &RES_SERVERS, a.team_id, v, &obj), PIORA_EBUSY);
    assert_null(obj);
    /* reads still work while another process writes (WAL) */
    user_rec u;
    assert_int_equal(store_user_by_id(fx->s, a.id, &u), PIORA_OK);
    pthread_join(th, NULL);
    /* and the connection is usable afterwards */
    assert_int_equal(objects_create(fx->s, &RES_SERVERS, a.team_id, v, &obj), PIORA_OK);
    json_decref(obj);
    json_decref(v);
}

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
    unsetenv("PIORA_TEST_STORE_URL"); /* SQLite's own tests, whatever the suite runs on */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_mode, setup, teardown),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test_setup_teardown(test_busy_waits_then_succeeds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_connections, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
