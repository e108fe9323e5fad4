/* The change feed (store/change.h) on SQLite: every write moves the
 * generation of its own kind and no other, in this process as it commits
 * and in another process at its next poll; writes no cache depends on
 * (usage log, last-used times, audit, sessions) never move the tokens or
 * objects generations; a failed look moves everything. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include "core/objects.h"
#include "store/change.h"
#include "store/store.h"
#include "util/clock.h"
#include "fixture.h"

#define TOKENS CHANGE_BIT(CHANGE_TOKENS)
#define USERS CHANGE_BIT(CHANGE_USERS)
#define OBJECTS CHANGE_BIT(CHANGE_OBJECTS)
#define SESSIONS CHANGE_BIT(CHANGE_SESSIONS)
#define MONITOR CHANGE_BIT(CHANGE_MONITOR)

typedef struct fx {
    fixture_db db;
    user_rec user;
    token_rec token;
} fx;

static void digest_fill(uint8_t *d, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)(seed + i);
}

static bool token_make(store_t *s, int64_t user_id, uint8_t seed, token_rec *out)
{
    token_new tn = {.user_id = user_id, .name = "ci", .scopes = SCOPE_SERVERS_READ,
                    .hint = "piora_token_abcd\xe2\x80\xa6wxyz"};
    digest_fill(tn.digest, sizeof tn.digest, seed);
    return store_token_insert(s, &tn, out) == PIORA_OK;
}

/* Polls until this connection has looked at everything committed so far
 * (earlier tests leave this process's last-seen counters behind). */
static void settle(store_t *s)
{
    change_wait_visible(s);
    assert_int_equal(change_poll(s, NULL), PIORA_OK);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    void *db = NULL;
    if (!f || fixture_db_setup(&db, "change") != 0)
        return -1;
    f->db = *(fixture_db *)db;
    free(db);
    if (!fixture_user(f->db.s, "ci@example.com", "acme", false, &f->user) ||
        !token_make(f->db.s, f->user.id, 1, &f->token))
        return -1;
    settle(f->db.s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->db.s);
    fixture_db_remove(f->db.dir, f->db.path);
    free(f);
    return 0;
}

/* ---- the writes, each runnable here or in a child process ---------------- */

typedef struct write_arg {
    int64_t user_id, team_id, token_id;
} write_arg;

static bool w_usage(store_t *s, void *a)
{
    const write_arg *w = a;
    usage_entry u = {.token_id = w->token_id, .time = clock_now(), .status = 200};
    memcpy(u.method, "GET", 4);
    memcpy(u.path, "/api/v1/servers", 16);
    return store_usage_insert(s, &u, 1) == PIORA_OK;
}

static bool w_touch(store_t *s, void *a)
{
    const write_arg *w = a;
    token_touch t = {.token_id = w->token_id, .used_at = clock_now()};
    return store_token_touch(s, &t, 1) == PIORA_OK;
}

static bool w_audit(store_t *s, void *a)
{
    const write_arg *w = a;
    audit_new e = {.action = "token.created", .via = "cli", .team_id = w->team_id,
                   .token_id = w->token_id};
    return store_audit_insert(s, &e) == PIORA_OK;
}

static bool w_session(store_t *s, void *a)
{
    const write_arg *w = a;
    uint8_t d[SESSION_DIGEST_LEN];
    digest_fill(d, sizeof d, 7);
    session_rec r;
    int64_t now = clock_now();
    return store_session_insert(s, d, w->user_id, "csrf", now, now + 3600, "127.0.0.1", &r) ==
               PIORA_OK &&
           store_session_touch(s, r.id, now + 1) == PIORA_OK &&
           store_session_delete(s, r.id) == PIORA_OK;
}

static bool w_revoke(store_t *s, void *a)
{
    const write_arg *w = a;
    return store_token_revoke(s, w->token_id, clock_now()) == PIORA_OK;
}

static bool w_token_insert(store_t *s, void *a)
{
    const write_arg *w = a;
    token_rec t;
    return token_make(s, w->user_id, 40, &t);
}

static bool w_password(store_t *s, void *a)
{
    const write_arg *w = a;
    return store_user_set_password(s, w->user_id, FIXTURE_FAKE_HASH) == PIORA_OK;
}

static bool w_server(store_t *s, void *a)
{
    const write_arg *w = a;
    json_t *v = json_pack("{s:s, s:s}", "name", "web", "ip_address", "10.0.0.1");
    json_t *obj = NULL;
    piora_err e = objects_create(s, &RES_SERVERS, w->team_id, v, &obj);
    json_decref(v);
    json_decref(obj);
    return e == PIORA_OK;
}

typedef struct write_case {
    const char *what;
    bool (*fn)(store_t *s, void *arg);
    unsigned kinds; /* what it changes */
} write_case;

static const write_case cases[] = {
    {"usage log batch", w_usage, MONITOR},
    {"last-used touch", w_touch, MONITOR},
    {"audit entry", w_audit, MONITOR},
    {"session insert, touch, delete", w_session, SESSIONS},
    {"password change", w_password, USERS},
    {"token insert", w_token_insert, TOKENS},
    {"token revoke", w_revoke, TOKENS},
    {"server create", w_server, OBJECTS},
};
#define NCASES (sizeof cases / sizeof cases[0])

static write_arg arg_of(const fx *f)
{
    write_arg w = {.user_id = f->user.id, .team_id = f->user.team_id, .token_id = f->token.id};
    return w;
}

/* Which of the five generations differ between two snapshots. */
typedef struct gens {
    uint64_t g[CHANGE__COUNT];
} gens;

static gens gens_now(void)
{
    gens s;
    for (int k = 0; k < CHANGE__COUNT; k++)
        s.g[k] = change_generation(CHANGE_BIT(k));
    return s;
}

static unsigned gens_moved(gens a, gens b)
{
    unsigned m = 0;
    for (int k = 0; k < CHANGE__COUNT; k++)
        if (a.g[k] != b.g[k])
            m |= CHANGE_BIT(k);
    return m;
}

/* ---- tests -------------------------------------------------------------- */

static void test_own_write_moves_its_kind_only(void **state)
{
    fx *f = *state;
    write_arg w = arg_of(f);
    for (size_t i = 0; i < NCASES; i++) {
        gens before = gens_now();
        assert_true(cases[i].fn(f->db.s, &w));
        unsigned moved = gens_moved(before, gens_now());
        if (moved != cases[i].kinds)
            fail_msg("%s moved 0x%x, expected 0x%x", cases[i].what, moved, cases[i].kinds);
        /* Our own commit leaves nothing for our poll to find. */
        settle(f->db.s);
    }
}

static void test_other_process_write_seen_by_kind(void **state)
{
    fx *f = *state;
    write_arg w = arg_of(f);
    for (size_t i = 0; i < NCASES; i++) {
        gens before = gens_now();
        assert_true(fixture_in_child(f->db.path, cases[i].fn, &w));
        /* Nothing moves until we look... */
        assert_int_equal(gens_moved(before, gens_now()), 0);
        change_wait_visible(f->db.s);
        unsigned moved = 0;
        assert_int_equal(change_poll(f->db.s, &moved), PIORA_OK);
        if (moved != cases[i].kinds)
            fail_msg("%s: poll found 0x%x, expected 0x%x", cases[i].what, moved,
                     cases[i].kinds);
        assert_int_equal(gens_moved(before, gens_now()), cases[i].kinds);
        /* ...and a second look finds nothing new. */
        change_wait_visible(f->db.s);
        assert_int_equal(change_poll(f->db.s, &moved), PIORA_OK);
        assert_int_equal(moved, 0);
    }
}

/* Another connection of this process already moved the generation as it
 * committed; this connection's poll must not move it a second time. */
static void test_other_connection_same_process_moves_once(void **state)
{
    fx *f = *state;
    char msg[256];
    store_t *other = store_open(f->db.path, msg, sizeof msg);
    assert_non_null(other);
    write_arg w = arg_of(f);
    uint64_t g = change_generation(OBJECTS);
    assert_true(w_server(other, &w));
    assert_int_equal(change_generation(OBJECTS), g + 1);
    change_wait_visible(f->db.s);
    unsigned moved = 1;
    assert_int_equal(change_poll(f->db.s, &moved), PIORA_OK);
    assert_int_equal(moved, 0);
    assert_int_equal(change_generation(OBJECTS), g + 1);
    store_close(other);
}

/* A generation of a mask moves with any of its kinds. */
static void test_mask_generation(void **state)
{
    fx *f = *state;
    write_arg w = arg_of(f);
    uint64_t g = change_generation(TOKENS | USERS);
    assert_true(w_password(f->db.s, &w));
    uint64_t g2 = change_generation(TOKENS | USERS);
    assert_true(g2 != g);
    assert_true(w_token_insert(f->db.s, &w));
    assert_true(change_generation(TOKENS | USERS) != g2);
    g = change_generation(TOKENS | USERS);
    assert_true(w_usage(f->db.s, &w));
    assert_true(change_generation(TOKENS | USERS) == g);
}

/* A raw write that leaves the feed alone (not piora's own) still moves
 * data_version, but the feed says nothing moved: no generation moves. A
 * failed write moves nothing either: its transaction rolled back. */
static void test_data_version_alone_moves_nothing(void **state)
{
    fx *f = *state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->db.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE users SET created_at = created_at + 1", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    change_wait_visible(f->db.s);
    gens before = gens_now();
    unsigned moved = 1;
    assert_int_equal(change_poll(f->db.s, &moved), PIORA_OK);
    assert_int_equal(moved, 0);
    assert_int_equal(gens_moved(before, gens_now()), 0);

    /* A foreign writer that does move the feed is seen like piora. */
    assert_int_equal(sqlite3_exec(db, "UPDATE change_feed SET n = n + 1 WHERE kind = 'tokens'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    change_wait_visible(f->db.s);
    assert_int_equal(change_poll(f->db.s, &moved), PIORA_OK);
    assert_int_equal(moved, TOKENS);
    sqlite3_close(db);

    /* A write the store refuses: nothing moves. */
    before = gens_now();
    json_t *v = json_pack("{s:s, s:s}", "name", "web", "ip_address", "10.0.0.1");
    json_t *obj = NULL;
    assert_int_equal(objects_update(f->db.s, &RES_SERVERS, f->user.team_id, 999999, v, &obj),
                     PIORA_ENOTFOUND);
    json_decref(v);
    assert_int_equal(gens_moved(before, gens_now()), 0);
}

/* change_wait_visible() waits a short, bounded time, after which the next
 * poll is certain to see another process's write. */
static void test_wait_visible_bounds_the_poll(void **state)
{
    fx *f = *state;
    write_arg w = arg_of(f);
    int64_t t0 = clock_mono_ns();
    change_wait_visible(f->db.s);
    assert_true(clock_mono_ns() - t0 >= 1000000);
    assert_true(clock_mono_ns() - t0 < 1000000000);
    assert_true(fixture_in_child(f->db.path, w_revoke, &w));
    change_wait_visible(f->db.s);
    unsigned moved = 0;
    assert_int_equal(change_poll(f->db.s, &moved), PIORA_OK);
    assert_int_equal(moved, TOKENS);
}

/* A connection whose database is gone cannot look: every generation moves
 * and the error is returned. */
static void test_failed_poll_moves_everything(void **state)
{
    fx *f = *state;
    char dir[FIXTURE_DIR_MAX], path[FIXTURE_PATH_MAX];
    store_t *s = fixture_db_open(dir, path, "change-broken");
    assert_non_null(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE change_feed", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    change_wait_visible(s);
    gens before = gens_now();
    unsigned moved = 0;
    assert_int_not_equal(change_poll(s, &moved), PIORA_OK);
    assert_int_equal(moved, CHANGE_ALL);
    assert_int_equal(gens_moved(before, gens_now()), CHANGE_ALL);
    store_close(s);
    fixture_db_remove(dir, path);
    (void)f;
}

/* Serving threads poll and read generations while a writer commits: the
 * counters are atomics, and every reader ends up past every write. */
typedef struct race {
    const char *path;
    int writes;
} race;

static void *race_reader(void *p)
{
    race *r = p;
    char msg[256];
    store_t *s = store_open(r->path, msg, sizeof msg);
    if (!s)
        return (void *)1;
    uint64_t last = 0;
    for (int i = 0; i < 2000; i++) {
        change_poll(s, NULL);
        uint64_t g = change_generation(OBJECTS);
        if (g < last) {
            store_close(s);
            return (void *)1; /* a generation never goes back */
        }
        last = g;
    }
    store_close(s);
    return NULL;
}

static void test_threads_poll_while_writing(void **state)
{
    fx *f = *state;
    race r = {.path = f->db.path, .writes = 20};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_reader, &r), 0);
    write_arg w = arg_of(f);
    uint64_t g = change_generation(OBJECTS);
    for (int i = 0; i < r.writes; i++)
        assert_true(w_server(f->db.s, &w));
    for (int i = 0; i < 3; i++) {
        void *rv = NULL;
        assert_int_equal(pthread_join(th[i], &rv), 0);
        assert_null(rv);
    }
    assert_true(change_generation(OBJECTS) >= g + (uint64_t)r.writes);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(change_kind_name(CHANGE_TOKENS), "tokens");
    assert_string_equal(change_kind_name(CHANGE_USERS), "users");
    assert_string_equal(change_kind_name(CHANGE_OBJECTS), "objects");
    assert_string_equal(change_kind_name(CHANGE_SESSIONS), "sessions");
    assert_string_equal(change_kind_name(CHANGE_MONITOR), "monitor");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_own_write_moves_its_kind_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_process_write_seen_by_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_connection_same_process_moves_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mask_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_version_alone_moves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_visible_bounds_the_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_poll_moves_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_poll_while_writing, setup, teardown),
        cmocka_unit_test(test_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
