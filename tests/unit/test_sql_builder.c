/* The SQL builder (store/sql/builder.c) as generated text: every object
 * statement in the SQLite dialect (?N placeholders, no RETURNING) and in
 * the PostgreSQL dialect ($N placeholders, RETURNING the row shape), for a
 * small descriptor, plus the upsert forms and the length cap. No database
 * here: the SQLite backend runs these statements in tests/store/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "store/sql/builder.h"

static const field_desc widget_fields[] = {
    {.name = "name", .kind = FK_STRING, .flags = FF_REQUIRED | FF_WRITABLE, .max_len = 64},
    {.name = "parent_id", .kind = FK_REF, .flags = FF_WRITABLE},
};
static const char *const widget_filters[] = {"parent_id", NULL};
static const resource_desc WIDGETS = {.name = "widgets", .singular = "widget",
                                      .fields = widget_fields, .nfields = 2,
                                      .filters = widget_filters};

#define ROW_Q "\"id\", \"team_id\", \"name\", \"parent_id\", \"created_at\", \"updated_at\""

typedef bool (*build_fn)(buf_t *b, const sql_dialect *dl, const resource_desc *d);

static void expect(build_fn fn, const sql_dialect *dl, const char *want)
{
    buf_t b;
    buf_init(&b, 4096);
    assert_true(fn(&b, dl, &WIDGETS));
    assert_string_equal(b.data, want);
    buf_free(&b);
}

static void expect_filtered(bool (*fn)(buf_t *, const sql_dialect *, const resource_desc *,
                                       const char *),
                            const sql_dialect *dl, const char *filter, const char *want)
{
    buf_t b;
    buf_init(&b, 4096);
    assert_true(fn(&b, dl, &WIDGETS, filter));
    assert_string_equal(b.data, want);
    buf_free(&b);
}

static void test_sqlite_dialect(void **state)
{
    (void)state;
    const sql_dialect *dl = &SQL_DIALECT_SQLITE;
    expect(sql_obj_get, dl, "SELECT " ROW_Q " FROM \"widgets\" WHERE \"id\" = ?1 AND \"team_id\" = ?2");
    expect(sql_obj_exists, dl, "SELECT 1 FROM \"widgets\" WHERE \"id\" = ?1 AND \"team_id\" = ?2");
    expect_filtered(sql_obj_list, dl, NULL,
                    "SELECT " ROW_Q " FROM \"widgets\" WHERE \"team_id\" = ?1 "
                    "ORDER BY \"id\" LIMIT ?2 OFFSET ?3");
    expect_filtered(sql_obj_list, dl, "parent_id",
                    "SELECT " ROW_Q " FROM \"widgets\" WHERE \"team_id\" = ?1 AND "
                    "\"parent_id\" = ?4 ORDER BY \"id\" LIMIT ?2 OFFSET ?3");
    expect_filtered(sql_obj_count, dl, NULL,
                    "SELECT count(*) FROM \"widgets\" WHERE \"team_id\" = ?1");
    expect_filtered(sql_obj_count, dl, "parent_id",
                    "SELECT count(*) FROM \"widgets\" WHERE \"team_id\" = ?1 AND "
                    "\"parent_id\" = ?2");
    expect(sql_obj_insert, dl,
           "INSERT INTO \"widgets\"(\"id\", \"team_id\", \"name\", \"parent_id\", \"created_at\", "
           "\"updated_at\") VALUES((SELECT last + 1 FROM \"id_marks\" WHERE tbl = 'widgets'), "
           "?1, ?2, ?3, ?4, ?4)");
    expect(sql_obj_update, dl,
           "UPDATE \"widgets\" SET \"name\" = CASE WHEN ?1 THEN ?2 ELSE \"name\" END, "
           "\"parent_id\" = CASE WHEN ?3 THEN ?4 ELSE \"parent_id\" END, "
           "\"updated_at\" = ?5 WHERE \"id\" = ?6 AND \"team_id\" = ?7");
    expect(sql_obj_delete, dl, "DELETE FROM \"widgets\" WHERE \"id\" = ?1 AND \"team_id\" = ?2");
}

/* A job descriptor (newest_first) lists by id descending, still paged. */
static void test_newest_first(void **state)
{
    (void)state;
    static const resource_desc jobs = {.name = "widgets", .singular = "widget",
                                       .fields = widget_fields, .nfields = 2,
                                       .filters = widget_filters, .newest_first = true};
    buf_t b;
    buf_init(&b, 4096);
    assert_true(sql_obj_list(&b, &SQL_DIALECT_SQLITE, &jobs, "parent_id"));
    assert_string_equal(b.data, "SELECT " ROW_Q " FROM \"widgets\" WHERE \"team_id\" = ?1 AND "
                                "\"parent_id\" = ?4 ORDER BY \"id\" DESC LIMIT ?2 OFFSET ?3");
    buf_free(&b);
    assert_true(RES_DEPLOYMENTS.newest_first && RES_BACKUPS.newest_first &&
                RES_RESTORES.newest_first);
    assert_false(RES_SERVERS.newest_first);
}

static void test_postgres_dialect(void **state)
{
    (void)state;
    const sql_dialect *dl = &SQL_DIALECT_POSTGRES;
    expect(sql_obj_get, dl, "SELECT " ROW_Q " FROM \"widgets\" WHERE \"id\" = $1 AND \"team_id\" = $2");
    expect_filtered(sql_obj_list, dl, "parent_id",
                    "SELECT " ROW_Q " FROM \"widgets\" WHERE \"team_id\" = $1 AND "
                    "\"parent_id\" = $4 ORDER BY \"id\" LIMIT $2 OFFSET $3");
    expect_filtered(sql_obj_count, dl, "parent_id",
                    "SELECT count(*) FROM \"widgets\" WHERE \"team_id\" = $1 AND "
                    "\"parent_id\" = $2");
    expect(sql_obj_insert, dl,
           "INSERT INTO \"widgets\"(\"team_id\", \"name\", \"parent_id\", \"created_at\", "
           "\"updated_at\") VALUES($1, $2, $3, $4, $4) RETURNING " ROW_Q);
    expect(sql_obj_update, dl,
           "UPDATE \"widgets\" SET \"name\" = CASE WHEN $1 THEN $2 ELSE \"name\" END, "
           "\"parent_id\" = CASE WHEN $3 THEN $4 ELSE \"parent_id\" END, "
           "\"updated_at\" = $5 WHERE \"id\" = $6 AND \"team_id\" = $7 RETURNING " ROW_Q);
    expect(sql_obj_delete, dl, "DELETE FROM \"widgets\" WHERE \"id\" = $1 AND \"team_id\" = $2");
}

/* The row shape's positions match what the SELECT lists. */
static void test_row_positions(void **state)
{
    (void)state;
    assert_int_equal(SQL_COL_ID, 0);
    assert_int_equal(SQL_COL_TEAM, 1);
    assert_int_equal(SQL_COL_FIELD(0), 2);
    assert_int_equal(SQL_COL_FIELD(1), 3);
    assert_int_equal(SQL_COL_CREATED(&WIDGETS), 4);
    assert_int_equal(SQL_COL_UPDATED(&WIDGETS), 5);
}

static void test_upsert_forms(void **state)
{
    (void)state;
    static const char *const cols[] = {"token_id", "day", "hits"};
    buf_t b;
    buf_init(&b, 1024);
    assert_true(sql_upsert(&b, &SQL_DIALECT_SQLITE, "usage_days", cols, 3, 2));
    assert_string_equal(b.data, "INSERT INTO \"usage_days\"(\"token_id\", \"day\", \"hits\") "
                                "VALUES(?1, ?2, ?3) ON CONFLICT(\"token_id\", \"day\") "
                                "DO UPDATE SET \"hits\" = excluded.\"hits\"");
    buf_reset(&b);
    assert_true(sql_upsert(&b, &SQL_DIALECT_POSTGRES, "usage_days", cols, 3, 1));
    assert_string_equal(b.data, "INSERT INTO \"usage_days\"(\"token_id\", \"day\", \"hits\") "
                                "VALUES($1, $2, $3) ON CONFLICT(\"token_id\") DO UPDATE SET "
                                "\"day\" = excluded.\"day\", \"hits\" = excluded.\"hits\"");
    buf_reset(&b);
    const sql_dialect mysql = {.name = "mysql", .placeholder = '?', .quote = '`',
                               .upsert = SQL_UPSERT_ON_DUPLICATE_KEY};
    assert_true(sql_upsert(&b, &mysql, "usage_days", cols, 3, 2));
    assert_string_equal(b.data, "INSERT INTO `usage_days`(`token_id`, `day`, `hits`) "
                                "VALUES(?1, ?2, ?3) ON DUPLICATE KEY UPDATE "
                                "`hits` = VALUES(`hits`)");
    /* every column a key, or none: nothing to build */
    buf_reset(&b);
    assert_false(sql_upsert(&b, &SQL_DIALECT_SQLITE, "usage_days", cols, 3, 3));
    assert_false(sql_upsert(&b, &SQL_DIALECT_SQLITE, "usage_days", cols, 3, 0));
    buf_free(&b);
}

/* A quote inside an identifier is doubled, and a statement over the
 * buffer's cap is refused rather than cut. */
static void test_quoting_and_cap(void **state)
{
    (void)state;
    static const field_desc odd_fields[] = {{.name = "we\"ird", .kind = FK_INT}};
    const resource_desc odd = {.name = "odd", .fields = odd_fields, .nfields = 1};
    buf_t b;
    buf_init(&b, 4096);
    assert_true(sql_obj_get(&b, &SQL_DIALECT_SQLITE, &odd));
    assert_non_null(strstr(b.data, "\"we\"\"ird\""));
    buf_free(&b);
    buf_init(&b, 32);
    assert_false(sql_obj_update(&b, &SQL_DIALECT_SQLITE, &WIDGETS));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_dialect),     cmocka_unit_test(test_postgres_dialect),
        cmocka_unit_test(test_newest_first),
        cmocka_unit_test(test_row_positions),      cmocka_unit_test(test_upsert_forms),
        cmocka_unit_test(test_quoting_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
