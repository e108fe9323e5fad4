/* The audit log as the CLI and the dashboard read it: names, newest first,
 * team scoping, the email filter, paging and nulls for what is absent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/audit.h"
#include "store/migrate.h"
#include "store/store.h"
#include "util/log.h"
#include "fixture.h"

typedef struct fixture {
    char dir[FIXTURE_DIR_MAX];
    char path[FIXTURE_PATH_MAX];
    store_t *s;
    user_rec alice, bob, carol; /* alice, bob: team "red"; carol: team "blue" */
} fixture;

static int setup(void **state)
{
    log_set_level(LOG_WARN);
    fixture *fx = calloc(1, sizeof *fx);
    fx->s = fixture_db_open(fx->dir, fx->path, "audit");
    if (!fx->s)
        return -1;
    if (!fixture_user(fx->s, "alice@example.com", "red", true, &fx->alice) ||
        !fixture_user(fx->s, "bob@example.com", "red", false, &fx->bob) ||
        !fixture_user(fx->s, "carol@example.com", "blue", false, &fx->carol))
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    store_close(fx->s);
    fixture_db_remove(fx->dir, fx->path);
    free(fx);
    return 0;
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(audit_action_name(AUDIT_SIGNIN), "signin");
    assert_string_equal(audit_action_name(AUDIT_SIGNIN_FAILED), "signin.failed");
    assert_string_equal(audit_action_name(AUDIT_SIGNOUT), "signout");
    assert_string_equal(audit_action_name(AUDIT_TOKEN_CREATED), "token.created");
    assert_string_equal(audit_action_name(AUDIT_TOKEN_REGENERATED), "token.regenerated");
    assert_string_equal(audit_action_name(AUDIT_TOKEN_REVOKED), "token.revoked");
    assert_string_equal(audit_action_name(AUDIT_TOKEN_RENAMED), "token.renamed");
    assert_string_equal(audit_action_name(AUDIT_TOKEN_NOTE_CHANGED), "token.note_changed");
    assert_string_equal(audit_action_name(AUDIT_TOKEN_REMOVED_FROM_LIST), "token.removed_from_list");
    assert_string_equal(audit_action_name(AUDIT_USER_CREATED), "user.created");
    assert_string_equal(audit_action_name(AUDIT_PASSWORD_CHANGED), "password.changed");
    assert_string_equal(actor_channel_name(CHANNEL_DASHBOARD), "dashboard");
    assert_string_equal(actor_channel_name(CHANNEL_CLI), "cli");
    assert_string_equal(actor_channel_name(CHANNEL_API), "api");
    assert_string_equal(actor_channel_name(CHANNEL_LEAK_REPORT), "leak_report");
    assert_string_equal(actor_channel_name(CHANNEL_SETUP), "setup");
}

static void test_record_and_list(void **state)
{
    fixture *fx = *state;
    actor cli = {.channel = CHANNEL_CLI};
    actor alice = {.channel = CHANNEL_DASHBOARD, .user_id = fx->alice.id,
                   .team_id = fx->alice.team_id, .addr = "192.0.2.7"};
    audit_event e1 = {.action = AUDIT_USER_CREATED, .team_id = fx->bob.team_id,
                      .subject_user_id = fx->bob.id, .email = "bob@example.com"};
    audit_event e2 = {.action = AUDIT_TOKEN_REVOKED, .team_id = fx->alice.team_id,
                      .token_id = 42, .token_name = "deploy-bot"};
    assert_int_equal(audit_record(fx->s, &cli, &e1), PIORA_OK);
    assert_int_equal(audit_record(fx->s, &alice, &e2), PIORA_OK);

    json_t *items = NULL;
    int64_t total = -1;
    assert_int_equal(audit_list(fx->s, 0, 0, 10, &items, &total), PIORA_OK);
    assert_int_equal(total, 2);
    assert_int_equal(json_array_size(items), 2);
    json_t *newest = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(newest, "action")), "token.revoked");
    assert_string_equal(json_string_value(json_object_get(newest, "via")), "dashboard");
    assert_int_equal(json_integer_value(json_object_get(newest, "token_id")), 42);
    assert_string_equal(json_string_value(json_object_get(newest, "token_name")), "deploy-bot");
    assert_string_equal(json_string_value(json_object_get(newest, "addr")), "192.0.2.7");
    json_t *actor = json_object_get(newest, "actor");
    assert_true(json_is_object(actor));
    assert_int_equal(json_integer_value(json_object_get(actor, "id")), fx->alice.id);
    assert_string_equal(json_string_value(json_object_get(actor, "email")), "alice@example.com");
    assert_true(json_is_null(json_object_get(newest, "subject_user_id")));
    assert_true(json_is_null(json_object_get(newest, "email")));
    const char *t = json_string_value(json_object_get(newest, "time"));
    assert_non_null(t);
    assert_int_equal(strlen(t), 20); /* 2026-11-28T07:09:40Z */

    json_t *oldest = json_array_get(items, 1);
    assert_string_equal(json_string_value(json_object_get(oldest, "action")), "user.created");
    assert_true(json_is_null(json_object_get(oldest, "actor")));
    assert_true(json_is_null(json_object_get(oldest, "addr")));
    assert_true(json_is_null(json_object_get(oldest, "token_id")));
    assert_true(json_is_null(json_object_get(oldest, "token_name")));
    assert_int_equal(json_integer_value(json_object_get(oldest, "subject_user_id")), fx->bob.id);
    json_decref(items);
}

static void test_team_scope_and_paging(void **state)
{
    fixture *fx = *state;
    actor alice = {.channel = CHANNEL_DASHBOARD, .user_id = fx->alice.id,
                   .team_id = fx->alice.team_id, .addr = "198.51.100.1"};
    for (int i = 0; i < 5; i++) {
        audit_event e = {.action = AUDIT_SIGNIN, .team_id = fx->alice.team_id,
                         .email = "alice@example.com"};
        assert_int_equal(audit_record(fx->s, &alice, &e), PIORA_OK);
    }
    actor nobody = {.channel = CHANNEL_DASHBOARD};
    audit_event other = {.action = AUDIT_SIGNIN_FAILED, .team_id = fx->carol.team_id,
                         .email = "carol@example.com"};
    assert_int_equal(audit_record(fx->s, &nobody, &other), PIORA_OK);
    actor stranger = {.channel = CHANNEL_DASHBOARD, .addr = "203.0.113.9"};
    audit_event unknown = {.action = AUDIT_SIGNIN_FAILED, .email = "nobody@example.com"};
    assert_int_equal(audit_record(fx->s, &stranger, &unknown), PIORA_OK);

    json_t *items = NULL;
    int64_t total = 0;
    /* red sees its own five, never blue's or the unknown email's */
    assert_int_equal(audit_list(fx->s, fx->alice.team_id, 0, 2, &items, &total), PIORA_OK);
    assert_int_equal(total, 5);
    assert_int_equal(json_array_size(items), 2);
    int64_t first = json_integer_value(json_object_get(json_array_get(items, 0), "id"));
    int64_t second = json_integer_value(json_object_get(json_array_get(items, 1), "id"));
    assert_true(first > second);
    json_decref(items);
    assert_int_equal(audit_list(fx->s, fx->alice.team_id, 4, 2, &items, &total), PIORA_OK);
    assert_int_equal(json_array_size(items), 1);
    json_decref(items);

    assert_int_equal(audit_list(fx->s, fx->carol.team_id, 0, 10, &items, &total), PIORA_OK);
    assert_int_equal(total, 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(items, 0), "action")), "signin.failed");
    assert_true(json_is_null(json_object_get(json_array_get(items, 0), "actor")));
    json_decref(items);

    /* the CLI sees everything, the unknown email's failed sign-in included */
    assert_int_equal(audit_list(fx->s, 0, 0, 100, &items, &total), PIORA_OK);
    assert_int_equal(total, 7);
    assert_true(json_is_null(json_object_get(json_array_get(items, 0), "team_id")));
    json_decref(items);
}

static void test_email_filter(void **state)
{
    fixture *fx = *state;
    actor cli = {.channel = CHANNEL_CLI};
    actor alice = {.channel = CHANNEL_DASHBOARD, .user_id = fx->alice.id,
                   .team_id = fx->alice.team_id};
    actor nobody = {.channel = CHANNEL_DASHBOARD};
    audit_event created = {.action = AUDIT_USER_CREATED, .team_id = fx->bob.team_id,
                           .subject_user_id = fx->bob.id};
    audit_event by_alice = {.action = AUDIT_TOKEN_CREATED, .team_id = fx->alice.team_id,
                            .token_id = 3};
    audit_event failed = {.action = AUDIT_SIGNIN_FAILED, .email = "Bob@Example.com"};
    assert_int_equal(audit_record(fx->s, &cli, &created), PIORA_OK);
    assert_int_equal(audit_record(fx->s, &alice, &by_alice), PIORA_OK);
    assert_int_equal(audit_record(fx->s, &nobody, &failed), PIORA_OK);

    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(audit_list_email(fx->s, 0, "bob@example.com", 0, 10, &items, &total),
                     PIORA_OK);
    assert_int_equal(total, 2); /* as subject, and the failed sign-in (any case) */
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(items, 0), "action")), "signin.failed");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(items, 1), "action")), "user.created");
    json_decref(items);

    assert_int_equal(audit_list_email(fx->s, 0, "alice@example.com", 0, 10, &items, &total),
                     PIORA_OK);
    assert_int_equal(total, 1); /* as actor */
    json_decref(items);

    assert_int_equal(audit_list_email(fx->s, 0, "x' OR 1=1 --", 0, 10, &items, &total),
                     PIORA_OK);
    assert_int_equal(total, 0);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
}

static void test_rejects_bad_input(void **state)
{
    fixture *fx = *state;
    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(audit_list(fx->s, 0, -1, 10, &items, &total), PIORA_EINVALID);
    assert_null(items);
    actor cli = {.channel = CHANNEL_CLI};
    assert_int_equal(audit_record(fx->s, &cli, NULL), PIORA_EINVALID);
    assert_int_equal(audit_record(fx->s, NULL, &(audit_event){.action = AUDIT_SIGNOUT}),
                     PIORA_EINVALID);
}

/* Migration 0006 gives the entries of a database from before it the name of
 * their token where the token still exists, and null where it is gone. */
static void test_migration_names_old_entries(void **state)
{
    (void)state;
    char dir[FIXTURE_DIR_MAX], path[FIXTURE_PATH_MAX];
    snprintf(dir, sizeof dir, "/tmp/piora-test-audit-mig-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/piora.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                                  " name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    for (int i = 0; i < piora_migrations_count; i++) {
        const migration_t *m = &piora_migrations[i];
        if (m->version >= 6)
            continue;
        assert_int_equal(sqlite3_exec(db, m->sql, NULL, NULL, NULL), SQLITE_OK);
        char rec[160];
        snprintf(rec, sizeof rec, "INSERT INTO schema_migrations VALUES(%d, 'm', 1)", m->version);
        assert_int_equal(sqlite3_exec(db, rec, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO teams VALUES(1, 'red', 1);"
                     "INSERT INTO users(id, team_id, email, password_hash, created_at, updated_at)"
                     " VALUES(1, 1, 'old@example.com', 'x', 1, 1);"
                     "INSERT INTO tokens(id, user_id, team_id, name, digest, hint, scopes,"
                     " created_at, updated_at)"
                     " VALUES(5, 1, 1, 'old-bot', zeroblob(32), 'h', 1, 1, 1);"
                     "INSERT INTO audit_log(time, action, via, team_id, token_id)"
                     " VALUES(10, 'token.created', 'cli', 1, 5);"
                     "INSERT INTO audit_log(time, action, via, team_id, token_id)"
                     " VALUES(11, 'token.revoked', 'cli', 1, 77);"
                     "INSERT INTO audit_log(time, action, via, team_id, email)"
                     " VALUES(12, 'signin.failed', 'dashboard', 1, 'old@example.com');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    char msg[256] = "";
    store_t *s = store_open(path, msg, sizeof msg);
    assert_non_null(s);
    json_t *items = NULL;
    int64_t total = 0;
    assert_int_equal(audit_list(s, 0, 0, 10, &items, &total), PIORA_OK);
    assert_int_equal(total, 3);
    assert_true(json_is_null(json_object_get(json_array_get(items, 0), "token_name")));
    assert_true(json_is_null(json_object_get(json_array_get(items, 1), "token_name")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "token_id")), 77);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 2), "token_name")),
                        "old-bot");
    json_decref(items);
    store_close(s);
    fixture_db_remove(dir, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_record_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_team_scope_and_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_email_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_bad_input, setup, teardown),
        cmocka_unit_test(test_migration_names_old_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
