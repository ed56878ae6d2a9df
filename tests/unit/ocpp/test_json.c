/* SPDX-License-Identifier: MIT */
/* Unit tests of the shared JSON readers (ocpp_json_str, ocpp_json_int, ocpp_json_type_name). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ocpp.h"

static json_t *load(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	if (!j)
		fail_msg("%s: %s", text, err.text);
	return j;
}

static void test_str(void **state)
{
	json_t *o = load("{\"s\": \"abc\", \"i\": 5, \"n\": null, \"e\": \"\"}");

	(void)state;
	assert_string_equal(ocpp_json_str(o, "s"), "abc");
	assert_string_equal(ocpp_json_str(o, "e"), "");
	assert_null(ocpp_json_str(o, "i"));
	assert_null(ocpp_json_str(o, "n"));
	assert_null(ocpp_json_str(o, "absent"));
	assert_null(ocpp_json_str(NULL, "s"));
	assert_null(ocpp_json_str(json_object_get(o, "s"), "s")); /* not an object */
	json_decref(o);
}

static void test_int(void **state)
{
	json_t *o = load("{\"i\": 42, \"neg\": -7, \"big\": 9223372036854775807, \"r\": 5.0,"
			 " \"frac\": -2.75, \"huge\": 1e19, \"nhuge\": -1e19, \"s\": \"12\","
			 " \"t\": true}");

	(void)state;
	assert_int_equal(ocpp_json_int(o, "i"), 42);
	assert_int_equal(ocpp_json_int(o, "neg"), -7);
	assert_true(ocpp_json_int(o, "big") == INT64_MAX);
	assert_int_equal(ocpp_json_int(o, "r"), 5);
	assert_int_equal(ocpp_json_int(o, "frac"), -2);
	/* reals outside int64_t would be undefined to convert: read as 0 */
	assert_int_equal(ocpp_json_int(o, "huge"), 0);
	assert_int_equal(ocpp_json_int(o, "nhuge"), 0);
	assert_int_equal(ocpp_json_int(o, "s"), 0);
	assert_int_equal(ocpp_json_int(o, "t"), 0);
	assert_int_equal(ocpp_json_int(o, "absent"), 0);
	assert_int_equal(ocpp_json_int(NULL, "i"), 0);
	json_decref(o);
}

static void test_type_name(void **state)
{
	static const struct {
		const char *text, *name;
	} cases[] = {
	    {"{}", "object"},  {"[]", "array"},	    {"\"x\"", "string"},  {"1", "integer"},
	    {"1.5", "number"}, {"true", "boolean"}, {"false", "boolean"}, {"null", "null"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_loads(cases[i].text, JSON_DECODE_ANY, NULL);

		assert_non_null(j);
		assert_string_equal(ocpp_json_type_name(j), cases[i].name);
		json_decref(j);
	}
	assert_string_equal(ocpp_json_type_name(NULL), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_str),
	    cmocka_unit_test(test_int),
	    cmocka_unit_test(test_type_name),
	};

	return cmocka_run_group_tests_name("ocpp-json", tests, NULL, NULL);
}
