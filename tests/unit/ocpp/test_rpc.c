/* SPDX-License-Identifier: MIT */
/* Unit tests of OCPP-J framing: parse errors and their codes, serializers, error spellings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ocpp.h"

/* Parse s (without its NUL), expect failure with code, the recovered id and is_call. */
static void expect_fail(const char *s, enum ocpp_err code, const char *id, bool is_call)
{
	struct ocpp_frame f = {0};
	struct ocpp_parse_error e;
	int r = ocpp_frame_parse(s, strlen(s), &f, &e);

	if (r != -EPROTO || e.code != code || strcmp(e.id, id) != 0 || e.is_call != is_call)
		print_error("frame %s: r=%d code=%d id=%s is_call=%d desc=%s\n", s, r, e.code, e.id,
			    e.is_call, e.desc);
	assert_int_equal(r, -EPROTO);
	assert_int_equal(e.code, code);
	assert_string_equal(e.id, id);
	assert_int_equal(e.is_call, is_call);
	assert_true(strlen(e.desc) > 0);
	assert_null(f.root); /* untouched on failure */
}

static void test_not_json(void **state)
{
	(void)state;
	expect_fail("nope", OCPP_ERR_FORMATION, "-1", false);
	expect_fail("", OCPP_ERR_FORMATION, "-1", false);
	expect_fail("[2,\"a\",\"Heartbeat\",{}", OCPP_ERR_FORMATION, "-1", false);
	expect_fail("[2,\"a\",\"Heartbeat\",{}] x", OCPP_ERR_FORMATION, "-1", false);
	expect_fail("\xff\xfe", OCPP_ERR_FORMATION, "-1", false);
}

static void test_not_array(void **state)
{
	(void)state;
	expect_fail("{}", OCPP_ERR_FORMATION, "-1", false);
	expect_fail("{\"0\":2}", OCPP_ERR_FORMATION, "-1", false);
	expect_fail("2", OCPP_ERR_FORMATION, "-1", false);
	expect_fail("\"x\"", OCPP_ERR_FORMATION, "-1", false);
	expect_fail("[]", OCPP_ERR_FORMATION, "-1", false);
}

static void test_bad_message_type(void **state)
{
	(void)state;
	expect_fail("[5,\"a\",{}]", OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "a", false);
	expect_fail("[0,\"a\",\"Heartbeat\",{}]", OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "a", false);
	expect_fail("[-2,\"a\",\"Heartbeat\",{}]", OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "a", false);
	expect_fail("[\"2\",\"a\",\"Heartbeat\",{}]", OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "a",
		    false);
	expect_fail("[2.0,\"a\",\"Heartbeat\",{}]", OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "a",
		    false);
	expect_fail("[null]", OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "-1", false);
}

static void test_wrong_arity(void **state)
{
	(void)state;
	expect_fail("[2]", OCPP_ERR_FORMATION, "-1", true);
	expect_fail("[2,\"a\"]", OCPP_ERR_FORMATION, "a", true);
	expect_fail("[2,\"a\",\"Heartbeat\"]", OCPP_ERR_FORMATION, "a", true);
	expect_fail("[2,\"a\",\"Heartbeat\",{},{}]", OCPP_ERR_FORMATION, "a", true);
	expect_fail("[3,\"b\"]", OCPP_ERR_FORMATION, "b", false);
	expect_fail("[3,\"b\",{},{}]", OCPP_ERR_FORMATION, "b", false);
	expect_fail("[4,\"c\",\"GenericError\",\"\"]", OCPP_ERR_FORMATION, "c", false);
	expect_fail("[4,\"c\",\"GenericError\",\"\",{},1]", OCPP_ERR_FORMATION, "c", false);
}

static void test_bad_id(void **state)
{
	char buf[128];

	(void)state;
	/* 37 characters: one too many */
	snprintf(buf, sizeof(buf), "[2,\"%037d\",\"Heartbeat\",{}]", 0);
	expect_fail(buf, OCPP_ERR_RPC_FRAMEWORK, "-1", true);
	expect_fail("[2,17,\"Heartbeat\",{}]", OCPP_ERR_RPC_FRAMEWORK, "-1", true);
	expect_fail("[2,null,\"Heartbeat\",{}]", OCPP_ERR_RPC_FRAMEWORK, "-1", true);
	expect_fail("[2,\"\",\"Heartbeat\",{}]", OCPP_ERR_RPC_FRAMEWORK, "-1", true);
	expect_fail("[3,{},{}]", OCPP_ERR_RPC_FRAMEWORK, "-1", false);
	expect_fail("[4,[],\"GenericError\",\"\",{}]", OCPP_ERR_RPC_FRAMEWORK, "-1", false);
}

static void test_id_36_accepted(void **state)
{
	char buf[128];
	struct ocpp_frame f;
	struct ocpp_parse_error e;

	(void)state;
	snprintf(buf, sizeof(buf), "[2,\"%036d\",\"Heartbeat\",{}]", 7);
	assert_int_equal(ocpp_frame_parse(buf, strlen(buf), &f, &e), 0);
	assert_int_equal(strlen(f.id), 36);
	ocpp_frame_release(&f);
}

static void test_payload_not_object(void **state)
{
	(void)state;
	expect_fail("[2,\"a\",\"Heartbeat\",[]]", OCPP_ERR_FORMATION, "a", true);
	expect_fail("[2,\"a\",\"Heartbeat\",null]", OCPP_ERR_FORMATION, "a", true);
	expect_fail("[2,\"a\",\"Heartbeat\",\"{}\"]", OCPP_ERR_FORMATION, "a", true);
	expect_fail("[3,\"b\",1]", OCPP_ERR_FORMATION, "b", false);
	expect_fail("[4,\"c\",\"GenericError\",\"\",[]]", OCPP_ERR_FORMATION, "c", false);
}

static void test_action_not_string(void **state)
{
	(void)state;
	expect_fail("[2,\"a\",1,{}]", OCPP_ERR_FORMATION, "a", true);
	expect_fail("[2,\"a\",null,{}]", OCPP_ERR_FORMATION, "a", true);
	expect_fail("[4,\"c\",1,\"\",{}]", OCPP_ERR_FORMATION, "c", false);
	expect_fail("[4,\"c\",\"GenericError\",null,{}]", OCPP_ERR_FORMATION, "c", false);
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect_fail("[2,\"a\",\"Heartbeat\",{\"x\":1,\"x\":2}]", OCPP_ERR_FORMATION, "a", true);
	expect_fail("[2,\"a\",\"Authorize\",{\"idTag\":{\"k\":1,\"k\":1}}]", OCPP_ERR_FORMATION,
		    "a", true);
	expect_fail("[3,\"b\",{\"status\":\"Accepted\",\"status\":\"Rejected\"}]",
		    OCPP_ERR_FORMATION, "b", false);
}

static void test_parse_without_nul(void **state)
{
	/* the frame is the first 27 bytes; what follows must not be read */
	static const char buf[] = "[2,\"a\",\"Heartbeat\",{\"x\":1}]garbage";
	struct ocpp_frame f;

	(void)state;
	assert_int_equal(ocpp_frame_parse(buf, 27, &f, NULL), 0);
	assert_int_equal(f.type, OCPP_CALL);
	assert_string_equal(f.action, "Heartbeat");
	ocpp_frame_release(&f);
	ocpp_frame_release(&f); /* idempotent */
	ocpp_frame_release(NULL);
	/* an embedded NUL ends nothing: it is invalid JSON */
	assert_int_equal(ocpp_frame_parse(buf, 27 + 1, &f, NULL), -EPROTO);
	{
		static const char nul[] = "[3,\"a\",{}]\0";

		assert_int_equal(ocpp_frame_parse(nul, sizeof(nul) - 1, &f, NULL), -EPROTO);
	}
}

static void test_call_round_trip(void **state)
{
	json_t *payload = json_pack("{s:s,s:i,s:[i,f],s:s}", "idTag", "ABC", "connectorId", 1,
				    "list", 1, 2.5, "utf8", "h\xc3\xa9llo \"q\"");
	struct ocpp_frame f;
	struct ocpp_parse_error e;
	size_t len = 0;
	char *s;

	(void)state;
	s = ocpp_frame_call("msg-1", "Authorize", payload, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_int_equal(ocpp_frame_parse(s, len, &f, &e), 0);
	assert_int_equal(f.type, OCPP_CALL);
	assert_string_equal(f.id, "msg-1");
	assert_string_equal(f.action, "Authorize");
	assert_true(json_equal(f.payload, payload));
	assert_null(f.err_code);
	assert_null(f.err_desc);
	ocpp_frame_release(&f);
	assert_null(f.root);
	free(s);
	json_decref(payload);

	/* compact, and NULL payload means {} */
	s = ocpp_frame_call("1", "Heartbeat", NULL, &len);
	assert_string_equal(s, "[2,\"1\",\"Heartbeat\",{}]");
	free(s);
}

static void test_result_round_trip(void **state)
{
	json_t *payload = json_pack("{s:s,s:i}", "status", "Accepted", "interval", 300);
	struct ocpp_frame f;
	size_t len;
	char *s;

	(void)state;
	s = ocpp_frame_result("abc", payload, &len);
	assert_non_null(s);
	assert_int_equal(ocpp_frame_parse(s, len, &f, NULL), 0);
	assert_int_equal(f.type, OCPP_CALLRESULT);
	assert_string_equal(f.id, "abc");
	assert_null(f.action);
	assert_true(json_equal(f.payload, payload));
	ocpp_frame_release(&f);
	free(s);
	json_decref(payload);

	s = ocpp_frame_result("abc", NULL, NULL);
	assert_string_equal(s, "[3,\"abc\",{}]");
	free(s);
}

static void test_error_round_trip(void **state)
{
	struct ocpp_frame f;
	size_t len;
	char *s;

	(void)state;
	s = ocpp_frame_error(OCPP_V16, "42", OCPP_ERR_OCCURRENCE_CONSTRAINT, "idTag: missing",
			     &len);
	assert_string_equal(s, "[4,\"42\",\"OccurenceConstraintViolation\",\"idTag: missing\",{}]");
	assert_int_equal(ocpp_frame_parse(s, len, &f, NULL), 0);
	assert_int_equal(f.type, OCPP_CALLERROR);
	assert_string_equal(f.id, "42");
	assert_string_equal(f.err_code, "OccurenceConstraintViolation");
	assert_string_equal(f.err_desc, "idTag: missing");
	assert_true(json_is_object(f.payload));
	assert_int_equal(json_object_size(f.payload), 0);
	assert_int_equal(ocpp_err_from_name(f.err_code), OCPP_ERR_OCCURRENCE_CONSTRAINT);
	ocpp_frame_release(&f);
	free(s);

	s = ocpp_frame_error(OCPP_V201, "-1", OCPP_ERR_RPC_FRAMEWORK, NULL, NULL);
	assert_string_equal(s, "[4,\"-1\",\"RpcFrameworkError\",\"\",{}]");
	free(s);
	s = ocpp_frame_error(OCPP_V16, "-1", OCPP_ERR_RPC_FRAMEWORK, "x", NULL);
	assert_string_equal(s, "[4,\"-1\",\"ProtocolError\",\"x\",{}]");
	free(s);

	/* a description that is not UTF-8 is repaired, not refused */
	s = ocpp_frame_error(OCPP_V201, "7", OCPP_ERR_FORMATION, "bad \xff byte \xc3", &len);
	assert_non_null(s);
	assert_string_equal(s, "[4,\"7\",\"FormatViolation\",\"bad ? byte ?\",{}]");
	assert_int_equal(ocpp_frame_parse(s, len, &f, NULL), 0);
	ocpp_frame_release(&f);
	free(s);
}

static void test_serializer_rejects(void **state)
{
	json_t *arr = json_array();
	char id37[38], *s;

	(void)state;
	memset(id37, 'x', 37);
	id37[37] = '\0';
	assert_null(ocpp_frame_call(id37, "Heartbeat", NULL, NULL));
	id37[36] = '\0';
	s = ocpp_frame_call(id37, "Heartbeat", NULL, NULL);
	assert_non_null(s);
	free(s);
	assert_null(ocpp_frame_call("", "Heartbeat", NULL, NULL));
	assert_null(ocpp_frame_call(NULL, "Heartbeat", NULL, NULL));
	assert_null(ocpp_frame_call("1", NULL, NULL, NULL));
	assert_null(ocpp_frame_call("1", "Heart\xff", NULL, NULL));
	assert_null(ocpp_frame_call("1", "Heartbeat", arr, NULL));
	assert_null(ocpp_frame_result("1", arr, NULL));
	assert_null(ocpp_frame_result("\xff", NULL, NULL));
	assert_null(ocpp_frame_error(OCPP_V16, "1", OCPP_ERR_NONE, "", NULL));
	assert_null(ocpp_frame_error(OCPP_V16, "1", _OCPP_ERR_MAX, "", NULL));
	assert_null(ocpp_frame_error(_OCPP_VERSION_MAX, "1", OCPP_ERR_GENERIC, "", NULL));
	json_decref(arr);
}

static void test_serialized_parse_errors_echo(void **state)
{
	/* what a server does with a parse error: answer it, echoing the id */
	static const char in[] = "[2,\"xy\",\"Heartbeat\",[]]";
	struct ocpp_frame f;
	struct ocpp_parse_error e;
	char *s;

	(void)state;
	assert_int_equal(ocpp_frame_parse(in, strlen(in), &f, &e), -EPROTO);
	assert_true(e.is_call);
	s = ocpp_frame_error(OCPP_V201, e.id, e.code, e.desc, NULL);
	assert_non_null(s);
	assert_int_equal(strncmp(s, "[4,\"xy\",\"FormatViolation\",", 26), 0);
	free(s);
}

static void test_error_names(void **state)
{
	static const struct {
		enum ocpp_err e;
		const char *v16, *v201;
	} names[] = {
	    {OCPP_ERR_NOT_IMPLEMENTED, "NotImplemented", "NotImplemented"},
	    {OCPP_ERR_NOT_SUPPORTED, "NotSupported", "NotSupported"},
	    {OCPP_ERR_INTERNAL, "InternalError", "InternalError"},
	    {OCPP_ERR_PROTOCOL, "ProtocolError", "ProtocolError"},
	    {OCPP_ERR_SECURITY, "SecurityError", "SecurityError"},
	    {OCPP_ERR_FORMATION, "FormationViolation", "FormatViolation"},
	    {OCPP_ERR_PROPERTY_CONSTRAINT, "PropertyConstraintViolation",
	     "PropertyConstraintViolation"},
	    {OCPP_ERR_OCCURRENCE_CONSTRAINT, "OccurenceConstraintViolation",
	     "OccurrenceConstraintViolation"},
	    {OCPP_ERR_TYPE_CONSTRAINT, "TypeConstraintViolation", "TypeConstraintViolation"},
	    {OCPP_ERR_GENERIC, "GenericError", "GenericError"},
	    {OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "ProtocolError", "MessageTypeNotSupported"},
	    {OCPP_ERR_RPC_FRAMEWORK, "ProtocolError", "RpcFrameworkError"},
	};

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), _OCPP_ERR_MAX - 1);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_string_equal(ocpp_err_name(OCPP_V16, names[i].e), names[i].v16);
		assert_string_equal(ocpp_err_name(OCPP_V201, names[i].e), names[i].v201);
		/* every 2.0.1 spelling maps back to its code */
		assert_int_equal(ocpp_err_from_name(names[i].v201), names[i].e);
	}
	assert_int_equal(ocpp_err_from_name("FormationViolation"), OCPP_ERR_FORMATION);
	assert_int_equal(ocpp_err_from_name("OccurenceConstraintViolation"),
			 OCPP_ERR_OCCURRENCE_CONSTRAINT);
	assert_int_equal(ocpp_err_from_name("ProtocolError"), OCPP_ERR_PROTOCOL);
	assert_int_equal(ocpp_err_from_name("formatviolation"), -EINVAL);
	assert_int_equal(ocpp_err_from_name(""), -EINVAL);
	assert_int_equal(ocpp_err_from_name(NULL), -EINVAL);
	assert_null(ocpp_err_name(OCPP_V16, OCPP_ERR_NONE));
	assert_null(ocpp_err_name(OCPP_V201, _OCPP_ERR_MAX));
	assert_null(ocpp_err_name(_OCPP_VERSION_MAX, OCPP_ERR_GENERIC));
}

static void test_version_names(void **state)
{
	(void)state;
	assert_string_equal(ocpp_version_name(OCPP_V16), "ocpp1.6");
	assert_string_equal(ocpp_version_name(OCPP_V201), "ocpp2.0.1");
	assert_null(ocpp_version_name(_OCPP_VERSION_MAX));
	assert_int_equal(ocpp_version_from_name("ocpp1.6"), OCPP_V16);
	assert_int_equal(ocpp_version_from_name("ocpp2.0.1"), OCPP_V201);
	assert_int_equal(ocpp_version_from_name("ocpp2.0"), -EINVAL);
	assert_int_equal(ocpp_version_from_name("OCPP1.6"), -EINVAL);
	assert_int_equal(ocpp_version_from_name(NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_not_json),
	    cmocka_unit_test(test_not_array),
	    cmocka_unit_test(test_bad_message_type),
	    cmocka_unit_test(test_wrong_arity),
	    cmocka_unit_test(test_bad_id),
	    cmocka_unit_test(test_id_36_accepted),
	    cmocka_unit_test(test_payload_not_object),
	    cmocka_unit_test(test_action_not_string),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_parse_without_nul),
	    cmocka_unit_test(test_call_round_trip),
	    cmocka_unit_test(test_result_round_trip),
	    cmocka_unit_test(test_error_round_trip),
	    cmocka_unit_test(test_serializer_rejects),
	    cmocka_unit_test(test_serialized_parse_errors_echo),
	    cmocka_unit_test(test_error_names),
	    cmocka_unit_test(test_version_names),
	};

	return cmocka_run_group_tests_name("ocpp-rpc", tests, NULL, NULL);
}
