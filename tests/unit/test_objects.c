/* core/objects.c renders the store's typed rows once for every backend:
 * key order, RFC 3339 times, null for SQL NULL, text with its length; and
 * core/validate.c's validate_to_values turns a JSON object of columns into
 * typed values (wrong JSON types and unknown keys refused). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/objects.h"
#include "core/validate.h"

static void test_render(void **state)
{
    (void)state;
    obj_row r = {.id = 7, .team_id = 3, .created_at = 1700000000, .updated_at = 1700000060};
    obj_value_set_int(&r.v[0], 12);                 /* application_id */
    assert_true(obj_value_set_text(&r.v[1], "running", 7));
    obj_value_set_int(&r.v[2], 1700000030);         /* started_at */
    obj_value_set_null(&r.v[3]);                    /* finished_at */
    assert_true(obj_value_set_text(&r.v[4], "a\"b\n", 4));
    json_t *o = objects_render(&RES_DEPLOYMENTS, &r);
    assert_non_null(o);
    char *text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
    assert_string_equal(text, "{\"id\":7,\"application_id\":12,\"status\":\"running\","
                              "\"started_at\":\"2023-11-14T22:13:50Z\",\"finished_at\":null,"
                              "\"log\":\"a\\\"b\\n\",\"error\":null,\"ref\":null,\"commit\":null,\"exit_code\":null,\"triggered_by\":null,\"created_at\":\"2023-11-14T22:13:20Z\","
                              "\"updated_at\":\"2023-11-14T22:14:20Z\"}");
    free(text);
    json_decref(o);
    /* text that is not UTF-8 cannot become JSON: NULL, not a broken object */
    assert_true(obj_value_set_text(&r.v[4], "\xff", 1));
    assert_null(objects_render(&RES_DEPLOYMENTS, &r));
    obj_row_clear(&r);
}

static void test_values_from_json(void **state)
{
    (void)state;
    json_t *j = json_pack("{s:I,s:s,s:s,s:n}", "application_id", (json_int_t)5, "status",
                          "queued", "started_at", "2023-11-14T22:13:50Z", "finished_at");
    obj_values v;
    assert_int_equal(validate_to_values(&RES_DEPLOYMENTS, j, &v), PIORA_OK);
    assert_int_equal(v.v[0].kind, OV_INT);
    assert_int_equal(v.v[0].i, 5);
    assert_int_equal(v.v[1].kind, OV_TEXT);
    assert_string_equal(v.v[1].text, "queued");
    assert_int_equal(v.v[2].kind, OV_INT);
    assert_int_equal(v.v[2].i, 1700000030);
    assert_int_equal(v.v[3].kind, OV_NULL);
    assert_int_equal(v.v[4].kind, OV_ABSENT); /* log not given */
    obj_values_clear(&v);
    json_decref(j);

    const char *bad[] = {"{\"nope\":1}", "{\"status\":3}", "{\"application_id\":\"5\"}",
                         "{\"started_at\":\"yesterday\"}", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        assert_int_equal(validate_to_values(&RES_DEPLOYMENTS, j, &v), PIORA_EINVALID);
        for (size_t k = 0; k < OBJ_FIELDS_MAX; k++)
            assert_int_equal(v.v[k].kind, OV_ABSENT);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_values_from_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
